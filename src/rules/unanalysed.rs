//! `unanalysed`: statements the parser could not read, so nothing passes unseen.
//!
//! **What**: a statement PostgreSQL accepts but migrate-safe does not model: a form sqlparser does not
//! know, a `DO` block in another language than PL/pgSQL, or, inside a PL/pgSQL `DO` block, an
//! `EXECUTE` of a statement built at run time. (A PL/pgSQL `DO` block itself is read with PostgreSQL's
//! own PL/pgSQL grammar, and every statement in it is judged by the other rules, reported where it is
//! and left alone by `rewrite`; a body PostgreSQL cannot compile is `invalid-sql`.)
//!
//! **Why**: no rule can speak for it; it passes through `rewrite` untouched. Review its locks by hand,
//! or prove it with `migrate-safe check`, which runs it on a real server and reports its locks.

use super::{Action, Finding, Rule, Severity, StatementContext};
use crate::source::classify::Fact;

pub const RULE: Rule = Rule {
    id: "unanalysed",
    severity: Severity::Note,
    summary: "a statement PostgreSQL accepts but migrate-safe does not model (e.g. a dynamic EXECUTE in a DO block): review it, or run `check`",
    fix: None,
};

pub fn check(context: &StatementContext) -> Option<Finding> {
    let Fact::Unanalysed { reason } = &context.statement.fact else {
        return None;
    };
    // A DO block whose PL/pgSQL was read: its statements are judged one by one instead.
    if context.statement.procedure.is_some() {
        return None;
    }
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

    /// Its PL/pgSQL is read and each statement judged: no note for the block.
    #[test]
    fn a_do_block_whose_plpgsql_is_read() {
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

    /// A statement built at run time cannot be read before it runs: a note where it is.
    #[test]
    fn dynamic_execute_in_a_do_block() {
        insta::assert_snapshot!(check(
            &RULE,
            r#"DO $$
BEGIN
  EXECUTE format('UPDATE %I SET "name" = NULL', 'User');
END $$;
"#
        ));
    }
}
