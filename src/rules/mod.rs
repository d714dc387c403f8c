//! Rules: each looks at one statement in its context and says what should happen to it.
//!
//! One file per rule. A rule returns [`Finding`]s; the plan (`crate::fix::plan`) turns their actions into
//! byte edits and new migration folders, and `lint` reports them with their severity. Beside the rules:
//! `registry` (ids, severities, applicability), `finding` (what a rule says), `context` (what it sees).

/// Every rule, declared once: its module, and whether it looks at one statement at a time
/// (`statement`: called with each statement's context, in this order) or at the whole file
/// (`file`: called by [`check_migration`] with what it gathered). This list makes the module list,
/// [`RULES`] (the order rules are listed and explained), the compiled-in documentation and the
/// statement dispatch. Adding a statement rule is one file and one line here.
macro_rules! rules {
    ($($kind:ident $module:ident,)*) => {
        $(pub mod $module;)*

        /// Every rule, in the order their findings are explained.
        pub const RULES: &[Rule] = &[$($module::RULE,)*];

        /// Each rule's source file, whose `//!` comment is its documentation.
        const SOURCES: &[(&str, &str)] =
            &[$(($module::RULE.id, include_str!(concat!(stringify!($module), ".rs"))),)*];

        /// Run every statement rule on one statement.
        fn check_statement(context: &StatementContext, findings: &mut Vec<Finding>) {
            $(rules!(@check $kind $module context findings);)*
        }
    };
    (@check statement $module:ident $context:ident $findings:ident) => {
        $findings.extend($module::check($context));
    };
    (@check file $module:ident $context:ident $findings:ident) => {};
}

rules! {
    statement index_concurrently,
    statement foreign_key_not_valid,
    statement unique_using_index,
    statement drop_index_concurrently,
    statement not_null_via_check,
    statement check_not_valid,
    statement concurrently_alone,
    statement concurrently_if_not_exists,
    file lock_timeout,
    file existing_tables_last,
    file non_atomic_file,
    statement column_type_rewrite,
    statement volatile_default,
    statement breaking_change,
    statement data_backfill,
    statement enum_recreation,
    statement blocking_maintenance,
    statement unanalysed,
    statement invalid_sql,
}

pub mod backfill;
mod context;
mod finding;
mod registry;
pub mod suppress;
#[cfg(test)]
mod testing;

pub use context::{FileContext, RewrittenBefore, StatementContext, destroys};
pub use finding::{Action, FileToReorder, Finding, Reordered, UnlessKept};
pub use registry::{
    Applicability, Rule, Severity, documentation, markdown_table, page, rule, table,
};

use rustc_hash::FxHashSet as HashSet;

use serde::Serialize;

use crate::model::SchemaModel;
use crate::source::classify::{Fact, Statement, TableChange};
use crate::source::names::QualifiedName;

/// Which foreign keys get the NOT VALID + VALIDATE split.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, serde::Deserialize)]
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
    file.backfills = backfill::decide(sql, statements, model);
    let mut steps = Vec::with_capacity(statements.len());
    let mut roles = Vec::with_capacity(statements.len());
    for (index, statement) in statements.iter().enumerate() {
        let context = StatementContext {
            index,
            statement,
            text: sql,
            inside_do_block: false,
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
        check_statement(&context, &mut findings);
        if let Some(procedure) = &statement.procedure {
            judge_procedure(&context, procedure, &mut findings);
        }
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

/// The statements inside a `DO` block, judged by the same rules as the file's own statements: each
/// hazard is reported where it is, and left alone (rewrite does not change PL/pgSQL).
fn judge_procedure(
    context: &StatementContext,
    procedure: &crate::source::classify::Procedure,
    findings: &mut Vec<Finding>,
) {
    for embedded in &procedure.statements {
        let inner = Statement {
            piece: context.statement.piece,
            bytes: 0..embedded.text.len(),
            line: 1,
            column: 1,
            fact: embedded.fact.clone(),
            procedure: None,
        };
        // Its facts' byte ranges, lines and columns are in its own text.
        let inner_context = StatementContext {
            statement: &inner,
            text: &embedded.text,
            inside_do_block: true,
            ..*context
        };
        let mut found = Vec::new();
        check_statement(&inner_context, &mut found);
        // What rewrite would have done to the statement outside a block does not apply here.
        findings.extend(found.into_iter().filter(|f| f.severity.is_some()).map(|f| {
            let help = match f.action {
                Action::LeaveAlone => f.help,
                _ => Some(
                    "inside a DO block, which rewrite leaves as it is: move the statement out of the block (into the migration, or a migration of its own) to have it fixed".into(),
                ),
            };
            // A place found in the statement's own text, moved to where that text is in the file.
            let (line, column) = if f.line <= 1 {
                (embedded.line, embedded.column + f.column.saturating_sub(1))
            } else {
                (embedded.line + f.line - 1, f.column)
            };
            Finding {
                line,
                column,
                message: format!("in a DO block: {}", f.message),
                help,
                action: Action::LeaveAlone,
                ..f
            }
        }));
    }
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
