//! The work each statement of a migration does in proportion to a table's rows (a scan, a foreign key's
//! validation, an index build, a rewrite, a data change), read from the file alone: what
//! [`super::hold`] turns into an estimate of how long writes will wait.

use serde::Serialize;

use crate::source::classify::{Fact, Maintenance, Statement, TableChange};
use crate::source::names::QualifiedName;

/// Work a statement does in proportion to a table's rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkKind {
    /// Reads every row to check a CHECK or NOT NULL.
    Scan,
    /// Reads every row and looks each key up in the referenced table.
    ValidateForeignKey,
    IndexBuild,
    /// Writes every row anew.
    Rewrite,
    /// UPDATE / DELETE / INSERT .. SELECT: reads the table, writes the rows it changes.
    RowChange,
}

impl WorkKind {
    /// Microseconds per row (rounded up from the measurements above); a row change's second figure is
    /// per row changed.
    pub(super) fn micros_per_row(self) -> f64 {
        match self {
            WorkKind::Scan => 0.05,
            WorkKind::ValidateForeignKey => 0.2,
            WorkKind::IndexBuild => 1.0,
            WorkKind::Rewrite => 2.0,
            WorkKind::RowChange => 0.2,
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            WorkKind::Scan => "scans",
            WorkKind::ValidateForeignKey => "validates a foreign key over",
            WorkKind::IndexBuild => "builds an index over",
            WorkKind::Rewrite => "rewrites",
            WorkKind::RowChange => "changes rows of",
        }
    }
}

/// Per row a data change changes (on top of reading every row).
pub(super) const MICROS_PER_CHANGED_ROW: f64 = 10.0;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Work {
    pub line: usize,
    pub table: QualifiedName,
    pub kind: WorkKind,
    /// SET NOT NULL: the column (no scan when a validated `CHECK (col IS NOT NULL)` proves it).
    #[serde(skip)]
    pub not_null_column: Option<String>,
    /// ALTER COLUMN .. TYPE without USING: (column, new type), a rewrite unless binary-coercible.
    #[serde(skip)]
    pub retyped: Option<(String, String)>,
    /// The statement's byte range, for EXPLAIN of a data change.
    #[serde(skip)]
    pub statement: std::ops::Range<usize>,
}

/// The work each statement does in proportion to a table's rows. Tables the file creates are left
/// out by the estimate (they have no rows, or only what the file put there).
pub fn work_of(statements: &[Statement], ranges: &[std::ops::Range<usize>]) -> Vec<Work> {
    let mut out = Vec::new();
    for (statement, range) in statements.iter().zip(ranges) {
        let work = |table: &QualifiedName, kind: WorkKind| Work {
            line: statement.line,
            table: table.clone(),
            kind,
            not_null_column: None,
            retyped: None,
            statement: range.clone(),
        };
        match &statement.fact {
            Fact::CreateIndex(index) if !index.concurrently => {
                out.push(work(&index.table, WorkKind::IndexBuild));
            }
            Fact::AlterTable { table, changes } => {
                for change in changes {
                    match &change.kind {
                        TableChange::AddForeignKey(fk) if !fk.not_valid => {
                            out.push(work(table, WorkKind::ValidateForeignKey));
                        }
                        TableChange::AddCheck {
                            not_valid: false, ..
                        } => out.push(work(table, WorkKind::Scan)),
                        TableChange::SetNotNull { column } => out.push(Work {
                            not_null_column: Some(column.clone()),
                            ..work(table, WorkKind::Scan)
                        }),
                        TableChange::AlterColumnType {
                            column,
                            data_type,
                            using,
                        } => out.push(Work {
                            retyped: (!using).then(|| (column.clone(), data_type.clone())),
                            ..work(table, WorkKind::Rewrite)
                        }),
                        TableChange::AddColumn(column) if column.rewrites.is_some() => {
                            out.push(work(table, WorkKind::Rewrite));
                        }
                        TableChange::AddKey {
                            using_index: None, ..
                        } => out.push(work(table, WorkKind::IndexBuild)),
                        TableChange::ValidateConstraint { .. } => {
                            out.push(work(table, WorkKind::Scan));
                        }
                        _ => {}
                    }
                }
            }
            Fact::DataChange { table, .. } => out.push(work(table, WorkKind::RowChange)),
            Fact::Maintenance(Maintenance::VacuumFull | Maintenance::Cluster) => {}
            _ => {}
        }
    }
    out
}
