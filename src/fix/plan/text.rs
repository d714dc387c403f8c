//! The text of a plan: statements cut from the original with their headers, the SQL written for new
//! folders, and the small insertions (` CONCURRENTLY`, `SET lock_timeout` ... `RESET lock_timeout`).

use super::folders::slug;
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use crate::fix::edit::{Edit, apply_within};
use crate::rules::{Action, Finding};
use crate::source::classify::{Fact, Statement};
use crate::source::names::{QualifiedName, quote};
use crate::source::split::SplitFile;

/// `UniqueViaIndex`: (the concurrent build, the statement attaching it).
/// What `UniqueViaIndex` writes: the concurrent build, the statement attaching it, and the build
/// folder's slug.
pub(super) struct UniqueViaIndexSql {
    pub(super) create: String,
    pub(super) attach: String,
    pub(super) slug: String,
}

pub(super) fn unique_via_index_sql(action: &Action) -> Option<UniqueViaIndexSql> {
    let Action::UniqueViaIndex {
        table,
        constraint,
        primary,
        columns,
        ..
    } = action
    else {
        return None;
    };
    let index = quote(constraint);
    let columns: Vec<String> = columns.iter().map(|c| quote(c)).collect();
    let kind = if *primary { "PRIMARY KEY" } else { "UNIQUE" };
    Some(UniqueViaIndexSql {
        create: format!(
            "CREATE UNIQUE INDEX CONCURRENTLY {index} ON {table}({});",
            columns.join(", ")
        ),
        attach: format!("ALTER TABLE {table} ADD CONSTRAINT {index} {kind} USING INDEX {index};"),
        slug: format!("create_index_{}", slug(constraint)),
    })
}

/// ` CONCURRENTLY` for an index build or drop that lacks it; nothing for statements that have it.
pub(super) fn concurrently_edit(fact: &Fact) -> Vec<Edit> {
    match fact {
        Fact::CreateIndex(index) if !index.concurrently => {
            vec![Edit::insert(index.concurrently_at, " CONCURRENTLY")]
        }
        Fact::DropIndexes {
            concurrently: false,
            concurrently_at,
            ..
        } => vec![Edit::insert(*concurrently_at, " CONCURRENTLY")],
        _ => Vec::new(),
    }
}

/// `SET lock_timeout` before `first` (the first statement left in the original) and `RESET
/// lock_timeout` at the end of `last`'s line (the last one, or the statement the moved last ones
/// follow): it holds under both of Prisma's apply models and ends with the file (see the rule).
pub(super) fn lock_timeout_edits(
    text: &str,
    split: &SplitFile,
    statements: &[Statement],
    first: Option<usize>,
    last: Option<usize>,
    value: &str,
    eol: &str,
) -> Vec<Edit> {
    let set = format!("SET lock_timeout = '{}';", value.replace('\'', "''"));
    let mut edits = Vec::new();
    if let (Some(first), Some(last)) = (first, last) {
        let piece = &split.pieces[statements[first].piece];
        let at = piece.block_start().expect("statement piece");
        edits.push(Edit::insert(
            at,
            format!("-- migrate-safe: lock-timeout{eol}{set}{eol}{eol}"),
        ));
        edits.push(Edit::insert(
            line_end(text, split, statements, last),
            format!("{eol}{eol}-- migrate-safe: lock-timeout ends with the migration{eol}RESET lock_timeout;"),
        ));
    }
    edits
}

/// The end of a statement's last line (after a comment on it), before its line break.
pub(super) fn line_end(
    text: &str,
    split: &SplitFile,
    statements: &[Statement],
    statement: usize,
) -> usize {
    let end = split.pieces[statements[statement].piece]
        .statement
        .as_ref()
        .expect("statement piece")
        .end;
    text[end..].find('\n').map_or(text.len(), |i| {
        let i = end + i;
        if text[..i].ends_with('\r') { i - 1 } else { i }
    })
}

/// The text a cut statement takes along: its header, the statement with its edits, its trailing comment.
pub(super) fn moved_text(
    text: &str,
    split: &SplitFile,
    statements: &[Statement],
    statement: usize,
    edits: &[Edit],
    eol: &str,
) -> String {
    let piece = &split.pieces[statements[statement].piece];
    let range = piece.statement.clone().expect("statement piece");
    let mut out = String::new();
    if let Some(header) = &piece.header {
        out.push_str(&text[header.clone()]);
    }
    out.push_str(&apply_within(text, range.start..piece.bytes.end, edits));
    if !out.ends_with('\n') {
        out.push_str(eol);
    }
    out
}

/// The bytes to delete for a cut statement: its header (unless the next statement still needs it), the
/// statement, its trailing comment and newline, and one blank line so no gap is left behind.
pub(super) fn cut_range(
    text: &str,
    split: &SplitFile,
    statements: &[Statement],
    statement: usize,
    cut: &BTreeSet<usize>,
    eol: &str,
) -> Range<usize> {
    let piece_index = statements[statement].piece;
    let piece = &split.pieces[piece_index];
    let statement_range = piece.statement.clone().expect("statement piece");
    let header_shared = piece.header.is_some()
        && statements
            .get(statement + 1)
            .filter(|next| !cut.contains(&(statement + 1)) && next.piece == piece_index + 1)
            .is_some_and(|next| {
                let next_piece = &split.pieces[next.piece];
                let gap = &text[next_piece.bytes.start
                    ..next_piece
                        .statement
                        .as_ref()
                        .map_or(next_piece.bytes.end, |s| s.start)];
                next_piece.header.is_none()
                    && !gap.contains(&format!("{eol}{eol}"))
                    && !gap.starts_with(eol)
            });
    let mut start = if header_shared {
        statement_range.start
    } else {
        piece.block_start().unwrap_or(statement_range.start)
    };
    let mut end = piece.bytes.end;
    let blank = format!("{eol}{eol}");
    if text[..start].ends_with(&blank) {
        start -= eol.len();
    } else if text[..start].trim().is_empty() && text[end..].starts_with(eol) {
        end += eol.len();
    }
    start..end
}

pub(super) fn merge(mut ranges: Vec<Range<usize>>) -> Vec<Range<usize>> {
    ranges.sort_by_key(|r| r.start);
    let mut merged: Vec<Range<usize>> = Vec::new();
    for range in ranges {
        match merged.last_mut() {
            Some(last) if range.start <= last.end => last.end = last.end.max(range.end),
            _ => merged.push(range),
        }
    }
    merged
}

/// The start of a statement's first line, for messages.
pub(super) fn excerpt(text: &str, split: &SplitFile, statement: &Statement) -> String {
    let range = split.pieces[statement.piece]
        .statement
        .clone()
        .expect("statement piece");
    let first_line = text[range].lines().next().unwrap_or_default().trim();
    match first_line.char_indices().nth(80) {
        Some((cut, _)) => format!("{} ...", &first_line[..cut]),
        None => first_line.to_string(),
    }
}

/// What the constraint fixes add: edits that go wherever their statement goes (the original, or a
/// folder it moves to), the statements of the validation and SET NOT NULL folders, and lock_timeout.
pub(super) struct ConstraintEdits {
    pub(super) statement_edits: BTreeMap<usize, Vec<Edit>>,
    pub(super) validations: Vec<String>,
    /// Only foreign keys are validated (the folder is named for them).
    pub(super) validates_foreign_keys_only: bool,
    pub(super) set_not_null: Vec<String>,
    /// (value, statements that lock existing tables, applied).
    pub(super) lock_timeout: Option<(String, Vec<usize>, bool)>,
}

/// `ADD CONSTRAINT c CHECK (col IS NOT NULL) NOT VALID`: NOT NULL without a scan, for now.
fn not_null_check(column: &str, constraint: &str) -> String {
    format!(
        "ADD CONSTRAINT {} CHECK ({} IS NOT NULL) NOT VALID",
        quote(constraint),
        quote(column)
    )
}

/// The later steps of a NOT NULL through a check: its VALIDATE, then SET NOT NULL (which trusts the
/// validated check) and the check dropped.
fn not_null_steps(
    table: &QualifiedName,
    column: &str,
    constraint: &str,
    eol: &str,
) -> (String, String) {
    (
        format!(
            "ALTER TABLE {table} VALIDATE CONSTRAINT {};",
            quote(constraint)
        ),
        format!(
            "ALTER TABLE {table} ALTER COLUMN {} SET NOT NULL;{eol}ALTER TABLE {table} DROP CONSTRAINT {};",
            quote(column),
            quote(constraint)
        ),
    )
}

pub(super) fn constraint_edits(findings: &[Finding], eol: &str) -> ConstraintEdits {
    let mut statement_edits: BTreeMap<usize, Vec<Edit>> = BTreeMap::new();
    let mut validations = Vec::new();
    let mut validates_foreign_keys_only = true;
    let mut set_not_null = Vec::new();
    let mut lock_timeout = None;
    for finding in findings {
        match &finding.action {
            Action::SplitForeignKey {
                table,
                constraint,
                not_valid_at,
                ..
            }
            | Action::SplitCheck {
                table,
                constraint,
                not_valid_at,
            } => {
                statement_edits
                    .entry(finding.statement)
                    .or_default()
                    .push(Edit::insert(*not_valid_at, " NOT VALID"));
                validations.push(format!(
                    "ALTER TABLE {table} VALIDATE CONSTRAINT {};",
                    quote(constraint)
                ));
                validates_foreign_keys_only &=
                    matches!(finding.action, Action::SplitForeignKey { .. });
            }
            Action::NotNullViaCheck {
                table,
                column,
                constraint,
                operation,
            } => {
                statement_edits
                    .entry(finding.statement)
                    .or_default()
                    .push(Edit::replace(
                        operation.clone(),
                        not_null_check(column, constraint),
                    ));
                let (validate, set) = not_null_steps(table, column, constraint, eol);
                validations.push(validate);
                validates_foreign_keys_only = false;
                set_not_null.push(set);
            }
            Action::FillVolatileDefault {
                table,
                column,
                constraint,
                cut,
                after,
                default,
                backfill,
            } => {
                let edits = statement_edits.entry(finding.statement).or_default();
                edits.push(Edit::delete(cut.clone()));
                let mut added = format!(
                    "{eol}{eol}-- migrate-safe: new rows get the default; existing ones are filled in batches after this migration.{eol}ALTER TABLE {table} ALTER COLUMN {} SET DEFAULT {default};",
                    quote(column)
                );
                if let Some(install) = backfill.trigger_install(eol) {
                    added.push_str(&format!("{eol}{install};"));
                }
                if let Some(constraint) = constraint {
                    added.push_str(&format!(
                        "{eol}ALTER TABLE {table} {};",
                        not_null_check(column, constraint)
                    ));
                    let (validate, set) = not_null_steps(table, column, constraint, eol);
                    validations.push(validate);
                    validates_foreign_keys_only = false;
                    set_not_null.push(set);
                }
                edits.push(Edit::insert(*after, added));
            }
            Action::SetLockTimeout {
                value,
                locking,
                apply,
            } => {
                lock_timeout = Some((value.clone(), locking.clone(), *apply));
            }
            _ => {}
        }
    }

    ConstraintEdits {
        statement_edits,
        validations,
        validates_foreign_keys_only,
        set_not_null,
        lock_timeout,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn touching_cuts_merge() {
        assert_eq!(merge(vec![5..9, 0..3, 3..5, 12..14]), vec![0..9, 12..14]);
    }
}
