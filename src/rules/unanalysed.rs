//! `unanalysed`: statements the parser could not read, so nothing passes unseen.
//!
//! **What**: a statement migrate-safe could not classify (a DO block, syntax sqlparser does not know).
//!
//! **Why**: no rule can speak for it; it passes through `rewrite` untouched. Review its locks by hand,
//! or prove it with `migrate-safe check`, which runs it on a real server and reports its locks.

use super::{Action, Finding, Rule, Severity, StatementContext};
use crate::source::classify::Fact;

pub const RULE: Rule = Rule {
    id: "unanalysed",
    severity: Severity::Note,
    summary: "a statement PostgreSQL accepts but migrate-safe does not model (e.g. a DO block): review it, or run `check`",
    fix: None,
};

pub fn check(context: &StatementContext) -> Option<Finding> {
    let Fact::Unanalysed { reason } = &context.statement.fact else {
        return None;
    };
    // A statement PostgreSQL rejects is that (`invalid-sql`), not merely one migrate-safe cannot read.
    if super::invalid_sql::check(context).is_some() {
        return None;
    }
    Some(
        context
            .finding(&RULE, format!("not analysed: {reason}"), Action::LeaveAlone)
            .with_help("review its locks by hand, or run `migrate-safe check` to see them on a real server"),
    )
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::testing::check;

    #[test]
    fn do_block() {
        insta::assert_snapshot!(check(
            &RULE,
            r#"DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'reader') THEN
    CREATE ROLE reader;
  END IF;
END
$$;
"#
        ));
    }

    #[test]
    fn statement_the_analyser_reads() {
        insta::assert_snapshot!(check(
            &RULE,
            r#"ALTER TABLE "User" ADD COLUMN "bio" TEXT;
"#
        ));
    }

    #[test]
    fn statement_postgresql_rejects() {
        insta::assert_snapshot!(check(
            &RULE,
            r#"CREAT INDEX "Post_title_idx" ON "Post"("title");
"#
        ));
    }
}
