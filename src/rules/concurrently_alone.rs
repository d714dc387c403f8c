//! `concurrently-alone`: a CONCURRENTLY statement must be the only statement of its migration.
//!
//! **What**: `CREATE INDEX CONCURRENTLY`, `DROP INDEX CONCURRENTLY` or `REINDEX .. CONCURRENTLY` in a
//! migration file with any other statement (even a `SET`).
//!
//! **Why**: Prisma sends the whole file as one query, which PostgreSQL runs as one implicit transaction;
//! CONCURRENTLY refuses to run inside a transaction block (SQLSTATE 25001), so the deploy fails.
//!
//! **Fix** (safe): the statement is cut out, unchanged, into a migration of its own right after.

use super::{Action, Applicability, Finding, Rule, Severity, StatementContext};
use crate::source::classify::{Fact, Maintenance};

pub const RULE: Rule = Rule {
    id: "concurrently-alone",
    severity: Severity::Error,
    summary: "a CONCURRENTLY statement sharing its file fails under Prisma (25001)",
    fix: Some(Applicability::Safe),
};

pub fn check(context: &StatementContext, statements: usize) -> Option<Finding> {
    if statements < 2 {
        return None;
    }
    let (what, action) = match &context.statement.fact {
        Fact::CreateIndex(index) if index.concurrently => (
            "CREATE INDEX CONCURRENTLY",
            Action::BuildIndexConcurrently {
                index: index.name.clone(),
                table: index.table.clone(),
                unique: index.unique,
                key_columns: index.columns.clone().filter(|_| !index.partial),
                concurrently_at: index.concurrently_at,
            },
        ),
        Fact::DropIndexes {
            indexes,
            concurrently: true,
            ..
        } => (
            "DROP INDEX CONCURRENTLY",
            Action::MoveAlone {
                defines: indexes.first().map(|i| i.name.clone()),
            },
        ),
        Fact::Maintenance(Maintenance::Reindex { concurrently: true }) => {
            ("REINDEX CONCURRENTLY", Action::MoveAlone { defines: None })
        }
        _ => return None,
    };
    let message = format!(
        "{what} cannot run inside a transaction block, and Prisma runs this file ({statements} statements) as one: the deploy fails with 25001"
    );
    if context.in_transaction_block {
        return Some(
            context
                .finding(
                    &RULE,
                    format!(
                        "{message}: left alone: it sits inside an explicit BEGIN ... COMMIT block"
                    ),
                    Action::LeaveAlone,
                )
                .with_help("move it out of the block into a migration of its own"),
        );
    }
    Some(context.finding(
        &RULE,
        format!("{message}: move it into a migration of its own"),
        action,
    ))
}
