//! `breaking-change`: statements that break the application version still running during a deploy.
//!
//! **What**: `DROP TABLE`, `DROP COLUMN`, `RENAME` of a table or column, `TRUNCATE` of a table that
//! existed before the migration.
//!
//! **Why**: during a rolling deploy the old application version keeps running against the migrated
//! database; its queries name the dropped or renamed objects and fail (Prisma selects every column of a
//! model by name). TRUNCATE also takes ACCESS EXCLUSIVE and empties the table at once.
//!
//! **Safe alternative**: deploy in two steps (expand/contract): first ship code that no longer uses the
//! table or column (or reads both names), then drop or rename in a later migration.

use super::{Action, Finding, Rule, Severity, StatementContext};
use crate::source::classify::{Fact, TableChange};

pub const RULE: Rule = Rule {
    id: "breaking-change",
    severity: Severity::Warning,
    summary: "DROP TABLE / DROP COLUMN / RENAME / TRUNCATE breaks the application version still running",
    fix: None,
};

const HELP: &str = "deploy in two steps: first ship code that no longer uses it, then drop or rename it in a later migration";

pub fn check(context: &StatementContext) -> Vec<Finding> {
    let hazard = |message: String| {
        context
            .finding(&RULE, message, Action::LeaveAlone)
            .with_help(HELP)
    };
    match &context.statement.fact {
        Fact::DropTables { tables } => tables
            .iter()
            .filter(|t| context.is_existing_table(t))
            .map(|t| hazard(format!("DROP TABLE {t}: the running application version still queries it")))
            .collect(),
        Fact::Truncate { tables } => tables
            .iter()
            .filter(|t| context.is_existing_table(t))
            .map(|t| {
                hazard(format!("TRUNCATE {t} empties it under ACCESS EXCLUSIVE"))
                    .with_help("the rows the running application version reads are gone at once: make sure nothing still needs them (or copy them first), and if the table is going away, ship code that no longer uses it before dropping it in a later migration")
            })
            .collect(),
        Fact::AlterTable { table, changes } if context.is_existing_table(table) => changes
            .iter()
            .filter_map(|change| {
                let message = match &change.kind {
                    TableChange::DropColumn { column } => format!(
                        "DROP COLUMN {} on {table}: the running application version still reads and writes it",
                        crate::source::names::quote(column)
                    ),
                    TableChange::RenameColumn { from, to } => format!(
                        "RENAME COLUMN {} TO {} on {table}: the running application version still uses the old name",
                        crate::source::names::quote(from),
                        crate::source::names::quote(to)
                    ),
                    TableChange::RenameTo { table: renamed } => format!(
                        "RENAME {table} TO {renamed}: the running application version still uses the old name"
                    ),
                    _ => return None,
                };
                Some(hazard(message).at(change))
            })
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::testing::check;

    #[test]
    fn drop_column_of_an_existing_table() {
        insta::assert_snapshot!(check(
            &RULE,
            r#"-- AlterTable
ALTER TABLE "User" DROP COLUMN "name";
"#
        ));
    }

    #[test]
    fn drop_and_rename_of_existing_tables() {
        insta::assert_snapshot!(check(
            &RULE,
            r#"-- DropTable
DROP TABLE "Post";

TRUNCATE "User";

ALTER TABLE "User" RENAME COLUMN "name" TO "fullName";

ALTER TABLE "User" RENAME TO "Account";
"#
        ));
    }

    #[test]
    fn drop_of_a_table_created_in_the_migration() {
        insta::assert_snapshot!(check(
            &RULE,
            r#"-- CreateTable
CREATE TABLE "Tag" (
    "id" SERIAL NOT NULL,
    "name" TEXT NOT NULL,

    CONSTRAINT "Tag_pkey" PRIMARY KEY ("id")
);

ALTER TABLE "Tag" DROP COLUMN "name";

-- DropTable
DROP TABLE "Tag";
"#
        ));
    }

    #[test]
    fn adding_a_column() {
        insta::assert_snapshot!(check(
            &RULE,
            r#"ALTER TABLE "User" ADD COLUMN "bio" TEXT;
"#
        ));
    }
}
