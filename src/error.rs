//! Typed errors of the library. Each names the file (and line:column where known); `main` prints them in
//! one line and exits 2.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "{path}: not a Prisma migrations directory (expected migration_lock.toml or <name>/migration.sql folders, or a Prisma project: migrations.path or schema in prisma.config.ts, \"prisma\".\"schema\" in package.json, prisma/migrations); pass the folder that `prisma migrate dev` writes to"
    )]
    NotMigrationsDir { path: PathBuf },

    #[error("{path}: no such file or directory")]
    Missing { path: PathBuf },

    #[error(
        "{path}: migration folder has no migration.sql (Prisma refuses such a folder too); add the file or remove the folder"
    )]
    MissingMigrationSql { path: PathBuf },

    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error(
        "{path}:{line}:{column}: not valid UTF-8 (byte offset {offset}); save the file as UTF-8"
    )]
    NotUtf8 {
        path: PathBuf,
        line: usize,
        column: usize,
        offset: usize,
    },

    #[error(
        "{path}:{line}:{column}: a NUL byte (PostgreSQL rejects it in any query, so this file can never be applied); remove it"
    )]
    NulByte {
        path: PathBuf,
        line: usize,
        column: usize,
    },

    #[error("{path}: folder name is not valid UTF-8; rename it")]
    BadFolderName { path: PathBuf },

    #[error("{path}: {message}")]
    LockFile { path: PathBuf, message: String },

    #[error("{path}:{line}:{column}: {message}")]
    Sql {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },

    #[error("{path}: {message}")]
    Config { path: PathBuf, message: String },

    #[error("{0}")]
    Usage(String),

    #[error("{0}")]
    Database(String),

    /// A proof could not be carried out (not: carried out and failed).
    #[error("{0}")]
    ProofUnavailable(String),

    #[error("cannot name the new migrations of {migration}: {message}")]
    Naming { migration: String, message: String },
}

impl Error {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        let path = path.into();
        if source.kind() == std::io::ErrorKind::NotFound {
            Error::Missing { path }
        } else {
            Error::Io { path, source }
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
