//! How Prisma 7.4+ cuts a `migration.sql` into statements (prisma-engines PR #5767): when sqlparser
//! 0.61.0 with its PostgreSQL dialect parses the whole file, each statement is sent as its own simple
//! query; when it does not, the whole file goes as one query. The crate is pinned to the version Prisma
//! 7.10.1's schema engine embeds, so the gate fails exactly where Prisma's does (it cannot parse `DO`
//! blocks, `DROP INDEX CONCURRENTLY`, `ADD CONSTRAINT .. USING INDEX`, `REINDEX`, ...).
//!
//! The cut points are top-level `;` tokens of the original text (quotes, dollar bodies and comments are
//! the tokenizer's), each piece trimmed, and a trailing piece of only comments dropped — the same
//! emulation as `tools/prisma7/` uses to drive the real 7.10.1 CLI.

use std::cell::RefCell;
use std::ops::Range;

use rustc_hash::FxHashSet as HashSet;

use sqlparser_prisma7::dialect::PostgreSqlDialect;
use sqlparser_prisma7::parser::{Parser, ParserError};
use sqlparser_prisma7::tokenizer::{Token, Tokenizer};

use crate::source::lex::{Tok, TokenKind};

/// What Prisma 7.4+ does with one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Split7 {
    /// Each byte range of the file is sent as its own query, in order.
    Statements(Vec<Range<usize>>),
    /// sqlparser 0.61 could not parse the file: it goes as one query. `line` is where it stopped.
    Fallback { line: Option<usize>, error: String },
}

pub fn split(sql: &str) -> Split7 {
    let dialect = PostgreSqlDialect {};
    // Tokenized once: the parser runs on these tokens (what `Parser::parse_sql` does after its own
    // tokenizing), and the cuts are read from them.
    // Sized for the file up front (about one token per four bytes): growing it copies every token.
    let mut tokens = Vec::with_capacity(sql.len() / 4 + 16);
    match Tokenizer::new(&dialect, sql).tokenize_with_location_into_buf(&mut tokens) {
        Ok(()) => {}
        Err(error) => {
            // Worded as `Parser::parse_sql` words it.
            let error = ParserError::TokenizerError(error.to_string()).to_string();
            return Split7::Fallback {
                line: error_line(&error),
                error,
            };
        }
    }
    let lines = crate::source::line_starts(sql);
    let offset = |line: u64, column: u64| -> usize {
        let start = lines[(line as usize - 1).min(lines.len() - 1)];
        // Columns count characters from 1.
        sql[start..]
            .char_indices()
            .nth(column as usize - 1)
            .map_or(sql.len(), |(i, _)| start + i)
    };
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut rest_has_code = false;
    for token in &tokens {
        match &token.token {
            Token::SemiColon => {
                let end = offset(token.span.start.line, token.span.start.column);
                push_trimmed(sql, start..end, &mut pieces);
                start = end + 1;
                rest_has_code = false;
            }
            Token::Whitespace(_) => {}
            _ => rest_has_code = true,
        }
    }
    if rest_has_code {
        push_trimmed(sql, start..sql.len(), &mut pieces);
    }
    // The cuts are read first so the parser can take the tokens instead of a copy of them.
    if let Err(error) = Parser::new(&dialect)
        .with_tokens_with_locations(tokens)
        .parse_statements()
    {
        let error = error.to_string();
        return Split7::Fallback {
            line: error_line(&error),
            error,
        };
    }
    Split7::Statements(pieces)
}

/// [`split`], from the file's fast-path tokens (`lex_common`'s, which agree with sqlparser's on that
/// subset), remembering the statement shapes sqlparser 0.61 has parsed in this process: most statements
/// of a history share a shape with an earlier one (`CREATE INDEX "q" ON "q"("q")`), and tokenizing and
/// parsing every file again is most of a lint's time. A shape is a statement's tokens with quoted
/// identifiers and string literals blanked (the parser never reads what is inside them); a statement
/// of a new shape is tokenized and parsed alone — the file parses exactly when each of its statements
/// does — and any failure goes back to [`split`] for its exact error and line.
pub fn split_with_tokens(sql: &str, tokens: &[Tok]) -> Split7 {
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut rest_has_code = false;
    let mut shape = Vec::with_capacity(256);
    let parsed = KNOWN_SHAPES.with_borrow_mut(|known| {
        for token in tokens {
            match token.kind {
                TokenKind::SemiColon => {
                    let end = token.bytes.start;
                    if !known.contains(shape.as_slice()) {
                        if !parses_alone(&sql[start..token.bytes.end]) {
                            return false;
                        }
                        known.insert(shape.clone().into_boxed_slice());
                    }
                    shape.clear();
                    push_trimmed(sql, start..end, &mut pieces);
                    start = token.bytes.end;
                    rest_has_code = false;
                }
                _ if token.is_trivia() => {}
                kind => {
                    rest_has_code = true;
                    add_to_shape(&mut shape, kind, &sql[token.bytes.clone()]);
                }
            }
        }
        if rest_has_code && !known.contains(shape.as_slice()) {
            if !parses_alone(&sql[start..]) {
                return false;
            }
            known.insert(shape.into_boxed_slice());
        }
        true
    });
    if !parsed {
        return split(sql);
    }
    if rest_has_code {
        push_trimmed(sql, start..sql.len(), &mut pieces);
    }
    Split7::Statements(pieces)
}

thread_local! {
    /// Statement shapes sqlparser 0.61 parsed, in this process.
    static KNOWN_SHAPES: RefCell<HashSet<Box<[u8]>>> = RefCell::new(HashSet::default());
}

/// One token of a shape: its kind, and its bytes unless it is a quoted identifier or a string (of a
/// string, only the prefix before its quote: `E'`, `$tag$`).
fn add_to_shape(shape: &mut Vec<u8>, kind: TokenKind, text: &str) {
    shape.push(kind as u8);
    match kind {
        TokenKind::QuotedIdent => {}
        TokenKind::String => {
            let quote = text.find(['\'', '$']).map_or(text.len(), |i| i + 1);
            shape.extend_from_slice(&text.as_bytes()[..quote]);
        }
        _ => shape.extend_from_slice(text.as_bytes()),
    }
    shape.push(0);
}

/// Whether sqlparser 0.61 tokenizes and parses `statement` (one statement, maybe with its `;`).
fn parses_alone(statement: &str) -> bool {
    let dialect = PostgreSqlDialect {};
    let Ok(tokens) = Tokenizer::new(&dialect, statement).tokenize_with_location() else {
        return false;
    };
    Parser::new(&dialect)
        .with_tokens_with_locations(tokens)
        .parse_statements()
        .is_ok()
}

fn push_trimmed(sql: &str, range: Range<usize>, pieces: &mut Vec<Range<usize>>) {
    let text = &sql[range.clone()];
    let trimmed_start = text.len() - text.trim_start().len();
    let trimmed = text.trim();
    if !trimmed.is_empty() {
        let start = range.start + trimmed_start;
        pieces.push(start..start + trimmed.len());
    }
}

/// sqlparser's messages end with "at Line: N, Column: M".
fn error_line(message: &str) -> Option<usize> {
    let (_, rest) = message.rsplit_once("Line: ")?;
    rest.split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pieces(sql: &str) -> Vec<&str> {
        match split(sql) {
            Split7::Statements(ranges) => ranges.into_iter().map(|r| &sql[r]).collect(),
            Split7::Fallback { error, .. } => panic!("fell back: {error}"),
        }
    }

    #[test]
    fn cuts_at_top_level_semicolons_keeping_comments_with_their_statement() {
        let sql = "-- CreateTable\nCREATE TABLE \"a\" (\"v\" TEXT DEFAULT ';');\n\n-- CreateIndex\nCREATE INDEX \"i\" ON \"a\"(\"v\");\n-- trailing\n";
        assert_eq!(
            pieces(sql),
            [
                "-- CreateTable\nCREATE TABLE \"a\" (\"v\" TEXT DEFAULT ';')",
                "-- CreateIndex\nCREATE INDEX \"i\" ON \"a\"(\"v\")",
            ]
        );
    }

    #[test]
    fn dollar_bodies_and_non_ascii_text_stay_whole() {
        let sql = "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;\nCOMMENT ON TABLE \"é\" IS 'a;b';";
        assert_eq!(
            pieces(sql),
            [
                "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql",
                "COMMENT ON TABLE \"é\" IS 'a;b'",
            ]
        );
    }

    #[test]
    fn what_sqlparser_0_61_cannot_parse_sends_the_file_whole() {
        for (sql, line) in [
            (
                "CREATE TABLE \"a\" (\"v\" INT);\nDROP INDEX CONCURRENTLY \"i\";",
                2,
            ),
            ("SELECT 1;\n\nDO $$ BEGIN END $$;", 3),
            (
                "ALTER TABLE \"t\" ADD CONSTRAINT \"c\" UNIQUE USING INDEX \"c\";",
                1,
            ),
        ] {
            match split(sql) {
                Split7::Fallback { line: at, .. } => assert_eq!(at, Some(line), "{sql}"),
                other => panic!("{sql}: {other:?}"),
            }
        }
    }

    #[test]
    fn what_prisma_7_splits() {
        for sql in [
            "BEGIN;\nCOMMIT;",
            "SET lock_timeout = '5s';\nRESET lock_timeout;",
            "SET LOCAL lock_timeout = '5s';",
            "CREATE UNIQUE INDEX CONCURRENTLY \"i\" ON \"t\"(\"c\");\nSELECT 1;",
            "ALTER TABLE \"t\" VALIDATE CONSTRAINT \"c\";",
        ] {
            assert!(matches!(split(sql), Split7::Statements(_)), "{sql}");
        }
    }
}
