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
//! operation, sits outside an explicit transaction block, and holds nothing but its name, kind and
//! plain column list: the fix writes new SQL, so a clause it does not model (`DEFERRABLE`, `INITIALLY
//! ..`, `NULLS NOT DISTINCT`, `INCLUDE (..)`, `WITH (..)`, `USING INDEX TABLESPACE`, a comment) makes
//! it step aside rather than drop it; otherwise the finding says how. A PRIMARY
//! KEY on nullable columns still makes PostgreSQL check them for NULLs when it is attached: make them NOT
//! NULL first (see `not-null-via-check`).

use super::{Action, Applicability, Finding, Rule, Severity, StatementContext, UnlessKept};
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
            if let Some(clause) = context
                .text
                .get(change.bytes.clone())
                .and_then(unmodelled_clause) {
                return Some(
                    context
                        .finding(
                            &RULE,
                            format!("{message}: left alone: it holds `{clause}`, which the concurrent build and USING INDEX would not carry over"),
                            Action::LeaveAlone,
                        )
                        .at(change)
                        .with_help(help),
                );
            }
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
            // Its build can fail on duplicates after what the migration destroys has committed: it
            // stays in place unless the planner moves each such statement after the builds.
            let failure_order = context
                .failure_order_blockers("the later concurrent UNIQUE build")
                .into_iter()
                .map(|(statement, why)| UnlessKept {
                    statement,
                    message: format!("{message}: {why}"),
                    help: help.clone(),
                })
                .collect();
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
                            failure_order,
                        },
                    )
                    .at(change)
                    .with_help(help),
            )
        })
        .collect()
}

/// What a key constraint holds beyond `[CONSTRAINT name] UNIQUE|PRIMARY KEY (columns)`, if anything.
fn unmodelled_clause(operation: &str) -> Option<String> {
    let open = operation.find('(')?;
    let close = open + operation[open..].find(')')?;
    let upper = operation[..open].to_ascii_uppercase();
    if upper.contains("NULLS") {
        return Some("NULLS NOT DISTINCT".to_string());
    }
    if operation.contains("--") || operation.contains("/*") {
        return Some("a comment".to_string());
    }
    let rest = operation[close + 1..].trim();
    (!rest.is_empty()).then(|| {
        rest.split_whitespace()
            .take(4)
            .collect::<Vec<_>>()
            .join(" ")
    })
}

#[cfg(test)]
mod tests {
    use super::unmodelled_clause;

    #[test]
    fn only_name_kind_and_columns_are_carried() {
        assert_eq!(
            unmodelled_clause("ADD CONSTRAINT \"c\" UNIQUE (\"a\", \"b\")"),
            None
        );
        assert_eq!(
            unmodelled_clause("ADD CONSTRAINT \"c\" PRIMARY KEY (\"a\")"),
            None
        );
        for (operation, clause) in [
            (
                "ADD CONSTRAINT \"c\" UNIQUE (\"a\") DEFERRABLE INITIALLY DEFERRED",
                "DEFERRABLE INITIALLY DEFERRED",
            ),
            (
                "ADD CONSTRAINT \"c\" UNIQUE NULLS NOT DISTINCT (\"a\")",
                "NULLS NOT DISTINCT",
            ),
            (
                "ADD CONSTRAINT \"c\" UNIQUE (\"a\") INCLUDE (\"b\")",
                "INCLUDE (\"b\")",
            ),
            (
                "ADD CONSTRAINT \"c\" UNIQUE (\"a\") WITH (fillfactor = 70)",
                "WITH (fillfactor = 70)",
            ),
            (
                "ADD CONSTRAINT \"c\" UNIQUE (\"a\") USING INDEX TABLESPACE fast",
                "USING INDEX TABLESPACE fast",
            ),
            ("ADD CONSTRAINT \"c\" UNIQUE (\"a\") -- why", "a comment"),
        ] {
            assert_eq!(
                unmodelled_clause(operation).as_deref(),
                Some(clause),
                "{operation}"
            );
        }
    }
}

#[cfg(test)]
mod snapshot_tests {
    use super::RULE;
    use crate::rules::testing::check;

    #[test]
    fn unique_constraint_on_an_existing_table() {
        insta::assert_snapshot!(check(
            &RULE,
            r#"ALTER TABLE "Post" ADD CONSTRAINT "Post_title_key" UNIQUE ("title");
"#
        ));
    }

    #[test]
    fn unique_constraint_with_a_clause_the_fix_does_not_carry() {
        insta::assert_snapshot!(check(
            &RULE,
            r#"ALTER TABLE "Post" ADD CONSTRAINT "Post_title_key" UNIQUE ("title") DEFERRABLE INITIALLY DEFERRED;
"#
        ));
    }

    #[test]
    fn unique_constraint_using_an_index() {
        insta::assert_snapshot!(check(
            &RULE,
            r#"ALTER TABLE "Post" ADD CONSTRAINT "Post_title_key" UNIQUE USING INDEX "Post_title_key";
"#
        ));
    }

    #[test]
    fn unique_constraint_on_a_table_created_in_the_migration() {
        insta::assert_snapshot!(check(
            &RULE,
            r#"-- CreateTable
CREATE TABLE "Tag" (
    "id" SERIAL NOT NULL,
    "name" TEXT NOT NULL,

    CONSTRAINT "Tag_pkey" PRIMARY KEY ("id")
);

ALTER TABLE "Tag" ADD CONSTRAINT "Tag_name_key" UNIQUE ("name");
"#
        ));
    }
}
