//! Reading migrations: discovery, lossless splitting, classification.
pub mod classify;
pub mod discover;
pub mod dotenv;
pub mod grammar;
pub mod lex;
pub mod names;
pub mod plpgsql;
pub mod prisma_project;
pub mod shadow;
pub mod split;

use crate::error::{Error, Result};

pub use crate::store::file::{line_column, line_starts};

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
