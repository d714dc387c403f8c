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
    let Some((table, changes)) = context.altered_existing_table() else {
        return Vec::new();
    };
    changes
        .iter()
        .filter_map(|change| {
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
        .collect()
}
