//! `unique-using-index`: add UNIQUE and PRIMARY KEY constraints from an index built concurrently.
//!
//! **What**: `ALTER TABLE t ADD CONSTRAINT c UNIQUE (...)` or `PRIMARY KEY (...)` on a table that
//! existed before the migration.
//!
//! **Why**: the constraint builds its unique index under ACCESS EXCLUSIVE (SHARE for the build itself
//! plus the catalog change): reads and writes on `t` wait for the whole build.
//!
//! **Fix** (safe): `CREATE UNIQUE INDEX CONCURRENTLY c ON t (...);` alone in its own migration, then
//! `ALTER TABLE t ADD CONSTRAINT c UNIQUE USING INDEX c;` (metadata only) in the folder after the builds,
//! before anything that needs it. Applied when the constraint is named, is its statement's only
//! operation, and sits outside an explicit transaction block; otherwise the finding says how. A PRIMARY
//! KEY on nullable columns still makes PostgreSQL check them for NULLs when it is attached: make them NOT
//! NULL first (see `not-null-via-check`).

use super::{Action, Applicability, Finding, Rule, Severity, StatementContext};
use crate::source::classify::TableChange;
use crate::source::names::quote;

pub const RULE: Rule = Rule {
    id: "unique-using-index",
    severity: Severity::Warning,
    summary: "ADD CONSTRAINT .. UNIQUE / PRIMARY KEY on an existing table builds its index under ACCESS EXCLUSIVE",
    fix: Some(Applicability::Safe),
};

pub fn check(context: &StatementContext) -> Vec<Finding> {
    let Some((table, changes)) = context.altered_existing_table() else {
        return Vec::new();
    };
    changes
        .iter()
        .filter_map(|change| {
            let TableChange::AddKey {
                name,
                primary,
                columns: Some(columns),
                using_index: None,
            } = &change.kind
            else {
                return None;
            };
            let kind = if *primary { "PRIMARY KEY" } else { "UNIQUE" };
            let key_columns = columns;
            let constraint = name.clone().unwrap_or_else(|| format!("{}_key", table.name));
            let columns = columns.iter().map(|c| quote(c)).collect::<Vec<_>>().join(", ");
            let help = format!(
                "CREATE UNIQUE INDEX CONCURRENTLY {index} ON {table} ({columns}); alone in its own migration, then ALTER TABLE {table} ADD CONSTRAINT {index} {kind} USING INDEX {index};{}",
                if *primary { " (the columns must already be NOT NULL)" } else { "" },
                index = quote(&constraint),
            );
            let message = format!(
                "{kind} {} builds its index on {} under ACCESS EXCLUSIVE: reads and writes wait for the whole build",
                quote(&constraint),
                context.describe_existing(table)
            );
            let movable = name.is_some()
                && changes.len() == 1
                && !context.in_transaction_block
                && context
                    .undone_later(table, Some(key_columns), Some(&constraint))
                    .is_none();
            if !movable {
                return Some(
                    context
                        .finding(&RULE, format!("{message}: left alone: it is unnamed, shares its ALTER TABLE with other operations, sits in a transaction block, or is changed later in this migration"), Action::LeaveAlone)
                        .at(change)
                        .with_help(help),
                );
            }
            Some(
                context
                    .finding(
                        &RULE,
                        format!("{message}: build the index CONCURRENTLY first, then attach it"),
                        Action::UniqueViaIndex {
                            table: table.clone(),
                            constraint,
                            primary: *primary,
                            columns: key_columns.clone(),
                        },
                    )
                    .at(change)
                    .with_help(help),
            )
        })
        .collect()
}
