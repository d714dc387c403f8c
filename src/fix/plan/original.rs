//! The edits on the migration's own file: what stays, in which order, with what changed in place —
//! a build made CONCURRENTLY where it is the only statement left, the statements moved to new folders
//! cut out, existing tables' statements moved after the creation of new objects, lock_timeout set.

use std::collections::{BTreeMap, BTreeSet};

use super::bodies::Planned;
use super::place::Placement;
use super::text::{
    UniqueViaIndexSql, concurrently_edit, cut_range, line_end, lock_timeout_edits, merge,
    moved_text,
};
use crate::fix::edit::{Edit, apply};
use crate::rules::backfill::Backfill;
use crate::rules::{Action, FileToReorder, Finding};

/// The edited file, and whether lock_timeout is set in it. Findings whose hazard no longer stays in
/// the file are dropped; the reordering finding says what moved.
pub(super) fn edit_original(
    file: &Planned,
    placement: &Placement,
    backfills: &[Backfill],
    findings: &mut Vec<Finding>,
    unique_via_index: &BTreeMap<usize, UniqueViaIndexSql>,
    statement_edits: &BTreeMap<usize, Vec<Edit>>,
    lock_timeout: Option<&(String, Vec<usize>, bool)>,
) -> (String, bool) {
    let Planned {
        text,
        split,
        statements,
        eol,
    } = *file;
    let mut edits: Vec<Edit> = Vec::new();
    if let Some(build) = placement.build_in_place {
        match unique_via_index.get(&build) {
            // The only statement left: the build replaces it in place.
            Some(sql) => edits.push(Edit::replace(
                split.pieces[statements[build].piece]
                    .statement
                    .clone()
                    .expect("statement piece"),
                sql.create.clone(),
            )),
            None => edits.extend(concurrently_edit(&statements[build].fact)),
        }
    }
    // A batched DELETE leaves the file (an UPDATE leaves its trigger in its place).
    let cut: BTreeSet<usize> = placement
        .builds
        .iter()
        .chain(placement.dependents.keys())
        .copied()
        .chain(
            backfills
                .iter()
                .filter(|b| b.shape.delete)
                .map(|b| b.statement),
        )
        .collect();
    // Statements on existing tables after the creation of new objects, in this file.
    let kept: Vec<usize> = (0..statements.len()).filter(|s| !cut.contains(s)).collect();
    let file = FileToReorder {
        text,
        split,
        statements,
        kept: &kept,
    };
    let reorder = findings
        .iter()
        .filter(|_| placement.build_in_place.is_none())
        .find_map(|f| f.action.reorder_file(&file))
        .filter(|r| !r.order.moved.is_empty())
        .map(|r| (r.order, r.message));
    match &reorder {
        None => findings.retain(|f| !matches!(f.action, Action::MoveExistingTablesLast { .. })),
        Some((r, message)) => {
            let first = *r.moved.keys().next().expect("something moves");
            for finding in findings.iter_mut() {
                if let Action::MoveExistingTablesLast { moved_lines, .. } = &mut finding.action {
                    *moved_lines = r.moved.keys().map(|&s| statements[s].line).collect();
                    finding.statement = first;
                    finding.line = statements[first].line;
                    finding.column = statements[first].column;
                    finding.message = message.clone();
                }
            }
        }
    }
    let moved: BTreeSet<usize> = reorder
        .as_ref()
        .map(|(r, _)| r.moved.keys().copied().collect())
        .unwrap_or_default();
    for (&statement, inserts) in statement_edits {
        if !placement.dependents.contains_key(&statement) && !moved.contains(&statement) {
            edits.extend(inserts.iter().cloned());
        }
    }
    let order: Vec<usize> = reorder
        .as_ref()
        .map_or_else(|| kept.clone(), |(r, _)| r.order.clone());
    if let Some((r, _)) = &reorder {
        for &s in &r.order {
            if let Some(&anchor) = r.moved.get(&s) {
                let own = statement_edits.get(&s).cloned().unwrap_or_default();
                let body = moved_text(text, split, statements, s, &own, eol);
                let body = body.strip_suffix(eol).unwrap_or(&body);
                edits.push(Edit::insert(
                    line_end(text, split, statements, anchor),
                    format!("{eol}{eol}{body}"),
                ));
            }
        }
    }
    // The lock-timeout hazard stays only if a statement locking an existing table stays here.
    let locks_remain = lock_timeout.is_some_and(|(_, locking, _)| {
        placement.build_in_place.is_none() && locking.iter().any(|s| !cut.contains(s))
    });
    if !locks_remain {
        findings.retain(|f| !matches!(f.action, Action::SetLockTimeout { .. }));
    }
    let lock_timeout_set = match lock_timeout {
        Some((value, _, true)) if locks_remain => {
            let last = order.last().map(|l| {
                reorder
                    .as_ref()
                    .and_then(|(r, _)| r.moved.get(l).copied())
                    .unwrap_or(*l)
            });
            edits.extend(lock_timeout_edits(
                text,
                split,
                statements,
                order.first().copied(),
                last,
                value,
                eol,
            ));
            true
        }
        _ => false,
    };
    let removed: BTreeSet<usize> = cut.union(&moved).copied().collect();
    edits.extend(
        merge(
            removed
                .iter()
                .map(|&s| cut_range(text, split, statements, s, &removed, eol))
                .collect(),
        )
        .into_iter()
        .map(Edit::delete),
    );
    (apply(text, &edits), lock_timeout_set)
}
