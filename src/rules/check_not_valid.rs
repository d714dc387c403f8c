//! `check-not-valid`: add CHECK constraints without a write-blocking scan.
//!
//! **What**: `ALTER TABLE t ADD CONSTRAINT c CHECK (...)` without `NOT VALID` on a table that existed
//! before the migration.
//!
//! **Why**: adding a CHECK takes ACCESS EXCLUSIVE on `t` and scans every row to validate it: reads and
//! writes wait for the whole scan.
//!
//! **Fix** (safe): ` NOT VALID` is added (metadata only; new rows are checked from then on) and a later
//! migration runs `ALTER TABLE t VALIDATE CONSTRAINT c;`, which scans under SHARE UPDATE EXCLUSIVE.

use super::{Action, Applicability, Finding, Rule, Severity, StatementContext};
use crate::source::classify::TableChange;

pub const RULE: Rule = Rule {
    id: "check-not-valid",
    severity: Severity::Warning,
    summary: "ADD CONSTRAINT .. CHECK on an existing table scans it under ACCESS EXCLUSIVE",
    fix: Some(Applicability::Safe),
};

pub fn check(context: &StatementContext) -> Vec<Finding> {
    context.findings_per_change(|table, change| {
        let TableChange::AddCheck {
            name,
            not_valid: false,
            not_valid_at,
        } = &change.kind
        else {
            return None;
        };
        let existing = context.describe_existing(table);
        if let Some(later) = context.undone_later(table, None, name.as_deref()) {
            return Some(
                context
                    .finding(
                        &RULE,
                        format!("CHECK scans {existing} under ACCESS EXCLUSIVE: left alone: line {} changes the table, a column or the constraint later in this migration, so it could not be validated later", later.line),
                        Action::LeaveAlone,
                    )
                    .at(change)
                    .with_help("ADD CONSTRAINT .. CHECK (...) NOT VALID, then VALIDATE CONSTRAINT in a later migration"),
            );
        }
        if let Some(why) = context.failure_order_conflict("the later VALIDATE CONSTRAINT") {
            return Some(
                context
                    .finding(&RULE, format!("CHECK scans {existing} under ACCESS EXCLUSIVE: {why}"), Action::LeaveAlone)
                    .at(change)
                    .with_help("ADD CONSTRAINT .. CHECK (...) NOT VALID, then VALIDATE CONSTRAINT in a later migration"),
            );
        }
        Some(match name {
            Some(constraint) => context
                .finding(
                    &RULE,
                    format!(
                        "CHECK {} scans {existing} under ACCESS EXCLUSIVE: add it NOT VALID, VALIDATE it later",
                        crate::source::names::quote(constraint)
                    ),
                    Action::SplitCheck {
                        table: table.clone(),
                        constraint: constraint.clone(),
                        not_valid_at: *not_valid_at,
                    },
                )
                .at(change),
            None => context
                .finding(
                    &RULE,
                    format!("unnamed CHECK scans {existing} under ACCESS EXCLUSIVE: left alone: a constraint without a name cannot be validated later"),
                    Action::LeaveAlone,
                )
                .at(change)
                .with_help("ADD CONSTRAINT <name> CHECK (...) NOT VALID, then VALIDATE CONSTRAINT <name> in a later migration"),
        })
})
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::testing::check;

    #[test]
    fn check_on_an_existing_table() {
        insta::assert_snapshot!(check(
            &RULE,
            r#"ALTER TABLE "Post" ADD CONSTRAINT "Post_title_check" CHECK (length("title") > 0);
"#
        ));
    }

    #[test]
    fn unnamed_check() {
        insta::assert_snapshot!(check(
            &RULE,
            r#"ALTER TABLE "Post" ADD CHECK (length("title") > 0);
"#
        ));
    }

    #[test]
    fn check_added_not_valid() {
        insta::assert_snapshot!(check(
            &RULE,
            r#"ALTER TABLE "Post" ADD CONSTRAINT "Post_title_check" CHECK (length("title") > 0) NOT VALID;
"#
        ));
    }

    #[test]
    fn check_on_a_table_created_in_the_migration() {
        insta::assert_snapshot!(check(
            &RULE,
            r#"-- CreateTable
CREATE TABLE "Tag" (
    "id" SERIAL NOT NULL,
    "name" TEXT NOT NULL,

    CONSTRAINT "Tag_pkey" PRIMARY KEY ("id")
);

ALTER TABLE "Tag" ADD CONSTRAINT "Tag_name_check" CHECK (length("name") > 0);
"#
        ));
    }
}
