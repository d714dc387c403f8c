//! `unique-using-index`: add UNIQUE and PRIMARY KEY constraints from an index built concurrently.
//!
//! **What**: `ALTER TABLE t ADD CONSTRAINT c UNIQUE (...)` or `PRIMARY KEY (...)` on a table that
//! existed before the migration.
//!
//! **Why**: the constraint builds its unique index under ACCESS EXCLUSIVE (SHARE for the build itself
//! plus the catalog change): reads and writes on `t` wait for the whole build.
//!
//! **Safe alternative**: `CREATE UNIQUE INDEX CONCURRENTLY c ON t (...);` alone in its own migration,
//! then `ALTER TABLE t ADD CONSTRAINT c UNIQUE USING INDEX c;` (metadata only). A PRIMARY KEY also needs
//! its columns NOT NULL first (see `not-null-via-check`). `rewrite` does not apply this yet: the finding
//! says how.

use super::{Action, Finding, Rule, Severity, StatementContext};
use crate::source::classify::{Fact, TableChange};
use crate::source::names::quote;

pub const RULE: Rule = Rule {
    id: "unique-using-index",
    severity: Severity::Warning,
    summary: "ADD CONSTRAINT .. UNIQUE / PRIMARY KEY on an existing table builds its index under ACCESS EXCLUSIVE",
    fix: None,
};

pub fn check(context: &StatementContext) -> Vec<Finding> {
    let Fact::AlterTable { table, changes } = &context.statement.fact else {
        return Vec::new();
    };
    if context.is_new_table(table) {
        return Vec::new();
    }
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
            let constraint = name.clone().unwrap_or_else(|| format!("{}_key", table.name));
            let columns = columns.iter().map(|c| quote(c)).collect::<Vec<_>>().join(", ");
            let help = format!(
                "CREATE UNIQUE INDEX CONCURRENTLY {index} ON {table} ({columns}); alone in its own migration, then ALTER TABLE {table} ADD CONSTRAINT {index} {kind} USING INDEX {index};{}",
                if *primary { " (the columns must already be NOT NULL)" } else { "" },
                index = quote(&constraint),
            );
            Some(
                context
                    .finding(
                        &RULE,
                        format!(
                            "{kind} {} builds its index on {} under ACCESS EXCLUSIVE: reads and writes wait for the whole build",
                            quote(&constraint),
                            context.describe_existing(table)
                        ),
                        Action::LeaveAlone,
                    )
                    .at(change)
                    .with_help(help),
            )
        })
        .collect()
}
