//! What a rule says about a statement: a finding, and the action that fixes it.

use serde::Serialize;

use crate::source::names::QualifiedName;

use super::Severity;

/// What a statement needs.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// Cut it out and build it `CONCURRENTLY`, alone, in a migration of its own.
    BuildIndexConcurrently {
        index: Option<QualifiedName>,
        table: QualifiedName,
        unique: bool,
        /// Plain key columns of a non-partial index (what a foreign key can rely on).
        key_columns: Option<Vec<String>>,
        #[serde(skip)]
        concurrently_at: usize,
        /// For a UNIQUE build, the statements of the migration that destroy something (failure
        /// order): should one stay in the migration, it would commit before the concurrent build could
        /// fail on duplicates, and the build stays where it is. Moved after the builds (it follows a
        /// moved index), it no longer does.
        #[serde(skip)]
        failure_order: Vec<UnlessKept>,
    },
    /// Drop it `CONCURRENTLY`, alone, in a migration of its own.
    DropIndexConcurrently {
        index: QualifiedName,
        #[serde(skip)]
        concurrently_at: usize,
        /// Other statements that use the index's table or the index. While one of them stays in the
        /// migration, the drop stays where it is: the table is locked anyway, or the order matters.
        #[serde(skip)]
        unless_kept: Vec<UnlessKept>,
    },
    /// Build the constraint's unique index CONCURRENTLY in a migration of its own, then attach it with
    /// `ADD CONSTRAINT .. USING INDEX` (metadata only) in the folder after the builds.
    UniqueViaIndex {
        table: QualifiedName,
        constraint: String,
        primary: bool,
        columns: Vec<String>,
        /// As for a UNIQUE build: the destructive statements that, should one stay, keep it in place.
        #[serde(skip)]
        failure_order: Vec<UnlessKept>,
    },
    /// Cut it out, unchanged, into a migration of its own (a CONCURRENTLY statement sharing a file).
    MoveAlone {
        /// A name later statements may refer to (so they follow it).
        defines: Option<String>,
    },
    /// Add ` NOT VALID` here and `VALIDATE CONSTRAINT` in a later migration.
    SplitCheck {
        table: QualifiedName,
        constraint: String,
        #[serde(skip)]
        not_valid_at: usize,
    },
    /// Replace `SET NOT NULL` by a NOT VALID check, validate it later, then SET NOT NULL (which uses
    /// the validated check instead of scanning) and drop the check.
    NotNullViaCheck {
        table: QualifiedName,
        column: String,
        constraint: String,
        /// The `ALTER COLUMN .. SET NOT NULL` operation's bytes.
        #[serde(skip)]
        operation: std::ops::Range<usize>,
    },
    /// `SET LOCAL lock_timeout` at the top of the migration (and after each COMMIT).
    SetLockTimeout {
        value: String,
        /// The statements that lock existing tables (the SET is added only if one stays in the file).
        #[serde(skip)]
        locking: Vec<usize>,
        /// Applied (`--unsafe-fixes`), or only reported.
        apply: bool,
    },
    /// Add ` NOT VALID` here and `VALIDATE CONSTRAINT` in a later migration.
    SplitForeignKey {
        table: QualifiedName,
        constraint: String,
        referenced_table: QualifiedName,
        referenced_columns: Vec<String>,
        #[serde(skip)]
        not_valid_at: usize,
    },
    /// Move the statements on existing tables after the creation of new objects, in the same file.
    MoveExistingTablesLast {
        #[serde(skip)]
        roles: Vec<super::existing_tables_last::Role>,
        /// The existing tables in the order writers lock them (empty when unknown).
        #[serde(skip)]
        lock_order: Vec<QualifiedName>,
        /// Lines of the statements moved (filled in by the plan).
        moved_lines: Vec<usize>,
    },
    /// Run the UPDATE / DELETE in batches in a migration of its own (a lone `DO` block committing
    /// after each), with a trigger in its place keeping the application's writes in line until then.
    BatchBackfill {
        table: QualifiedName,
        /// What the batches walk: the primary key's column, or `ctid`.
        key: String,
        #[serde(skip)]
        backfill: Box<super::backfill::Backfill>,
    },
    /// Add the column without its volatile default, then `SET DEFAULT` for new rows, a trigger for
    /// rows written meanwhile, existing rows filled in batches ([`Action::BatchBackfill`]'s folder),
    /// and a NOT NULL through a validated check.
    FillVolatileDefault {
        table: QualifiedName,
        column: String,
        /// The NOT NULL check's name, when the column is NOT NULL.
        constraint: Option<String>,
        /// The bytes of the column's constraints (`NOT NULL DEFAULT ..`), taken out.
        #[serde(skip)]
        cut: std::ops::Range<usize>,
        /// Where the statement ends (after its `;`): what the fix adds goes there.
        #[serde(skip)]
        after: usize,
        /// The default's expression, as written.
        #[serde(skip)]
        default: String,
        #[serde(skip)]
        backfill: Box<super::backfill::Backfill>,
    },
    /// Reported only: nothing to do, or nothing this tool can do safely.
    LeaveAlone,
}

/// The file a reordering fix works on: its text, split and statements, and the statements the plan
/// keeps in it (in file order; the others move to new folders).
pub struct FileToReorder<'a> {
    pub text: &'a str,
    pub split: &'a crate::source::split::SplitFile,
    pub statements: &'a [crate::source::classify::Statement],
    pub kept: &'a [usize],
}

/// A new order for the statements kept in a file, and the finding's message saying what moved.
pub struct Reordered {
    pub order: super::existing_tables_last::Reorder,
    pub message: String,
}

impl Finding {
    /// The planner's hook for a foreign key it moves after an index it relies on (the
    /// `foreign-key-not-valid` rule's finding, made by that rule).
    pub fn foreign_key_after_moved_index(
        index: usize,
        statement: &crate::source::classify::Statement,
        table: &QualifiedName,
        fk: &crate::source::classify::ForeignKey,
        name: &str,
    ) -> Finding {
        super::foreign_key_not_valid::after_moved_index(index, statement, table, fk, name)
    }

    /// The planner's hook for a batched backfill that must stay in the migration after all (`why`):
    /// the `data-backfill` rule's wording of a backfill left alone.
    pub fn backfill_left_alone(&mut self, why: &str) {
        super::data_backfill::left_alone(self, why);
    }
}

impl Action {
    /// The planner's hook for fixes that reorder a whole file: `Some` when this action is one, with the
    /// order its rule chose. The rule owns the logic; the planner never names it.
    pub fn reorder_file(&self, file: &FileToReorder) -> Option<Reordered> {
        let Action::MoveExistingTablesLast {
            roles, lock_order, ..
        } = self
        else {
            return None;
        };
        let order = super::existing_tables_last::reorder(
            file.text,
            file.split,
            file.statements,
            roles,
            lock_order,
            file.kept,
        );
        let message =
            super::existing_tables_last::message(file.statements, roles, lock_order, &order);
        Some(Reordered { order, message })
    }
}

/// A statement that, should it stay in the migration, makes a fix step aside, with the finding's
/// message and help then. The planner decides: other fixes may move it out. `statement: None` is one
/// that never moves (it is in a folder an earlier rewrite wrote).
#[derive(Debug, Clone, PartialEq)]
pub struct UnlessKept {
    pub statement: Option<usize>,
    pub message: String,
    pub help: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub rule: &'static str,
    /// `None`: an explanation of what `rewrite` left alone, not a hazard.
    pub severity: Option<Severity>,
    /// Index into the migration's statements.
    #[serde(skip)]
    pub statement: usize,
    pub line: usize,
    pub column: usize,
    pub message: String,
    /// The safe alternative when `rewrite` does not apply one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    #[serde(flatten)]
    pub action: Action,
}

impl Finding {
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Point at one operation of an ALTER TABLE rather than the statement's start.
    pub fn at(mut self, change: &crate::source::classify::Change) -> Self {
        self.line = change.line;
        self.column = change.column;
        self
    }
}
