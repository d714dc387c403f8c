//! `concurrently-if-not-exists`: `CREATE INDEX CONCURRENTLY IF NOT EXISTS` hides failed builds.
//!
//! **What**: a concurrent index build with `IF NOT EXISTS`.
//!
//! **Why**: a concurrent build that fails (a duplicate key, a deadlock, a cancelled deploy) leaves an
//! INVALID index behind. On the retry, `IF NOT EXISTS` sees that index and succeeds without building
//! anything: the index stays INVALID, unused by queries, and still slows every write.
//!
//! **Safe alternative**: no IF NOT EXISTS; after a failed build, `DROP INDEX CONCURRENTLY` the INVALID
//! index (`migrate-safe status` lists them) and deploy again.

use super::{Action, Finding, Rule, Severity, StatementContext};
use crate::source::classify::Fact;

pub const RULE: Rule = Rule {
    id: "concurrently-if-not-exists",
    severity: Severity::Warning,
    summary: "CREATE INDEX CONCURRENTLY IF NOT EXISTS keeps an INVALID index from a failed build",
    fix: None,
};

pub fn check(context: &StatementContext) -> Option<Finding> {
    let Fact::CreateIndex(index) = &context.statement.fact else {
        return None;
    };
    (index.concurrently && index.if_not_exists).then(|| {
        context
            .finding(
                &RULE,
                "CREATE INDEX CONCURRENTLY IF NOT EXISTS succeeds without building anything when a failed build left an INVALID index of that name".to_string(),
                Action::LeaveAlone,
            )
            .with_help("remove IF NOT EXISTS; after a failed build, DROP INDEX CONCURRENTLY the INVALID index (migrate-safe status lists them) and deploy again")
    })
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::testing::check;

    #[test]
    fn concurrent_build_if_not_exists() {
        insta::assert_snapshot!(check(
            &RULE,
            r#"CREATE INDEX CONCURRENTLY IF NOT EXISTS "Post_title_idx" ON "Post"("title");
"#
        ));
    }

    #[test]
    fn concurrent_build_without_if_not_exists() {
        insta::assert_snapshot!(check(
            &RULE,
            r#"CREATE INDEX CONCURRENTLY "Post_title_idx" ON "Post"("title");
"#
        ));
    }

    #[test]
    fn plain_build_if_not_exists() {
        insta::assert_snapshot!(check(
            &RULE,
            r#"-- CreateTable
CREATE TABLE "Tag" (
    "id" SERIAL NOT NULL,
    "name" TEXT NOT NULL,

    CONSTRAINT "Tag_pkey" PRIMARY KEY ("id")
);

CREATE INDEX IF NOT EXISTS "Tag_name_idx" ON "Tag"("name");
"#
        ));
    }
}
