//! `not-null-via-check`: make a column NOT NULL without a long ACCESS EXCLUSIVE scan.
//!
//! **What**: `ALTER TABLE t ALTER COLUMN c SET NOT NULL` on a table that existed before the migration
//! (Prisma writes it when an optional field becomes required).
//!
//! **Why**: SET NOT NULL takes ACCESS EXCLUSIVE and scans every row: reads and writes wait for the scan.
//!
//! **Fix** (safe): the operation becomes `ADD CONSTRAINT "t_c_not_null" CHECK ("c" IS NOT NULL) NOT
//! VALID`; a later migration validates it (SHARE UPDATE EXCLUSIVE: no reads or writes blocked); a last
//! one runs `SET NOT NULL` — which, since PostgreSQL 12, trusts the validated check instead of
//! scanning — and drops the check.

use super::{Action, Applicability, Finding, Rule, Severity, StatementContext};
use crate::source::classify::TableChange;

pub const RULE: Rule = Rule {
    id: "not-null-via-check",
    severity: Severity::Warning,
    summary: "SET NOT NULL on an existing table scans it under ACCESS EXCLUSIVE",
    fix: Some(Applicability::Safe),
};

const HELP: &str = "CHECK (col IS NOT NULL) NOT VALID, then VALIDATE CONSTRAINT, SET NOT NULL and DROP CONSTRAINT in later migrations";

pub fn check(context: &StatementContext) -> Vec<Finding> {
    context.findings_per_change(|table, change| {
        let TableChange::SetNotNull { column } = &change.kind else {
            return None;
        };
        let message = format!(
            "SET NOT NULL on {} scans {} under ACCESS EXCLUSIVE",
            crate::source::names::quote(column),
            context.describe_existing(table)
        );
        let constraint = constraint_name(&table.name, column);
        if let Some(later) = context.undone_later(table, Some(std::slice::from_ref(column)), Some(&constraint)) {
            return Some(
                context
                    .finding(
                        &RULE,
                        format!("{message}: left alone: line {} changes the column or table later in this migration, so a later SET NOT NULL would not find it", later.line),
                        Action::LeaveAlone,
                    )
                    .at(change)
                    .with_help(HELP),
            );
        }
        if let Some(why) = context.failure_order_conflict("the later VALIDATE of its NOT NULL check") {
            return Some(
                context
                    .finding(&RULE, format!("{message}: {why}"), Action::LeaveAlone)
                    .at(change)
                    .with_help(HELP),
            );
        }
        if context.in_transaction_block {
            return Some(
                context
                    .finding(
                        &RULE,
                        format!("{message}: left alone: it sits inside an explicit BEGIN ... COMMIT block"),
                        Action::LeaveAlone,
                    )
                    .at(change)
                    .with_help(HELP),
            );
        }
        Some(
            context
                .finding(
                    &RULE,
                    format!("{message}: add a NOT VALID check, validate it later, then SET NOT NULL without a scan"),
                    Action::NotNullViaCheck {
                        table: table.clone(),
                        column: column.clone(),
                        constraint,
                        operation: change.bytes.clone(),
                    },
                )
                .at(change),
        )
})
}

/// `<table>_<column>_not_null`, within PostgreSQL's 63-byte identifier limit.
pub(super) fn constraint_name(table: &str, column: &str) -> String {
    let mut name = format!("{table}_{column}_not_null");
    if name.len() > 63 {
        let mut cut = 63 - "_not_null".len();
        let base = format!("{table}_{column}");
        while !base.is_char_boundary(cut) {
            cut -= 1;
        }
        name = format!("{}_not_null", &base[..cut]);
    }
    name
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::testing::check;

    #[test]
    fn set_not_null_on_an_existing_table() {
        insta::assert_snapshot!(check(
            &RULE,
            r#"-- AlterTable
ALTER TABLE "User" ALTER COLUMN "name" SET NOT NULL;
"#
        ));
    }

    #[test]
    fn not_null_check_added_not_valid() {
        insta::assert_snapshot!(check(
            &RULE,
            r#"ALTER TABLE "User" ADD CONSTRAINT "User_name_not_null" CHECK ("name" IS NOT NULL) NOT VALID;
"#
        ));
    }

    #[test]
    fn set_not_null_on_a_table_created_in_the_migration() {
        insta::assert_snapshot!(check(
            &RULE,
            r#"-- CreateTable
CREATE TABLE "Tag" (
    "id" SERIAL NOT NULL,
    "name" TEXT,

    CONSTRAINT "Tag_pkey" PRIMARY KEY ("id")
);

-- AlterTable
ALTER TABLE "Tag" ALTER COLUMN "name" SET NOT NULL;
"#
        ));
    }

    #[test]
    fn column_dropped_later_in_the_migration() {
        insta::assert_snapshot!(check(
            &RULE,
            r#"ALTER TABLE "User" ALTER COLUMN "name" SET NOT NULL;
ALTER TABLE "User" DROP COLUMN "name";
"#
        ));
    }
}
