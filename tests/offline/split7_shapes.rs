//! Prisma 7.4+'s split made from the fast-path tokens, remembering the statement shapes sqlparser 0.61
//! parsed (`split7::split_with_tokens`, what the rules use), is sqlparser's split of the whole file
//! (`split7::split`, the reference) — the cuts, and for a file it cannot parse the error and its line —
//! on every fixture, every corpus history when ../shared is there, and generated files whose
//! statements share shapes but not names or strings. Each file is split twice: the second time every
//! shape is remembered.

use crate::common;

use std::path::PathBuf;

use common::*;
use migrate_safe::prisma::split7::{split, split_with_tokens};
use migrate_safe::source::lex::lex_common;
use proptest::prelude::*;

/// `Ok(true)` when the fast path read `text` and both splits agree; `Ok(false)` when it did not read it.
fn agrees(text: &str) -> Result<bool, String> {
    let Some(tokens) = lex_common(text) else {
        return Ok(false);
    };
    let reference = split(text);
    for pass in ["first", "second"] {
        let remembered = split_with_tokens(text, &tokens);
        if remembered != reference {
            return Err(format!(
                "{pass} pass: {remembered:?}\nsqlparser 0.61 on the whole file: {reference:?}"
            ));
        }
    }
    Ok(true)
}

fn check(files: &[PathBuf]) -> usize {
    let mut read = 0;
    for file in files {
        let text = std::fs::read_to_string(file).unwrap();
        match agrees(&text) {
            Ok(fast) => read += usize::from(fast),
            Err(difference) => panic!("{}: {difference}", file.display()),
        }
    }
    read
}

#[test]
fn the_remembered_split_is_sqlparsers_on_every_fixture() {
    let mut files = Vec::new();
    sql_files(&project_root().join("migrations-fixtures"), &mut files);
    let read = check(&files);
    assert!(
        read * 10 >= files.len() * 9,
        "only {read} of {}",
        files.len()
    );
}

#[test]
fn the_remembered_split_is_sqlparsers_on_every_corpus_history() {
    for (name, corpus, _) in corpora() {
        let mut files = Vec::new();
        sql_files(&corpus, &mut files);
        let read = check(&files);
        eprintln!("{name}: {read} of {} files compared", files.len());
        assert!(
            read * 10 >= files.len() * 9,
            "{name}: only {read} of {}",
            files.len()
        );
    }
}

/// Statements in a few shapes, some sqlparser 0.61 cannot parse (`DROP INDEX CONCURRENTLY`, `DO`,
/// `USING INDEX`, soup), with names and strings drawn anew: one shape, many texts.
fn statement() -> impl Strategy<Value = String> {
    let name = prop_oneof![
        "[a-z]{1,6}".prop_map(|n| format!("\"{n}\"")),
        Just("\"é\"".to_string()),
        Just("\"a\"\"b\"".to_string()),
        Just("\"\"".to_string()),
    ];
    let string = prop_oneof![
        "[a-z ;]{0,6}".prop_map(|s| format!("'{s}'")),
        Just("'it''s'".to_string()),
        Just("E'a\\'b'".to_string()),
        Just("'\\'".to_string()),
        Just("$$x;y$$".to_string()),
    ];
    let word = prop::sample::select(vec![
        "CREATE",
        "INDEX",
        "ON",
        "TABLE",
        "ALTER",
        "ADD",
        "DROP",
        "SELECT",
        "(",
        ")",
        ",",
        "1",
        "TEXT",
        "DEFAULT",
        "CONCURRENTLY",
        "USING",
        "NOT",
        "NULL",
        "=",
        "9999999999999999999999",
    ]);
    let shape = prop::sample::select(vec![
        "CREATE INDEX {n} ON {n}({n})",
        "CREATE UNIQUE INDEX {n} ON {n}({n}, {n})",
        "ALTER TABLE {n} ADD CONSTRAINT {n} FOREIGN KEY ({n}) REFERENCES {n}({n}) ON DELETE CASCADE",
        "ALTER TABLE {n} ADD COLUMN {n} TEXT NOT NULL DEFAULT {s}",
        "CREATE TABLE {n} ({n} TEXT DEFAULT {s}, {n} VARCHAR(9999999999999999999999))",
        "COMMENT ON TABLE {n} IS {s}",
        "SELECT {s}",
        "DROP INDEX CONCURRENTLY {n}",
        "ALTER TABLE {n} ADD CONSTRAINT {n} UNIQUE USING INDEX {n}",
        "DO $$ BEGIN PERFORM 1; END $$",
        "INSERT INTO {n} VALUES ({s}, 1)",
    ]);
    prop_oneof![
        4 => (shape, name.clone(), name.clone(), name, string).prop_map(|(shape, a, b, c, s)| {
            let mut names = [a, b, c].into_iter().cycle();
            let mut out = shape.replace("{s}", &s);
            while let Some(at) = out.find("{n}") {
                out.replace_range(at..at + 3, &names.next().unwrap());
            }
            out
        }),
        1 => prop::collection::vec(word, 1..6).prop_map(|w| w.join(" ")),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn generated_files_split_the_same(
        statements in prop::collection::vec(statement(), 1..6),
        comment in prop::sample::select(vec!["", "-- Step\n", "/* x; */ "]),
        last_semicolon in any::<bool>(),
    ) {
        let mut text: String = statements
            .iter()
            .map(|s| format!("{comment}{s};\n"))
            .collect();
        if !last_semicolon {
            text.truncate(text.len() - 2);
        }
        let result = agrees(&text);
        prop_assert!(result.is_ok(), "{:?}: {}", text, result.unwrap_err());
    }
}
