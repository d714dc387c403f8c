//! Rules: each looks at one statement in its context and says what should happen to it.
//!
//! One file per rule. A rule returns [`Finding`]s; the plan (`crate::fix::plan`) turns their actions into
//! byte edits and new migration folders, and `lint` reports them with their severity.

pub mod blocking_maintenance;
pub mod breaking_change;
pub mod check_not_valid;
pub mod column_type_rewrite;
pub mod concurrently_alone;
pub mod concurrently_if_not_exists;
pub mod drop_index_concurrently;
pub mod enum_recreation;
pub mod foreign_key_not_valid;
pub mod index_concurrently;
pub mod lock_timeout;
pub mod not_null_via_check;
pub mod unanalysed;
pub mod unique_using_index;
pub mod volatile_default;

use std::collections::HashSet;

use serde::Serialize;

use crate::model::SchemaModel;
use crate::source::classify::{Change, Fact, Statement, TableChange};
use crate::source::names::QualifiedName;

/// Which foreign keys get the NOT VALID + VALIDATE split.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, serde::Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "kebab-case")]
pub enum ForeignKeyMode {
    /// Only foreign keys added to tables that existed before the migration (the ones that scan data).
    #[default]
    ExistingTables,
    /// Also foreign keys on tables created in the same migration.
    All,
}

#[derive(Debug, Clone)]
pub struct RuleOptions {
    pub foreign_keys: ForeignKeyMode,
    /// Apply fixes whose applicability is [`Applicability::Unsafe`].
    pub unsafe_fixes: bool,
    /// The value `lock-timeout` sets.
    pub lock_timeout: String,
    /// How new folders are named.
    pub folder_naming: crate::config::FolderNaming,
}

impl Default for RuleOptions {
    fn default() -> Self {
        RuleOptions {
            foreign_keys: ForeignKeyMode::default(),
            unsafe_fixes: false,
            lock_timeout: DEFAULT_LOCK_TIMEOUT.to_string(),
            folder_naming: crate::config::FolderNaming::default(),
        }
    }
}

impl RuleOptions {
    pub fn allows(&self, rule: &Rule) -> bool {
        match rule.fix {
            Some(Applicability::Safe) => true,
            Some(Applicability::Unsafe) => self.unsafe_fixes,
            None => false,
        }
    }
}

/// lock_timeout set by the `lock-timeout` fix unless configured otherwise.
pub const DEFAULT_LOCK_TIMEOUT: &str = "5s";

/// How bad a finding is. A finding without a severity only explains what `rewrite` left alone.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    serde::Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; never fails the gate by default.
    Note,
    /// A lock hazard or a breaking change: fails the gate by default.
    Warning,
    /// Will fail or stall the deploy.
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// Whether `rewrite` applies a rule's fix by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Applicability {
    /// Same schema, no behaviour change: applied by default.
    Safe,
    /// Changes how the deploy behaves (it may now fail fast): applied with `--unsafe-fixes`.
    Unsafe,
}

/// A rule's identity, for selection, configuration and documentation.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Rule {
    pub id: &'static str,
    pub severity: Severity,
    /// One line: what it catches.
    pub summary: &'static str,
    /// What `rewrite` does about it, if anything.
    pub fix: Option<Applicability>,
}

/// Every rule, in the order their findings are explained.
pub const RULES: &[Rule] = &[
    index_concurrently::RULE,
    foreign_key_not_valid::RULE,
    unique_using_index::RULE,
    drop_index_concurrently::RULE,
    not_null_via_check::RULE,
    check_not_valid::RULE,
    concurrently_alone::RULE,
    concurrently_if_not_exists::RULE,
    lock_timeout::RULE,
    column_type_rewrite::RULE,
    volatile_default::RULE,
    breaking_change::RULE,
    enum_recreation::RULE,
    blocking_maintenance::RULE,
    unanalysed::RULE,
];

/// `migrate-safe rules`: the table of rules.
pub fn list(out: &mut dyn std::io::Write) -> crate::error::Result<crate::Outcome> {
    let mut text = String::new();
    for rule in RULES {
        let fix = match rule.fix {
            Some(Applicability::Safe) => "fix",
            Some(Applicability::Unsafe) => "fix (unsafe)",
            None => "-",
        };
        text.push_str(&format!(
            "{:<28} {:<8} {:<13} {}\n",
            rule.id,
            rule.severity.as_str(),
            fix,
            rule.summary
        ));
    }
    crate::report::stdout(out.write_all(text.as_bytes()))?;
    Ok(crate::Outcome::Clean)
}

pub fn rule(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.id == id)
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
    /// Drop it `CONCURRENTLY`, alone, in a migration of its own.
    DropIndexConcurrently {
        index: QualifiedName,
        #[serde(skip)]
        concurrently_at: usize,
    },
    /// Build the constraint's unique index CONCURRENTLY in a migration of its own, then attach it with
    /// `ADD CONSTRAINT .. USING INDEX` (metadata only) in the folder after the builds.
    UniqueViaIndex {
        table: QualifiedName,
        constraint: String,
        primary: bool,
        columns: Vec<String>,
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
    /// Reported only: nothing to do, or nothing this tool can do safely.
    LeaveAlone,
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
    /// Enum types created earlier in the same migration.
    pub new_enums: &'a HashSet<QualifiedName>,
    /// Statements before this one in the same migration.
    pub earlier: &'a [Statement],
    pub options: &'a RuleOptions,
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

    /// A hazard of `rule`, with what `rewrite` does about it.
    pub fn finding(&self, rule: &Rule, message: String, action: Action) -> Finding {
        Finding {
            rule: rule.id,
            severity: Some(rule.severity),
            statement: self.index,
            line: self.statement.line,
            column: self.statement.column,
            message,
            help: None,
            action,
        }
    }

    /// Not a hazard: why `rewrite` leaves a statement the rule looked at alone.
    pub fn explain(&self, rule: &Rule, message: String) -> Finding {
        Finding {
            severity: None,
            ..self.finding(rule, message, Action::LeaveAlone)
        }
    }

    /// A later statement of this migration that drops or renames `table`, or (when given) its
    /// `column` or `constraint`: a fix that finishes in a later migration would find them gone.
    pub fn undone_later(
        &self,
        table: &QualifiedName,
        column: Option<&str>,
        constraint: Option<&str>,
    ) -> Option<&Statement> {
        self.later.iter().find(|s| match &s.fact {
            Fact::DropTables { tables } => tables.contains(table),
            Fact::AlterTable { table: t, changes } if t == table => {
                changes.iter().any(|c| match &c.kind {
                    TableChange::RenameTo { .. } => true,
                    TableChange::DropColumn { column: c }
                    | TableChange::RenameColumn { from: c, .. }
                    | TableChange::AlterColumnType { column: c, .. } => column == Some(c.as_str()),
                    TableChange::DropConstraint { name } => constraint == Some(name.as_str()),
                    _ => false,
                })
            }
            _ => false,
        })
    }

    /// The statement's table and operations when it is an `ALTER TABLE` of a table that existed before
    /// the migration: what most rules look at.
    pub fn altered_existing_table(&self) -> Option<(&QualifiedName, &[Change])> {
        match &self.statement.fact {
            Fact::AlterTable { table, changes } if self.is_existing_table(table) => {
                Some((table, changes))
            }
            _ => None,
        }
    }

    /// Whether `table` existed before this migration (the tables whose locks matter).
    pub fn is_existing_table(&self, table: &QualifiedName) -> bool {
        !self.is_new_table(table)
    }
}

/// Run every rule over a migration's statements, given the schema before it.
pub fn check_migration(
    migration: &str,
    statements: &[Statement],
    model: &mut SchemaModel,
    options: &RuleOptions,
) -> Vec<Finding> {
    let mut new_tables = HashSet::new();
    let mut new_enums = HashSet::new();
    let mut in_transaction_block = false;
    let mut locking = Vec::new();
    let mut findings = Vec::new();
    for (index, statement) in statements.iter().enumerate() {
        let context = StatementContext {
            index,
            statement,
            later: &statements[index + 1..],
            earlier: &statements[..index],
            in_transaction_block,
            new_tables: &new_tables,
            new_enums: &new_enums,
            model: &*model,
            options,
        };
        findings.extend(index_concurrently::check(&context));
        findings.extend(foreign_key_not_valid::check(&context));
        findings.extend(unique_using_index::check(&context));
        findings.extend(drop_index_concurrently::check(&context));
        findings.extend(not_null_via_check::check(&context));
        findings.extend(check_not_valid::check(&context));
        findings.extend(concurrently_alone::check(&context, statements.len()));
        findings.extend(concurrently_if_not_exists::check(&context));
        findings.extend(column_type_rewrite::check(&context));
        findings.extend(enum_recreation::check(&context));
        findings.extend(volatile_default::check(&context));
        findings.extend(breaking_change::check(&context));
        findings.extend(blocking_maintenance::check(&context));
        findings.extend(unanalysed::check(&context));
        if lock_timeout::locks_existing_table(&context) {
            locking.push(index);
        }
        track_new_tables(&mut new_tables, &statement.fact);
        if let Fact::CreateEnum { name } = &statement.fact {
            new_enums.insert(name.clone());
        }
        match statement.fact {
            Fact::Begin => in_transaction_block = true,
            Fact::Commit => in_transaction_block = false,
            _ => {}
        }
        model.apply(&statement.fact, migration);
    }
    findings.extend(lock_timeout::check(statements, locking, options));
    findings
}

fn track_new_tables(new_tables: &mut HashSet<QualifiedName>, fact: &Fact) {
    match fact {
        Fact::CreateTable { table, .. } => {
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
