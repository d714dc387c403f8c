//! `invalid-sql`: a statement PostgreSQL's grammar rejects.
//!
//! **What**: a statement PostgreSQL's own parser (PostgreSQL 18's grammar, vendored as libpg_query)
//! does not accept: a typo (`CREAT INDEX`), a statement cut short, a missing comma.
//!
//! **Why**: it can never be applied. Under Prisma 7.4+ the statements before it are committed first,
//! so the migration is left half-applied and failed (P3009); under Prisma <= 7.3 the whole file fails.
//!
//! **Fix**: none: correct the statement. `rewrite` and `deploy` refuse a file that holds one, naming
//! the line, column and PostgreSQL's message.

use super::{Action, Finding, Rule, Severity, StatementContext};
use crate::source::grammar;

pub const RULE: Rule = Rule {
    id: "invalid-sql",
    severity: Severity::Error,
    summary: "a statement PostgreSQL's grammar rejects: it can never be applied",
    fix: None,
};

pub fn check(context: &StatementContext) -> Option<Finding> {
    // Inside a DO block, the block's PL/pgSQL compile has judged the syntax (see below); a dynamic
    // EXECUTE's text is an expression, not a statement.
    if context.inside_do_block {
        return None;
    }
    let text = context.text.get(context.statement.bytes.clone())?;
    // A DO block's body is PL/pgSQL, compiled when the block runs: a body PostgreSQL cannot compile
    // fails the migration as surely as a statement it cannot parse.
    let (what, message, offset) = match grammar::gate().check(text) {
        Err(rejected) => (
            "this statement",
            rejected.message,
            context.statement.bytes.start + rejected.offset,
        ),
        Ok(()) => {
            let procedure = context.statement.procedure.as_ref()?;
            let (message, offset) = procedure.rejected.clone()?;
            ("this DO block's PL/pgSQL", message, offset)
        }
    };
    let (line, column) = crate::source::line_column(context.file.sql, offset);
    let mut finding = context
        .finding(
            &RULE,
            format!("PostgreSQL rejects {what}: {message} (line {line}, column {column})"),
            Action::LeaveAlone,
        )
        .with_help("correct the statement: it can never be applied as it is");
    finding.line = line;
    finding.column = column;
    Some(finding)
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::testing::check;

    #[test]
    fn misspelt_keyword() {
        insta::assert_snapshot!(check(
            &RULE,
            r#"-- AlterTable
ALTER TABLE "User" ADD COLUMN "bio" TEXT;

-- CreateIndex
CREAT INDEX "Post_title_idx" ON "Post"("title");
"#
        ));
    }

    #[test]
    fn missing_comma() {
        insta::assert_snapshot!(check(
            &RULE,
            r#"-- CreateTable
CREATE TABLE "Tag" (
    "id" SERIAL NOT NULL
    "name" TEXT NOT NULL,

    CONSTRAINT "Tag_pkey" PRIMARY KEY ("id")
);
"#
        ));
    }

    #[test]
    fn valid_statements() {
        insta::assert_snapshot!(check(
            &RULE,
            r#"-- AlterTable
ALTER TABLE "User" ADD COLUMN "bio" TEXT;
"#
        ));
    }
}
