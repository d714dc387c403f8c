//! `volatile-default`: adding a column whose default differs per row rewrites the table.
//!
//! **What**: `ADD COLUMN` on an existing table with a volatile default (`gen_random_uuid()`,
//! `random()`, `clock_timestamp()`, `nextval(..)`), a serial type, an identity or a stored generated
//! column.
//!
//! **Why**: a constant default is stored once in the catalog (PostgreSQL 11+); a volatile one is
//! evaluated for every existing row, so the whole table is rewritten under ACCESS EXCLUSIVE.
//!
//! **Safe alternative**: add the column without the default (or with a constant one), set the default
//! for new rows with `ALTER COLUMN .. SET DEFAULT`, backfill existing rows in batches, then add NOT NULL
//! (see `not-null-via-check`).

use super::{Action, Finding, Rule, Severity, StatementContext};
use crate::source::classify::TableChange;

pub const RULE: Rule = Rule {
    id: "volatile-default",
    severity: Severity::Warning,
    summary: "ADD COLUMN with a volatile default (or serial/identity/stored generated) rewrites the table",
    fix: None,
};

pub fn check(context: &StatementContext) -> Vec<Finding> {
    context.findings_per_change(|table, change| {
        let TableChange::AddColumn(column) = &change.kind else {
            return None;
        };
        let why = column.rewrites.as_ref()?;
        Some(
            context
                .finding(
                    &RULE,
                    format!(
                        "ADD COLUMN {} rewrites {} under ACCESS EXCLUSIVE: {why}",
                        crate::source::names::quote(&column.column),
                        context.describe_existing(table)
                    ),
                    Action::LeaveAlone,
                )
                .at(change)
                .with_help("add the column without it, ALTER COLUMN .. SET DEFAULT for new rows, backfill existing rows in batches, then add NOT NULL"),
        )
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
