//! The two ways a Prisma version sends a `migration.sql` to PostgreSQL.

use std::ops::Range;

use serde::Serialize;

use super::split7::{Split7, split};

/// How Prisma applies one migration file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ApplyModel {
    /// Prisma up to 7.3: the whole file as ONE simple query, which PostgreSQL runs as one implicit
    /// transaction: all or nothing.
    OneQuery,
    /// Prisma 7.4+: each statement its own simple query, in autocommit, on one connection — when
    /// sqlparser 0.61 parses the whole file; otherwise the whole file as one query.
    PerStatement,
}

impl ApplyModel {
    pub const ALL: [ApplyModel; 2] = [ApplyModel::OneQuery, ApplyModel::PerStatement];

    /// A few words for reports.
    pub fn label(self) -> &'static str {
        match self {
            ApplyModel::OneQuery => "one query per file (Prisma <= 7.3)",
            ApplyModel::PerStatement => "statement by statement (Prisma 7.4+)",
        }
    }

    /// [`Self::label`], or for the one-transaction model under `deployed-by = "migrate-safe"` what it
    /// stands for there.
    pub fn label_under(self, deployed_by_migrate_safe: bool) -> &'static str {
        match self {
            ApplyModel::OneQuery if deployed_by_migrate_safe => {
                "in one transaction, as migrate-safe deploy applies it"
            }
            model => model.label(),
        }
    }

    /// How this model runs `sql`.
    pub fn run(self, sql: &str) -> FileRun {
        match self {
            ApplyModel::OneQuery => FileRun::OneQuery,
            ApplyModel::PerStatement => split(sql).into(),
        }
    }
}

impl From<Split7> for FileRun {
    fn from(split: Split7) -> Self {
        match split {
            Split7::Statements(pieces) => FileRun::Statements(pieces),
            Split7::Fallback { line, error } => FileRun::Fallback { line, error },
        }
    }
}

/// What one file becomes under a model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileRun {
    /// One query: one implicit transaction.
    OneQuery,
    /// Each range its own query, autocommit (explicit BEGIN ... COMMIT in the file still groups).
    Statements(Vec<Range<usize>>),
    /// Prisma 7.4+ could not parse the file (at `line`), so it runs as one query after all.
    Fallback { line: Option<usize>, error: String },
}

impl FileRun {
    /// Whether the whole file is one implicit transaction.
    pub fn is_one_query(&self) -> bool {
        !matches!(self, FileRun::Statements(_))
    }
}
