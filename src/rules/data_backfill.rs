//! `data-backfill`: a bulk data change on an existing table inside a migration.
//!
//! **What**: `UPDATE t ...`, `DELETE FROM t ...` or `INSERT INTO t ... SELECT ...` on a table that
//! existed before the migration — a backfill; also inside a PL/pgSQL `DO` block (a loop of UPDATEs is
//! a backfill too), reported at its line.
//!
//! **Why**: it locks every row it touches until the migration commits, and its time grows with the
//! table. Where the migration also alters that table and the file runs as one transaction (Prisma <=
//! 7.3, or 7.4+ on a file it cannot split, or inside `BEGIN ... COMMIT`), the ALTER's ACCESS EXCLUSIVE
//! is still held while the backfill runs: every reader and writer of the table waits for all of it.
//! `check --rows N` measures it.
//!
//! **Safe alternative** (no automatic fix): backfill in batches outside the migration (a script or job
//! updating a few thousand rows per transaction, e.g. `WHERE id IN (SELECT id ... LIMIT 1000)`
//! repeated until nothing is left), or in a migration of its own after the DDL, so the DDL's
//! transaction stays short.

use super::{Action, Finding, Rule, Severity, StatementContext};
use crate::prisma::ApplyModel;
use crate::source::classify::{DataChangeKind, Fact};

pub const RULE: Rule = Rule {
    id: "data-backfill",
    severity: Severity::Warning,
    summary: "UPDATE / DELETE / INSERT .. SELECT over an existing table inside a migration",
    fix: None,
};

pub fn check(context: &StatementContext) -> Option<Finding> {
    let Fact::DataChange { table, change } = &context.statement.fact else {
        return None;
    };
    if !context.is_existing_table(table) {
        return None;
    }
    let preposition = match change {
        DataChangeKind::Update => "of",
        DataChangeKind::Delete => "from",
        DataChangeKind::InsertSelect => "into",
    };
    let mut message = format!(
        "{} {preposition} {} in a migration: it locks every row it touches until the migration commits, for as long as the table is large",
        change.keyword(),
        context.describe_existing(table)
    );
    // An ALTER of the same table earlier in the same transaction still holds its ACCESS EXCLUSIVE. (The
    // file's 7.4+ split is asked for only when there is one: it costs a parse.)
    let altered = context
        .earlier
        .iter()
        .rev()
        .find(|s| matches!(&s.fact, Fact::AlterTable { table: t, .. } if t == table));
    let one_transaction = || {
        context.in_transaction_block
            || context.file.models.contains(&ApplyModel::OneQuery)
            || context.file.run(ApplyModel::PerStatement).is_one_query()
    };
    if let Some(alter) = altered.filter(|_| one_transaction()) {
        // Judged under both models, Prisma 7.4+ may split the file and release the lock in between.
        let splits = context.file.models.contains(&ApplyModel::PerStatement)
            && !context.file.run(ApplyModel::PerStatement).is_one_query();
        let when = if context.in_transaction_block || !splits {
            ""
        } else {
            " where the file runs as one transaction (Prisma <= 7.3)"
        };
        message.push_str(&format!(
            ", and the ALTER TABLE at line {} still holds ACCESS EXCLUSIVE on it{when}: every reader and writer waits for the whole backfill",
            alter.line
        ));
    }
    Some(
        context
            .finding(&RULE, message, Action::LeaveAlone)
            .with_help("backfill in batches outside the migration (a few thousand rows per transaction, repeated), or in a migration of its own after the DDL; keep the DDL's transaction short"),
    )
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::testing::check;

    #[test]
    fn update_of_an_existing_table() {
        insta::assert_snapshot!(check(
            &RULE,
            r#"UPDATE "Post" SET "published" = true WHERE "published" = false;
"#
        ));
    }

    #[test]
    fn update_after_an_alter_of_the_same_table() {
        insta::assert_snapshot!(check(
            &RULE,
            r#"-- AlterTable
ALTER TABLE "Post" ADD COLUMN "slug" TEXT;

UPDATE "Post" SET "slug" = 'post-' || "id";
"#
        ));
    }

    #[test]
    fn delete_inside_a_transaction_block_after_an_alter() {
        insta::assert_snapshot!(check(
            &RULE,
            r#"BEGIN;
ALTER TABLE "Post" ADD COLUMN "slug" TEXT;
DELETE FROM "Post" WHERE "title" = '';
COMMIT;
"#
        ));
    }

    #[test]
    fn insert_into_a_table_created_in_the_migration() {
        insta::assert_snapshot!(check(
            &RULE,
            r#"-- CreateTable
CREATE TABLE "Tag" (
    "id" SERIAL NOT NULL,
    "name" TEXT NOT NULL,

    CONSTRAINT "Tag_pkey" PRIMARY KEY ("id")
);

INSERT INTO "Tag" ("name") SELECT DISTINCT "title" FROM "Post";

UPDATE "Tag" SET "name" = lower("name");
"#
        ));
    }
}
