//! `status` against a real database holding every state: applied, pending, failed, rolled back,
//! modified, missing locally, an INVALID index and a NOT VALID constraint.

use crate::common;

use std::fs;

use common::live::server_url;
use common::*;
use migrate_safe::db::ScratchDatabase;
use migrate_safe::prisma::ApplyModel;
use migrate_safe::prisma::apply::apply_migration;
use migrate_safe::source::discover::discover;

fn write(dir: &std::path::Path, name: &str, sql: &str) {
    fs::create_dir_all(dir.join(name)).unwrap();
    fs::write(dir.join(name).join("migration.sql"), sql).unwrap();
}

#[test]
fn status_reports_every_state_and_hazard_with_recovery() {
    let Some(server) = server_url() else { return };
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("migrations");
    fs::create_dir_all(&dir).unwrap();
    fs::write(
        dir.join("migration_lock.toml"),
        "provider = \"postgresql\"\n",
    )
    .unwrap();
    write(
        &dir,
        "1_init",
        "CREATE TABLE \"User\" (\"id\" INT PRIMARY KEY, \"email\" TEXT, \"age\" INT);\nINSERT INTO \"User\" VALUES (1, 'a@x', 1), (2, 'a@x', -1);\n",
    );
    write(
        &dir,
        "2_modified",
        "CREATE TABLE \"Team\" (\"id\" INT PRIMARY KEY);\n",
    );
    write(
        &dir,
        "3_failed",
        "ALTER TABLE \"User\" ADD COLUMN \"name\" TEXT;\nSELECT 1/0;\n",
    );
    write(
        &dir,
        "4_rolled_back",
        "ALTER TABLE \"User\" ADD COLUMN \"nickname\" TEXT;\n",
    );
    write(
        &dir,
        "5_pending",
        "CREATE INDEX \"User_email_idx\" ON \"User\"(\"email\");\n",
    );

    let database = ScratchDatabase::create(&server, None).unwrap();
    let mut client = database.connect().unwrap();
    for name in ["1_init", "2_modified"] {
        let sql = fs::read_to_string(dir.join(name).join("migration.sql")).unwrap();
        apply_migration(&mut client, name, &sql, ApplyModel::OneQuery).unwrap();
    }
    let failed = fs::read_to_string(dir.join("3_failed/migration.sql")).unwrap();
    assert!(apply_migration(&mut client, "3_failed", &failed, ApplyModel::OneQuery).is_err());
    let rolled = fs::read_to_string(dir.join("4_rolled_back/migration.sql")).unwrap();
    apply_migration(&mut client, "4_rolled_back", &rolled, ApplyModel::OneQuery).unwrap();
    // What `prisma migrate resolve --rolled-back` records; and a migration whose folder is gone.
    client
        .batch_execute(
            "UPDATE _prisma_migrations SET rolled_back_at = now() WHERE migration_name = '4_rolled_back';
             INSERT INTO _prisma_migrations (id, checksum, migration_name, started_at, finished_at, applied_steps_count)
             VALUES ('00000000-0000-4000-a000-000000000001', 'abc', '0_gone', now(), now(), 1);",
        )
        .unwrap();
    // A failed concurrent unique build (duplicates) and a constraint added NOT VALID.
    assert!(
        client
            .batch_execute(
                "CREATE UNIQUE INDEX CONCURRENTLY \"User_email_key\" ON \"User\"(\"email\")"
            )
            .is_err()
    );
    client
        .batch_execute(
            "ALTER TABLE \"User\" ADD CONSTRAINT \"User_age_check\" CHECK (\"age\" > 0) NOT VALID",
        )
        .unwrap();
    // Edited after it was applied (CRLF alone would be tolerated, as by Prisma).
    write(
        &dir,
        "2_modified",
        "CREATE TABLE \"Team\" (\"id\" BIGINT PRIMARY KEY);\n",
    );
    let before = read_tree(&dir);

    let output = run(&[
        "status",
        dir.to_str().unwrap(),
        "--database-url",
        &database.url,
        "--format",
        "json",
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let states: Vec<(String, String)> = json["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["migration"].as_str().unwrap().to_string(),
                m["state"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expected: Vec<(String, String)> = [
        ("1_init", "applied"),
        ("2_modified", "modified"),
        ("3_failed", "failed"),
        ("4_rolled_back", "rolled-back"),
        ("5_pending", "pending"),
        ("0_gone", "missing-locally"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(states, expected);
    assert_eq!(json["needs_rewrite"], serde_json::json!(["5_pending"]));
    let kinds: Vec<&str> = json["hazards"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, vec!["invalid-index", "not-valid-constraint"]);
    assert_eq!(
        json["hazards"][0]["recovery"][0],
        "DROP INDEX CONCURRENTLY \"public\".\"User_email_key\";"
    );
    // One migration failed: the recovery names it instead of a placeholder.
    let resolve = json["hazards"][0]["recovery"][2].as_str().unwrap();
    assert!(
        resolve.starts_with("prisma migrate resolve --rolled-back 3_failed"),
        "{resolve}"
    );
    assert!(
        json["hazards"][1]["recovery"][0]
            .as_str()
            .unwrap()
            .starts_with("ALTER TABLE \"public\".\"User\" VALIDATE CONSTRAINT \"User_age_check\";")
    );

    let text = stdout(&run(&[
        "status",
        dir.to_str().unwrap(),
        "--database-url",
        &database.url,
    ]));
    assert!(
        text.contains("prisma migrate resolve --rolled-back 3_failed"),
        "{text}"
    );
    assert!(
        text.contains("5_pending  (migrate-safe would rewrite it)"),
        "{text}"
    );
    assert!(text.contains("needs attention"), "{text}");
    // Read-only: the directory and the database's history are unchanged.
    assert_eq!(read_tree(&dir), before);
    let rows: i64 = client
        .query_one("SELECT count(*) FROM _prisma_migrations", &[])
        .unwrap()
        .get(0);
    assert_eq!(rows, 5);
}

#[test]
fn a_fully_applied_clean_database_is_clean() {
    let Some(server) = server_url() else { return };
    let fixture = project_root().join("migrations-fixtures/dependencies/expected");
    let database = common::live::apply_dir(&server, &fixture, ApplyModel::OneQuery).unwrap();
    // CRLF in the file and LF in the record are the same to Prisma.
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("migrations");
    copy_tree(&fixture, &dir);
    let init = dir.join("0_init/migration.sql");
    fs::write(
        &init,
        fs::read_to_string(&init).unwrap().replace('\n', "\r\n"),
    )
    .unwrap();
    let output = run(&[
        "status",
        dir.to_str().unwrap(),
        "--database-url",
        &database.url,
    ]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}{}", stderr(&output));
    assert!(
        text.contains(
            "6 applied, 0 pending, 0 failed, 0 rolled back, 0 modified, 0 missing locally: clean"
        ),
        "{text}"
    );
}

#[test]
fn status_without_a_reachable_database_is_a_one_line_error() {
    let dir = project_root().join("migrations-fixtures/dependencies/migrations");
    let output = run(&[
        "status",
        dir.to_str().unwrap(),
        "--database-url",
        "postgresql://u:pw@127.0.0.1:1/db",
    ]);
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("cannot connect to postgresql://u:***@127.0.0.1:1/db"),
        "{err}"
    );
}

#[test]
fn rewrite_with_a_database_targets_what_is_pending_there_and_refuses_what_is_applied() {
    let Some(server) = server_url() else { return };
    let fixture = project_root().join("migrations-fixtures/several-pending");
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("migrations");
    copy_tree(&fixture.join("migrations"), &dir);
    // The database has the baseline and the first migration of the backlog.
    let database = ScratchDatabase::create(&server, None).unwrap();
    let mut client = database.connect().unwrap();
    for name in ["0_init", "20240501090000_task_assignees"] {
        let sql = fs::read_to_string(dir.join(name).join("migration.sql")).unwrap();
        apply_migration(&mut client, name, &sql, ApplyModel::OneQuery).unwrap();
    }
    let path = dir.to_str().unwrap();
    let refused = run(&[
        "rewrite",
        path,
        "--database-url",
        &database.url,
        "--migration",
        "20240501090000_task_assignees",
    ]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        stderr(&refused).contains("20240501090000_task_assignees is already applied"),
        "{}",
        stderr(&refused)
    );

    let output = run(&["rewrite", path, "--database-url", &database.url]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    // Exactly the two pending migrations were rewritten, as in the fixture's expected result.
    let expected = read_tree(&fixture.join("expected"));
    let actual = read_tree(&dir);
    for (path, bytes) in &actual {
        if path.starts_with("20240501090000_task_assignees") {
            assert_eq!(
                Some(bytes),
                fs::read(fixture.join("migrations").join(path))
                    .ok()
                    .as_ref(),
                "{path} changed"
            );
        } else {
            assert_eq!(Some(bytes), expected.get(path), "{path}");
        }
    }
    assert!(
        actual
            .keys()
            .any(|p| p.starts_with("20240515110000_project_slug_per_org_01"))
    );
    assert!(
        !actual
            .keys()
            .any(|p| p.starts_with("20240501090000_task_assignees_01"))
    );

    // Everything applied: the report says nothing is pending there, not that there is nothing to do.
    let applied = ScratchDatabase::create(&server, None).unwrap();
    let mut applied_client = applied.connect().unwrap();
    for migration in &discover(&dir).unwrap().migrations {
        apply_migration(
            &mut applied_client,
            &migration.name,
            &migration.sql,
            ApplyModel::OneQuery,
        )
        .unwrap();
    }
    let output = run(&["rewrite", path, "--database-url", &applied.url]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stdout(&output).contains(&format!(
            "Nothing is pending in {}: every migration here is applied there",
            applied.url
        )),
        "{}",
        stdout(&output)
    );
}

#[test]
fn lint_with_a_database_lints_what_is_pending_there() {
    let Some(server) = server_url() else { return };
    let dir = project_root().join("migrations-fixtures/several-pending/migrations");
    let database = ScratchDatabase::create(&server, None).unwrap();
    let mut client = database.connect().unwrap();
    for name in ["0_init", "20240501090000_task_assignees"] {
        let sql = fs::read_to_string(dir.join(name).join("migration.sql")).unwrap();
        apply_migration(&mut client, name, &sql, ApplyModel::OneQuery).unwrap();
    }
    let output = run(&[
        "lint",
        dir.to_str().unwrap(),
        "--database-url",
        &database.url,
        "--format",
        "json",
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["migrations_linted"], 2);
    let linted: std::collections::BTreeSet<&str> = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["migration"].as_str().unwrap())
        .collect();
    assert_eq!(
        linted,
        [
            "20240508143000_comment_authors",
            "20240515110000_project_slug_per_org"
        ]
        .into()
    );
    // Nothing pending: nothing to lint.
    for name in [
        "20240508143000_comment_authors",
        "20240515110000_project_slug_per_org",
    ] {
        let sql = fs::read_to_string(dir.join(name).join("migration.sql")).unwrap();
        apply_migration(&mut client, name, &sql, ApplyModel::OneQuery).unwrap();
    }
    let output = run(&[
        "lint",
        dir.to_str().unwrap(),
        "--database-url",
        &database.url,
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stdout(&output).contains("0 migrations linted, no findings"));
}

#[test]
fn a_not_valid_constraint_that_a_pending_folder_validates_is_recovered_by_deploying() {
    let Some(server) = server_url() else { return };
    let dir = project_root().join("migrations-fixtures/saas-baseline/expected");
    let database = ScratchDatabase::create(&server, None).unwrap();
    let mut client = database.connect().unwrap();
    // Deployed up to (not including) the folder that validates the foreign keys.
    let migrations = discover(&dir).unwrap().migrations;
    let validate = migrations
        .iter()
        .find(|m| m.name.ends_with("_validate_foreign_keys"))
        .unwrap()
        .name
        .clone();
    for migration in migrations.iter().take_while(|m| m.name != validate) {
        apply_migration(
            &mut client,
            &migration.name,
            &migration.sql,
            ApplyModel::OneQuery,
        )
        .unwrap();
    }
    let output = run(&[
        "status",
        dir.to_str().unwrap(),
        "--database-url",
        &database.url,
        "--format",
        "json",
    ]);
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let hazard = json["hazards"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["kind"] == "not-valid-constraint")
        .unwrap_or_else(|| panic!("{json:#}"));
    assert_eq!(
        hazard["recovery"],
        serde_json::json!([format!(
            "prisma migrate deploy (runs {validate}, which validates it; if it fails, fix the violating rows first)"
        )])
    );
}

#[test]
fn rewriting_a_migration_the_local_database_has_applied_warns() {
    let Some(server) = server_url() else { return };
    let fixture = project_root().join("migrations-fixtures/saas-baseline/migrations");
    let database = ScratchDatabase::create(&server, None).unwrap();
    let mut client = database.connect().unwrap();
    let migrations = discover(&fixture).unwrap().migrations;
    let newest = migrations.last().unwrap().name.clone();
    apply_migration(
        &mut client,
        &migrations[0].name,
        &migrations[0].sql,
        ApplyModel::OneQuery,
    )
    .unwrap();
    let rewrite = |temp: &std::path::Path| {
        let dir = temp.join("migrations");
        copy_tree(&fixture, &dir);
        binary()
            .args(["rewrite", dir.to_str().unwrap()])
            .env("DATABASE_URL", &database.url)
            .output()
            .unwrap()
    };
    // Pending there: no warning.
    let temp = tempfile::tempdir().unwrap();
    let output = rewrite(temp.path());
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(!stderr(&output).contains("warning:"), "{}", stderr(&output));
    // Applied there (as `prisma migrate dev` without --create-only does): it says so and how to redo it.
    let last = migrations.last().unwrap();
    apply_migration(&mut client, &last.name, &last.sql, ApplyModel::OneQuery).unwrap();
    let temp = tempfile::tempdir().unwrap();
    let output = rewrite(temp.path());
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let warned = stderr(&output);
    assert!(
        warned.contains(&format!(
            "warning: {newest} is already applied in {} (DATABASE_URL)",
            database.url
        )) && warned.contains("prisma migrate reset"),
        "{warned}"
    );
}

#[test]
fn a_database_prisma_never_deployed_to_is_named_as_such() {
    let Some(server) = server_url() else { return };
    let dir = project_root().join("migrations-fixtures/saas-baseline/migrations");
    let empty = ScratchDatabase::create(&server, None).unwrap();
    // The mistake of issue 16: a scratch server passed where the deployed database is meant.
    let rewrite = run(&[
        "rewrite",
        dir.to_str().unwrap(),
        "--dry-run",
        "--database-url",
        &empty.url,
    ]);
    assert_eq!(rewrite.status.code(), Some(2));
    assert!(
        stderr(&rewrite)
            .contains("has no _prisma_migrations table: Prisma has never deployed to it")
            && stderr(&rewrite).contains("--scratch-url"),
        "{}",
        stderr(&rewrite)
    );
    let status = run(&[
        "status",
        dir.to_str().unwrap(),
        "--database-url",
        &empty.url,
    ]);
    assert!(
        stdout(&status).contains("No _prisma_migrations table in this database"),
        "{}",
        stdout(&status)
    );
}

/// A password in any form libpq accepts never reaches the output: every form × every command that
/// takes a database × text and JSON, stdout and stderr, raw and percent-decoded. (It was printed in
/// the `Database:` header, JSON's `"database"`, "the server at ..." and errors: 14 of 14 runs.)
#[test]
fn passwords_are_never_printed_in_any_form_command_or_format() {
    let Some(server) = server_url() else { return };
    let database = ScratchDatabase::create(&server, None).unwrap();
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("migrations");
    copy_tree(
        &project_root().join("migrations-fixtures/saas-baseline/migrations"),
        &dir,
    );
    // Prisma's bookkeeping in the database, so that every command gets past its first query.
    let first = run(&[
        "deploy",
        dir.to_str().unwrap(),
        "--database-url",
        &database.url,
    ]);
    assert!(
        matches!(first.status.code(), Some(0 | 1)),
        "{}",
        stderr(&first)
    );
    // Trust authentication: any password connects, so each form is seen on the paths that succeed.
    let (raw, decoded) = ("Pw-7f3k%21x%409Q", "Pw-7f3k!x@9Q");
    let rest = database.url.split_once("://").unwrap().1; // postgres@127.0.0.1:5432/<db>
    let (user, host_db) = rest.split_once('@').unwrap();
    type Env = Vec<(&'static str, String)>;
    let forms: Vec<(&str, String, Env)> = vec![
        (
            "user info",
            format!("postgresql://{user}:{raw}@{host_db}"),
            vec![],
        ),
        (
            "?password=",
            format!("{}?password={raw}", database.url),
            vec![],
        ),
        (
            "&password=",
            format!("{}?sslmode=disable&password={raw}", database.url),
            vec![],
        ),
        (
            "?sslpassword=",
            format!("{}?sslpassword={raw}", database.url),
            vec![],
        ),
        (
            "key=value",
            format!("host=127.0.0.1 user={user} password='{decoded}' dbname=x"),
            vec![],
        ),
        (
            "key=value unquoted",
            format!("host=127.0.0.1 password={raw}"),
            vec![],
        ),
        (
            "PGPASSWORD",
            database.url.clone(),
            vec![("PGPASSWORD", decoded.to_string())],
        ),
        (
            "DATABASE_URL",
            String::new(),
            vec![("DATABASE_URL", format!("{}?password={raw}", database.url))],
        ),
        (
            "server down",
            format!("postgresql://{user}:{raw}@127.0.0.1:1/db"),
            vec![],
        ),
    ];
    let d = dir.to_str().unwrap();
    let mut runs = 0;
    for (form, url, env) in &forms {
        let with_url = |flag: &'static str| -> Vec<String> {
            if url.is_empty() {
                vec![]
            } else {
                vec![flag.to_string(), url.clone()]
            }
        };
        let mut commands: Vec<Vec<String>> = Vec::new();
        for format in ["text", "json"] {
            let f = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
            let mut status = f(&["status", d, "--format", format]);
            status.extend(with_url("--database-url"));
            commands.push(status);
            let mut deploy = f(&["deploy", d, "--dry-run", "--format", format]);
            deploy.extend(with_url("--database-url"));
            commands.push(deploy);
            let mut lint = f(&["lint", d, "--format", format]);
            lint.extend(with_url("--database-url"));
            commands.push(lint);
            if !url.is_empty() {
                let mut check = f(&["check", d, "--format", format]);
                check.extend(with_url("--scratch-url"));
                commands.push(check);
            }
        }
        let mut baseline = vec![
            "baseline".to_string(),
            d.to_string(),
            "--dry-run".to_string(),
        ];
        baseline.extend(with_url("--database-url"));
        commands.push(baseline);
        let mut rewrite = vec![
            "rewrite".to_string(),
            d.to_string(),
            "--dry-run".to_string(),
        ];
        rewrite.extend(with_url("--database-url"));
        commands.push(rewrite);
        for args in commands {
            let mut command = binary();
            command.args(&args).env_remove("DATABASE_URL");
            for (key, value) in env {
                command.env(key, value);
            }
            let output = command.output().unwrap();
            let all = format!("{}{}", stdout(&output), stderr(&output));
            assert!(!all.contains("panicked"), "{form}: {args:?}: {all}");
            for secret in [raw, decoded] {
                assert!(
                    !all.contains(secret),
                    "{form}: {args:?} printed the password {secret:?}:\n{all}"
                );
            }
            runs += 1;
        }
    }
    assert!(runs >= 9 * 8, "{runs} runs");
    // `scratch-url` in migrate-safe.toml (found above the migrations directory).
    fs::write(
        temp.path().join("migrate-safe.toml"),
        format!("scratch-url = \"postgresql://{user}:{raw}@127.0.0.1:1/postgres\"\n"),
    )
    .unwrap();
    for format in ["text", "json"] {
        let output = run(&["check", d, "--format", format]);
        let all = format!("{}{}", stdout(&output), stderr(&output));
        assert_eq!(output.status.code(), Some(2), "{all}");
        for secret in [raw, decoded] {
            assert!(
                !all.contains(secret),
                "scratch-url in migrate-safe.toml printed {secret:?}:\n{all}"
            );
        }
    }
}

/// A folder named with shell metacharacters: the `prisma migrate resolve` that status and deploy
/// suggest, pasted into a shell, passes the name as one argument and runs nothing of it.
#[test]
fn suggested_commands_quote_folder_names_for_the_shell() {
    let Some(server) = server_url() else { return };
    let database = ScratchDatabase::create(&server, None).unwrap();
    let temp = tempfile::tempdir().unwrap();
    let name = "20240401000000_x $(touch PWNED) ;touch PWNED2; it's \"q\"";
    let dir = migrations_dir(
        temp.path(),
        &[
            ("1_init", "CREATE TABLE \"T\" (\"id\" INT);\n"),
            (
                name,
                "ALTER TABLE \"T\" ADD COLUMN \"c\" INT;\nSELECT 1/0;\n",
            ),
        ],
    );
    let deploy = run(&[
        "deploy",
        dir.to_str().unwrap(),
        "--database-url",
        &database.url,
    ]);
    assert_eq!(deploy.status.code(), Some(1), "{}", stderr(&deploy));
    let status = run(&[
        "status",
        dir.to_str().unwrap(),
        "--database-url",
        &database.url,
    ]);
    let said = format!("{}\n{}", stdout(&deploy), stdout(&status));
    let commands: Vec<&str> = said
        .lines()
        .filter_map(|l| l.find("prisma migrate resolve").map(|at| &l[at..]))
        .map(|l| l.split('`').next().unwrap().split(", then").next().unwrap())
        .collect();
    assert!(commands.len() >= 2, "{said}");
    let sandbox = tempfile::tempdir().unwrap();
    for command in commands {
        // `prisma` stands in as a function printing its arguments one per line.
        let pasted = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("prisma() {{ printf '%s\\n' \"$@\"; }}; {command}"))
            .current_dir(sandbox.path())
            .output()
            .unwrap();
        let args = String::from_utf8_lossy(&pasted.stdout).into_owned();
        assert!(args.lines().any(|a| a == name), "{command}: {args}");
        assert_eq!(
            fs::read_dir(sandbox.path()).unwrap().count(),
            0,
            "{command} ran something"
        );
    }
}

/// `DATABASE_URL` in a `.env` file where Prisma reads it (the project root above prisma/) is used when
/// the environment has none, and said; without one the error says where it may be set.
#[test]
fn database_url_from_a_dotenv_file_is_used_as_prisma_uses_it() {
    let Some(server) = server_url() else { return };
    let database = ScratchDatabase::create(&server, None).unwrap();
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("prisma/migrations");
    copy_tree(
        &project_root().join("migrations-fixtures/saas-baseline/migrations"),
        &dir,
    );
    let elsewhere = tempfile::tempdir().unwrap();
    let status = || {
        binary()
            .args(["status", dir.to_str().unwrap()])
            .env_remove("DATABASE_URL")
            .current_dir(elsewhere.path())
            .output()
            .unwrap()
    };
    let missing = status();
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        stderr(&missing).contains("a .env file beside the project"),
        "{}",
        stderr(&missing)
    );
    fs::write(
        temp.path().join(".env"),
        format!("# local\nDATABASE_URL=\"{}\"\n", database.url),
    )
    .unwrap();
    let found = status();
    assert!(
        matches!(found.status.code(), Some(0 | 1)),
        "{}",
        stderr(&found)
    );
    assert!(
        stderr(&found).contains(&format!(
            "DATABASE_URL from {}",
            temp.path().join(".env").display()
        )),
        "{}",
        stderr(&found)
    );
    assert!(
        stdout(&found).contains(&format!("Database: {}", database.url)),
        "{}",
        stdout(&found)
    );
}
