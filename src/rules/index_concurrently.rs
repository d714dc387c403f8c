//! `index-concurrently`: build indexes on existing tables without blocking writes.
//!
//! **What**: `CREATE [UNIQUE] INDEX` on a table that existed before the migration.
//!
//! **Why**: a plain index build holds a SHARE lock on the table: every INSERT, UPDATE and DELETE waits
//! for the whole build (scan + sort). On a large, busy table that is an outage.
//!
//! **Fix**: the statement is cut out of the migration and written as `CREATE [UNIQUE] INDEX CONCURRENTLY`
//! alone in a migration of its own, ordered right after the original. Alone, because Prisma sends a file
//! as one query, which PostgreSQL runs as one transaction, and CONCURRENTLY refuses to run inside one
//! (SQLSTATE 25001) — even a `SET` beside it breaks it. No `IF NOT EXISTS` is added: it would hide an
//! INVALID index left by a failed build.
//!
//! Indexes on tables created in the same migration stay where they are: nobody can write to those yet.
//! So does a build whose table or columns a later statement of the migration drops, renames or retypes
//! (moved after it, the build would not find them).

use super::{Action, Applicability, Finding, Rule, Severity, StatementContext, UnlessKept};
use crate::source::classify::Fact;

pub const RULE: Rule = Rule {
    id: "index-concurrently",
    severity: Severity::Warning,
    summary: "CREATE INDEX on an existing table blocks writes for the whole build",
    fix: Some(Applicability::Safe),
};

pub fn check(context: &StatementContext) -> Option<Finding> {
    let Fact::CreateIndex(index) = &context.statement.fact else {
        return None;
    };
    if index.concurrently {
        return None;
    }
    let what = match &index.name {
        Some(name) => format!(
            "CREATE {}INDEX {}",
            if index.unique { "UNIQUE " } else { "" },
            name
        ),
        None => format!(
            "CREATE {}INDEX on {}",
            if index.unique { "UNIQUE " } else { "" },
            index.table
        ),
    };
    let leave = |why: String| Some(context.explain(&RULE, format!("{what}: left alone: {why}")));
    if context.is_new_table(&index.table) {
        return leave(format!(
            "table {} is created in this migration",
            index.table
        ));
    }
    if context.in_transaction_block {
        let hazard = |why: String| {
            context.finding(
                &RULE,
                format!("{what}: left alone: {why}"),
                Action::LeaveAlone,
            )
        };
        return Some(hazard(format!(
            "it blocks writes on {} while it builds, but it sits inside an explicit BEGIN ... COMMIT block, and moving it out would change what that block makes atomic; build it CONCURRENTLY by hand in a migration of its own",
            context.describe_existing(&index.table)
        )).with_help("build it with CREATE INDEX CONCURRENTLY, alone in a migration of its own, before or after the block"));
    }
    // Moved, the build runs after the rest of the migration: it needs its table and columns as they are
    // here (a predicate's columns are not known: any column then).
    let columns = index.columns.as_deref().filter(|_| !index.partial);
    // Still a hazard where it stays: the build blocks writes on an existing table.
    if let Some(later) = context.undone_later(&index.table, columns, None) {
        return Some(
            context
                .finding(
                    &RULE,
                    format!(
                        "{what} blocks writes on {} for the whole build: left alone: the table or a column the index uses is dropped, renamed or retyped later in this migration (line {}), so the index cannot be built after it",
                        context.describe_existing(&index.table),
                        later.line
                    ),
                    Action::LeaveAlone,
                )
                .with_help("move the later change into a migration of its own after this one, then rewrite: the build becomes CONCURRENTLY, in a folder of its own"),
        );
    }
    // A UNIQUE build can fail on duplicates after what the migration destroys has committed: it stays
    // in place unless the planner moves each such statement after the builds.
    let failure_order = if index.unique {
        let existing = context.describe_existing(&index.table);
        context
            .failure_order_blockers("the later concurrent UNIQUE build")
            .into_iter()
            .map(|(statement, why)| UnlessKept {
                statement,
                message: format!("{what} blocks writes on {existing} for the whole build: {why}"),
                help: "build it with CREATE UNIQUE INDEX CONCURRENTLY, alone in a migration of its own"
                    .to_string(),
            })
            .collect()
    } else {
        Vec::new()
    };
    Some(context.finding(
        &RULE,
        format!(
            "{what} blocks writes on {} for the whole build: build it CONCURRENTLY in a migration of its own",
            context.describe_existing(&index.table)
        ),
        Action::BuildIndexConcurrently {
            index: index.name.clone(),
            table: index.table.clone(),
            unique: index.unique,
            key_columns: index.columns.clone().filter(|_| !index.partial),
            concurrently_at: index.concurrently_at,
            failure_order,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::testing::check;

    #[test]
    fn index_on_an_existing_table() {
        insta::assert_snapshot!(check(
            &RULE,
            r#"-- CreateIndex
CREATE INDEX "Post_title_idx" ON "Post"("title");
"#
        ));
    }

    #[test]
    fn unique_index_on_an_existing_table() {
        insta::assert_snapshot!(check(
            &RULE,
            r#"-- CreateIndex
CREATE UNIQUE INDEX "Post_title_key" ON "Post"("title");
"#
        ));
    }

    #[test]
    fn index_on_a_table_created_in_the_migration() {
        insta::assert_snapshot!(check(
            &RULE,
            r#"-- CreateTable
CREATE TABLE "Comment" (
    "id" SERIAL NOT NULL,
    "postId" INTEGER NOT NULL,

    CONSTRAINT "Comment_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "Comment_postId_idx" ON "Comment"("postId");
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

    /// Left alone (the column goes later in the migration), but still a hazard where it stays.
    #[test]
    fn index_whose_column_is_dropped_later_is_still_a_warning() {
        insta::assert_snapshot!(check(
            &RULE,
            "CREATE INDEX \"User_name_idx\" ON \"User\"(\"name\");\nALTER TABLE \"User\" DROP COLUMN \"name\";\n"
        ));
    }
}
