//! `foreign-key-not-valid`: add foreign keys without a long write-blocking scan.
//!
//! **What**: `ALTER TABLE t ADD CONSTRAINT c FOREIGN KEY ...` on a table that existed before the migration.
//!
//! **Why**: adding a foreign key takes SHARE ROW EXCLUSIVE on both tables and scans every row of `t` to
//! validate it: writes to both tables wait for the whole scan.
//!
//! **Fix**: ` NOT VALID` is added (metadata only: milliseconds, and new rows are checked from then on),
//! and a later migration runs `ALTER TABLE t VALIDATE CONSTRAINT c;`, which scans under SHARE UPDATE
//! EXCLUSIVE and blocks no reads or writes.
//!
//! Foreign keys on tables created in the same migration have nothing to scan and stay as they are,
//! unless `--foreign-keys all` asks for the split anyway.

use super::{Action, Applicability, Finding, ForeignKeyMode, Rule, Severity, StatementContext};
use crate::source::classify::{Fact, ForeignKey, Statement, TableChange};
use crate::source::names::QualifiedName;

pub const RULE: Rule = Rule {
    id: "foreign-key-not-valid",
    severity: Severity::Warning,
    summary: "ADD FOREIGN KEY on an existing table blocks writes on both tables while it scans",
    fix: Some(Applicability::Safe),
};

pub fn check(context: &StatementContext) -> Vec<Finding> {
    let Fact::AlterTable { table, changes } = &context.statement.fact else {
        return Vec::new();
    };
    let mut findings = Vec::new();
    for change in changes {
        let TableChange::AddForeignKey(fk) = &change.kind else {
            continue;
        };
        if fk.not_valid {
            continue;
        }
        let label = match &fk.name {
            Some(name) => format!("FOREIGN KEY {}", crate::source::names::quote(name)),
            None => "unnamed FOREIGN KEY".to_string(),
        };
        let new_table = context.is_new_table(table);
        if new_table && context.options.foreign_keys == ForeignKeyMode::ExistingTables {
            findings.push(context.explain(
                &RULE,
                format!("{label} on {table}: left alone: the table is created in this migration, so there is nothing to scan"),
            ).at(change));
            continue;
        }
        let Some(constraint) = &fk.name else {
            findings.push(
                context
                    .finding(
                        &RULE,
                        format!("{label} on {table}: left alone: a constraint without a name cannot be validated later; name it"),
                        Action::LeaveAlone,
                    )
                    .at(change)
                    .with_help("ADD CONSTRAINT <name> FOREIGN KEY ... NOT VALID, then VALIDATE CONSTRAINT <name> in a later migration"),
            );
            continue;
        };
        if let Some(later) = context.undone_later(table, Some(&fk.columns), Some(constraint)) {
            let why = format!("line {} changes the table, one of its columns or the constraint later in this migration, so it could not be validated later", later.line);
            // On an existing table the scan under the lock is still there: a hazard, not a note.
            let finding = if new_table {
                context.explain(&RULE, format!("{label} on {table}: left alone: {why}"))
            } else {
                context
                    .finding(
                        &RULE,
                        format!("{label} scans {} while blocking writes on it and on {}: left alone: {why}", context.describe_existing(table), fk.referenced_table),
                        Action::LeaveAlone,
                    )
                    .with_help("move the later change into a migration of its own after this one, then rewrite: the foreign key becomes NOT VALID + VALIDATE")
            };
            findings.push(finding.at(change));
            continue;
        }
        if !new_table
            && let Some(why) = context.failure_order_conflict("the later VALIDATE CONSTRAINT")
        {
            findings.push(
                context
                    .finding(&RULE, format!("{label} scans {} while blocking writes on it and on {}: {why}", context.describe_existing(table), fk.referenced_table), Action::LeaveAlone)
                    .at(change)
                    .with_help("ADD CONSTRAINT .. FOREIGN KEY .. NOT VALID here, VALIDATE CONSTRAINT in a later migration, once nothing in this one is irreversible"),
            );
            continue;
        }
        let scanned = if new_table {
            format!(
                "table {table} (created in this migration; split because of --foreign-keys all)"
            )
        } else {
            context.describe_existing(table)
        };
        findings.push(context.finding(
            &RULE,
            format!(
                "{label} scans {scanned} while blocking writes on it and on {}: add it NOT VALID, VALIDATE it later",
                fk.referenced_table
            ),
            Action::SplitForeignKey {
                table: table.clone(),
                constraint: constraint.clone(),
                referenced_table: fk.referenced_table.clone(),
                referenced_columns: fk.referenced_columns.clone(),
                not_valid_at: fk.not_valid_at,
            },
        ).at(change));
    }
    findings
}

/// The finding for a foreign key the plan moves to a later migration because it relies on an index
/// that moves there (`index`: its statement; `name`: the constraint's): where it lands its table already exists, so it is split
/// into NOT VALID + VALIDATE too.
pub fn after_moved_index(
    index: usize,
    statement: &Statement,
    table: &QualifiedName,
    fk: &ForeignKey,
    name: &str,
) -> Finding {
    Finding {
        rule: RULE.id,
        severity: Some(RULE.severity),
        statement: index,
        line: statement.line,
        column: statement.column,
        help: None,
        message: format!(
            "FOREIGN KEY {} on {table} must follow an index into a later migration, where {table} already exists: add it NOT VALID, VALIDATE it later",
            crate::source::names::quote(name)
        ),
        action: Action::SplitForeignKey {
            table: table.clone(),
            constraint: name.to_string(),
            referenced_table: fk.referenced_table.clone(),
            referenced_columns: fk.referenced_columns.clone(),
            not_valid_at: fk.not_valid_at,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::testing::check;

    #[test]
    fn foreign_key_on_an_existing_table() {
        insta::assert_snapshot!(check(
            &RULE,
            r#"-- AddForeignKey
ALTER TABLE "Post" ADD CONSTRAINT "Post_authorId_fkey" FOREIGN KEY ("authorId") REFERENCES "User"("id") ON DELETE SET NULL ON UPDATE CASCADE;
"#
        ));
    }

    #[test]
    fn foreign_key_added_not_valid() {
        insta::assert_snapshot!(check(
            &RULE,
            r#"ALTER TABLE "Post" ADD CONSTRAINT "Post_authorId_fkey" FOREIGN KEY ("authorId") REFERENCES "User"("id") NOT VALID;
"#
        ));
    }

    #[test]
    fn foreign_key_on_a_table_created_in_the_migration() {
        insta::assert_snapshot!(check(
            &RULE,
            r#"-- CreateTable
CREATE TABLE "Comment" (
    "id" SERIAL NOT NULL,
    "postId" INTEGER NOT NULL,

    CONSTRAINT "Comment_pkey" PRIMARY KEY ("id")
);

-- AddForeignKey
ALTER TABLE "Comment" ADD CONSTRAINT "Comment_postId_fkey" FOREIGN KEY ("postId") REFERENCES "Post"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
"#
        ));
    }

    #[test]
    fn unnamed_foreign_key() {
        insta::assert_snapshot!(check(
            &RULE,
            r#"ALTER TABLE "Post" ADD FOREIGN KEY ("authorId") REFERENCES "User"("id");
"#
        ));
    }

    #[test]
    fn foreign_key_after_a_destructive_statement() {
        insta::assert_snapshot!(check(
            &RULE,
            r#"-- AlterTable
ALTER TABLE "User" DROP COLUMN "name";

-- AddForeignKey
ALTER TABLE "Post" ADD CONSTRAINT "Post_authorId_fkey" FOREIGN KEY ("authorId") REFERENCES "User"("id") ON DELETE SET NULL ON UPDATE CASCADE;
"#
        ));
    }

    /// Left alone (the column goes later in the migration), but the scan under the lock stays.
    #[test]
    fn foreign_key_whose_column_is_dropped_later_is_still_a_warning() {
        insta::assert_snapshot!(check(
            &RULE,
            "ALTER TABLE \"Post\" ADD CONSTRAINT \"Post_authorId_fkey\" FOREIGN KEY (\"authorId\") REFERENCES \"User\"(\"id\");\nALTER TABLE \"Post\" DROP COLUMN \"authorId\";\n"
        ));
    }
}
