//! The whole pipeline on statement-shaped token soup mixed with real shapes, through the real binary,
//! with and without unsafe fixes and `foreign-keys = "all"`: `lint` and `rewrite --dry-run` never crash
//! (exit 0 or 1, never a panic), their JSON and SARIF always parse, and a rewrite converges — written once, a second `rewrite --check`
//! finds nothing left to do. (Each run draws new cases; 3,000 at a time passed when this was written.)

use crate::common;

use std::fs;

use common::*;
use proptest::prelude::*;

/// Keywords the readers and rules branch on, the two existing tables' names, other names, punctuation.
fn soup_statement() -> impl Strategy<Value = String> {
    let word = prop_oneof![
        3 => prop::sample::select(vec![
            "CREATE", "ALTER", "DROP", "TABLE", "INDEX", "UNIQUE", "CONCURRENTLY", "IF", "NOT",
            "EXISTS", "ON", "ADD", "CONSTRAINT", "FOREIGN", "PRIMARY", "KEY", "REFERENCES",
            "COLUMN", "SET", "DATA", "TYPE", "NULL", "DEFAULT", "RENAME", "TO", "VALIDATE", "CHECK",
            "VALID", "TRUNCATE", "REINDEX", "BEGIN", "COMMIT", "USING", "INSERT", "INTO", "VALUES",
        ])
        .prop_map(str::to_string),
        2 => prop::sample::select(vec!["\"a\"", "\"b\"", "a", "\"id\"", "\"x\"", "\"i\"", "\"c\""])
            .prop_map(str::to_string),
        2 => prop::sample::select(vec!["(", ")", ",", ".", "'x'", "1", "TEXT", "INTEGER"])
            .prop_map(str::to_string),
    ];
    prop::collection::vec(word, 1..12).prop_map(|words| words.join(" "))
}

/// Real shapes among the soup, so the rules have something to fix.
fn statement() -> impl Strategy<Value = String> {
    // Mostly real shapes: soup PostgreSQL's grammar rejects ends the case at the gate (which is checked),
    // and the rest of the pipeline needs files that get past it.
    prop_oneof![
        1 => soup_statement(),
        4 => prop::sample::select(vec![
            "CREATE INDEX \"i\" ON \"a\"(\"x\")",
            "CREATE UNIQUE INDEX \"u\" ON \"b\"(\"id\")",
            "ALTER TABLE \"a\" ADD CONSTRAINT \"f\" FOREIGN KEY (\"x\") REFERENCES \"b\"(\"id\")",
            "ALTER TABLE \"a\" ALTER COLUMN \"x\" SET NOT NULL",
            "ALTER TABLE \"b\" ADD CONSTRAINT \"k\" UNIQUE (\"id\")",
            "DROP INDEX \"old\"",
            "ALTER INDEX \"i\" RENAME TO \"j\"",
            "ALTER TABLE \"a\" ADD CONSTRAINT \"ck\" CHECK (\"x\" > 0)",
            "ALTER TABLE \"a\" ADD COLUMN \"n\" TEXT NOT NULL DEFAULT 'x'",
            "ALTER TABLE \"b\" ADD CONSTRAINT \"b_pkey\" PRIMARY KEY (\"id\")",
            "CREATE INDEX CONCURRENTLY \"k\" ON \"a\"(\"c\")",
            "CREATE TABLE \"t\" (\"id\" INTEGER, \"a\" INTEGER)",
            "ALTER TABLE \"t\" ADD CONSTRAINT \"t_a\" FOREIGN KEY (\"a\") REFERENCES \"a\"(\"x\")",
            "CREATE INDEX \"t_idx\" ON \"t\"(\"a\")",
            "ALTER TABLE \"a\" ALTER COLUMN \"c\" SET DATA TYPE VARCHAR(5)",
            "ALTER TABLE \"a\" DROP COLUMN \"c\"",
            "ALTER TABLE \"a\" RENAME COLUMN \"x\" TO \"y\"",
            // Outside the fast tokenizer's subset: the file then goes through sqlparser's.
            "DO $$ BEGIN PERFORM 1; END $$",
            "SELECT E'it\\'s'",
            "COMMENT ON TABLE \"a\" IS 'café'",
            "CREATE INDEX \"é\" ON \"a\"(\"x\")",
            "BEGIN",
            "COMMIT",
        ])
        .prop_map(str::to_string),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn lint_and_rewrite_never_crash_and_converge(
        statements in prop::collection::vec(statement(), 1..7),
        // Through migrate-safe.toml, so that lint and rewrite see the same options.
        config in prop::sample::select(vec![
            "",
            "unsafe-fixes = true\n",
            "foreign-keys = \"all\"\n",
            "unsafe-fixes = true\nforeign-keys = \"all\"\n",
        ]),
    ) {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("migrations");
        fs::create_dir_all(dir.join("1_init")).unwrap();
        fs::create_dir_all(dir.join("2_change")).unwrap();
        fs::write(dir.join("migration_lock.toml"), "provider = \"postgresql\"\n").unwrap();
        fs::write(dir.join("migrate-safe.toml"), config).unwrap();
        fs::write(
            dir.join("1_init/migration.sql"),
            "CREATE TABLE \"a\" (\"x\" INTEGER, \"c\" TEXT);\nCREATE TABLE \"b\" (\"id\" INTEGER);\nCREATE INDEX \"old\" ON \"b\"(\"id\");\n",
        )
        .unwrap();
        let sql: String = statements
            .iter()
            .enumerate()
            .map(|(i, s)| {
                // Some headers carry non-ASCII text (columns then count characters, not bytes).
                let header = if i % 3 == 2 { "-- Étape" } else { "-- Step" };
                format!("{header}\n{s};\n\n")
            })
            .collect();
        fs::write(dir.join("2_change/migration.sql"), &sql).unwrap();
        let path = dir.to_str().unwrap();

        let lint = run(&["lint", path]);
        prop_assert!(
            matches!(lint.status.code(), Some(0 | 1)),
            "lint on:\n{sql}\nexit {:?}\n{}",
            lint.status.code(),
            stderr(&lint)
        );
        // Soup PostgreSQL's grammar rejects is refused by rewrite (exit 2, naming it), and lint says
        // so; nothing else of the pipeline applies to it.
        let dry = run(&["rewrite", path, "--dry-run"]);
        if dry.status.code() == Some(2) {
            prop_assert!(
                stderr(&dry).contains("PostgreSQL rejects this statement")
                    && stdout(&lint).contains("invalid-sql")
                    && stdout(&dry).is_empty(),
                "rewrite refused, but not for PostgreSQL's grammar, on:\n{sql}\n{}",
                stderr(&dry)
            );
            return Ok(());
        }
        prop_assert!(
            matches!(dry.status.code(), Some(0 | 1)),
            "rewrite --dry-run on:\n{sql}\nexit {:?}\n{}",
            dry.status.code(),
            stderr(&dry)
        );
        prop_assert!(!stdout(&lint).contains("invalid-sql"), "lint and rewrite disagree on:\n{sql}");
        // Machine-readable output stays readable whatever the input.
        for format in ["json", "sarif"] {
            let output = run(&["lint", path, "--format", format]);
            let parsed: Result<serde_json::Value, _> = serde_json::from_slice(&output.stdout);
            prop_assert!(parsed.is_ok(), "lint --format {format} on:\n{sql}\n{}", stdout(&output));
        }
        let plan = run(&["rewrite", path, "--dry-run", "--format", "json"]);
        let parsed: Result<serde_json::Value, _> = serde_json::from_slice(&plan.stdout);
        prop_assert!(parsed.is_ok(), "rewrite --format json on:\n{sql}\n{}", stdout(&plan));
        let written = run(&["rewrite", path]);
        prop_assert!(matches!(written.status.code(), Some(0 | 1)), "rewrite on:\n{sql}\n{}", stderr(&written));
        let again = run(&["rewrite", path, "--check"]);
        prop_assert_eq!(again.status.code(), Some(0), "not converged after rewrite with {:?} on:\n{}\n{}", config, sql, stdout(&again));
    }
}
