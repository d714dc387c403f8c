//! `lock-timeout`: bound how long a migration may wait for its locks.
//!
//! **What**: a migration with several statements that locks a table existing before it, without a
//! `SET lock_timeout`.
//!
//! **Why**: a statement waiting for a lock (behind a long transaction or a slow query) makes every
//! later query on that table queue behind it: a few seconds of waiting become a few seconds of total
//! outage. With a lock_timeout the migration fails fast instead, rolls back as a whole, and can be
//! retried.
//!
//! **Fix** (unsafe: the deploy may now fail where it would have waited; applied with
//! `--unsafe-fixes`): `SET LOCAL lock_timeout = '<configured>';` at the top of the migration, and again
//! after each explicit COMMIT. `SET LOCAL` ends with Prisma's implicit transaction, so it never leaks
//! into a later CONCURRENTLY migration on the same connection, and it is never added to a file whose
//! only statement is CONCURRENTLY.

use super::{Action, Applicability, Finding, Rule, RuleOptions, Severity, StatementContext};
use crate::source::classify::{Fact, Maintenance, Statement};

pub const RULE: Rule = Rule {
    id: "lock-timeout",
    severity: Severity::Warning,
    summary: "a multi-statement migration that locks existing tables sets no lock_timeout",
    fix: Some(Applicability::Unsafe),
};

/// Whether the statement takes a lock that blocks others on a table existing before the migration.
pub fn locks_existing_table(context: &StatementContext) -> bool {
    match &context.statement.fact {
        Fact::AlterTable { table, .. } => context.is_existing_table(table),
        Fact::CreateIndex(index) => !index.concurrently && context.is_existing_table(&index.table),
        // An index no earlier statement created counts as being on an existing table.
        Fact::DropIndexes {
            indexes,
            concurrently: false,
            ..
        } => indexes.iter().any(|index| {
            context
                .model
                .table_of_index(index)
                .is_none_or(|table| context.is_existing_table(&table))
        }),
        Fact::DropTables { tables } | Fact::Truncate { tables } => {
            tables.iter().any(|t| context.is_existing_table(t))
        }
        Fact::Maintenance(Maintenance::Reindex { concurrently: true }) => false,
        Fact::Maintenance(_) => true,
        _ => false,
    }
}

pub fn check(
    statements: &[Statement],
    locking: Vec<usize>,
    options: &RuleOptions,
) -> Option<Finding> {
    let first_lock = *locking.first()?;
    let analysed = statements
        .iter()
        .filter(|s| !matches!(s.fact, Fact::Begin | Fact::Commit))
        .count();
    if analysed < 2 || statements.iter().any(|s| s.fact == Fact::SetLockTimeout) {
        return None;
    }
    let statement = &statements[first_lock];
    let message = "no lock_timeout: while this statement waits for its lock, every later query on the table queues behind it";
    let apply = options.allows(&RULE);
    let message = if apply {
        format!("{message}: SET LOCAL lock_timeout at the top of the migration")
    } else {
        format!(
            "{message} (fix with --unsafe-fixes: the deploy then fails fast instead of waiting)"
        )
    };
    // Always the action, so the plan can drop the finding when no locking statement stays in the file.
    let action = Action::SetLockTimeout {
        value: options.lock_timeout.clone(),
        locking,
        apply,
    };
    Some(Finding {
        rule: RULE.id,
        severity: Some(RULE.severity),
        statement: first_lock,
        line: statement.line,
        column: statement.column,
        message,
        help: Some(format!(
            "SET LOCAL lock_timeout = '{}'; as the first statement (retry the deploy if it times out)",
            options.lock_timeout
        )),
        action,
    })
}
