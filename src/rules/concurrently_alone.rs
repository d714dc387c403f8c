//! `concurrently-alone`: a CONCURRENTLY statement must not run inside a transaction.
//!
//! **What**: `CREATE INDEX CONCURRENTLY`, `DROP INDEX CONCURRENTLY` or `REINDEX .. CONCURRENTLY` in a
//! migration file that Prisma runs as one query: any file with another statement under Prisma <= 7.3;
//! under Prisma 7.4+ only a file that sqlparser 0.61 cannot parse whole (a `DO` block, a `DROP INDEX
//! CONCURRENTLY`, `ADD CONSTRAINT .. USING INDEX`, ... anywhere in it), which then goes as one query
//! after all. Inside an explicit `BEGIN ... COMMIT` block under every version.
//!
//! **Why**: PostgreSQL runs a multi-statement query as one implicit transaction, and CONCURRENTLY
//! refuses to run inside a transaction block (SQLSTATE 25001), so the deploy fails.
//!
//! **Fix** (safe): the statement is cut out, unchanged, into a migration of its own right after. A
//! file holding one statement runs alone under every Prisma version.

use super::{Action, Applicability, Finding, Rule, Severity, StatementContext};
use crate::prisma::{ApplyModel, FileRun};
use crate::source::classify::{Fact, Maintenance};

pub const RULE: Rule = Rule {
    id: "concurrently-alone",
    severity: Severity::Error,
    summary: "a CONCURRENTLY statement in a file Prisma runs as one transaction fails (25001)",
    fix: Some(Applicability::Safe),
};

pub fn check(context: &StatementContext) -> Option<Finding> {
    let statements = context.earlier.len() + 1 + context.later.len();
    if statements < 2 {
        return None;
    }
    let (what, action) = match &context.statement.fact {
        Fact::CreateIndex(index) if index.concurrently => (
            "CREATE INDEX CONCURRENTLY",
            Action::BuildIndexConcurrently {
                index: index.name.clone(),
                table: index.table.clone(),
                unique: index.unique,
                key_columns: index.columns.clone().filter(|_| !index.partial),
                concurrently_at: index.concurrently_at,
                // Already CONCURRENTLY: the original fails as a whole (25001), so there is no order
                // of failure to keep.
                failure_order: Vec::new(),
            },
        ),
        Fact::DropIndexes {
            indexes,
            concurrently: true,
            ..
        } => (
            "DROP INDEX CONCURRENTLY",
            Action::MoveAlone {
                defines: indexes.first().map(|i| i.name.clone()),
            },
        ),
        Fact::Maintenance(Maintenance::Reindex { concurrently: true }) => {
            ("REINDEX CONCURRENTLY", Action::MoveAlone { defines: None })
        }
        _ => return None,
    };
    if context.in_transaction_block {
        return Some(
            context
                .finding(
                    &RULE,
                    format!(
                        "{what} cannot run inside a transaction block, and it sits inside an explicit BEGIN ... COMMIT block: the deploy fails with 25001 under every Prisma version: left alone"
                    ),
                    Action::LeaveAlone,
                )
                .with_help("move it out of the block into a migration of its own"),
        );
    }
    let reasons: Vec<String> = context
        .file
        .models
        .iter()
        .filter_map(|&model| match (model, context.file.run(model)) {
            (ApplyModel::OneQuery, _) if context.options.deployed_by_migrate_safe => Some(format!(
                "migrate-safe deploy runs this file ({statements} statements) in one transaction"
            )),
            (ApplyModel::OneQuery, _) => Some(format!(
                "Prisma <= 7.3 runs this file ({statements} statements) as one query"
            )),
            (ApplyModel::PerStatement, FileRun::Fallback { line, .. }) => Some(match line {
                Some(line) => format!(
                    "Prisma 7.4+ runs it as one query too: its sqlparser 0.61 cannot parse line {line} (`{}`), so the whole file falls back to one query",
                    context.file.line_text(*line)
                ),
                None => "Prisma 7.4+ runs it as one query too: its sqlparser 0.61 cannot parse the file".to_string(),
            }),
            (ApplyModel::PerStatement, _) => None,
        })
        .collect();
    if reasons.is_empty() {
        return None; // Prisma 7.4+ sends it on its own: it runs outside a transaction
    }
    Some(context.finding(
        &RULE,
        format!(
            "{what} cannot run inside a transaction block, and {}: the deploy fails with 25001: move it into a migration of its own",
            reasons.join("; ")
        ),
        action,
    ))
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::testing::check;

    #[test]
    fn concurrent_build_beside_another_statement() {
        insta::assert_snapshot!(check(
            &RULE,
            r#"-- AlterTable
ALTER TABLE "Post" ADD COLUMN "slug" TEXT;

-- CreateIndex
CREATE INDEX CONCURRENTLY "Post_slug_idx" ON "Post"("slug");
"#
        ));
    }

    #[test]
    fn concurrent_drop_beside_another_statement() {
        insta::assert_snapshot!(check(
            &RULE,
            r#"DROP INDEX CONCURRENTLY "User_email_key";
ALTER TABLE "User" ADD COLUMN "bio" TEXT;
"#
        ));
    }

    #[test]
    fn concurrent_build_inside_a_transaction_block() {
        insta::assert_snapshot!(check(
            &RULE,
            r#"BEGIN;
CREATE INDEX CONCURRENTLY "Post_title_idx" ON "Post"("title");
COMMIT;
"#
        ));
    }

    #[test]
    fn concurrent_build_alone() {
        insta::assert_snapshot!(check(
            &RULE,
            r#"CREATE INDEX CONCURRENTLY "Post_title_idx" ON "Post"("title");
"#
        ));
    }
}
