//! `drop-index-concurrently`: drop indexes without blocking reads and writes.
//!
//! **What**: `DROP INDEX i` (not CONCURRENTLY) of an index that existed before the migration.
//!
//! **Why**: DROP INDEX takes ACCESS EXCLUSIVE on the index's table. It is quick once granted, but it
//! queues behind every running query on the table, and every query after it queues behind it.
//!
//! **Fix** (safe): `DROP INDEX CONCURRENTLY i;` alone in a migration of its own (it cannot run inside
//! Prisma's implicit transaction). Only when nothing that stays in the migration uses that table or
//! the index (an ALTER TABLE locks the table anyway, a DROP COLUMN would already drop the index, a
//! CREATE INDEX of the same name needs it gone; statements that other fixes move out of the migration do
//! not count), the drop drops one index, and has no CASCADE.

use super::{Action, Applicability, Finding, Rule, Severity, StatementContext, UnlessKept};
use crate::source::classify::Fact;
use crate::source::names::QualifiedName;

pub const RULE: Rule = Rule {
    id: "drop-index-concurrently",
    severity: Severity::Warning,
    summary: "DROP INDEX takes ACCESS EXCLUSIVE on its table; DROP INDEX CONCURRENTLY does not",
    fix: Some(Applicability::Safe),
};

pub fn check(context: &StatementContext) -> Option<Finding> {
    let Fact::DropIndexes {
        indexes,
        concurrently: false,
        concurrently_at,
        cascade,
    } = &context.statement.fact
    else {
        return None;
    };
    let index = indexes.first()?;
    let Some(table) = context.model.table_of_index(index) else {
        // No earlier statement created it: assume it is on an existing table, the safe assumption,
        // but without its table the drop cannot be proven independent of the other statements.
        return Some(
            context
                .finding(
                    &RULE,
                    format!("DROP INDEX {index} takes ACCESS EXCLUSIVE on its table (an index no earlier migration created: assumed to be on an existing table): left alone"),
                    Action::LeaveAlone,
                )
                .with_help("DROP INDEX CONCURRENTLY, alone in a migration of its own"),
        );
    };
    if context.is_new_table(&table) {
        return None;
    }
    let what = format!(
        "DROP INDEX {} takes ACCESS EXCLUSIVE on {}",
        index,
        context.describe_existing(&table)
    );
    let leave = |why: &str| {
        Some(
            context
                .finding(
                    &RULE,
                    format!("{what}: left alone: {why}"),
                    Action::LeaveAlone,
                )
                .with_help(HELP),
        )
    };
    if indexes.len() > 1 {
        return leave("it drops several indexes (CONCURRENTLY drops one at a time)");
    }
    if *cascade {
        return leave("CASCADE is not allowed with CONCURRENTLY");
    }
    if context.in_transaction_block {
        return leave("it sits inside an explicit BEGIN ... COMMIT block");
    }
    // The statements that use the table or the index: the drop moves only if other fixes move them all
    // out of the migration. Moved, they keep their order with the drop: index builds go to folders in
    // statement order, and what follows a build runs after all of them — and after the original, where
    // the drop would have stayed.
    let unless_kept = context
        .file
        .touching(&table, index)
        .into_iter()
        .filter(|&i| i != context.index)
        .map(|i| {
            let why = format!(
                "the statement at line {} also uses {table} or the index, so the drop stays where it is",
                context.file.statements[i].line
            );
            UnlessKept {
                statement: Some(i),
                message: format!("{what}: left alone: {why}"),
                help: HELP.to_string(),
            }
        })
        .collect();
    Some(context.finding(
        &RULE,
        format!("{what}, and queues every query on it behind the lock: drop it CONCURRENTLY in a migration of its own"),
        Action::DropIndexConcurrently {
            index: index.clone(),
            concurrently_at: *concurrently_at,
            unless_kept,
        },
    ))
}

/// The help of a drop left alone.
pub const HELP: &str = "DROP INDEX CONCURRENTLY, alone in a migration of its own";

/// What a statement uses that a drop of an index on a table depends on: the tables it uses, the
/// index names it uses, or (`None`) anything (unknown effects: assume the worst).
pub(super) fn uses(fact: &Fact) -> Option<(Vec<&QualifiedName>, Vec<&QualifiedName>)> {
    Some(match fact {
        Fact::AlterTable { table, .. } => (vec![table], vec![]),
        // Another index on the table does not need this one gone, unless it takes its name.
        Fact::CreateIndex(created) => (vec![], created.name.iter().collect()),
        Fact::DropTables { tables } | Fact::Truncate { tables } => {
            (tables.iter().collect(), vec![])
        }
        Fact::RenameIndex { from, to } => (vec![], vec![from, to]),
        Fact::DropIndexes { .. } | Fact::Other | Fact::CreateEnum { .. } => (vec![], vec![]),
        Fact::SetLockTimeout { .. } | Fact::Begin | Fact::Commit => (vec![], vec![]),
        Fact::CreateTable { table, .. } | Fact::DataChange { table, .. } => (vec![table], vec![]),
        Fact::Unanalysed { .. } | Fact::Maintenance(_) => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::testing::check;

    #[test]
    fn drop_of_an_existing_index() {
        insta::assert_snapshot!(check(
            &RULE,
            r#"-- DropIndex
DROP INDEX "User_email_key";
"#
        ));
    }

    #[test]
    fn drop_of_an_index_no_migration_created() {
        insta::assert_snapshot!(check(
            &RULE,
            r#"DROP INDEX "Post_legacy_idx";
"#
        ));
    }

    #[test]
    fn drop_beside_an_alter_of_its_table() {
        insta::assert_snapshot!(check(
            &RULE,
            r#"-- DropIndex
DROP INDEX "User_email_key";

-- AlterTable
ALTER TABLE "User" ADD COLUMN "bio" TEXT;
"#
        ));
    }

    #[test]
    fn concurrent_drop_alone() {
        insta::assert_snapshot!(check(
            &RULE,
            r#"DROP INDEX CONCURRENTLY "User_email_key";
"#
        ));
    }

    #[test]
    fn drop_of_an_index_on_a_table_created_in_the_migration() {
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

-- DropIndex
DROP INDEX "Tag_name_idx";
"#
        ));
    }
}
