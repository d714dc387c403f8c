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
    summary: "a statement the parser could not read: review it by hand or with `check`",
    fix: None,
};

pub fn check(context: &StatementContext) -> Option<Finding> {
    let Fact::Unanalysed { reason } = &context.statement.fact else {
        return None;
    };
    Some(
        context
            .finding(&RULE, format!("not analysed: {reason}"), Action::LeaveAlone)
            .with_help("review its locks by hand, or run `migrate-safe check` to see them on a real server"),
    )
}
