//! `non-atomic-file`: under Prisma 7.4+, a file that can fail after it has changed something.
//!
//! **What**: a migration that Prisma 7.4+ runs statement by statement (sqlparser 0.61 parses all of it)
//! where a statement that can fail on existing data — a UNIQUE index or key build (duplicates), SET NOT
//! NULL or a NOT NULL column without a default (NULLs, rows), a foreign key or check added without
//! NOT VALID or a VALIDATE (violating rows), a column type change (a cast) — comes after statements
//! that changed the schema.
//!
//! **Why**: each statement commits on its own. When the late one fails, the earlier ones stay applied,
//! the migration is left failed in `_prisma_migrations` (P3009), and after `prisma migrate resolve
//! --rolled-back` the retry fails on what they already made (`relation ... already exists`): someone
//! has to undo them by hand. Prisma <= 7.3 rolled the whole file back.
//!
//! **Safe alternative** (no automatic fix): put the steps that can fail on data in a migration of
//! their own, where a failure leaves nothing behind, or check the data first. Or wrap the file in
//! `BEGIN; ... COMMIT;`: atomic again, but when a statement inside fails, Prisma's own bookkeeping
//! runs in the aborted transaction (25P02) and the real error is not recorded in `logs`.

use super::context::FileContext;
use super::{Action, Finding, Rule, Severity, StatementContext};
use crate::prisma::{ApplyModel, FileRun};
use crate::source::classify::{Fact, TableChange};

pub const RULE: Rule = Rule {
    id: "non-atomic-file",
    severity: Severity::Warning,
    summary: "under Prisma 7.4+ a step that can fail on data runs after changes that stay applied",
    fix: None,
};

/// What one statement means for the file's atomicity.
#[derive(Debug, Clone, Default)]
pub struct Step {
    /// It changes the schema in a way a retry would trip over.
    pub changes: bool,
    /// Why it can fail on the data already in an existing table.
    pub can_fail: Option<&'static str>,
}

/// A UNIQUE build's fix that the planner may still turn down for failure order: judged as staying,
/// the cautious answer (it stays exactly when the migration keeps something destructive).
fn failure_order_bound(action: &Action) -> bool {
    matches!(
        action,
        Action::BuildIndexConcurrently { failure_order, .. }
            | Action::UniqueViaIndex { failure_order, .. } if !failure_order.is_empty()
    )
}

/// `findings` are the other rules' findings on this statement: a step whose fix takes its scan out of
/// the file (NOT VALID, a concurrent build in its own folder, a validated check) no longer fails here.
pub fn step(context: &StatementContext, findings: &[Finding]) -> Step {
    let fact = &context.statement.fact;
    let fixed = |kind: &TableChange| {
        findings.iter().any(|f| match (&f.action, kind) {
            (Action::SplitForeignKey { .. }, TableChange::AddForeignKey(_))
            | (Action::SplitCheck { .. }, TableChange::AddCheck { .. })
            | (Action::NotNullViaCheck { .. }, TableChange::SetNotNull { .. })
            | (Action::UniqueViaIndex { .. }, TableChange::AddKey { .. }) => {
                context.options.allows(rule_of(f)) && !failure_order_bound(&f.action)
            }
            _ => false,
        })
    };
    let index_moved = findings.iter().any(|f| {
        matches!(f.action, Action::BuildIndexConcurrently { .. })
            && context.options.allows(rule_of(f))
            && !failure_order_bound(&f.action)
    });
    // A statement a fix moves into a folder of its own is no longer here to stay applied.
    let moved = findings.iter().any(|f| {
        matches!(
            f.action,
            Action::BuildIndexConcurrently { .. }
                | Action::DropIndexConcurrently { .. }
                | Action::MoveAlone { .. }
        ) && context.options.allows(rule_of(f))
            && !failure_order_bound(&f.action)
    });
    let changes = !moved
        && match fact {
            // Data changes are left out: a retry repeats a backfill harmlessly as a rule.
            Fact::Begin
            | Fact::Commit
            | Fact::SetLockTimeout { .. }
            | Fact::Other
            | Fact::DataChange { .. } => false,
            Fact::AlterTable { changes, .. } => !changes
                .iter()
                .all(|c| matches!(c.kind, TableChange::ValidateConstraint { .. })),
            _ => true,
        };
    let can_fail = match fact {
        Fact::CreateIndex(index)
            if index.unique && context.is_existing_table(&index.table) && !index_moved =>
        {
            Some("a UNIQUE index build fails on duplicate rows")
        }
        Fact::AlterTable { table, changes } if context.is_existing_table(table) => changes
            .iter()
            .filter(|c| !fixed(&c.kind))
            .find_map(|change| match &change.kind {
                TableChange::AddKey {
                    using_index: None, ..
                } => Some("a UNIQUE or PRIMARY KEY build fails on duplicates or NULLs"),
                TableChange::AddKey { primary: true, .. } => {
                    Some("a PRIMARY KEY fails on NULLs in its columns")
                }
                TableChange::SetNotNull { .. } => Some("SET NOT NULL fails on NULLs"),
                TableChange::AddColumn(column) if column.not_null && column.default.is_none() => {
                    Some("a NOT NULL column without a default fails on a table with rows")
                }
                TableChange::AddForeignKey(fk) if !fk.not_valid => {
                    Some("a foreign key fails on orphan rows")
                }
                TableChange::AddCheck {
                    not_valid: false, ..
                } => Some("a CHECK fails on rows that violate it"),
                TableChange::ValidateConstraint { .. } => {
                    Some("VALIDATE fails on rows that violate the constraint")
                }
                TableChange::AlterColumnType { .. } => {
                    Some("a type change fails on values that do not cast")
                }
                _ => None,
            }),
        _ => None,
    };
    Step { changes, can_fail }
}

fn rule_of(finding: &Finding) -> &'static Rule {
    super::rule(finding.rule).expect("a finding's rule is registered")
}

pub fn check(file: &FileContext, steps: &[Step]) -> Option<Finding> {
    if !file.models.contains(&ApplyModel::PerStatement) {
        return None;
    }
    // Changes committed so far; inside an explicit block they commit with its COMMIT.
    let mut committed: Vec<usize> = Vec::new();
    let mut in_block: Vec<usize> = Vec::new();
    let mut block = false;
    let mut failing: Vec<(usize, &'static str)> = Vec::new();
    // What stays applied when the first statement that can fail does.
    let mut left: Vec<usize> = Vec::new();
    for (index, (statement, step)) in file.statements.iter().zip(steps).enumerate() {
        match statement.fact {
            Fact::Begin => block = true,
            Fact::Commit => {
                block = false;
                committed.append(&mut in_block);
            }
            _ => {}
        }
        if let Some(why) = step.can_fail
            && !committed.is_empty()
        {
            if failing.is_empty() {
                left = committed.clone();
            }
            failing.push((index, why));
        }
        if step.changes {
            if block {
                in_block.push(statement.line);
            } else {
                committed.push(statement.line);
            }
        }
    }
    let &(first, why) = failing.first()?;
    // Only now, with a step that could leave changes behind, ask whether Prisma 7.4+ splits the file
    // (parsing it with sqlparser 0.61 costs more than everything above).
    if !matches!(file.run(ApplyModel::PerStatement), FileRun::Statements(_)) {
        return None;
    }
    let statement = &file.statements[first];
    let left: Vec<String> = left.iter().map(usize::to_string).collect();
    let also: Vec<String> = failing[1..]
        .iter()
        .map(|(i, _)| file.statements[*i].line.to_string())
        .collect();
    let also = if also.is_empty() {
        String::new()
    } else {
        let lines = if also.len() == 1 { "line" } else { "lines" };
        format!(" ({lines} {} can fail on data too)", also.join(", "))
    };
    let under = if file.models.len() > 1 {
        "if Prisma 7.4+ applies it"
    } else {
        "Prisma 7.4+ applies it"
    };
    Some(Finding {
        rule: RULE.id,
        severity: Some(RULE.severity),
        statement: first,
        line: statement.line,
        column: statement.column,
        message: format!(
            "{under} statement by statement, each committed on its own: {why}, and if it does, {} {} {} applied, the migration is left failed (P3009), and a retry after `prisma migrate resolve --rolled-back` fails on what {} made{also}",
            if left.len() == 1 { "the statement at line" } else { "the statements at lines" },
            left.join(", "),
            if left.len() == 1 { "stays" } else { "stay" },
            if left.len() == 1 { "it" } else { "they" }
        ),
        help: Some(
            "move the steps that can fail on data into a migration of their own (where a failure leaves nothing behind), or check the data first; wrapping the file in BEGIN; ... COMMIT; makes it atomic, but then Prisma records a failure inside it without its error (logs stay NULL, 25P02)".to_string(),
        ),
        action: Action::LeaveAlone,
    })
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::testing::check;

    #[test]
    fn step_that_can_fail_after_a_change() {
        insta::assert_snapshot!(check(
            &RULE,
            r#"-- CreateTable
CREATE TABLE "Tag" (
    "id" SERIAL NOT NULL,
    "name" TEXT NOT NULL,

    CONSTRAINT "Tag_pkey" PRIMARY KEY ("id")
);

-- AlterTable
ALTER TABLE "Post" ADD COLUMN "slug" TEXT NOT NULL;
"#
        ));
    }

    #[test]
    fn step_that_can_fail_first() {
        insta::assert_snapshot!(check(
            &RULE,
            r#"-- AlterTable
ALTER TABLE "Post" ADD COLUMN "slug" TEXT NOT NULL;

-- CreateTable
CREATE TABLE "Tag" (
    "id" SERIAL NOT NULL,
    "name" TEXT NOT NULL,

    CONSTRAINT "Tag_pkey" PRIMARY KEY ("id")
);
"#
        ));
    }

    #[test]
    fn inside_a_transaction_block() {
        insta::assert_snapshot!(check(
            &RULE,
            r#"BEGIN;

-- CreateTable
CREATE TABLE "Tag" (
    "id" SERIAL NOT NULL,
    "name" TEXT NOT NULL,

    CONSTRAINT "Tag_pkey" PRIMARY KEY ("id")
);

-- AlterTable
ALTER TABLE "Post" ADD COLUMN "slug" TEXT NOT NULL;

COMMIT;
"#
        ));
    }
}
