//! The fast tokenizer path agrees with sqlparser's tokenizer, the reference: wherever the fast path
//! reads a file at all, it gives the same tokens — kind, bytes, line and column — on every fixture, on
//! the documenso history when it is there, and on generated input. It also covers what Prisma writes:
//! a file falling back to sqlparser is correct but slow, and Prisma's output should not.

use crate::common;

use std::path::PathBuf;

use common::*;
use migrate_safe::source::lex::{Tok, TokenKind, lex_common};
use migrate_safe::source::split::tokenize_with_sqlparser;
use proptest::prelude::*;

/// Runs of operator tokens compared as one: the fast path reads `=-` as one operator where sqlparser
/// reads `=` and `-`; nothing reads operators, only their bytes must agree.
fn normalised(tokens: &[Tok]) -> Vec<Tok> {
    let mut out: Vec<Tok> = Vec::with_capacity(tokens.len());
    for token in tokens {
        let operator = matches!(token.kind, TokenKind::Other | TokenKind::Mul);
        if operator
            && let Some(last) = out.last_mut()
            && matches!(last.kind, TokenKind::Other | TokenKind::Mul)
            && last.bytes.end == token.bytes.start
        {
            last.kind = TokenKind::Other;
            last.bytes.end = token.bytes.end;
            continue;
        }
        out.push(token.clone());
    }
    out
}

/// `Some(true)` when the fast path read `text` (and agreed), `Some(false)` when it gave up.
fn agrees(text: &str) -> Result<bool, String> {
    let Some(fast) = lex_common(text) else {
        return Ok(false);
    };
    let reference = tokenize_with_sqlparser(text)
        .map_err(|e| format!("the fast path read text sqlparser rejects ({})", e.message))?;
    let (fast, reference) = (normalised(&fast), normalised(&reference));
    for (ours, theirs) in fast.iter().zip(&reference) {
        if ours != theirs {
            return Err(format!(
                "first difference: fast {ours:?} `{}` vs sqlparser {theirs:?} `{}`",
                &text[ours.bytes.clone()],
                &text[theirs.bytes.clone()]
            ));
        }
    }
    if fast.len() != reference.len() {
        return Err(format!("{} tokens vs {}", fast.len(), reference.len()));
    }
    Ok(true)
}

fn check_files(files: &[PathBuf]) -> (usize, Vec<PathBuf>) {
    let mut fast = 0;
    let mut fell_back = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(file).unwrap();
        match agrees(&text) {
            Ok(true) => fast += 1,
            Ok(false) => fell_back.push(file.clone()),
            Err(difference) => panic!("{}: {difference}", file.display()),
        }
    }
    (fast, fell_back)
}

#[test]
fn the_fast_path_agrees_on_every_fixture() {
    let mut files = Vec::new();
    sql_files(&project_root().join("migrations-fixtures"), &mut files);
    let (fast, fell_back) = check_files(&files);
    eprintln!(
        "{fast} of {} fixture files on the fast path; sqlparser read: {fell_back:#?}",
        files.len()
    );
    assert!(
        fast * 10 >= files.len() * 9,
        "only {fast} of {} files",
        files.len()
    );
}

#[test]
fn the_fast_path_agrees_on_documenso_and_reads_all_but_dollar_quotes() {
    let corpus = project_root().join("../shared/corpus/documenso/migrations");
    if !corpus.is_dir() {
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "CI=true but the corpus is missing at {}",
            corpus.display()
        );
        eprintln!("corpus not present (it comes with ../shared): skipped");
        return;
    }
    let mut files = Vec::new();
    sql_files(&corpus, &mut files);
    let (fast, fell_back) = check_files(&files);
    eprintln!("{fast} of {} documenso files on the fast path", files.len());
    // Only the hand-written files with dollar-quoted bodies (a function, a DO block) need sqlparser.
    let outside: Vec<&PathBuf> = fell_back
        .iter()
        .filter(|f| !std::fs::read_to_string(f).unwrap().contains("$$"))
        .collect();
    assert!(outside.is_empty(), "sqlparser had to read: {outside:#?}");
    assert!(fell_back.len() <= 2, "{fell_back:#?}");
}

/// Fragments of SQL, including ones the fast path must give up on.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z_][A-Za-z0-9_]{0,6}",
        "[0-9]{1,3}(\\.[0-9]{1,2})?",
        "[0-9]{1,2}[eE_x.][0-9a-z]{0,2}",
        "[A-Za-z&]{1,2}'[a-z]{0,2}'",
        "'[a-z ;\"\\n]{0,6}'",
        "\"[a-z ;'\\n]{1,6}\"",
        "--[a-z ;'\"]{0,6}\\n",
        "/\\*[a-z ;\\n]{0,6}\\*/",
        "[-+*/<>=~!@#%^&|:]{1,3}",
        "[(),.;\\[\\]]",
        "[ \\t\\n]{1,3}",
        Just("\r\n".to_string()),
        Just("E'x'".to_string()),
        Just("$$a$$".to_string()),
        Just("é".to_string()),
        Just("\"é\"".to_string()),
        Just("'é'".to_string()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn generated_sql_agrees(parts in prop::collection::vec(fragment(), 0..24)) {
        let text: String = parts.concat();
        prop_assert!(agrees(&text).is_ok(), "{:?}: {:?}", text, agrees(&text));
    }

    #[test]
    fn any_text_agrees_or_falls_back(text in "\\PC{0,80}") {
        prop_assert!(agrees(&text).is_ok(), "{:?}: {:?}", text, agrees(&text));
    }
}
