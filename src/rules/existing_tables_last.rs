//! `existing-tables-last`: take the locks on existing tables after the new objects are created.
//!
//! **What**: in a migration file Prisma runs as one transaction (every file under Prisma <= 7.3; a
//! file sqlparser 0.61 cannot parse whole under 7.4+), a statement that locks a table existing before
//! the migration (`ALTER TABLE .. ADD COLUMN`, a foreign key, even one from a new table to an existing
//! one) followed by statements that only create new objects (enums, tables, their indexes, foreign
//! keys among them).
//!
//! **Why**: a lock is held until the transaction commits. The first `ALTER TABLE "Post" ADD COLUMN`
//! takes ACCESS EXCLUSIVE on "Post", and every later statement of the file — creating tables, a GIN
//! index, enums — runs while every read and write of "Post" waits. Measured on the write-stall
//! benchmark (bench/stall/): the writers stalled for the whole rest of the file.
//!
//! **Fix** (safe: same statements, same transaction, same schema): the statements on existing tables
//! move, with their `-- StepName` headers, after the creation of the new objects, so their locks are
//! taken last and held for milliseconds before the commit. The order is otherwise kept: new-object
//! statements keep their order among themselves, and so do the statements on existing tables. A new
//! object's statement that needs one on an existing table (it names that table or something that
//! statement defines, or a string in it does) keeps it before itself. Nothing moves across an explicit
//! `BEGIN ... COMMIT` block, a `DO` block or any statement the analyser does not read, `SET` /
//! `RESET`, data changes (`INSERT`, `UPDATE`, `DELETE`), drops, renames, type changes, or a
//! `CREATE TABLE` that references, inherits or partitions another table. Where the Prisma version may
//! apply the file statement by statement (7.4+, or unknown), a statement that can still fail on
//! existing rows (a valid foreign key or check, `SET NOT NULL`, a UNIQUE build, a NOT NULL column
//! without default) is not moved either and nothing moves across it: there each statement commits on
//! its own, and moving new objects before a failing step would leave more behind when it fails.
//! So a failure on data leaves the same statements applied as the original's would (only their order
//! differs); a statement that fails otherwise (a lock_timeout) may leave more new objects behind there.
//! Where Prisma 7.4+ runs the file statement by statement the rule does not apply at all: no lock
//! outlives its statement there.
//!
//! The statements on existing tables are not put in a folder of their own: that would commit the new
//! objects before a step that can still fail (the failure order `rewrite` keeps) and lose Prisma
//! <= 7.3's all-or-nothing for the file, for no gain over the reorder (their locks are held for the
//! same milliseconds at the end of the file).

use std::collections::{BTreeMap, BTreeSet};

use super::context::FileContext;
use super::{Action, Applicability, Finding, Rule, Severity, StatementContext};
use crate::prisma::ApplyModel;
use crate::source::classify::{Fact, Statement, TableChange};
use crate::source::names::QualifiedName;
use crate::source::split::{SplitFile, TokenKind};

pub const RULE: Rule = Rule {
    id: "existing-tables-last",
    severity: Severity::Note,
    summary: "locks on existing tables taken before new objects are created are held while they are",
    fix: Some(Applicability::Safe),
};

/// What a statement is to the reorder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// Creates or changes only objects created earlier in this migration: nobody else waits for it.
    New,
    /// Locks tables that existed before the migration (listed), and may move later.
    Existing(Vec<QualifiedName>),
    /// Nothing moves across it.
    Barrier,
}

/// The statement's role. `own` are the findings of the other rules on this statement (a foreign key
/// the plan makes NOT VALID can no longer fail on existing rows).
pub fn role(context: &StatementContext, own: &[Finding]) -> Role {
    if context.in_transaction_block {
        return Role::Barrier;
    }
    // Where Prisma may apply the file statement by statement, a step that can fail on data stays put.
    let per_statement = context.file.models.contains(&ApplyModel::PerStatement);
    let fixed = |constraint: &str| {
        own.iter().any(|f| match &f.action {
            Action::SplitForeignKey { constraint: c, .. }
            | Action::SplitCheck { constraint: c, .. } => c == constraint,
            _ => false,
        })
    };
    match &context.statement.fact {
        Fact::CreateEnum { .. } => Role::New,
        Fact::CreateTable { table, .. } if context.model.created_by(table).is_none() => Role::New,
        Fact::CreateIndex(index) if !index.concurrently => {
            if context.is_new_table(&index.table) {
                Role::New
            } else if index.unique && per_statement {
                Role::Barrier
            } else {
                Role::Existing(vec![index.table.clone()])
            }
        }
        Fact::AlterTable { table, changes } => {
            let new = context.is_new_table(table);
            let mut locks = Vec::new();
            if !new {
                locks.push(table.clone());
            }
            // A new table has no rows, unless a statement the rule does not read filled it.
            let filled = context
                .file
                .first_filler()
                .is_some_and(|first| first < context.index);
            let mut can_fail = false;
            for change in changes {
                match &change.kind {
                    TableChange::AddColumn(column) => {
                        can_fail |= !new && column.not_null && column.default.is_none();
                    }
                    TableChange::AddForeignKey(fk) => {
                        if !context.is_new_table(&fk.referenced_table) {
                            locks.push(fk.referenced_table.clone());
                        }
                        let checked = !fk.not_valid && !fk.name.as_deref().is_some_and(fixed);
                        can_fail |= checked && (!new || filled);
                    }
                    TableChange::AddCheck {
                        name, not_valid, ..
                    } => {
                        can_fail |= !new && !not_valid && !name.as_deref().is_some_and(fixed);
                    }
                    TableChange::SetNotNull { column } => {
                        let via_check = own.iter().any(|f| {
                            matches!(&f.action, Action::NotNullViaCheck { column: c, .. } if c == column)
                        });
                        can_fail |= !new && !via_check;
                    }
                    TableChange::AddKey { .. } | TableChange::ValidateConstraint { .. } => {
                        can_fail |= !new;
                    }
                    TableChange::Other
                        if context.text.get(change.bytes.clone()).is_some_and(metadata_only) => {}
                    TableChange::Other
                    | TableChange::RenameTo { .. }
                    | TableChange::RenameColumn { .. }
                    | TableChange::DropColumn { .. }
                    | TableChange::DropConstraint { .. }
                    | TableChange::AlterColumnType { .. } => return Role::Barrier,
                }
            }
            if locks.is_empty() {
                Role::New
            } else if can_fail && per_statement {
                Role::Barrier
            } else {
                locks.dedup();
                Role::Existing(locks)
            }
        }
        _ => Role::Barrier,
    }
}

/// `ALTER COLUMN c SET DEFAULT ..` / `DROP DEFAULT` / `DROP NOT NULL`: catalog only, cannot fail on rows.
fn metadata_only(operation: &str) -> bool {
    let words: Vec<String> = operation
        .split_whitespace()
        .map(|w| w.to_ascii_uppercase())
        .collect();
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    if words.first() != Some(&"ALTER") {
        return false;
    }
    let rest = if words.get(1) == Some(&"COLUMN") {
        &words[3.min(words.len())..]
    } else {
        &words[2.min(words.len())..]
    };
    matches!(
        rest,
        ["SET", "DEFAULT", ..] | ["DROP", "DEFAULT"] | ["DROP", "NOT", "NULL"]
    )
}

/// The file-level finding, when some statement locking an existing table comes before a statement
/// creating new objects and the file runs as one transaction under a judged Prisma version. The plan
/// decides what actually moves (statements other fixes cut out no longer count) and drops the finding
/// when nothing does.
pub fn check(
    file: &FileContext,
    roles: Vec<Role>,
    model: &crate::model::SchemaModel,
    migration: &str,
) -> Option<Finding> {
    let first = roles.iter().position(|r| matches!(r, Role::Existing(_)))?;
    if !roles[first..].contains(&Role::New) {
        return None;
    }
    let one_transaction = file.models.contains(&ApplyModel::OneQuery)
        || file.run(ApplyModel::PerStatement).is_one_query();
    if !one_transaction {
        return None;
    }
    let statement = &file.statements[first];
    let mut tables: Vec<QualifiedName> = Vec::new();
    for role in &roles {
        if let Role::Existing(locked) = role {
            for table in locked {
                if !tables.contains(table) {
                    tables.push(table.clone());
                }
            }
        }
    }
    let lock_order = model
        .writer_lock_order(&tables, migration)
        .unwrap_or_default();
    Some(Finding {
        rule: RULE.id,
        severity: Some(RULE.severity),
        statement: first,
        line: statement.line,
        column: statement.column,
        message: String::new(), // written by the plan, which knows what moves
        help: None,
        action: Action::MoveExistingTablesLast {
            roles,
            lock_order,
            moved_lines: Vec::new(),
        },
    })
}

/// The new order of the statements left in the file (`kept`, in file order), and which of them move.
pub struct Reorder {
    /// Every kept statement, in the new order.
    pub order: Vec<usize>,
    /// The statements that move later, each with the statement it now follows directly.
    pub moved: BTreeMap<usize, usize>,
}

/// Order the kept statements: within each run without a barrier, new-object statements first (in their
/// order), each statement on an existing table as late as the new-object statements that need it allow.
/// The statements on existing tables that end up side by side take their locks in `lock_order` (the
/// order writers lock those tables), as far as their own dependencies allow: a migration holding one
/// table while it waits for another that a writer holds while waiting for the first is a deadlock.
pub fn reorder(
    text: &str,
    split: &SplitFile,
    statements: &[Statement],
    roles: &[Role],
    lock_order: &[QualifiedName],
    kept: &[usize],
) -> Reorder {
    let roles: Vec<Role> = kept
        .iter()
        .map(|&s| match &roles[s] {
            Role::New if !plain_new(text, split, &statements[s]) => Role::Barrier,
            role => role.clone(),
        })
        .collect();
    // Existing-table statements (positions in `kept`, in file order) in writers' lock order: each
    // waits for the earlier ones it shares a table with or needs; among those ready, the one whose
    // first table comes first in `lock_order`, then the earliest.
    let rank = |at: usize| match &roles[at] {
        Role::Existing(tables) => tables
            .first()
            .and_then(|t| lock_order.iter().position(|o| o == t))
            .unwrap_or(usize::MAX),
        _ => usize::MAX,
    };
    let in_lock_order = |group: Vec<usize>| -> Vec<usize> {
        if lock_order.is_empty() || group.len() < 2 {
            return group;
        }
        let after = |later: usize, earlier: usize| {
            let (Role::Existing(a), Role::Existing(b)) = (&roles[later], &roles[earlier]) else {
                return true;
            };
            a.iter().any(|t| b.contains(t))
                || needs(
                    text,
                    split,
                    statements,
                    kept[later],
                    kept[earlier],
                    &roles[earlier],
                )
        };
        let mut placed = vec![false; group.len()];
        let mut out = Vec::with_capacity(group.len());
        while out.len() < group.len() {
            let next = (0..group.len())
                .filter(|&i| !placed[i])
                .filter(|&i| (0..i).all(|j| placed[j] || !after(group[i], group[j])))
                .min_by_key(|&i| (rank(group[i]), i))
                .expect("the first unplaced statement is always ready");
            placed[next] = true;
            out.push(group[next]);
        }
        out
    };
    let mut order = Vec::with_capacity(kept.len());
    let mut segment: Vec<usize> = Vec::new(); // positions in `kept`
    let flush = |segment: &mut Vec<usize>, order: &mut Vec<usize>| {
        let mut pending: Vec<usize> = Vec::new(); // existing-table statements not yet placed
        for &at in segment.iter() {
            match &roles[at] {
                Role::Existing(_) => pending.push(at),
                _ => {
                    // Everything up to the last existing-table statement this one needs goes first.
                    let needs = pending.iter().rposition(|&e| {
                        needs(text, split, statements, kept[at], kept[e], &roles[e])
                    });
                    if let Some(last) = needs {
                        let group: Vec<usize> = pending.drain(..=last).collect();
                        order.extend(in_lock_order(group).into_iter().map(|e| kept[e]));
                    }
                    order.push(kept[at]);
                }
            }
        }
        order.extend(in_lock_order(pending).into_iter().map(|e| kept[e]));
        segment.clear();
    };
    for (at, role) in roles.iter().enumerate() {
        if *role == Role::Barrier {
            flush(&mut segment, &mut order);
            order.push(kept[at]);
        } else {
            segment.push(at);
        }
    }
    flush(&mut segment, &mut order);
    // A statement moved when one that came after it now comes before it.
    let mut moved = BTreeMap::new();
    let mut anchor_of: BTreeMap<usize, usize> = BTreeMap::new();
    for (p, &s) in order.iter().enumerate() {
        let passed = order[..p].iter().any(|&before| before > s);
        if passed {
            let previous = order[p - 1];
            let anchor = anchor_of.get(&previous).copied().unwrap_or(previous);
            anchor_of.insert(s, anchor);
            moved.insert(s, anchor);
        }
    }
    Reorder { order, moved }
}

/// A new-object statement the rule can move earlier: a `CREATE TABLE` that references, inherits,
/// copies or partitions another table is not one.
fn plain_new(text: &str, split: &SplitFile, statement: &Statement) -> bool {
    if !matches!(statement.fact, Fact::CreateTable { .. }) {
        return true;
    }
    !split
        .significant_tokens(text, &split.pieces[statement.piece])
        .any(|t| {
            [
                "REFERENCES",
                "INHERITS",
                "PARTITION",
                "LIKE",
                "AS",
                "SELECT",
            ]
            .iter()
            .any(|k| t.is_keyword(k))
        })
}

/// Whether new-object statement `new` needs existing-table statement `existing` before it: it names a
/// table `existing` locks or a constraint or index it defines (or something prefixed with a table's name
/// and `_`, like a sequence of a column it adds), or a string in it mentions one of those.
fn needs(
    text: &str,
    split: &SplitFile,
    statements: &[Statement],
    new: usize,
    existing: usize,
    role: &Role,
) -> bool {
    let mut names: BTreeSet<String> = BTreeSet::new();
    if let Role::Existing(tables) = role {
        names.extend(tables.iter().map(|t| t.name.to_lowercase()));
    }
    match &statements[existing].fact {
        Fact::AlterTable { table, changes } => {
            // A new table it only adds foreign keys or checks to gains nothing another statement uses.
            let gives = changes.iter().any(|c| {
                !matches!(
                    c.kind,
                    TableChange::AddForeignKey(_) | TableChange::AddCheck { .. }
                )
            });
            if gives {
                names.insert(table.name.to_lowercase());
            }
            for change in changes {
                match &change.kind {
                    TableChange::AddForeignKey(fk) => {
                        names.extend(fk.name.iter().map(|n| n.to_lowercase()));
                    }
                    TableChange::AddCheck { name, .. } | TableChange::AddKey { name, .. } => {
                        names.extend(name.iter().map(|n| n.to_lowercase()));
                    }
                    _ => {}
                }
            }
        }
        Fact::CreateIndex(index) => {
            names.insert(index.table.name.to_lowercase());
            names.extend(index.name.iter().map(|n| n.name.to_lowercase()));
        }
        _ => return true,
    }
    let piece = &split.pieces[statements[new].piece];
    split.significant_tokens(text, piece).any(|t| {
        if t.tok.kind == TokenKind::String {
            let s = t.text.to_lowercase();
            return names.iter().any(|n| s.contains(n.as_str()));
        }
        t.ident().is_some_and(|ident| {
            let ident = ident.to_lowercase();
            names
                .iter()
                .any(|n| ident == *n || ident.starts_with(&format!("{n}_")))
        })
    })
}

/// The finding's message once the plan knows what moves.
pub fn message(
    statements: &[Statement],
    roles: &[Role],
    lock_order: &[QualifiedName],
    reorder: &Reorder,
) -> String {
    let mut tables: Vec<String> = Vec::new();
    for &s in reorder.moved.keys() {
        if let Role::Existing(locked) = &roles[s] {
            for t in locked {
                let t = t.to_string();
                if !tables.contains(&t) {
                    tables.push(t);
                }
            }
        }
    }
    let last_new = reorder
        .moved
        .values()
        .map(|&anchor| statements[anchor].line)
        .max()
        .unwrap_or(0);
    let n = reorder.moved.len();
    let names: Vec<String> = lock_order
        .iter()
        .map(|t| t.to_string())
        .filter(|t| tables.contains(t))
        .collect();
    let order = if names.len() > 1 {
        format!(
            "; moved, they take their locks in the order writers' foreign-key checks do ({}), which keeps them from deadlocking with a writer",
            names.join(", ")
        )
    } else {
        String::new()
    };
    format!(
        "{n} statement{} lock{} existing table{} {} before new objects are created (up to line {last_new}): in Prisma's one transaction per file those locks are held, and reads and writes of {} wait, until the whole file commits",
        if n == 1 { "" } else { "s" },
        if n == 1 { "s" } else { "" },
        if tables.len() == 1 { "" } else { "s" },
        tables.join(", "),
        if tables.len() == 1 { "it" } else { "them" },
    ) + &order
}

#[cfg(test)]
mod tests {
    use super::metadata_only;

    #[test]
    fn metadata_only_operations() {
        assert!(metadata_only("ALTER COLUMN \"a\" SET DEFAULT 'x'"));
        assert!(metadata_only("ALTER \"a\" DROP DEFAULT"));
        assert!(metadata_only("alter column a drop not null"));
        assert!(!metadata_only("ALTER COLUMN \"a\" SET STATISTICS 100"));
        assert!(!metadata_only("RENAME CONSTRAINT a TO b"));
    }
}

#[cfg(test)]
mod snapshot_tests {
    use super::{RULE, Role};
    use crate::rules::Action;
    use crate::rules::testing::{HISTORY, check, findings};
    use crate::source::names::QualifiedName;

    /// The rule's finding (its message is written by the plan), each statement's role, and the
    /// order writers lock the existing tables in.
    fn check_with_roles(sql: &str) -> String {
        let mut out = check(&RULE, sql);
        let name = |t: &QualifiedName| t.to_string();
        for finding in findings(HISTORY, sql) {
            let Action::MoveExistingTablesLast {
                roles, lock_order, ..
            } = finding.action
            else {
                continue;
            };
            for (statement, role) in roles.iter().enumerate() {
                let role = match role {
                    Role::New => "new".to_string(),
                    Role::Barrier => "barrier".to_string(),
                    Role::Existing(tables) => {
                        let tables: Vec<String> = tables.iter().map(name).collect();
                        format!("existing {}", tables.join(", "))
                    }
                };
                out.push_str(&format!("statement {}: {role}\n", statement + 1));
            }
            let order: Vec<String> = lock_order.iter().map(name).collect();
            out.push_str(&format!("writers' lock order: {}\n", order.join(", ")));
        }
        out
    }

    #[test]
    fn alter_of_an_existing_table_before_new_tables() {
        insta::assert_snapshot!(check_with_roles(
            r#"-- AlterTable
ALTER TABLE "Post" ADD COLUMN "tagId" INTEGER;

-- CreateTable
CREATE TABLE "Tag" (
    "id" SERIAL NOT NULL,
    "name" TEXT NOT NULL,

    CONSTRAINT "Tag_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "Tag_name_key" ON "Tag"("name");
"#
        ));
    }

    #[test]
    fn new_tables_first() {
        insta::assert_snapshot!(check_with_roles(
            r#"-- CreateTable
CREATE TABLE "Tag" (
    "id" SERIAL NOT NULL,
    "name" TEXT NOT NULL,

    CONSTRAINT "Tag_pkey" PRIMARY KEY ("id")
);

-- AlterTable
ALTER TABLE "Post" ADD COLUMN "tagId" INTEGER;
"#
        ));
    }

    #[test]
    fn step_that_can_fail_on_rows_before_new_tables() {
        insta::assert_snapshot!(check_with_roles(
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
        insta::assert_snapshot!(check_with_roles(
            r#"BEGIN;
ALTER TABLE "Post" ADD COLUMN "tagId" INTEGER;
CREATE TABLE "Tag" ("id" SERIAL NOT NULL, CONSTRAINT "Tag_pkey" PRIMARY KEY ("id"));
COMMIT;
"#
        ));
    }
}
