//! `enum-recreation`: removing an enum value rewrites every column that uses the enum.
//!
//! **What**: Prisma's form for removing (or renaming) an enum value on a table that existed before the
//! migration: `CREATE TYPE "E_new" AS ENUM (...)`, then `ALTER TABLE t ALTER COLUMN c TYPE "E_new" USING
//! (c::text::"E_new")` for each column, inside `BEGIN; ... COMMIT;`.
//!
//! **Why**: the type change rewrites `t` and rebuilds its indexes under ACCESS EXCLUSIVE: no reads or
//! writes until it ends. (Adding a value, `ALTER TYPE .. ADD VALUE`, is cheap.)
//!
//! **Safe alternative**: keep the old value in the enum and stop using it in the application; or move
//! the column to TEXT with a CHECK constraint (added NOT VALID, validated later).

use super::{Action, Finding, Rule, Severity, StatementContext};
use crate::source::classify::TableChange;
use crate::source::names::{DEFAULT_SCHEMA, quote};

pub const RULE: Rule = Rule {
    id: "enum-recreation",
    severity: Severity::Warning,
    summary: "recreating an enum (Prisma's value removal) rewrites the columns that use it",
    fix: None,
};

/// Whether `data_type` (normalised type text) names an enum created earlier in this migration.
pub fn is_new_enum(context: &StatementContext, data_type: &str) -> bool {
    let data_type = data_type.trim_end_matches("[]");
    context.new_enums.iter().any(|e| {
        let qualified = format!("{}.{}", quote(&e.schema), quote(&e.name));
        data_type == qualified
            || (e.schema == DEFAULT_SCHEMA
                && (data_type == quote(&e.name) || data_type == e.name.to_uppercase()))
    })
}

pub fn check(context: &StatementContext) -> Vec<Finding> {
    let Some((table, changes)) = context.altered_existing_table() else {
        return Vec::new();
    };
    changes
        .iter()
        .filter_map(|change| {
            let TableChange::AlterColumnType {
                column, data_type, ..
            } = &change.kind
            else {
                return None;
            };
            is_new_enum(context, data_type).then(|| {
                context
                    .finding(
                        &RULE,
                        format!(
                            "{} moves to the recreated enum {data_type}: this rewrites {} under ACCESS EXCLUSIVE",
                            crate::source::names::quote(column),
                            context.describe_existing(table)
                        ),
                        Action::LeaveAlone,
                    )
                    .at(change)
                    .with_help("keep the old enum value and stop using it in the application, or move the column to TEXT with a CHECK added NOT VALID")
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::testing::check;

    #[test]
    fn enum_value_removed() {
        insta::assert_snapshot!(check(
            &RULE,
            r#"/*
  Warnings:

  - The values [GUEST] on the enum `Role` will be removed. If these variants are still used in the database, this will fail.

*/
-- AlterEnum
BEGIN;
CREATE TYPE "Role_new" AS ENUM ('USER', 'ADMIN');
ALTER TABLE "public"."User" ALTER COLUMN "role" DROP DEFAULT;
ALTER TABLE "public"."User" ALTER COLUMN "role" TYPE "Role_new" USING ("role"::text::"Role_new");
ALTER TYPE "Role" RENAME TO "Role_old";
ALTER TYPE "Role_new" RENAME TO "Role";
DROP TYPE "public"."Role_old";
ALTER TABLE "public"."User" ALTER COLUMN "role" SET DEFAULT 'USER';
COMMIT;
"#
        ));
    }

    #[test]
    fn enum_value_added() {
        insta::assert_snapshot!(check(
            &RULE,
            r#"-- AlterEnum
ALTER TYPE "Role" ADD VALUE 'MODERATOR';
"#
        ));
    }

    #[test]
    fn enum_and_table_created_in_the_migration() {
        insta::assert_snapshot!(check(
            &RULE,
            r#"-- CreateEnum
CREATE TYPE "Color" AS ENUM ('RED', 'GREEN');

-- CreateTable
CREATE TABLE "Tag" (
    "id" SERIAL NOT NULL,
    "color" TEXT NOT NULL,

    CONSTRAINT "Tag_pkey" PRIMARY KEY ("id")
);

ALTER TABLE "Tag" ALTER COLUMN "color" TYPE "Color" USING ("color"::"Color");
"#
        ));
    }
}
