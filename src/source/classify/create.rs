//! Token readers for `CREATE TABLE` (name and column types), `CREATE INDEX` and `DROP INDEX`: the
//! shapes Prisma writes most, and ones sqlparser rejects (`DROP INDEX CONCURRENTLY`, `ON ONLY`).

use super::tokens::{self, name_at, skip_keywords};
use super::{CreateIndex, Fact, alter_table};
use crate::source::lex::Keyword;
use crate::source::split::{Lexeme, TokenKind};

/// Byte offset right after the first `INDEX` keyword.
pub(super) fn index_keyword_end(tokens: &[Lexeme<'_>]) -> Option<usize> {
    tokens
        .iter()
        .find(|t| t.is_keyword("INDEX"))
        .map(|t| t.bytes.end)
}

/// Token patterns for statements sqlparser rejects or under-describes.
pub(super) fn from_tokens(tokens: &[Lexeme<'_>]) -> Option<Fact> {
    let keywords: Vec<Keyword> = tokens.iter().take(2).filter_map(|t| t.keyword()).collect();
    match keywords
        .iter()
        .map(|k| k.as_str())
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["CREATE", _] => {
            create_index_from_tokens(tokens).or_else(|| create_table_from_tokens(tokens))
        }
        ["DROP", "INDEX"] => {
            let (mut rest, flags) = skip_keywords(&tokens[2..], &["CONCURRENTLY", "IF", "EXISTS"]);
            let mut indexes = Vec::new();
            while let Some((name, len)) = name_at(rest) {
                indexes.push(name);
                rest = &rest[len..];
                match rest.first() {
                    Some(t) if t.kind == TokenKind::Comma => rest = &rest[1..],
                    _ => break,
                }
            }
            (!indexes.is_empty()).then(|| Fact::DropIndexes {
                indexes,
                concurrently: flags.iter().any(|f| f == "CONCURRENTLY"),
                concurrently_at: tokens[1].bytes.end,
                cascade: rest.first().is_some_and(|t| t.is_keyword("CASCADE")),
            })
        }
        // sqlparser does not read `IF EXISTS` here; PostgreSQL does (the gate has its verdict).
        ["ALTER", "INDEX"] => {
            let (rest, _) = skip_keywords(&tokens[2..], &["IF", "EXISTS"]);
            let (from, len) = name_at(rest)?;
            let rest = &rest[len..];
            if !(rest.first()?.is_keyword("RENAME") && rest.get(1)?.is_keyword("TO")) {
                return None;
            }
            let (to, len) = name_at(&rest[2..])?;
            (rest.len() == 2 + len).then(|| Fact::RenameIndex {
                to: from.sibling(to.name),
                from,
            })
        }
        // A sequence's settings and owner, or a database's defaults for new sessions: no lock a
        // writer of a table waits for.
        ["ALTER", "SEQUENCE" | "DATABASE"] => Some(Fact::Other),
        _ => None,
    }
}

pub(super) fn create_index_from_tokens(tokens: &[Lexeme<'_>]) -> Option<Fact> {
    let (rest, flags) = skip_keywords(&tokens[1..], &["UNIQUE"]);
    if !rest.first()?.is_keyword("INDEX") {
        return None;
    }
    let (mut rest, more) = skip_keywords(&rest[1..], &["CONCURRENTLY", "IF", "NOT", "EXISTS"]);
    let mut name = None;
    if !rest.first()?.is_keyword("ON") {
        let (index, len) = name_at(rest)?;
        name = Some(index.name);
        rest = &rest[len..];
    }
    let (rest, _) = skip_keywords(rest.get(1..)?, &["ONLY"]);
    let (table, len) = name_at(rest)?;
    Some(Fact::CreateIndex(CreateIndex {
        name: name.map(|n| table.sibling(n)),
        unique: flags.iter().any(|f| f == "UNIQUE"),
        concurrently: more.iter().any(|f| f == "CONCURRENTLY"),
        if_not_exists: more.iter().any(|f| f == "EXISTS"),
        columns: key_columns(&rest[len..]),
        partial: tokens.iter().any(|t| t.is_keyword("WHERE")),
        concurrently_at: index_keyword_end(tokens)?,
        table,
    }))
}

/// The key list `[USING method] (key, ...)` of an index, when every key is a plain column (optionally
/// with an operator class and ASC/DESC/NULLS ...); `None` for expressions.
pub(super) fn key_columns(tokens: &[Lexeme<'_>]) -> Option<Vec<String>> {
    let mut rest = tokens;
    if rest.first()?.is_keyword("USING") {
        rest = rest.get(2..)?;
    }
    if rest.first()?.kind != TokenKind::LParen {
        return None;
    }
    let mut columns = Vec::new();
    let mut key: Vec<Lexeme<'_>> = Vec::new();
    for token in &rest[1..] {
        match token.kind {
            TokenKind::Comma | TokenKind::RParen => {
                let (first, modifiers) = key.split_first()?;
                let plain = modifiers.iter().all(|t| t.is_word());
                if !plain {
                    return None;
                }
                columns.push(first.ident()?);
                if token.kind == TokenKind::RParen {
                    return Some(columns);
                }
                key.clear();
            }
            TokenKind::LParen => return None, // an expression key
            _ => key.push(*token),
        }
    }
    None
}

pub(super) fn create_table_from_tokens(tokens: &[Lexeme<'_>]) -> Option<Fact> {
    let (rest, _) = skip_keywords(
        &tokens[1..],
        &[
            "GLOBAL",
            "LOCAL",
            "TEMP",
            "TEMPORARY",
            "UNLOGGED",
            "UNLOGGED",
        ],
    );
    if !rest.first()?.is_keyword("TABLE") {
        return None;
    }
    let (rest, _) = skip_keywords(&rest[1..], &["IF", "NOT", "EXISTS"]);
    let (table, len) = name_at(rest)?;
    // Column types, for `column-type-rewrite`; table constraints and LIKE clauses are skipped, but
    // the primary key is kept (a batched backfill walks it).
    let body = &rest[len..];
    let mut primary_key = Vec::new();
    let columns = match tokens::group_len(body) {
        Some(group) => tokens::split_top_level(&body[1..group - 1])
            .into_iter()
            .filter(|element| {
                if let Some(key) = primary_key_of(element) {
                    primary_key = key;
                }
                !element.first().is_some_and(|t| {
                    [
                        "CONSTRAINT",
                        "PRIMARY",
                        "UNIQUE",
                        "CHECK",
                        "FOREIGN",
                        "EXCLUDE",
                        "LIKE",
                    ]
                    .iter()
                    .any(|k| t.is_keyword(k))
                })
            })
            .filter_map(alter_table::column_definition)
            .map(|column| (column.column, column.data_type))
            .collect(),
        None => Vec::new(),
    };
    Some(Fact::CreateTable {
        table,
        columns,
        primary_key,
    })
}

/// The columns of a `[CONSTRAINT c] PRIMARY KEY (..)` element of a CREATE TABLE, or the column of a
/// column definition marked `PRIMARY KEY`.
fn primary_key_of(element: &[Lexeme<'_>]) -> Option<Vec<String>> {
    let at = element
        .windows(2)
        .position(|w| w[0].is_keyword("PRIMARY") && w[1].is_keyword("KEY"))?;
    let first = element.first()?;
    if first.is_keyword("CONSTRAINT") || at == 0 {
        return tokens::column_list(&element[at + 2..]).map(|(columns, _)| columns);
    }
    Some(vec![first.ident()?])
}
