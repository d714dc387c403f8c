//! End to end with the real Prisma CLI 7.10.1 (`tools/prisma7/prisma7.sh`, see its README), under both
//! ways the kit can send a migration.sql: `split7` (one statement at a time when sqlparser 0.61 parses
//! the file, as Prisma 7.4+ does) and `whole` (the file as one query, as Prisma <= 7.3 and the 7.4+
//! fallback). The Prisma 6.19.3 counterpart is tests/e2e/prisma6.rs.
//!
//! * The fixture scenarios: the history before the pending migrations is deployed by Prisma 7, rows are
//!   inserted, `migrate-safe rewrite` runs, and Prisma 7 deploys the result, reports it up to date and
//!   finds no drift from the scenario's last schema; `migrate-safe status` agrees.
//! * The failure drill of a concurrent UNIQUE build on duplicates, recovered the way the status says.
//! * Evidence of what per-statement apply means: a failing two-statement file is half-applied under
//!   split7 and not at all under whole; and migrate-safe's lock-timeout fix (--unsafe-fixes, `SET
//!   lock_timeout` ... `RESET lock_timeout`) holds for the file's statements and ends with the file under
//!   both.
//!
//! Needs PostgreSQL (127.0.0.1:5432 or MIGRATE_SAFE_TEST_DATABASE_URL), node + npm and cargo: the kit
//! installs itself into `.prisma7-kit/` on first use (`npm ci`, and sqlprobe built with cargo: a few
//! minutes the first time, well under a second after). Without them, or when the kit cannot be
//! installed (npm registry unreachable), each test prints `SKIPPED: <reason>` and passes — except with
//! CI=true, where it fails.
//!
//! The harness (kit, project, commands, shared steps) is tests/e2e/prisma_kit.rs.

use crate::common;
use crate::prisma_kit::{
    self, Prisma, Project, Ran, count, deployed_v1, e2e_schema, folders, migration_sql, path,
    states,
};

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use common::live::server_url;
use common::{fixture_args, project_root};
use migrate_safe::db::{ScratchDatabase, connect};

// ---------------------------------------------------------------------------------------------
// a. The fixture scenarios

/// One scenario under migrations-fixtures/ with a `schema/` folder.
struct Scenario {
    name: &'static str,
    /// Rows for the tables that exist before the pending migrations (respecting every constraint the
    /// pending migrations add).
    seed: &'static str,
    /// (query, value) after the rewritten deploy: the rows are still there.
    kept: &'static [(&'static str, i64)],
    /// Also Prisma 7's shadow-database check: `migrate diff --from-migrations` replays the rewritten
    /// directory in a temporary database (under the mode's apply) and compares it with the last schema.
    shadow_check: bool,
}

/// The pending migrations of a fixture: those its `args` file names with `--migration`, else the
/// newest folder (what `migrate-safe rewrite <dir>` picks).
fn pending(fixture: &Path, args: &[String]) -> Vec<String> {
    let named: Vec<String> = args
        .windows(2)
        .filter(|w| w[0] == "--migration")
        .map(|w| w[1].clone())
        .collect();
    if named.is_empty() {
        vec![folders(&fixture.join("migrations")).pop().unwrap()]
    } else {
        named
    }
}

/// The scenario's last schema version (`v<N>.prisma` with the highest N).
fn last_schema(fixture: &Path) -> PathBuf {
    let mut versions: Vec<(u32, PathBuf)> = fs::read_dir(fixture.join("schema"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter_map(|p| {
            let name = p.file_name()?.to_str()?.to_string();
            let n = name
                .strip_prefix('v')?
                .strip_suffix(".prisma")?
                .parse()
                .ok()?;
            Some((n, p))
        })
        .collect();
    versions.sort();
    versions.pop().expect("schema/v<N>.prisma").1
}

/// What the shim sent, one `kind: text` piece per line, for assertion messages.
fn sent_text(sent: &[(String, String)]) -> String {
    sent.iter()
        .map(|(kind, text)| format!("{kind}: {text}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Prisma 7's drift check: the live database against the datamodel in `schema`; exit 0 means no
/// difference, 2 a difference.
fn drift(project: &Project, database_url: &str, schema: &Path) -> Ran {
    project.diff_to_schema(database_url, &["--from-config-datasource"], schema)
}

fn run_scenario(scenario: &Scenario) {
    let Some(server) = server_url() else { return };
    let Some(script) = Prisma::V7Split.script() else {
        return;
    };
    let started = Instant::now();
    let fixture = project_root()
        .join("migrations-fixtures")
        .join(scenario.name);
    let args = fixture_args(&fixture);
    let pending = pending(&fixture, &args);
    let history: Vec<String> = folders(&fixture.join("migrations"))
        .into_iter()
        .take_while(|f| !pending.contains(f))
        .collect();
    assert!(
        !history.is_empty(),
        "{}: nothing to deploy first",
        scenario.name
    );

    for prisma in Prisma::V7_MODES {
        let mut project = Project::with_lock(prisma, &script);
        let last = project.schema_file(&last_schema(&fixture));
        // As in a Prisma 7 project: prisma.config.ts names the schema (multi-schema needs its
        // `schemas` for the drift check's introspection).
        project.schema = Some(last.clone());
        let original = |name: &str| migration_sql(&fixture.join("migrations"), name);
        for name in &history {
            project.write_migration(name, &original(name));
        }
        let database = ScratchDatabase::create(&server, None).unwrap();
        let mut applied = vec!["All migrations have been successfully applied."];
        applied.extend(history.iter().map(String::as_str));
        project.deploy(&database.url).expect(0, &applied);
        connect(&database.url)
            .unwrap()
            .batch_execute(scenario.seed)
            .unwrap_or_else(|e| panic!("{}: seed rows: {e}", scenario.name));

        for name in &pending {
            project.write_migration(name, &original(name));
        }
        let mut rewrite = vec!["rewrite", project.dir()];
        rewrite.extend(args.iter().map(String::as_str));
        project.migrate_safe(&rewrite).expect(0, &[]);
        // The same directory as the fixture's reviewed expected/ output, byte for byte.
        assert_eq!(
            project.folders(),
            folders(&fixture.join("expected")),
            "{}",
            scenario.name
        );
        prisma_kit::assert_migrations_as_expected(&project, &fixture);

        // Prisma 7 applies the rewritten folders on the database with rows...
        let new: Vec<String> = project
            .folders()
            .into_iter()
            .filter(|f| !history.contains(f))
            .collect();
        let mut applied = vec!["All migrations have been successfully applied."];
        applied.extend(new.iter().map(String::as_str));
        project.deploy(&database.url).expect(0, &applied);
        for (query, value) in scenario.kept {
            assert_eq!(
                count(&database.url, query),
                *value,
                "[{prisma}] {}: {query}",
                scenario.name
            );
        }
        // ...reports it up to date...
        let found = format!("{} migrations found", project.folders().len());
        project
            .migrate_status(&database.url)
            .expect(0, &[&found, "Database schema is up to date!"]);
        // ...and the database is exactly the last datamodel.
        drift(&project, &database.url, &last).expect(0, &["No difference detected."]);
        if scenario.shadow_check {
            project
                .diff_to_schema(&database.url, &["--from-migrations", project.dir()], &last)
                .expect(0, &["No difference detected."]);
        }
        project.assert_status_clean(&database.url);
        project.assert_apply_mode_was_used();
    }
    eprintln!(
        "scenario {}: {:.1}s",
        scenario.name,
        started.elapsed().as_secs_f64()
    );
}

#[test]
fn prisma7_deploys_saas_baseline_rewritten_with_data() {
    run_scenario(&Scenario {
        name: "saas-baseline",
        seed: r#"
            INSERT INTO "User" ("id", "email", "name", "updatedAt")
              SELECT 'u' || g, 'user' || g || '@example.com', 'User ' || g, now() FROM generate_series(1, 300) g;
            INSERT INTO "Team" ("id", "name", "slug", "updatedAt")
              SELECT 't' || g, 'Team ' || g, 'team-' || g, now() FROM generate_series(1, 50) g;
            INSERT INTO "Membership" ("id", "userId", "teamId", "role")
              SELECT 'm' || g, 'u' || g, 't' || (1 + g % 50), CASE WHEN g % 10 = 0 THEN 'ADMIN' ELSE 'MEMBER' END::"Role"
              FROM generate_series(1, 300) g;
            INSERT INTO "Document" ("id", "title", "content", "teamId", "updatedAt")
              SELECT 'd' || g, 'Doc ' || g, 'body', 't' || (1 + g % 50), now() - g * interval '1 hour'
              FROM generate_series(1, 400) g;"#,
        kept: &[
            (r#"SELECT count(*) FROM "User""#, 300),
            (r#"SELECT count(*) FROM "Membership""#, 300),
            (
                r#"SELECT count(*) FROM "Document" WHERE "authorId" IS NULL"#,
                400,
            ),
            (r#"SELECT count(*) FROM "Team" WHERE "plan" = 'FREE'"#, 50),
        ],
        shadow_check: true,
    });
}

#[test]
fn prisma7_deploys_several_pending_rewritten_with_data() {
    run_scenario(&Scenario {
        name: "several-pending",
        seed: r#"
            INSERT INTO "users" ("email", "name")
              SELECT 'user' || g || '@example.com', 'User ' || g FROM generate_series(1, 200) g;
            INSERT INTO "organizations" ("name", "slug")
              SELECT 'Org ' || g, 'org-' || g FROM generate_series(1, 20) g;
            INSERT INTO "projects" ("organization_id", "slug", "name")
              SELECT o."id", 'p' || g, 'Project ' || g FROM "organizations" o CROSS JOIN generate_series(1, 5) g;
            WITH u AS (SELECT "id", row_number() OVER (ORDER BY "email") AS n FROM "users"),
                 p AS (SELECT "id", row_number() OVER (ORDER BY "organization_id", "slug") AS n FROM "projects")
            INSERT INTO "tasks" ("project_id", "title", "status", "assignee_id")
              SELECT p."id", 'Task ' || g, (ARRAY['TODO', 'IN_PROGRESS', 'DONE'])[1 + g % 3]::"task_status",
                     CASE WHEN g % 4 = 0 THEN NULL ELSE u."id" END
              FROM generate_series(1, 300) g JOIN p ON p.n = 1 + g % 100 JOIN u ON u.n = 1 + g % 200;
            INSERT INTO "comments" ("task_id", "body") SELECT "id", 'comment' FROM "tasks";"#,
        kept: &[
            (
                r#"SELECT count(*) FROM "tasks" WHERE "assignee_id" IS NOT NULL"#,
                225,
            ),
            (
                r#"SELECT count(*) FROM "comments" WHERE "author_id" IS NULL"#,
                300,
            ),
            (
                r#"SELECT count(*) FROM "projects" WHERE "lead_id" IS NULL"#,
                100,
            ),
        ],
        shadow_check: false,
    });
}

#[test]
fn prisma7_deploys_unique_then_relation_rewritten_with_data() {
    run_scenario(&Scenario {
        name: "unique-then-relation",
        seed: r#"
            INSERT INTO "Workspace" ("id", "name") SELECT 'w' || g, 'Workspace ' || g FROM generate_series(1, 10) g;
            INSERT INTO "User" ("id", "email", "name", "workspaceId")
              SELECT 'u' || g, 'user' || g || '@example.com', 'User ' || g, 'w' || (1 + g % 10) FROM generate_series(1, 300) g;
            INSERT INTO "Invitation" ("id", "workspaceId", "email", "invitedByEmail", "token", "expiresAt")
              SELECT 'i' || g, 'w' || (1 + g % 10), 'guest' || g || '@example.org', 'user' || (1 + g % 300) || '@example.com',
                     'token-' || g, now() + interval '7 days'
              FROM generate_series(1, 200) g;"#,
        kept: &[
            (r#"SELECT count(*) FROM "User""#, 300),
            (
                r#"SELECT count(*) FROM "Invitation" i JOIN "User" u ON u."email" = i."invitedByEmail""#,
                200,
            ),
        ],
        shadow_check: false,
    });
}

#[test]
fn prisma7_deploys_enum_value_removal_rewritten_with_data() {
    run_scenario(&Scenario {
        name: "enum-value-removal",
        // No row holds ON_HOLD, the value the pending migration removes.
        seed: r#"
            INSERT INTO "Customer" ("id", "email", "name")
              SELECT 'c' || g, 'c' || g || '@example.com', 'Customer ' || g FROM generate_series(1, 100) g;
            INSERT INTO "Agent" ("id", "email", "displayName")
              SELECT 'a' || g, 'a' || g || '@example.com', 'Agent ' || g FROM generate_series(1, 10) g;
            INSERT INTO "Ticket" ("id", "subject", "status", "priority", "customerId", "assigneeId", "updatedAt")
              SELECT 't' || g, 'Subject ' || g, (ARRAY['OPEN', 'PENDING', 'SOLVED', 'CLOSED'])[1 + g % 4]::"TicketStatus",
                     (ARRAY['LOW', 'NORMAL', 'HIGH', 'URGENT'])[1 + g % 4]::"TicketPriority", 'c' || (1 + g % 100),
                     CASE WHEN g % 3 = 0 THEN NULL ELSE 'a' || (1 + g % 10) END, now()
              FROM generate_series(1, 300) g;
            INSERT INTO "TicketComment" ("id", "ticketId", "body")
              SELECT 'k' || g, 't' || (1 + g % 300), 'comment' FROM generate_series(1, 300) g;
            INSERT INTO "TicketStatusChange" ("id", "ticketId", "fromStatus", "toStatus")
              SELECT 's' || "id", "id", 'OPEN', "status" FROM "Ticket";"#,
        kept: &[
            (
                r#"SELECT count(*) FROM "Ticket" WHERE "status" = 'SOLVED'"#,
                75,
            ),
            (
                r#"SELECT count(*) FROM "TicketStatusChange" WHERE "fromStatus" = 'OPEN'"#,
                300,
            ),
        ],
        shadow_check: false,
    });
}

#[test]
fn prisma7_deploys_multi_schema_rewritten_with_data() {
    run_scenario(&Scenario {
        name: "multi-schema",
        seed: r#"
            INSERT INTO "app"."Organization" ("id", "name", "slug")
              SELECT 'o' || g, 'Org ' || g, 'org-' || g FROM generate_series(1, 20) g;
            INSERT INTO "app"."Member" ("id", "email", "role", "organizationId")
              SELECT 'm' || g, 'm' || g || '@example.com', (ARRAY['OWNER', 'ADMIN', 'VIEWER'])[1 + g % 3]::"app"."MemberRole",
                     'o' || (1 + g % 20)
              FROM generate_series(1, 200) g;
            INSERT INTO "app"."Project" ("id", "name", "organizationId")
              SELECT 'p' || g, 'Project ' || g, 'o' || (1 + g % 20) FROM generate_series(1, 100) g;
            INSERT INTO "audit"."AuditEvent" ("action", "entityType", "entityId", "actorEmail")
              SELECT (ARRAY['CREATE', 'UPDATE', 'DELETE', 'LOGIN'])[1 + g % 4]::"audit"."AuditAction", 'Project',
                     'p' || (1 + g % 100), 'm' || (1 + g % 200) || '@example.com'
              FROM generate_series(1, 400) g;"#,
        kept: &[
            (r#"SELECT count(*) FROM "app"."Member""#, 200),
            (
                r#"SELECT count(*) FROM "audit"."AuditEvent" WHERE "actorId" IS NULL"#,
                400,
            ),
        ],
        shadow_check: false,
    });
}

/// lint-hazards' `args` hold --unsafe-fixes, so the rewritten files carry `SET lock_timeout` ... `RESET`.
#[test]
fn prisma7_deploys_lint_hazards_fixes_with_data() {
    run_scenario(&Scenario {
        name: "lint-hazards",
        // Every user named, distinct slugs and (teamId, code), no ENTERPRISE team.
        seed: r#"
            INSERT INTO "Team" ("id", "name", "slug", "plan")
              SELECT 't' || i, 'Team ' || i, 'team-' || i, CASE WHEN i % 2 = 0 THEN 'PRO' ELSE 'FREE' END::"Plan"
              FROM generate_series(1, 100) AS i;
            INSERT INTO "User" ("id", "email", "name", "legacyCode", "teamId")
              SELECT 'u' || i, 'u' || i || '@example.com', 'User ' || i, 'L' || i, 't' || (1 + i % 100)
              FROM generate_series(1, 500) AS i;
            INSERT INTO "Project" ("id", "teamId", "code", "name", "budget")
              SELECT 'p' || i, 't' || (1 + i % 100), 'P' || i, 'Project ' || i, i FROM generate_series(1, 300) AS i;
            INSERT INTO "AuditLog" ("id", "teamId", "actorId", "action", "payload")
              SELECT 'l' || i, 't' || (1 + i % 100), 'u' || i, 'login', '{}' FROM generate_series(1, 200) AS i;"#,
        kept: &[
            (
                r#"SELECT count(*) FROM "User" WHERE "name" IS NOT NULL"#,
                500,
            ),
            (
                r#"SELECT count(*) FROM "Project" WHERE "publicId" IS NOT NULL"#,
                300,
            ),
            (r#"SELECT count(*) FROM "Team" WHERE "plan" = 'PRO'"#, 50),
        ],
        shadow_check: true,
    });
}

// ---------------------------------------------------------------------------------------------
// b. The failure drill

#[test]
fn prisma7_failure_drill_unique_on_duplicates() {
    let Some(server) = server_url() else { return };
    let Some(script) = Prisma::V7Split.script() else {
        return;
    };
    let started = Instant::now();
    for prisma in Prisma::V7_MODES {
        let project = Project::with_lock(prisma, &script);
        // 0_init written by Prisma 7 from v1 and deployed by it.
        let database = deployed_v1(&server, &project);
        prisma_kit::insert_duplicate_emails(&database.url);

        // v3: a new column and @unique on User.email, as Prisma 7 writes it.
        let v1 = project.schema_file(&e2e_schema("v1.prisma"));
        let v3 = project.schema_file(&e2e_schema("v3.prisma"));
        let generated = project.generate(
            &database.url,
            "20250201000000_v3",
            &["--from-schema", path(&v1), "--to-schema", path(&v3)],
        );
        assert!(
            generated.contains("\"nickname\" TEXT")
                && generated
                    .contains("CREATE UNIQUE INDEX \"User_email_key\" ON \"User\"(\"email\");"),
            "{generated}"
        );
        project
            .migrate_safe(&["rewrite", project.dir()])
            .expect(0, &["CONCURRENTLY"]);
        let index_folder = prisma_kit::concurrent_index_folder(&project);

        // Prisma 7 applies the edited original, then fails on the concurrent build.
        let failed = project.deploy(&database.url);
        assert_eq!(failed.code, Some(1), "deploy should fail\n{failed}");
        assert!(
            failed.says(&format!("migration_name=\"{index_folder}\"")),
            "the error should name the failing folder\n{failed}"
        );
        assert!(
            failed.says("Unique constraint failed") || failed.says("could not create unique index"),
            "the error should say why\n{failed}"
        );
        let nickname = "SELECT count(*) FROM information_schema.columns WHERE table_name = 'User' AND column_name = 'nickname'";
        assert_eq!(count(&database.url, nickname), 1);
        let invalid = "SELECT count(*) FROM pg_index WHERE indexrelid = '\"User_email_key\"'::regclass AND NOT indisvalid";
        assert_eq!(
            count(&database.url, invalid),
            1,
            "[{prisma}] INVALID index left"
        );
        // The next deploy refuses to go on: P3009.
        project.deploy(&database.url).expect(
            1,
            &["P3009", &index_folder, "migrate found failed migrations"],
        );
        // Prisma and migrate-safe report the failed migration; migrate-safe the INVALID index it left,
        // with the recovery.
        let drop_index = prisma_kit::assert_status_reports_the_failed_index(
            &project,
            &database.url,
            &index_folder,
        );
        prisma_kit::recover_from_the_invalid_index(
            &project,
            &database.url,
            &index_folder,
            &drop_index,
        );
        project
            .migrate_status(&database.url)
            .expect(0, &["Database schema is up to date!"]);
        drift(&project, &database.url, &v3).expect(0, &["No difference detected."]);
        project.assert_status_clean(&database.url);
        project.assert_apply_mode_was_used();
    }
    eprintln!(
        "prisma7_failure_drill_unique_on_duplicates: {:.1}s",
        started.elapsed().as_secs_f64()
    );
}

// ---------------------------------------------------------------------------------------------
// c. Per-statement apply is not atomic

/// A two-statement file whose second statement fails. split7 (Prisma 7.4+'s per-statement apply):
/// the first statement's column stays while Prisma records the migration as failed, and after the
/// data is fixed, `resolve --rolled-back` + deploy fails again on that column. whole (Prisma <= 7.3,
/// and 6.x): nothing of the file stays, and the same recovery works.
#[test]
fn prisma7_split_apply_leaves_a_failed_file_half_applied() {
    let Some(server) = server_url() else { return };
    let Some(script) = Prisma::V7Split.script() else {
        return;
    };
    let started = Instant::now();
    const INIT: &str = "CREATE TABLE \"T\" (\"id\" INTEGER NOT NULL, \"v\" INTEGER, CONSTRAINT \"T_pkey\" PRIMARY KEY (\"id\"));\n";
    const TWO: &str = "ALTER TABLE \"T\" ADD COLUMN \"w\" INTEGER;\nCREATE UNIQUE INDEX \"T_v_key\" ON \"T\"(\"v\");\n";
    let column_w = "SELECT count(*) FROM information_schema.columns WHERE table_name = 'T' AND column_name = 'w'";
    let index = "SELECT count(*) FROM pg_class WHERE relname = 'T_v_key'";
    for prisma in Prisma::V7_MODES {
        let project = Project::with_lock(prisma, &script);
        let database = ScratchDatabase::create(&server, None).unwrap();
        project.write_migration("1_init", INIT);
        project.deploy(&database.url).expect(0, &["1_init"]);
        // Two rows share v: the unique index (statement 2) fails.
        connect(&database.url)
            .unwrap()
            .batch_execute(r#"INSERT INTO "T" ("id", "v") VALUES (1, 7), (2, 7), (3, 8);"#)
            .unwrap();
        project.write_migration("2_two_statements", TWO);
        let failed = project.deploy(&database.url);
        assert_eq!(failed.code, Some(1), "{failed}");
        assert!(
            failed.says("migration_name=\"2_two_statements\""),
            "{failed}"
        );

        // Prisma's bookkeeping is the same in both modes: one failed row.
        let failed_rows = "SELECT count(*) FROM _prisma_migrations WHERE migration_name = '2_two_statements' AND finished_at IS NULL AND rolled_back_at IS NULL AND applied_steps_count = 0";
        assert_eq!(count(&database.url, failed_rows), 1, "[{prisma}]");
        assert_eq!(count(&database.url, index), 0, "[{prisma}]");
        let (ran, status) = project.status(&database.url);
        ran.expect(1, &[]);
        assert_eq!(
            states(&status),
            vec![
                ("1_init".to_string(), "applied".to_string()),
                ("2_two_statements".to_string(), "failed".to_string()),
            ],
            "{ran}"
        );

        if prisma == Prisma::V7Split {
            // For the record (see tools/prisma7/README.md): migrate-safe's text report of this state.
            let text =
                project.migrate_safe(&["status", project.dir(), "--database-url", &database.url]);
            eprintln!("{text}");
        }

        // What the shim sent for the file, and what stayed.
        let sent: Vec<(String, String)> = project
            .trace()
            .into_iter()
            .filter(|(_, text)| text.contains("\"w\"") || text.contains("T_v_key"))
            .collect();
        // Fix the data, mark the migration rolled back, deploy again.
        connect(&database.url)
            .unwrap()
            .batch_execute(r#"UPDATE "T" SET "v" = 9 WHERE "id" = 2;"#)
            .unwrap();
        project
            .prisma(
                &database.url,
                &["migrate", "resolve", "--rolled-back", "2_two_statements"],
            )
            .expect(0, &["marked as rolled back"]);
        if prisma == Prisma::V7Split {
            assert_eq!(
                sent.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
                vec!["stmt", "stmt"],
                "[{prisma}] sent:\n{}",
                sent_text(&sent)
            );
            // Non-atomic: the first statement's column stayed although the migration failed...
            assert_eq!(count(&database.url, column_w), 1, "[{prisma}]");
            // ...so the retry fails on it, now with a different error: the recovery Prisma and
            // migrate-safe describe (resolve --rolled-back, deploy) does not work as is.
            project
                .deploy(&database.url)
                .expect(1, &["already exists", "2_two_statements"]);
            assert_eq!(count(&database.url, index), 0, "[{prisma}]");
        } else {
            assert_eq!(
                sent.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
                vec!["whole"],
                "[{prisma}] sent:\n{}",
                sent_text(&sent)
            );
            // Atomic: the implicit transaction rolled the whole file back...
            assert_eq!(count(&database.url, column_w), 0, "[{prisma}]");
            // ...so the same recovery works.
            project.deploy(&database.url).expect(
                0,
                &[
                    "2_two_statements",
                    "All migrations have been successfully applied.",
                ],
            );
            assert_eq!(count(&database.url, column_w), 1, "[{prisma}]");
            assert_eq!(count(&database.url, index), 1, "[{prisma}]");
            project.assert_status_clean(&database.url);
        }
    }
    eprintln!(
        "prisma7_split_apply_leaves_a_failed_file_half_applied: {:.1}s",
        started.elapsed().as_secs_f64()
    );
}

/// migrate-safe's lock-timeout fix (`--unsafe-fixes`) is `SET lock_timeout = '5s';` at the top of the
/// migration and `RESET lock_timeout;` after its last statement. Sent with the file as one query
/// (whole) or statement by statement (split7, Prisma 7.4+), the file's statements run with it, and the
/// next migration of the same deploy (the same engine session) runs without it. (The `SET LOCAL` it
/// replaced did nothing under split7: PostgreSQL ignores it in autocommit.) Probes read the setting the
/// file's statements and the next migration ran with.
#[test]
fn prisma7_lock_timeout_fix_holds_in_the_file_and_ends_with_it() {
    let Some(server) = server_url() else { return };
    let Some(script) = Prisma::V7Split.script() else {
        return;
    };
    let started = Instant::now();
    for prisma in Prisma::V7_MODES {
        let project = Project::with_lock(prisma, &script);
        let database = ScratchDatabase::create(&server, None).unwrap();
        project.write_migration(
            "1_init",
            "CREATE TABLE \"T\" (\"id\" INTEGER NOT NULL, CONSTRAINT \"T_pkey\" PRIMARY KEY (\"id\"));\n",
        );
        project.deploy(&database.url).expect(0, &["1_init"]);
        project.write_migration(
            "2_column",
            "-- AlterTable\nALTER TABLE \"T\" ADD COLUMN \"w\" INTEGER;\n\n-- CreateIndex\nCREATE INDEX \"T_w_idx\" ON \"T\"(\"w\");\n",
        );
        project
            .migrate_safe(&["rewrite", project.dir(), "--unsafe-fixes"])
            .expect(0, &["lock-timeout"]);
        // The index moves to a CONCURRENTLY folder of its own; the ALTER stays, under the timeout.
        let rewritten = project.read_migration("2_column");
        assert!(
            rewritten.starts_with("-- migrate-safe: lock-timeout\nSET lock_timeout = '5s';\n")
                && rewritten.trim_end().ends_with("RESET lock_timeout;")
                && rewritten.contains("ADD COLUMN")
                && !rewritten.contains("CREATE INDEX"),
            "{rewritten}"
        );
        let reset = rewritten
            .rfind("-- migrate-safe: lock-timeout ends")
            .unwrap();
        project.write_migration(
            "2_column",
            &format!(
                "{}CREATE TABLE \"lock_probe\" AS SELECT current_setting('lock_timeout') AS \"setting\";\n\n{}",
                &rewritten[..reset],
                &rewritten[reset..]
            ),
        );
        // The next migration, applied by the same deploy on the same connection.
        project.write_migration(
            "3_after",
            "CREATE TABLE \"after_probe\" AS SELECT current_setting('lock_timeout') AS \"setting\";\n",
        );
        project.deploy(&database.url).expect(
            0,
            &[
                "2_column",
                "3_after",
                "All migrations have been successfully applied.",
            ],
        );
        let mut client = connect(&database.url).unwrap();
        let mut setting = |table: &str| -> String {
            client
                .query_one(&format!("SELECT \"setting\" FROM \"{table}\""), &[])
                .unwrap()
                .get(0)
        };
        assert_eq!(
            setting("lock_probe"),
            "5s",
            "[{prisma}] lock_timeout in the file's statements"
        );
        assert_eq!(
            setting("after_probe"),
            "0",
            "[{prisma}] lock_timeout in the next migration"
        );
        project.assert_apply_mode_was_used();
    }
    eprintln!(
        "prisma7_lock_timeout_fix_holds_in_the_file_and_ends_with_it: {:.1}s",
        started.elapsed().as_secs_f64()
    );
}

/// `migrate-safe deploy` keeps Prisma 7.10.1's books too (see the harness). Prisma only reads
/// `_prisma_migrations` here, so one of the kit's apply modes is enough.
#[test]
fn prisma7_sees_a_migrate_safe_deploy_as_its_own() {
    prisma_kit::prisma_sees_a_migrate_safe_deploy_as_its_own(Prisma::V7Split);
}

/// A batched backfill runs under the real Prisma 7.10.1 `migrate deploy`, under both of the kit's apply
/// modes (statement by statement, and one query per file).
#[test]
fn prisma7_runs_a_batched_backfill() {
    prisma_kit::prisma_runs_a_batched_backfill(Prisma::V7Split);
    prisma_kit::prisma_runs_a_batched_backfill(Prisma::V7Whole);
}
