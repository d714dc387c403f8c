//! Reading migrations: discovery, lossless splitting, classification.
pub mod classify;
pub mod discover;
pub mod dotenv;
pub mod file;
pub mod grammar;
pub mod lex;
pub mod names;
pub mod prisma_project;
pub mod shadow;
pub mod split;

use crate::error::{Error, Result};

/// Byte offset where each line of `text` starts (line 1 at index 0).
pub fn line_starts(text: &str) -> Vec<usize> {
    std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect()
}

/// 1-based line and column (in characters) of byte `offset` in `text` (clamped to its end).
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (
        before.matches('\n').count() + 1,
        before[line_start..].chars().count() + 1,
    )
}

/// A migration's file split and classified; a tokenizer error names the file, line and column.
pub fn read_statements(
    migration: &discover::Migration,
) -> Result<(split::SplitFile, Vec<classify::Statement>)> {
    let split = split_migration(migration)?;
    let statements = classify::classify(&split, &migration.sql);
    Ok((split, statements))
}

/// A migration's file split into statements; a tokenizer error names the file, line and column.
pub fn split_migration(migration: &discover::Migration) -> Result<split::SplitFile> {
    split::split(&migration.sql).map_err(|e| Error::Sql {
        path: migration.sql_path(),
        line: e.line,
        column: e.column,
        message: format!("cannot tokenize SQL: {}", e.message),
    })
}
