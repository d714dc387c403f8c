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
//! **Fix** (safe, for the shapes it can prove): the `UPDATE` / `DELETE` runs in batches of 1,000 rows
//! in a migration of its own after the migration (and its index builds) and before any validation: a
//! lone `DO` block that commits after each batch, walks the primary key (pages, `ctid`, for an UPDATE
//! of a table without a known one), skips rows already changed (a rerun after a failure finishes the
//! rest) and gives way to application transactions holding its rows. In the UPDATE's place, a row
//! trigger applies the same change to every row the application writes until the batches (and a NOT
//! NULL check's validation) are done; then it is dropped. Left alone, with the reason: a value that
//! differs between batches (`now()`, `gen_random_uuid()`, an unknown function), a statement that reads
//! other rows of its own table or the column it sets, `RETURNING`, a later statement of the migration
//! that uses the table or what the backfill reads, a DELETE of a table without a known primary key,
//! `INSERT .. SELECT`, a statement inside `BEGIN ... COMMIT` or a `DO` block. Otherwise: backfill in
//! batches outside the migration, or in a migration of its own after the DDL.

use super::{Action, Applicability, Finding, Rule, Severity, StatementContext};
use super::backfill::BatchKey;
use crate::prisma::ApplyModel;
use crate::source::classify::{DataChangeKind, Fact};

pub const RULE: Rule = Rule {
    id: "data-backfill",
    severity: Severity::Warning,
    summary: "UPDATE / DELETE / INSERT .. SELECT over an existing table inside a migration",
    fix: Some(Applicability::Safe),
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
    let decision = (!context.inside_do_block)
        .then(|| context.file.backfill(context.index))
        .flatten();
    let action = match decision {
        Some(Ok(backfill)) => {
            message.push_str(if backfill.shape.delete {
                BATCHED_DELETE
            } else {
                BATCHED
            });
            Action::BatchBackfill {
                table: table.clone(),
                key: match &backfill.key {
                    BatchKey::Column(column) => column.clone(),
                    BatchKey::Ctid => "ctid".to_string(),
                },
                backfill: Box::new(backfill.clone()),
            }
        }
        Some(Err(why)) => {
            message.push_str(&format!(": left alone: {why}"));
            Action::LeaveAlone
        }
        None => Action::LeaveAlone,
    };
    let finding = context.finding(&RULE, message, action);
    Some(match finding.action {
        Action::BatchBackfill { .. } => finding.with_help(HELP_BATCHED),
        _ => finding.with_help(HELP_LEFT_ALONE),
    })
}

/// What the finding says of a backfill it batches (an UPDATE, a DELETE).
const BATCHED: &str = ": run in batches after the migration, with a trigger keeping the application's writes in line meanwhile";
const BATCHED_DELETE: &str = ": run in batches after the migration";
const HELP_BATCHED: &str = "`migrate-safe rewrite` runs it in batches of 1,000 rows in a migration of its own (a DO block committing after each batch) and puts a trigger in its place until they are done";
const HELP_LEFT_ALONE: &str = "backfill in batches outside the migration (a few thousand rows per transaction, repeated), or in a migration of its own after the DDL; keep the DDL's transaction short";

/// The planner found a reason the batches cannot run where they would (`why`): the finding says it
/// is left alone, and gives the advice of a backfill left alone.
pub(super) fn left_alone(finding: &mut Finding, why: &str) {
    let hazard = finding
        .message
        .strip_suffix(BATCHED)
        .or_else(|| finding.message.strip_suffix(BATCHED_DELETE))
        .unwrap_or(&finding.message);
    finding.message = format!("{hazard}: left alone: {why}");
    finding.help = Some(HELP_LEFT_ALONE.to_string());
    finding.action = Action::LeaveAlone;
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
