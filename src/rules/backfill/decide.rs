//! Which data changes of a file run in batches, and why the others do not.

use super::{Backfill, BatchKey};
use crate::model::SchemaModel;
use crate::source::classify::backfill::{BackfillShape, read_backfill};
use crate::source::classify::{DataChangeKind, Fact, Statement, TableChange};
use crate::source::names::{QualifiedName, quote};

/// Each data change of the file on a table that existed before it: batched, or why not.
pub fn decide(
    sql: &str,
    statements: &[Statement],
    model: &SchemaModel,
) -> Vec<(usize, Result<Backfill, String>)> {
    if !statements
        .iter()
        .any(|s| matches!(s.fact, Fact::DataChange { .. }))
    {
        return Vec::new();
    }
    // Which data changes are candidates (and which sit in a BEGIN block), in file order.
    let mut candidates = Vec::new();
    let mut new_tables: Vec<&QualifiedName> = Vec::new();
    let mut in_block = false;
    for (index, statement) in statements.iter().enumerate() {
        match &statement.fact {
            Fact::CreateTable { table, .. } => new_tables.push(table),
            Fact::Begin => in_block = true,
            Fact::Commit => in_block = false,
            Fact::DataChange { table, change } if !new_tables.contains(&table) => {
                candidates.push((index, *change, table, in_block));
            }
            _ => {}
        }
    }
    // Decided from the end: a later backfill that is batched too keeps its order after this one.
    let mut decided: Vec<(usize, Result<Backfill, String>)> = Vec::new();
    for &(index, change, table, in_block) in candidates.iter().rev() {
        let decision = if in_block {
            Err("it sits inside an explicit BEGIN ... COMMIT block".to_string())
        } else {
            one(sql, statements, index, change, table, model, &decided)
        };
        decided.push((index, decision));
    }
    decided.reverse();
    decided
}

fn one(
    sql: &str,
    statements: &[Statement],
    index: usize,
    change: DataChangeKind,
    table: &QualifiedName,
    model: &SchemaModel,
    later_decided: &[(usize, Result<Backfill, String>)],
) -> Result<Backfill, String> {
    let statement = &statements[index];
    if change == DataChangeKind::InsertSelect {
        return Err("an INSERT .. SELECT adds rows; migrate-safe batches UPDATE and DELETE".into());
    }
    let shape = read_backfill(&sql[statement.bytes.clone()])?;
    let key = match model.single_column_key(table) {
        Some(column) => BatchKey::Column(column.to_string()),
        None if shape.delete => {
            return Err(format!(
                "no one-column primary key of {table} is known, and a DELETE walked by pages could miss a row the application moves to a page already done"
            ));
        }
        None => BatchKey::Ctid,
    };
    let batched_later = |at: usize| {
        later_decided
            .iter()
            .find(|(i, _)| *i == at)
            .and_then(|(_, d)| d.as_ref().ok())
    };
    if let Some(why) = later_conflict(sql, statements, index, &shape, batched_later) {
        return Err(why);
    }
    Ok(Backfill {
        statement: index,
        line: statement.line,
        trigger: !shape.delete,
        replaces_statement: true,
        shape,
        key,
    })
}

/// A later statement of the file whose result depends on running before or after the backfill: the
/// batches run after the migration (and its index builds), so it would run first.
fn later_conflict<'b>(
    sql: &str,
    statements: &[Statement],
    index: usize,
    shape: &BackfillShape,
    batched_later: impl Fn(usize) -> Option<&'b Backfill>,
) -> Option<String> {
    let table = &shape.table;
    for (at, statement) in statements.iter().enumerate().skip(index + 1) {
        // A later backfill batched too runs after this one, in order; of the same table, only when
        // neither reads or sets what the other sets (their triggers both act on rows written meanwhile).
        if let Some(later) = batched_later(at)
            && (later.shape.table != *table || independent(shape, &later.shape))
        {
            continue;
        }
        let tables: Vec<&QualifiedName> = match &statement.fact {
            Fact::AlterTable { table: t, changes } if t == table => {
                // What gives the same result before or after the batches (a NOT NULL check is the
                // NOT VALID check of its fix, validated after them: checked by the planner).
                let harmless = changes.iter().all(|c| {
                    matches!(
                        c.kind,
                        TableChange::SetNotNull { .. }
                            | TableChange::AddCheck {
                                not_valid: true,
                                ..
                            }
                            | TableChange::AddForeignKey(_)
                            | TableChange::AddColumn(_)
                    )
                });
                if harmless {
                    continue;
                }
                vec![t]
            }
            // A UNIQUE index on the table is built after the batches when its build moves to a folder
            // of its own (checked by the planner).
            Fact::CreateIndex(_) | Fact::CreateTable { .. } | Fact::CreateEnum { .. } => continue,
            Fact::SetLockTimeout { .. } | Fact::RenameIndex { .. } => continue,
            // Another table's new constraint, column or key changes none of the rows the backfill
            // reads.
            Fact::AlterTable { changes, .. }
                if changes.iter().all(|c| {
                    matches!(
                        c.kind,
                        TableChange::AddForeignKey(_)
                            | TableChange::AddCheck { .. }
                            | TableChange::AddColumn(_)
                            | TableChange::SetNotNull { .. }
                            | TableChange::AddKey { .. }
                            | TableChange::ValidateConstraint { .. }
                    )
                }) =>
            {
                continue;
            }
            Fact::AlterTable { table, .. } => vec![table],
            Fact::DropTables { tables } | Fact::Truncate { tables } => tables.iter().collect(),
            Fact::DataChange { table, .. } => vec![table],
            _ => Vec::new(),
        };
        let names_it: bool = if tables.is_empty() {
            // Not modelled: any name the backfill uses, anywhere in it.
            let text = sql[statement.bytes.clone()].to_lowercase();
            shape
                .names
                .iter()
                .any(|n| contains_word(&text, &n.to_lowercase()))
        } else {
            tables.iter().any(|t| shape.names.contains(&t.name))
                || contains_word(&sql[statement.bytes.clone()], &table.name)
        };
        if names_it {
            return Some(format!(
                "line {} uses {} (or a table the backfill reads) later in this migration; batched, the backfill would run after that statement instead of before it",
                statement.line,
                quote(&table.name)
            ));
        }
    }
    None
}

/// Two UPDATEs of one table that neither read nor set a column the other sets.
fn independent(first: &BackfillShape, second: &BackfillShape) -> bool {
    if first.delete || second.delete {
        return false;
    }
    let sets = |shape: &BackfillShape| -> Vec<String> {
        shape.assignments.iter().map(|a| a.column.clone()).collect()
    };
    !sets(first).iter().any(|c| second.names.contains(c))
        && !sets(second).iter().any(|c| first.names.contains(c))
}

/// `word` in `text` with no identifier character on either side.
fn contains_word(text: &str, word: &str) -> bool {
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    text.match_indices(word).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
    })
}
