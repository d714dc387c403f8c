//! End to end with the real Prisma CLI 6.19.3 (`tools/prisma-cli/prisma.sh`, see its README): Prisma
//! generates the migrations, migrate-safe rewrites (or baselines) them, and Prisma deploys the result on
//! a database holding data, reports it up to date, and finds no drift from the schema; `migrate-safe
//! status` agrees. Plus the failure drill of a concurrent UNIQUE build on duplicates, recovered the way
//! the status report says.
//!
//! Needs PostgreSQL (see `common::live`) and node + npm: the kit installs itself into `.prisma-kit/` on
//! first use (`npm ci`, about 10 s). Without node/npm, or when the kit cannot be installed (npm registry
//! unreachable), each test prints `SKIPPED: <reason>` and passes — except with CI=true, where it fails.

use crate::common;
use crate::prisma_kit::{
    self, Prisma, Project, Ran, count, deployed_v1, e2e_schema, migration_sql,
};

use std::fs;
use std::path::Path;
use std::time::Instant;

use common::live::server_url;
use common::*;
use migrate_safe::db::{ScratchDatabase, connect};

/// What `prisma migrate dev --create-only` writes for `to` after `from`: the real command, run by
/// tools/gen-fixtures.sh (under a pseudo-terminal, against its own scratch dev database), so the file
/// carries Prisma's `/* Warnings */` header and exact layout. Written as `<name>/migration.sql`.
fn generate_with_migrate_dev(
    project: &Project,
    server: &str,
    name: &str,
    from: &Path,
    to: &Path,
) -> String {
    let root = tempfile::tempdir().unwrap();
    let scenario = format!("e2e_{}_{}", std::process::id(), name);
    let schema_dir = root.path().join(&scenario).join("schema");
    fs::create_dir_all(&schema_dir).unwrap();
    fs::copy(from, schema_dir.join("v1.prisma")).unwrap();
    fs::copy(to, schema_dir.join("v2.prisma")).unwrap();
    fs::write(
        schema_dir.join("names.txt"),
        format!("0_init baseline\n{name} dev\n"),
    )
    .unwrap();
    let started = Instant::now();
    let output = std::process::Command::new(project_root().join("tools/gen-fixtures.sh"))
        .args(["--no-check", "-j", "1", &scenario])
        // `migrate dev` refuses to run where it detects CI; this is fixture making, not a deploy.
        .env_remove("CI")
        .env_remove("CONTINUOUS_INTEGRATION")
        .env("FIXTURES_DIR", root.path())
        .env("FIXTURES_PG_URL", server)
        .current_dir(&project.root)
        .output()
        .expect("run tools/gen-fixtures.sh");
    let ran = Ran::from(format!("gen-fixtures.sh {scenario}"), output);
    eprintln!(
        "migrate dev --create-only via gen-fixtures.sh: {:.1}s",
        started.elapsed().as_secs_f64()
    );
    ran.expect(0, &[]);
    let sql = fs::read_to_string(
        root.path()
            .join(&scenario)
            .join("migrations")
            .join(name)
            .join("migration.sql"),
    )
    .unwrap_or_else(|e| panic!("no migration written: {e}\n{ran}"));
    project.write_migration(name, &sql);
    sql
}

#[test]
fn prisma_deploys_a_rewritten_migration_with_data() {
    let Some(server) = server_url() else { return };
    let Some(script) = Prisma::V6.script() else {
        return;
    };
    let started = Instant::now();
    let project = Project::new(Prisma::V6, &script);
    let database = deployed_v1(&server, &project);
    connect(&database.url)
        .unwrap()
        .batch_execute(
            r#"INSERT INTO "User" ("email", "name") SELECT 'user' || g || '@example.com', 'User ' || g FROM generate_series(1, 1000) g;
               INSERT INTO "Team" ("slug", "name") SELECT 'team-' || g, 'Team ' || g FROM generate_series(1, 50) g;
               INSERT INTO "Membership" ("userId", "teamId", "role") SELECT g, 1 + g % 50, CASE WHEN g % 10 = 0 THEN 'admin' ELSE 'member' END FROM generate_series(1, 1000) g;
               INSERT INTO "Project" ("name", "teamId", "ownerId") SELECT 'Project ' || g, 1 + g % 50, 1 + (g * 7) % 1000 FROM generate_series(1, 200) g;"#,
        )
        .unwrap();

    // v2: indexes on existing models, a new related model, @unique on an existing column, a new FK.
    let v1 = e2e_schema("v1.prisma");
    let v2 = e2e_schema("v2.prisma");
    let generated = generate_with_migrate_dev(&project, &server, "20250101000000_v2", &v1, &v2);
    assert!(
        generated.starts_with("/*\n  Warnings:"),
        "migrate dev writes its warnings header\n{generated}"
    );
    for needle in [
        "CREATE TABLE \"Invite\"",
        "CREATE INDEX \"User_createdAt_idx\" ON \"User\"",
        "CREATE UNIQUE INDEX \"Team_slug_key\" ON \"Team\"",
        "CREATE INDEX \"Membership_teamId_role_idx\" ON \"Membership\"",
        "ADD CONSTRAINT \"Project_ownerId_fkey\" FOREIGN KEY (\"ownerId\") REFERENCES \"User\"",
        "ADD CONSTRAINT \"Invite_teamId_fkey\"",
    ] {
        assert!(
            generated.contains(needle),
            "{needle} missing from\n{generated}"
        );
    }

    project
        .migrate_safe(&[
            "rewrite",
            project.dir(),
            "--verify",
            "--scratch-url",
            &server,
        ])
        .expect(
            0,
            &["original and rewritten sequence build the same schema"],
        );
    let folders = project.folders();
    let new: Vec<&String> = folders
        .iter()
        .filter(|f| f.starts_with("20250101000000_v2_"))
        .collect();
    assert_eq!(new.len(), 4, "folders: {}", folders.join(", "));
    let rewritten = project.read_migration("20250101000000_v2");
    assert!(
        rewritten.contains("CREATE TABLE \"Invite\"")
            && rewritten.contains("CREATE INDEX \"Invite_teamId_idx\"")
            && !rewritten.contains("\"User_createdAt_idx\"")
            && !rewritten.contains("\"Team_slug_key\"")
            && rewritten.contains("ON DELETE RESTRICT ON UPDATE CASCADE NOT VALID;"),
        "{rewritten}"
    );
    for index in [
        "CREATE INDEX CONCURRENTLY \"User_createdAt_idx\"",
        "CREATE UNIQUE INDEX CONCURRENTLY \"Team_slug_key\"",
        "CREATE INDEX CONCURRENTLY \"Membership_teamId_role_idx\"",
        "VALIDATE CONSTRAINT \"Project_ownerId_fkey\"",
    ] {
        assert_eq!(
            new.iter()
                .filter(|f| project.read_migration(f).contains(index))
                .count(),
            1,
            "{index} should be in exactly one of the v2_ folders"
        );
    }

    // Prisma applies the rewritten folders, on the database with data.
    let mut applied = vec![
        "20250101000000_v2",
        "All migrations have been successfully applied.",
    ];
    applied.extend(new.iter().map(|f| f.as_str()));
    project.deploy(&database.url).expect(0, &applied);
    assert_eq!(count(&database.url, "SELECT count(*) FROM \"User\""), 1000);
    assert_eq!(
        count(&database.url, "SELECT count(*) FROM \"Membership\""),
        1000
    );
    project
        .migrate_status(&database.url)
        .expect(0, &["6 migrations found", "Database schema is up to date!"]);

    // Prisma's own drift check: the rewritten history builds exactly the v2 datamodel...
    let shadow = ScratchDatabase::create(&server, None).unwrap();
    let diff = |to: &Path| {
        project.diff_to_schema(
            &database.url,
            &[
                "--from-migrations",
                project.dir(),
                "--shadow-database-url",
                &shadow.url,
            ],
            to,
        )
    };
    diff(&v2).expect(0, &["No difference detected."]);
    // ...and the check can fail: v1 lacks what v2 added (exit 2 = a difference).
    diff(&v1).expect(2, &["Invite"]);

    project.assert_status_clean(&database.url);
    eprintln!(
        "prisma_deploys_a_rewritten_migration_with_data: {:.1}s",
        started.elapsed().as_secs_f64()
    );
}

#[test]
fn prisma_accepts_a_baseline_written_by_migrate_safe() {
    let Some(server) = server_url() else { return };
    let Some(script) = Prisma::V6.script() else {
        return;
    };
    let started = Instant::now();
    let project = Project::new(Prisma::V6, &script);
    let database = ScratchDatabase::create(&server, None).unwrap();
    let legacy = fs::read_to_string(project_root().join("tests/data/legacy-schema.sql")).unwrap();
    connect(&database.url)
        .unwrap()
        .batch_execute(&legacy)
        .unwrap();

    project
        .migrate_safe(&[
            "baseline",
            project.dir(),
            "--database-url",
            &database.url,
            "--scratch-url",
            &server,
        ])
        .expect(0, &["Wrote 0_init/migration.sql"]);
    assert_eq!(project.folders(), vec!["0_init"]);
    project.write_lock();

    project
        .migrate_status(&database.url)
        .expect(0, &["1 migration found", "Database schema is up to date!"]);
    project
        .deploy(&database.url)
        .expect(0, &["No pending migrations to apply."]);

    // The history goes on from the baseline.
    project.write_migration(
        "20250301000000_account_name",
        "-- AlterTable\nALTER TABLE \"Account\" ADD COLUMN \"name\" TEXT;\n",
    );
    project.deploy(&database.url).expect(
        0,
        &[
            "20250301000000_account_name",
            "All migrations have been successfully applied.",
        ],
    );
    let name_columns = "SELECT count(*) FROM information_schema.columns WHERE table_name = 'Account' AND column_name = 'name'";
    assert_eq!(count(&database.url, name_columns), 1);
    assert_eq!(count(&database.url, "SELECT count(*) FROM \"Account\""), 2);
    project.assert_status_clean(&database.url);

    // Prisma can also apply the pg_dump-based baseline itself: a new environment built from the history.
    let fresh = ScratchDatabase::create(&server, None).unwrap();
    project.deploy(&fresh.url).expect(
        0,
        &[
            "0_init",
            "20250301000000_account_name",
            "All migrations have been successfully applied.",
        ],
    );
    assert_eq!(count(&fresh.url, name_columns), 1);
    assert_eq!(
        count(
            &fresh.url,
            "SELECT count(*) FROM pg_trigger WHERE tgname = 'Account_touch'"
        ),
        1
    );
    project.assert_status_clean(&fresh.url);
    eprintln!(
        "prisma_accepts_a_baseline_written_by_migrate_safe: {:.1}s",
        started.elapsed().as_secs_f64()
    );
}

#[test]
fn failure_drill_unique_on_duplicates() {
    let Some(server) = server_url() else { return };
    let Some(script) = Prisma::V6.script() else {
        return;
    };
    let started = Instant::now();
    let project = Project::new(Prisma::V6, &script);
    let database = deployed_v1(&server, &project);
    prisma_kit::insert_duplicate_emails(&database.url);

    // v3: a new column and @unique on User.email.
    let generated = generate_with_migrate_dev(
        &project,
        &server,
        "20250201000000_v3",
        &e2e_schema("v1.prisma"),
        &e2e_schema("v3.prisma"),
    );
    assert!(
        generated.contains("ADD COLUMN")
            && generated.contains("\"nickname\" TEXT")
            && generated.contains("CREATE UNIQUE INDEX \"User_email_key\" ON \"User\"(\"email\");"),
        "{generated}"
    );
    // The proof runs on empty scratch databases, so it cannot see the duplicates: it passes.
    project
        .migrate_safe(&[
            "rewrite",
            project.dir(),
            "--verify",
            "--scratch-url",
            &server,
        ])
        .expect(0, &["CONCURRENTLY"]);
    let index_folder = prisma_kit::concurrent_index_folder(&project);

    // Prisma applies the edited original, then fails on the concurrent build.
    let failed = project.deploy(&database.url);
    assert!(
        failed.code.is_some_and(|c| c != 0),
        "deploy should fail\n{failed}"
    );
    assert!(
        failed
            .stderr
            .contains(&format!("migration_name=\"{index_folder}\"")),
        "the error should name the failing folder\n{failed}"
    );
    let nickname = "SELECT count(*) FROM information_schema.columns WHERE table_name = 'User' AND column_name = 'nickname'";
    assert_eq!(count(&database.url, nickname), 1);

    // Prisma and migrate-safe report the failed migration; migrate-safe the INVALID index it left, with
    // the recovery.
    let drop_index =
        prisma_kit::assert_status_reports_the_failed_index(&project, &database.url, &index_folder);
    prisma_kit::recover_from_the_invalid_index(&project, &database.url, &index_folder, &drop_index);
    project.assert_status_clean(&database.url);
    eprintln!(
        "failure_drill_unique_on_duplicates: {:.1}s",
        started.elapsed().as_secs_f64()
    );
}

/// The lint fixes under the real Prisma: lint-hazards' genuine Prisma migrations (SET NOT NULL, DROP
/// INDEX, UNIQUE on existing tables, an enum value removal in BEGIN/COMMIT, ...) rewritten with
/// --unsafe-fixes (so `SET LOCAL lock_timeout` is in too) on a database with rows, deployed by
/// `prisma migrate deploy`, and checked against the last datamodel with Prisma's own drift check.
#[test]
fn prisma_deploys_the_lint_fixes_with_data() {
    let Some(server) = server_url() else { return };
    let Some(script) = Prisma::V6.script() else {
        return;
    };
    let started = Instant::now();
    let fixture = project_root().join("migrations-fixtures/lint-hazards");
    let project = Project::with_lock(Prisma::V6, &script);
    let original = |name: &str| migration_sql(&fixture.join("migrations"), name);
    project.write_migration("0_init", &original("0_init"));
    let database = ScratchDatabase::create(&server, None).unwrap();
    project
        .deploy(&database.url)
        .expect(0, &["All migrations have been successfully applied."]);
    // Rows the later migrations must keep: every user named, distinct slugs, no ENTERPRISE team.
    connect(&database.url)
        .unwrap()
        .batch_execute(
            r#"INSERT INTO "Team" ("id", "name", "slug", "plan")
                 SELECT 't' || i, 'Team ' || i, 'team-' || i, CASE WHEN i % 2 = 0 THEN 'PRO' ELSE 'FREE' END::"Plan"
                 FROM generate_series(1, 200) AS i;
               INSERT INTO "User" ("id", "email", "name", "legacyCode", "teamId")
                 SELECT 'u' || i, 'u' || i || '@example.com', 'User ' || i, 'L' || i, 't' || (1 + i % 200)
                 FROM generate_series(1, 2000) AS i;
               INSERT INTO "Project" ("id", "teamId", "code", "name", "budget")
                 SELECT 'p' || i, 't' || (1 + i % 200), 'P' || i, 'Project ' || i, i
                 FROM generate_series(1, 1000) AS i;"#,
        )
        .unwrap();

    let pending = [
        "20250105090000_tighten_constraints",
        "20250110120000_rename_and_drop",
    ];
    for name in pending {
        project.write_migration(name, &original(name));
    }
    let mut args = vec!["rewrite", project.dir()];
    for name in pending {
        args.extend(["--migration", name]);
    }
    args.extend(["--unsafe-fixes", "--verify", "--scratch-url", &server]);
    project.migrate_safe(&args).expect(0, &["Verified on"]);
    // The same folders as the fixture's expected directory, byte for byte.
    prisma_kit::assert_migrations_as_expected(&project, &fixture);
    // The first migration drops a column: its SET NOT NULL and UNIQUE builds stay where Prisma put them
    // (a later VALIDATE or build failing would leave the drop committed), so only the DROP INDEX moves.
    assert_eq!(project.folders().len(), 4);

    project.deploy(&database.url).expect(
        0,
        &[
            "20250105090000_tighten_constraints_01_drop_index_auditlog_createdat_idx",
            "All migrations have been successfully applied.",
        ],
    );
    assert_eq!(count(&database.url, "SELECT count(*) FROM \"User\""), 2000);
    assert_eq!(
        count(
            &database.url,
            "SELECT count(*) FROM \"Project\" WHERE \"publicId\" IS NOT NULL"
        ),
        1000
    );
    project
        .migrate_status(&database.url)
        .expect(0, &["4 migrations found", "Database schema is up to date!"]);
    let shadow = ScratchDatabase::create(&server, None).unwrap();
    project
        .diff_to_schema(
            &database.url,
            &[
                "--from-migrations",
                project.dir(),
                "--shadow-database-url",
                &shadow.url,
            ],
            &fixture.join("schema/v3.prisma"),
        )
        .expect(0, &["No difference detected."]);
    project.assert_status_clean(&database.url);
    eprintln!(
        "prisma_deploys_the_lint_fixes_with_data: {:.1}s",
        started.elapsed().as_secs_f64()
    );
}

/// `migrate-safe deploy` keeps Prisma 6.19.3's books (see the harness).
#[test]
fn prisma_sees_a_migrate_safe_deploy_as_its_own() {
    prisma_kit::prisma_sees_a_migrate_safe_deploy_as_its_own(Prisma::V6);
}

/// Every fixture's rewritten history, deployed by `migrate-safe deploy` on an empty database: Prisma
/// 6.19.3 then finds it up to date with nothing to deploy.
#[test]
fn prisma_finds_every_fixture_history_deployed_by_migrate_safe_up_to_date() {
    let Some(server) = server_url() else { return };
    let Some(script) = Prisma::V6.script() else {
        return;
    };
    for fixture in fixtures() {
        let project = Project::new(Prisma::V6, &script);
        copy_tree(&fixture.join("expected"), &project.dir);
        let database = ScratchDatabase::create(&server, None).unwrap();
        let name = fixture.file_name().unwrap().to_string_lossy().into_owned();
        let folders = project.folders().len();
        project
            .migrate_safe(&["deploy", project.dir(), "--database-url", &database.url])
            .expect(0, &[&format!("Deployed: {folders} migration(s) applied.")]);
        let status = project.migrate_status(&database.url);
        status.expect(0, &["Database schema is up to date!"]);
        assert!(
            status.stdout.contains(&format!("{folders} migration")),
            "{name}\n{status}"
        );
        project
            .deploy(&database.url)
            .expect(0, &["No pending migrations to apply."]);
    }
}

/// A batched backfill runs under the real Prisma 6.19.3 `migrate deploy` (see the harness).
#[test]
fn prisma_runs_a_batched_backfill() {
    prisma_kit::prisma_runs_a_batched_backfill(Prisma::V6);
}
