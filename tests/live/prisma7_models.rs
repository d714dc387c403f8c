//! Prisma 7.4+'s apply model, live: a file runs statement by statement where sqlparser 0.61 parses it,
//! and migrate-safe's `check`, its apply and its lock-timeout fix behave as that Prisma does — beside
//! Prisma <= 7.3's one query per file. (The real 7.10.1 CLI runs the same files in tests/e2e/prisma7.rs.)

use crate::common;

use std::fs;
use std::path::Path;

use common::live::server_url;
use common::*;
use migrate_safe::db::ScratchDatabase;
use migrate_safe::prisma::ApplyModel;
use migrate_safe::prisma::apply::apply_migration;

fn check_json(dir: &Path, server: &str, version: &str) -> (Option<i32>, serde_json::Value) {
    let output = run(&[
        "check",
        dir.to_str().unwrap(),
        "--scratch-url",
        server,
        "--prisma-version",
        version,
        "--format",
        "json",
    ]);
    let json: serde_json::Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", stdout(&output), stderr(&output)));
    assert_eq!(json["reports"].as_array().unwrap().len(), 1, "{json:#}");
    (output.status.code(), json["reports"][0].clone())
}

const INIT: &str = "CREATE TABLE \"User\" (\"id\" INT PRIMARY KEY, \"email\" TEXT);\nINSERT INTO \"User\" VALUES (1, 'a@x'), (2, 'a@x');\n";

#[test]
fn a_failing_statement_leaves_the_earlier_ones_applied_under_prisma_7_only() {
    let Some(server) = server_url() else { return };
    let temp = tempfile::tempdir().unwrap();
    let dir = migrations_dir(
        temp.path(),
        &[
            ("1_init", INIT),
            (
                "2_change",
                "-- CreateTable\nCREATE TABLE \"Team\" (\"id\" INT PRIMARY KEY);\n\n-- CreateIndex\nCREATE UNIQUE INDEX \"User_email_key\" ON \"User\"(\"email\");\n",
            ),
        ],
    );
    let (code, seven) = check_json(&dir, &server, "7.10.1");
    assert_eq!(code, Some(1));
    assert_eq!(seven["model"], "per-statement");
    assert_eq!(seven["failure"]["migration"], "2_change");
    assert_eq!(seven["failure"]["sqlstate"], "23505");
    assert_eq!(seven["failure"]["statement"]["line"], 5);
    assert_eq!(
        seven["failure"]["left_applied"],
        serde_json::json!([{"line": 2, "excerpt": "CREATE TABLE \"Team\" (\"id\" INT PRIMARY KEY)"}])
    );
    let (_, six) = check_json(&dir, &server, "6.19.3");
    assert_eq!(six["model"], "one-query");
    assert_eq!(six["failure"]["statement"]["line"], 5);
    assert_eq!(six["failure"]["left_applied"], serde_json::json!([]));

    // The text report says what stays and what Prisma is left in.
    let text = stdout(&run(&[
        "check",
        dir.to_str().unwrap(),
        "--scratch-url",
        &server,
        "--prisma-version",
        "7.10.1",
    ]));
    assert!(
        text.contains("statement by statement (Prisma 7.4+)"),
        "{text}"
    );
    assert!(text.contains("P3009"), "{text}");
    assert!(
        text.contains("Left applied (each statement committed on its own")
            && text.contains("2_change/migration.sql:2: CREATE TABLE \"Team\""),
        "{text}"
    );
}

#[test]
fn a_concurrent_index_beside_other_statements_runs_under_prisma_7_and_fails_under_6() {
    let Some(server) = server_url() else { return };
    let temp = tempfile::tempdir().unwrap();
    let mixed = "-- CreateTable\nCREATE TABLE \"Team\" (\"id\" INT PRIMARY KEY);\n\n-- CreateIndex\nCREATE INDEX CONCURRENTLY \"User_email_idx\" ON \"User\"(\"email\");\n";
    let dir = migrations_dir(temp.path(), &[("1_init", INIT), ("2_change", mixed)]);
    let (code, seven) = check_json(&dir, &server, "7.10.1");
    assert_eq!(seven["failure"], serde_json::Value::Null, "{seven:#}");
    assert_eq!(code, Some(0), "{seven:#}");
    let statements = seven["locks"][0]["statements"].as_array().unwrap();
    assert_eq!(seven["locks"][0]["per_statement"], true);
    // The concurrent build ran for real, outside a transaction: its lock is known, its time measured.
    assert_eq!(statements[1]["known"], true);
    assert!(statements[1]["duration_ms"].is_f64(), "{seven:#}");
    assert_eq!(statements[1]["locks"][0]["mode"], "SHARE_UPDATE_EXCLUSIVE");
    let (code, six) = check_json(&dir, &server, "6.19.3");
    assert_eq!(code, Some(1));
    assert_eq!(six["failure"]["sqlstate"], "25001");

    // A DO block anywhere makes Prisma 7.4+ send the file as one query: 25001 again, and lint names
    // the line that forces it.
    let fallback = format!("{mixed}\nDO $$ BEGIN PERFORM 1; END $$;\n");
    fs::write(dir.join("2_change/migration.sql"), &fallback).unwrap();
    let (_, seven) = check_json(&dir, &server, "7.10.1");
    assert_eq!(seven["failure"]["sqlstate"], "25001", "{seven:#}");
    let lint = run(&["lint", dir.to_str().unwrap(), "--prisma-version", "7.10.1"]);
    let text = stdout(&lint);
    assert!(
        text.contains("error[concurrently-alone]")
            && text.contains(
                "its sqlparser 0.61 cannot parse line 7 (`DO $$ BEGIN PERFORM 1; END $$;`)"
            ),
        "{text}"
    );
    // Without the DO block, Prisma 7.4+ alone is not an error.
    fs::write(dir.join("2_change/migration.sql"), mixed).unwrap();
    let lint = run(&[
        "lint",
        dir.to_str().unwrap(),
        "--prisma-version",
        "7.10.1",
        "--select",
        "concurrently-alone",
    ]);
    assert_eq!(lint.status.code(), Some(0), "{}", stdout(&lint));
}

/// The lock-timeout fix as `rewrite --unsafe-fixes` writes it, with a probe before its RESET that
/// records the lock_timeout the migration's statements see.
fn lock_timeout_fixed_file(temp: &Path) -> String {
    let dir = migrations_dir(
        temp,
        &[
            (
                "1_init",
                "CREATE TABLE \"Post\" (\"id\" INT PRIMARY KEY, \"title\" TEXT);\nCREATE TABLE \"probe\" (\"seen\" TEXT);\n",
            ),
            (
                "2_change",
                "-- AlterTable\nALTER TABLE \"Post\" ADD COLUMN \"slug\" TEXT;\n\n-- AlterTable\nALTER TABLE \"Post\" ADD COLUMN \"body\" TEXT;\n",
            ),
        ],
    );
    let output = run(&["rewrite", dir.to_str().unwrap(), "--unsafe-fixes"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let fixed = fs::read_to_string(dir.join("2_change/migration.sql")).unwrap();
    assert!(
        fixed.starts_with("-- migrate-safe: lock-timeout\nSET lock_timeout = '5s';\n"),
        "{fixed}"
    );
    assert!(fixed.trim_end().ends_with("RESET lock_timeout;"), "{fixed}");
    let probe = "INSERT INTO \"probe\" SELECT current_setting('lock_timeout');\n";
    let reset = fixed.rfind("-- migrate-safe: lock-timeout ends").unwrap();
    format!("{}{probe}\n{}", &fixed[..reset], &fixed[reset..])
}

#[test]
fn the_lock_timeout_fix_holds_inside_the_migration_and_ends_with_it_under_both_models() {
    let Some(server) = server_url() else { return };
    let temp = tempfile::tempdir().unwrap();
    let fixed = lock_timeout_fixed_file(temp.path());
    for model in ApplyModel::ALL {
        let database = ScratchDatabase::create(&server, None).unwrap();
        let mut client = database.connect().unwrap();
        let init = "CREATE TABLE \"Post\" (\"id\" INT PRIMARY KEY, \"title\" TEXT);\nCREATE TABLE \"probe\" (\"seen\" TEXT);\n";
        apply_migration(&mut client, "1_init", init, model).unwrap();
        apply_migration(&mut client, "2_change", &fixed, model).unwrap();
        let seen: String = client
            .query_one("SELECT \"seen\" FROM \"probe\"", &[])
            .unwrap()
            .get(0);
        assert_eq!(seen, "5s", "{model:?}: inside the migration");
        // The same session, as Prisma's next migration would see it.
        let after: String = client.query_one("SHOW lock_timeout", &[]).unwrap().get(0);
        assert_eq!(after, "0", "{model:?}: after the migration");
    }
    // What the old fix did, for contrast: SET LOCAL does nothing statement by statement.
    let database = ScratchDatabase::create(&server, None).unwrap();
    let mut client = database.connect().unwrap();
    let old = fixed
        .replace("RESET lock_timeout;", "")
        .replace("SET lock_timeout", "SET LOCAL lock_timeout");
    let init = "CREATE TABLE \"Post\" (\"id\" INT PRIMARY KEY, \"title\" TEXT);\nCREATE TABLE \"probe\" (\"seen\" TEXT);\n";
    apply_migration(&mut client, "1_init", init, ApplyModel::PerStatement).unwrap();
    apply_migration(&mut client, "2_change", &old, ApplyModel::PerStatement).unwrap();
    let seen: String = client
        .query_one("SELECT \"seen\" FROM \"probe\"", &[])
        .unwrap()
        .get(0);
    assert_eq!(seen, "0");
    // And lint says so for a file that still has it.
    let dir = temp.path().join("old");
    let dir = migrations_dir(
        &dir,
        &[
            ("1_init", init),
            (
                "2_change",
                &old.replace(
                    "INSERT INTO \"probe\" SELECT current_setting('lock_timeout');\n",
                    "",
                ),
            ),
        ],
    );
    let text = stdout(&run(&[
        "lint",
        dir.to_str().unwrap(),
        "--prisma-version",
        "7.10.1",
    ]));
    assert!(
        text.contains("SET LOCAL lock_timeout does nothing where Prisma 7.4+ runs this file statement by statement"),
        "{text}"
    );
}
