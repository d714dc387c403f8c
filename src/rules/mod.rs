//! Rules: each looks at one statement in its context and says what should happen to it.
//!
//! One file per rule. A rule returns [`Finding`]s; the plan (`crate::fix::plan`) turns their actions into
//! byte edits and new migration folders, and `lint` reports them with their severity. Beside the rules:
//! `registry` (ids, severities, applicability), `finding` (what a rule says), `context` (what it sees).

pub mod blocking_maintenance;
pub mod breaking_change;
pub mod check_not_valid;
pub mod column_type_rewrite;
pub mod concurrently_alone;
pub mod concurrently_if_not_exists;
pub mod data_backfill;
pub mod drop_index_concurrently;
pub mod enum_recreation;
pub mod existing_tables_last;
pub mod foreign_key_not_valid;
pub mod index_concurrently;
pub mod invalid_sql;
pub mod lock_timeout;
pub mod non_atomic_file;
pub mod not_null_via_check;
pub mod unanalysed;
pub mod unique_using_index;
pub mod volatile_default;

mod context;
mod finding;
mod registry;
pub mod suppress;

pub use context::{FileContext, RewrittenBefore, StatementContext, destroys};
pub use finding::{Action, Finding, UnlessKept};
pub use registry::{Applicability, RULES, Rule, Severity, documentation, explain, list, rule};

use rustc_hash::FxHashSet as HashSet;

use serde::Serialize;

use crate::model::SchemaModel;
use crate::source::classify::{Fact, Statement, TableChange};
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
    /// How Prisma applies each file: the models the project's Prisma version allows (both when it is
    /// not known).
    pub apply_models: Vec<crate::prisma::ApplyModel>,
    /// `deployed-by = "migrate-safe"`: deploy sets lock_timeout and retries itself.
    pub deployed_by_migrate_safe: bool,
}

impl Default for RuleOptions {
    fn default() -> Self {
        RuleOptions {
            foreign_keys: ForeignKeyMode::default(),
            unsafe_fixes: false,
            lock_timeout: DEFAULT_LOCK_TIMEOUT.to_string(),
            folder_naming: crate::config::FolderNaming::default(),
            apply_models: crate::prisma::ApplyModel::ALL.to_vec(),
            deployed_by_migrate_safe: false,
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

/// Run every rule over a migration's statements, given the schema before it and what an earlier
/// rewrite of it wrote.
pub fn check_migration(
    migration: &str,
    sql: &str,
    statements: &[Statement],
    model: &mut SchemaModel,
    options: &RuleOptions,
    rewritten_before: Option<RewrittenBefore>,
    fast_tokens: Option<&[crate::source::lex::Tok]>,
) -> Vec<Finding> {
    let mut new_tables = HashSet::default();
    let mut new_enums = HashSet::default();
    let mut in_transaction_block = false;
    let mut locking = Vec::new();
    let mut findings = Vec::new();
    let mut file = FileContext::new(sql, statements, &options.apply_models);
    file.rewritten_before = rewritten_before;
    file.fast_tokens = fast_tokens;
    let mut steps = Vec::with_capacity(statements.len());
    let mut roles = Vec::with_capacity(statements.len());
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
            file: &file,
        };
        let first_finding = findings.len();
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
        findings.extend(data_backfill::check(&context));
        findings.extend(blocking_maintenance::check(&context));
        // A statement PostgreSQL rejects is that, not merely a statement migrate-safe cannot read.
        let invalid = invalid_sql::check(&context);
        if invalid.is_none() {
            findings.extend(unanalysed::check(&context));
        }
        findings.extend(invalid);
        steps.push(non_atomic_file::step(&context, &findings[first_finding..]));
        roles.push(existing_tables_last::role(
            &context,
            &findings[first_finding..],
        ));
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
    findings.extend(lock_timeout::check(&file, locking, options));
    findings.extend(non_atomic_file::check(&file, &steps));
    findings.extend(existing_tables_last::check(&file, roles, model, migration));
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
