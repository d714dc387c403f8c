//! Rules: each looks at one statement in its context and says what should happen to it.
//!
//! One file per rule. A rule returns [`Finding`]s; the plan (`crate::fix::plan`) turns their actions into
//! byte edits and new migration folders.

pub mod foreign_key_not_valid;
pub mod index_concurrently;

use std::collections::HashSet;

use serde::Serialize;

use crate::model::SchemaModel;
use crate::source::classify::{Fact, Statement, TableChange};
use crate::source::names::QualifiedName;

/// Which foreign keys get the NOT VALID + VALIDATE split.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum ForeignKeyMode {
    /// Only foreign keys added to tables that existed before the migration (the ones that scan data).
    #[default]
    ExistingTables,
    /// Also foreign keys on tables created in the same migration.
    All,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct RuleOptions {
    pub foreign_keys: ForeignKeyMode,
}

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
    /// Reported only: nothing to do, or nothing this tool can do safely.
    LeaveAlone,
}

#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub rule: &'static str,
    /// Index into the migration's statements.
    #[serde(skip)]
    pub statement: usize,
    pub line: usize,
    pub message: String,
    #[serde(flatten)]
    pub action: Action,
}

/// A statement with what is known where it runs.
pub struct StatementContext<'a> {
    pub index: usize,
    pub statement: &'a Statement,
    /// Statements after this one in the same migration.
    pub later: &'a [Statement],
    /// Inside an explicit `BEGIN; ... COMMIT;` block.
    pub in_transaction_block: bool,
    /// Tables created earlier in the same migration (under their current names).
    pub new_tables: &'a HashSet<QualifiedName>,
    /// Tables known before this statement.
    pub model: &'a SchemaModel,
    pub options: RuleOptions,
}

impl StatementContext<'_> {
    /// A table nobody else can see yet. Tables not known at all (created outside the history, or by a
    /// statement the parser could not read) count as existing: the safe assumption.
    pub fn is_new_table(&self, table: &QualifiedName) -> bool {
        self.new_tables.contains(table)
    }

    /// Where a pre-existing table comes from, for messages.
    pub fn describe_existing(&self, table: &QualifiedName) -> String {
        match self.model.created_by(table) {
            Some(migration) => format!("existing table {table} (created in {migration})"),
            None => format!(
                "existing table {table} (not created by any earlier migration: assumed to exist)"
            ),
        }
    }

    pub fn finding(&self, rule: &'static str, message: String, action: Action) -> Finding {
        Finding {
            rule,
            statement: self.index,
            line: self.statement.line,
            message,
            action,
        }
    }
}

/// Run every rule over a migration's statements, given the schema before it.
pub fn check_migration(
    migration: &str,
    statements: &[Statement],
    model: &mut SchemaModel,
    options: RuleOptions,
) -> Vec<Finding> {
    let mut new_tables = HashSet::new();
    let mut in_transaction_block = false;
    let mut findings = Vec::new();
    for (index, statement) in statements.iter().enumerate() {
        let context = StatementContext {
            index,
            statement,
            later: &statements[index + 1..],
            in_transaction_block,
            new_tables: &new_tables,
            model: &*model,
            options,
        };
        findings.extend(index_concurrently::check(&context));
        findings.extend(foreign_key_not_valid::check(&context));
        track_new_tables(&mut new_tables, &statement.fact);
        match statement.fact {
            Fact::Begin => in_transaction_block = true,
            Fact::Commit => in_transaction_block = false,
            _ => {}
        }
        model.apply(&statement.fact, migration);
    }
    findings
}

fn track_new_tables(new_tables: &mut HashSet<QualifiedName>, fact: &Fact) {
    match fact {
        Fact::CreateTable { table } => {
            new_tables.insert(table.clone());
        }
        Fact::DropTables { tables } => {
            for table in tables {
                new_tables.remove(table);
            }
        }
        Fact::AlterTable { table, changes } => {
            let mut current = table.clone();
            for change in changes {
                if let TableChange::RenameTo { table: renamed } = &change.kind {
                    if new_tables.remove(&current) {
                        new_tables.insert(renamed.clone());
                    }
                    current = renamed.clone();
                }
            }
        }
        _ => {}
    }
}
