//! `volatile-default`: adding a column whose default differs per row rewrites the table.
//!
//! **What**: `ADD COLUMN` on an existing table with a volatile default (`gen_random_uuid()`,
//! `random()`, `clock_timestamp()`, `nextval(..)`), a serial type, an identity or a stored generated
//! column.
//!
//! **Why**: a constant default is stored once in the catalog (PostgreSQL 11+); a volatile one is
//! evaluated for every existing row, so the whole table is rewritten under ACCESS EXCLUSIVE.
//!
//! **Fix** (safe, for a volatile default with at most NOT NULL beside it): the column is added
//! without its default and NOT NULL (metadata only); `ALTER COLUMN .. SET DEFAULT` gives new rows the
//! default; a trigger gives it to rows the application writes while existing rows are filled; a
//! migration of its own fills the existing rows in batches (`data-backfill`'s); a NOT NULL column
//! gets a NOT VALID check there, validated after the fill, then `SET NOT NULL` without a scan. Each
//! existing row gets its own value, as the original gives it.
//!
//! **Safe alternative** otherwise (a serial, identity or generated column, other constraints): add
//! the column without the default (or with a constant one), set the default for new rows with
//! `ALTER COLUMN .. SET DEFAULT`, backfill existing rows in batches, then add NOT NULL.

use super::backfill::{Backfill, BatchKey};
use super::{Action, Applicability, Finding, Rule, Severity, StatementContext};
use crate::source::classify::TableChange;

pub const RULE: Rule = Rule {
    id: "volatile-default",
    severity: Severity::Warning,
    summary: "ADD COLUMN with a volatile default (or serial/identity/stored generated) rewrites the table",
    fix: Some(Applicability::Safe),
};

pub fn check(context: &StatementContext) -> Vec<Finding> {
    context.findings_per_change(|table, change| {
        let TableChange::AddColumn(column) = &change.kind else {
            return None;
        };
        let why = column.rewrites.as_ref()?;
        let mut message = format!(
            "ADD COLUMN {} rewrites {} under ACCESS EXCLUSIVE: {why}",
            crate::source::names::quote(&column.column),
            context.describe_existing(table)
        );
        let action = match fill(context, table, change, column) {
            Ok(action) => {
                message.push_str(": added without it, the default set for new rows, existing rows filled in batches after the migration");
                action
            }
            Err(reason) => {
                message.push_str(&format!(": left alone: {reason}"));
                Action::LeaveAlone
            }
        };
        Some(
            context
                .finding(&RULE, message, action)
                .at(change)
                .with_help("add the column without it, ALTER COLUMN .. SET DEFAULT for new rows, backfill existing rows in batches, then add NOT NULL"),
        )
})
}

/// The fix, when the column is one it can fill: a volatile default, at most NOT NULL beside it.
fn fill(
    context: &StatementContext,
    table: &crate::source::names::QualifiedName,
    change: &crate::source::classify::Change,
    column: &crate::source::classify::AddColumn,
) -> Result<Action, String> {
    let Some(default) = column.default_bytes.clone() else {
        return Err("a serial, identity or generated column gets its values from PostgreSQL, not from a default this fix can move".into());
    };
    if column.other_constraints || column.data_type.ends_with("SERIAL") {
        return Err("the column has more than a default and NOT NULL".into());
    }
    // One fill per statement (its trigger and folder are the statement's).
    if let crate::source::classify::Fact::AlterTable { changes, .. } = &context.statement.fact
        && changes
            .iter()
            .take_while(|c| c.bytes != change.bytes)
            .any(|c| matches!(&c.kind, TableChange::AddColumn(a) if a.rewrites.is_some()))
    {
        return Err("another column of this ALTER TABLE rewrites the table first; give each its own ALTER TABLE".into());
    }
    if context.inside_do_block || context.in_transaction_block {
        return Err("it sits inside an explicit transaction or a DO block".into());
    }
    let constraint = column
        .not_null
        .then(|| super::not_null_via_check::constraint_name(&table.name, &column.column));
    if let Some(later) = context.undone_later(
        table,
        Some(std::slice::from_ref(&column.column)),
        constraint.as_deref(),
    ) {
        return Err(format!(
            "line {} changes the column or table later in this migration",
            later.line
        ));
    }
    if constraint.is_some()
        && let Some(why) = context.failure_order_conflict("the later VALIDATE of its NOT NULL check")
    {
        return Err(why.trim_start_matches("left alone: ").to_string());
    }
    let key = match context.model.single_column_key(table) {
        Some(key) => BatchKey::Column(key.to_string()),
        None => BatchKey::Ctid,
    };
    let text = context.text;
    let statement = &context.statement.bytes;
    // The statement's bytes end with its `;` when it has one: what the fix adds goes after them.
    let after = statement.end;
    // The operation's bytes may end with the statement's `;`, which stays.
    let mut cut_end = change.bytes.end.min(after);
    if text[..cut_end].ends_with(';') {
        cut_end -= 1;
    }
    Ok(Action::FillVolatileDefault {
        table: table.clone(),
        column: column.column.clone(),
        constraint,
        cut: column.type_end..cut_end.max(column.type_end),
        after,
        default: text[default.clone()].to_string(),
        backfill: Box::new(Backfill::fill_new_column(
            context.index,
            context.statement.line,
            table,
            &column.column,
            &text[default],
            key,
        )),
    })
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::testing::check;

    #[test]
    fn volatile_default_on_an_existing_table() {
        insta::assert_snapshot!(check(
            &RULE,
            r#"-- AlterTable
ALTER TABLE "Post" ADD COLUMN "uuid" UUID NOT NULL DEFAULT gen_random_uuid();
"#
        ));
    }

    #[test]
    fn serial_column_on_an_existing_table() {
        insta::assert_snapshot!(check(
            &RULE,
            r#"ALTER TABLE "Post" ADD COLUMN "position" SERIAL NOT NULL;
"#
        ));
    }

    #[test]
    fn constant_default() {
        insta::assert_snapshot!(check(
            &RULE,
            r#"-- AlterTable
ALTER TABLE "Post" ADD COLUMN "views" INTEGER NOT NULL DEFAULT 0;
"#
        ));
    }

    #[test]
    fn volatile_default_on_a_table_created_in_the_migration() {
        insta::assert_snapshot!(check(
            &RULE,
            r#"-- CreateTable
CREATE TABLE "Tag" (
    "id" SERIAL NOT NULL,

    CONSTRAINT "Tag_pkey" PRIMARY KEY ("id")
);

-- AlterTable
ALTER TABLE "Tag" ADD COLUMN "uuid" UUID NOT NULL DEFAULT gen_random_uuid();
"#
        ));
    }
}
