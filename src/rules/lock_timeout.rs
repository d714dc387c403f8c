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
//! `--unsafe-fixes`): `SET lock_timeout = '<configured>';` at the top of the migration and
//! `RESET lock_timeout;` after its last statement. That works under both of Prisma's apply models:
//! in one query (Prisma <= 7.3) the SET holds for the file's implicit transaction and a failure rolls it
//! back; statement by statement (7.4+) it holds for the session until the RESET. `SET LOCAL` would do
//! nothing under 7.4+ (it runs alone, in autocommit), and a SET without RESET would last into every
//! later migration of the deploy. Never added to a file whose only statement is CONCURRENTLY.
//!
//! Not reported in a project whose migrate-safe.toml says `deployed-by = "migrate-safe"`:
//! `migrate-safe deploy` runs each file in one transaction under its own `lock_timeout` and retries.
//!
//! The rule also reports a file's own setting that does not do what it says: `SET LOCAL lock_timeout`
//! outside a `BEGIN` block where Prisma 7.4+ runs the file statement by statement, and
//! `SET lock_timeout` with no `RESET lock_timeout` after it.

use super::context::FileContext;
use super::{Action, Applicability, Finding, Rule, RuleOptions, Severity, StatementContext};
use crate::prisma::{ApplyModel, FileRun};
use crate::source::classify::{Fact, LockTimeoutScope, Maintenance, Statement, TableChange};

pub const RULE: Rule = Rule {
    id: "lock-timeout",
    severity: Severity::Warning,
    summary: "a multi-statement migration that locks existing tables sets no lock_timeout",
    fix: Some(Applicability::Unsafe),
};

/// Whether the statement takes a lock that blocks others on a table existing before the migration.
pub fn locks_existing_table(context: &StatementContext) -> bool {
    match &context.statement.fact {
        // A foreign key also locks the table it references (SHARE ROW EXCLUSIVE), new table or not.
        Fact::AlterTable { table, changes } => {
            context.is_existing_table(table)
                || changes.iter().any(|change| {
                    matches!(&change.kind, TableChange::AddForeignKey(fk)
                        if context.is_existing_table(&fk.referenced_table))
                })
        }
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

pub fn check(file: &FileContext, locking: Vec<usize>, options: &RuleOptions) -> Option<Finding> {
    if options.deployed_by_migrate_safe {
        return None;
    }
    let statements = file.statements;
    let first_lock = *locking.first()?;
    let analysed = statements
        .iter()
        .filter(|s| !matches!(s.fact, Fact::Begin | Fact::Commit))
        .count();
    if analysed < 2 {
        return None;
    }
    if let Some(finding) = own_setting(file) {
        return finding;
    }
    let statement = &statements[first_lock];
    let message = "no lock_timeout: while this statement waits for its lock, every later query on the table queues behind it";
    let apply = options.allows(&RULE);
    let message = if apply {
        format!(
            "{message}: SET lock_timeout at the top of the migration, RESET lock_timeout at its end"
        )
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
            "deploy with `migrate-safe deploy` and say so with deployed-by = \"migrate-safe\" in migrate-safe.toml (its waits are bounded and retried, and never queue behind a long transaction); or, with `prisma migrate deploy`, SET lock_timeout = '{}'; as the first statement and RESET lock_timeout; as the last (retry the deploy if it times out)",
            options.lock_timeout
        )),
        action,
    })
}

/// `Some` when the file sets lock_timeout itself: `Some(None)` when that setting works, else the
/// finding that says why it does not.
fn own_setting(file: &FileContext) -> Option<Option<Finding>> {
    let statements = file.statements;
    let mut block = false;
    let mut set = false;
    let mut problem = None;
    let mut unreset: Option<&Statement> = None;
    for statement in statements {
        match &statement.fact {
            Fact::Begin => block = true,
            Fact::Commit => block = false,
            Fact::SetLockTimeout { scope } => {
                set = true;
                match scope {
                    LockTimeoutScope::Local if !block => {
                        let splits = file.models.contains(&ApplyModel::PerStatement)
                            && matches!(file.run(ApplyModel::PerStatement), FileRun::Statements(_));
                        if splits && problem.is_none() {
                            problem = Some((
                                statement,
                                "SET LOCAL lock_timeout does nothing where Prisma 7.4+ runs this file statement by statement: it runs alone in autocommit (WARNING: SET LOCAL can only be used in transaction blocks), and every later statement waits for its locks without a bound",
                            ));
                        }
                    }
                    LockTimeoutScope::Session => unreset = Some(statement),
                    LockTimeoutScope::Reset => unreset = None,
                    LockTimeoutScope::Local => {}
                }
            }
            _ => {}
        }
    }
    if !set {
        return None;
    }
    let problem = problem.or(unreset.map(|statement| {
        (
            statement,
            "SET lock_timeout without a RESET lock_timeout after it lasts for the rest of Prisma's session: every later migration of the deploy runs with it, a CONCURRENTLY build too",
        )
    }));
    Some(problem.map(|(statement, message)| Finding {
        rule: RULE.id,
        severity: Some(RULE.severity),
        statement: statements
            .iter()
            .position(|s| std::ptr::eq(s, statement))
            .unwrap_or(0),
        line: statement.line,
        column: statement.column,
        message: message.to_string(),
        help: Some(
            "SET lock_timeout = '...'; as the first statement and RESET lock_timeout; as the last: that holds under every Prisma version and ends with the file".to_string(),
        ),
        action: Action::LeaveAlone,
    }))
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::testing::check;

    #[test]
    fn alters_of_existing_tables_without_a_lock_timeout() {
        insta::assert_snapshot!(check(
            &RULE,
            r#"-- AlterTable
ALTER TABLE "Post" ADD COLUMN "slug" TEXT;

-- AlterTable
ALTER TABLE "User" ADD COLUMN "bio" TEXT;
"#
        ));
    }

    #[test]
    fn set_and_reset_around_the_file() {
        insta::assert_snapshot!(check(
            &RULE,
            r#"SET lock_timeout = '5s';

-- AlterTable
ALTER TABLE "Post" ADD COLUMN "slug" TEXT;

-- AlterTable
ALTER TABLE "User" ADD COLUMN "bio" TEXT;

RESET lock_timeout;
"#
        ));
    }

    #[test]
    fn set_without_reset() {
        insta::assert_snapshot!(check(
            &RULE,
            r#"SET lock_timeout = '5s';
ALTER TABLE "Post" ADD COLUMN "slug" TEXT;
"#
        ));
    }

    #[test]
    fn one_statement() {
        insta::assert_snapshot!(check(
            &RULE,
            r#"ALTER TABLE "Post" ADD COLUMN "slug" TEXT;
"#
        ));
    }

    #[test]
    fn only_tables_created_in_the_migration() {
        insta::assert_snapshot!(check(
            &RULE,
            r#"-- CreateTable
CREATE TABLE "Tag" (
    "id" SERIAL NOT NULL,
    "name" TEXT NOT NULL,

    CONSTRAINT "Tag_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "Tag_name_idx" ON "Tag"("name");
"#
        ));
    }
}
