//! `column-type-rewrite`: changing a column's type usually rewrites the whole table.
//!
//! **What**: `ALTER COLUMN .. [SET DATA] TYPE` on a table that existed before the migration, unless the
//! change is binary-coercible: widening `VARCHAR(n)`, `VARCHAR` ↔ `TEXT`, raising the precision of
//! `NUMERIC(p,s)` (same scale) or of `TIMESTAMP[TZ](p)` (each measured on PostgreSQL 15: the table's
//! relfilenode stays).
//!
//! **Why**: a rewrite holds ACCESS EXCLUSIVE for as long as it takes to copy the table and rebuild all
//! its indexes: no reads, no writes.
//!
//! **Safe alternative** (expand/contract): add a new column of the new type, write both from the
//! application, backfill in batches, switch reads, then drop the old column in a later deploy.

use super::{Action, Finding, Rule, Severity, StatementContext, enum_recreation};
use crate::source::classify::TableChange;

pub const RULE: Rule = Rule {
    id: "column-type-rewrite",
    severity: Severity::Warning,
    summary: "ALTER COLUMN .. TYPE that is not binary-coercible rewrites the table under ACCESS EXCLUSIVE",
    fix: None,
};

const HELP: &str = "expand/contract: add a column of the new type, write both, backfill in batches, switch reads, drop the old column later";

pub fn check(context: &StatementContext) -> Vec<Finding> {
    context.findings_per_change(|table, change| {
        let TableChange::AlterColumnType {
            column,
            data_type,
            using,
        } = &change.kind
        else {
            return None;
        };
        if enum_recreation::is_new_enum(context, data_type) {
            return None; // enum-recreation says it better
        }
        let old = context.model.column_type(table, column);
        let column_q = crate::source::names::quote(column);
        let message = match (old, *using) {
            (_, true) => format!(
                "{column_q} TYPE {data_type} USING ... rewrites {} under ACCESS EXCLUSIVE",
                context.describe_existing(table)
            ),
            (Some(old), false) if !rewrites(old, data_type) => return None,
            (Some(old), false) => format!(
                "{column_q} {old} -> {data_type} is not binary-coercible: it rewrites {} under ACCESS EXCLUSIVE",
                context.describe_existing(table)
            ),
            (None, false) => format!(
                "{column_q} TYPE {data_type}: its current type is unknown to migrate-safe, so this may rewrite {} under ACCESS EXCLUSIVE",
                context.describe_existing(table)
            ),
        };
        Some(
            context
                .finding(&RULE, message, Action::LeaveAlone)
                .at(change)
                .with_help(HELP),
        )
})
}

/// Whether changing `old` to `new` (both normalised type text) rewrites the table.
pub fn rewrites(old: &str, new: &str) -> bool {
    let (old_base, old_args) = parse(old);
    let (new_base, new_args) = parse(new);
    if old_base == new_base && old_args == new_args {
        return false;
    }
    match (old_base.as_str(), new_base.as_str()) {
        ("VARCHAR", "VARCHAR") => {
            !(new_args.is_empty()
                || (old_args.len() == 1 && new_args.len() == 1 && new_args[0] >= old_args[0]))
        }
        ("VARCHAR", "TEXT") | ("TEXT", "TEXT") => false,
        ("TEXT", "VARCHAR") => !new_args.is_empty(),
        ("NUMERIC", "NUMERIC") => {
            !(new_args.is_empty()
                || (old_args.len() == 2
                    && new_args.len() == 2
                    && new_args[1] == old_args[1]
                    && new_args[0] >= old_args[0]))
        }
        ("TIMESTAMP", "TIMESTAMP") | ("TIMESTAMPTZ", "TIMESTAMPTZ") => {
            !(new_args.is_empty()
                || (old_args.len() == 1 && new_args.len() == 1 && new_args[0] >= old_args[0]))
        }
        _ => true,
    }
}

/// `VARCHAR(50)` → (`VARCHAR`, [50]), with PostgreSQL's synonyms folded.
fn parse(text: &str) -> (String, Vec<u32>) {
    // pg_dump spells `timestamp(3) without time zone`: the zone words go after the precision.
    let (text, with_zone) = match text {
        t if t.ends_with(" WITHOUT TIME ZONE") => (&t[..t.len() - 18], false),
        t if t.ends_with(" WITH TIME ZONE") && t.starts_with("TIMESTAMP(") => {
            (&t[..t.len() - 15], true)
        }
        t => (t, false),
    };
    let (base, args) = match text.split_once('(') {
        Some((base, rest)) if rest.ends_with(')') => (
            base.trim(),
            rest.trim_end_matches(')')
                .split(',')
                .map(|a| a.trim().parse().unwrap_or(u32::MAX))
                .collect(),
        ),
        _ => (text.trim(), Vec::new()),
    };
    let base = match base {
        "CHARACTER VARYING" => "VARCHAR",
        "DECIMAL" => "NUMERIC",
        "TIMESTAMP WITHOUT TIME ZONE" => "TIMESTAMP",
        "TIMESTAMP WITH TIME ZONE" => "TIMESTAMPTZ",
        "INT" | "INT4" => "INTEGER",
        "INT8" => "BIGINT",
        "INT2" => "SMALLINT",
        "BOOL" => "BOOLEAN",
        "FLOAT8" => "DOUBLE PRECISION",
        "TIMESTAMP" if with_zone => "TIMESTAMPTZ",
        other => other,
    };
    (base.to_string(), args)
}

#[cfg(test)]
mod tests {
    use super::rewrites;

    #[test]
    fn binary_coercible_changes_measured_on_postgres_15() {
        for (old, new) in [
            ("VARCHAR(50)", "VARCHAR(100)"),
            ("TIMESTAMP(3)", "TIMESTAMP(6)"),
            ("TEXT", "VARCHAR"),
            ("NUMERIC(10,2)", "NUMERIC(12,2)"),
            ("VARCHAR(20)", "TEXT"),
            ("NUMERIC(12,2)", "NUMERIC"),
            ("TIMESTAMPTZ(3)", "TIMESTAMPTZ(6)"),
            ("CHARACTER VARYING(5)", "VARCHAR(5)"),
            ("TIMESTAMP(3) WITHOUT TIME ZONE", "TIMESTAMP(6)"),
            ("TIMESTAMP(3) WITH TIME ZONE", "TIMESTAMPTZ(3)"),
        ] {
            assert!(!rewrites(old, new), "{old} -> {new}");
        }
        for (old, new) in [
            ("INTEGER", "BIGINT"),
            ("VARCHAR(100)", "VARCHAR(60)"),
            ("TIMESTAMP(6)", "TIMESTAMP(3)"),
            ("CHAR(5)", "TEXT"),
            ("NUMERIC(10,2)", "NUMERIC(12,3)"),
        ] {
            assert!(rewrites(old, new), "{old} -> {new}");
        }
    }
}

#[cfg(test)]
mod snapshot_tests {
    use super::RULE;
    use crate::rules::testing::check;

    #[test]
    fn narrowing_a_varchar() {
        insta::assert_snapshot!(check(
            &RULE,
            r#"-- AlterTable
ALTER TABLE "Post" ALTER COLUMN "title" SET DATA TYPE VARCHAR(50);
"#
        ));
    }

    #[test]
    fn type_change_with_using() {
        insta::assert_snapshot!(check(
            &RULE,
            r#"ALTER TABLE "Post" ALTER COLUMN "published" TYPE INTEGER USING ("published"::integer);
"#
        ));
    }

    #[test]
    fn widening_a_varchar() {
        insta::assert_snapshot!(check(
            &RULE,
            r#"-- AlterTable
ALTER TABLE "Post" ALTER COLUMN "title" SET DATA TYPE VARCHAR(200);
"#
        ));
    }

    #[test]
    fn type_change_on_a_table_created_in_the_migration() {
        insta::assert_snapshot!(check(
            &RULE,
            r#"-- CreateTable
CREATE TABLE "Tag" (
    "id" SERIAL NOT NULL,
    "name" VARCHAR(100) NOT NULL,

    CONSTRAINT "Tag_pkey" PRIMARY KEY ("id")
);

-- AlterTable
ALTER TABLE "Tag" ALTER COLUMN "name" SET DATA TYPE VARCHAR(50);
"#
        ));
    }
}
