//! The plan for one migration: byte edits on its file and the new migration folders that follow it.
//!
//! Order of the result: the original (edited) → one folder per statement that must run alone (index
//! builds and drops) → one folder for statements that needed those indexes → one folder validating the
//! constraints added NOT VALID → one folder setting NOT NULL from validated checks.
//!
//! Data flow: `place` decides where statements go, `text` cuts and writes SQL, `folders` names the new
//! folders, `resolve` says what became of each finding.

mod folders;
mod place;
mod resolve;
mod text;

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::error::{Error, Result};
use crate::fix::edit::{Edit, apply};
use crate::prisma::order::FolderOrder;
use crate::rules::{Action, FileToReorder, Finding};
use crate::source::classify::{Fact, Statement};
use crate::source::discover::{GENERATED_MARKER, Migration};
use crate::source::names::quote;
use crate::source::split::SplitFile;

pub use folders::MAX_FOLDER_NAME;
use folders::{alone_slug, folder_names, folder_purposes};
use place::{place, split_moved_foreign_keys};
use resolve::{Folders, resolve};
use text::{
    ConstraintEdits, UniqueViaIndexSql, concurrently_edit, constraint_edits, cut_range, line_end,
    lock_timeout_edits, merge, moved_text, unique_via_index_sql,
};

/// How the folders the plan adds are named (`folder-naming` in migrate-safe.toml).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FolderNaming {
    /// `<timestamp>_<name>_<purpose>`.
    #[default]
    Descriptive,
    /// `<timestamp>_<name>_<n>`.
    Numbered,
}

pub const DEPENDENCY_RULE: &str = "needs-moved-index";

#[derive(Debug, Clone, Serialize)]
pub struct NewMigration {
    pub name: String,
    pub sql: String,
}

/// A finding and what the plan did about it.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    #[serde(flatten)]
    pub finding: Finding,
    /// What was done (`None` when the statement is left alone).
    pub resolution: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Unanalysed {
    pub line: usize,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct MigrationPlan {
    pub migration: String,
    #[serde(skip)]
    pub original_sql: String,
    #[serde(skip)]
    pub rewritten_sql: String,
    pub edits_original: bool,
    pub new_migrations: Vec<NewMigration>,
    pub outcomes: Vec<Outcome>,
    pub unanalysed: Vec<Unanalysed>,
    /// Findings accepted with `-- migrate-safe-ignore:` (neither fixed nor reported).
    #[serde(skip)]
    pub suppressed: Vec<crate::rules::Finding>,
}

impl MigrationPlan {
    pub fn changes_anything(&self) -> bool {
        self.edits_original || !self.new_migrations.is_empty()
    }

    /// Warnings and errors `rewrite` has no fix for (notes, like an unanalysed statement, are not
    /// counted: the report lists those on their own).
    pub fn hazards_left(&self) -> usize {
        self.outcomes
            .iter()
            .filter(|o| {
                o.finding.severity >= Some(crate::rules::Severity::Warning)
                    && o.resolution.is_none()
            })
            .count()
    }
}

pub fn plan_migration(
    migration: &Migration,
    split: &SplitFile,
    statements: &[Statement],
    findings: Vec<Finding>,
    order: &FolderOrder,
    naming: FolderNaming,
) -> Result<MigrationPlan> {
    let text = migration.sql.as_str();
    let eol = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let mut findings = findings;
    let placement = place(text, split, statements, &mut findings);
    split_moved_foreign_keys(statements, &placement, &mut findings);
    let backfills = batched_backfills(statements, &placement, &mut findings);

    let ConstraintEdits {
        statement_edits,
        validations,
        validates_foreign_keys_only,
        set_not_null,
        lock_timeout,
    } = constraint_edits(&findings, eol);
    let mut statement_edits = statement_edits;
    for backfill in backfills.iter().filter(|b| b.replaces_statement) {
        if let Some(mut install) = backfill.trigger_install(eol) {
            let bytes = statements[backfill.statement].bytes.clone();
            if text[bytes.clone()].ends_with(';') {
                install.push(';');
            }
            statement_edits
                .entry(backfill.statement)
                .or_default()
                .push(Edit::replace(
                    statements[backfill.statement].bytes.clone(),
                    install,
                ));
        }
    }

    // New folders, in order.
    let width = 2.max(
        (placement.builds.len() + backfills.len() + 2)
            .to_string()
            .len(),
    );
    let mut folders: Vec<(String, String)> = Vec::new(); // (slug, body)
    let mut build_folder: BTreeMap<usize, usize> = BTreeMap::new();
    // Constraints attached to their concurrently built index, first thing after the builds.
    let mut attaches = Vec::new();
    let unique_via_index: BTreeMap<usize, UniqueViaIndexSql> = findings
        .iter()
        .filter_map(|f| Some((f.statement, unique_via_index_sql(&f.action)?)))
        .collect();
    // Backfills in batches first, each alone in its folder (its DO block commits): a UNIQUE index the
    // migration builds after the backfill is built on what it wrote; their triggers go with the last
    // folder (a NOT NULL check is validated and set with them on).
    let trigger_dropped_later = !validations.is_empty() || !set_not_null.is_empty();
    let mut backfill_folder: BTreeMap<usize, usize> = BTreeMap::new();
    for backfill in &backfills {
        backfill_folder.insert(backfill.statement, folders.len());
        folders.push((
            format!("backfill_{}", slug_part(&backfill.shape.table.name)),
            backfill.batches(!trigger_dropped_later, eol),
        ));
    }
    let trigger_drops: String = backfills
        .iter()
        .filter(|_| trigger_dropped_later)
        .filter_map(|b| b.trigger_drop(eol))
        .collect();
    for &build in &placement.builds {
        let folder = match unique_via_index.get(&build) {
            Some(sql) => {
                attaches.push(format!("{}{eol}", sql.attach));
                let header = split.pieces[statements[build].piece]
                    .header
                    .clone()
                    .map_or("", |h| &text[h]);
                (sql.slug.clone(), format!("{header}{}{eol}", sql.create))
            }
            None => (
                alone_slug(&statements[build].fact),
                moved_text(
                    text,
                    split,
                    statements,
                    build,
                    &concurrently_edit(&statements[build].fact),
                    eol,
                ),
            ),
        };
        build_folder.insert(build, folders.len());
        folders.push(folder);
    }
    if let Some(build) = placement.build_in_place
        && let Some(sql) = unique_via_index.get(&build)
    {
        attaches.insert(0, format!("{}{eol}", sql.attach));
    }
    let after_folder = (!placement.dependents.is_empty() || !attaches.is_empty()).then(|| {
        let body: Vec<String> = placement
            .dependents
            .keys()
            .map(|&d| {
                let edits = statement_edits.get(&d).cloned().unwrap_or_default();
                moved_text(text, split, statements, d, &edits, eol)
            })
            .collect();
        folders.push((
            "after_indexes".to_string(),
            format!("{}{}", attaches.concat(), body.join(eol)),
        ));
        folders.len() - 1
    });
    let validate_folder = (!validations.is_empty()).then(|| {
        let slug = if validates_foreign_keys_only {
            "validate_foreign_keys"
        } else {
            "validate_constraints"
        };
        folders.push((
            slug.to_string(),
            validations.iter().map(|v| format!("{v}{eol}")).collect(),
        ));
        folders.len() - 1
    });
    let not_null_folder = (!set_not_null.is_empty()).then(|| {
        folders.push((
            "set_not_null".to_string(),
            set_not_null.iter().map(|v| format!("{v}{eol}")).collect(),
        ));
        folders.len() - 1
    });
    let trigger_drop_folder = not_null_folder
        .or(validate_folder)
        .filter(|_| !trigger_drops.is_empty());
    if let Some(last) = trigger_drop_folder {
        folders[last].1.push_str(&trigger_drops);
    }
    let names = folder_names(
        &migration.name,
        folders.iter().map(|(s, _)| match naming {
            FolderNaming::Descriptive => s.as_str(),
            FolderNaming::Numbered => "",
        }),
        width,
    )?;
    order
        .check_insertion(&migration.name, &names)
        .map_err(|blocker| Error::Naming {
            migration: migration.name.clone(),
            message: format!(
                "the new folder would not sort right after it: \"{blocker}\" is in the way (Prisma applies folders in name order); rename that folder"
            ),
        })?;
    let purposes = folder_purposes(
        statements,
        &placement,
        !attaches.is_empty(),
        &backfills,
        validate_folder.map(|_| validates_foreign_keys_only),
        not_null_folder.is_some(),
    );
    let new_migrations: Vec<NewMigration> = folders
        .into_iter()
        .zip(&names)
        .zip(purposes)
        .map(|(((_, body), name), purpose)| NewMigration {
            name: name.clone(),
            // The header is a line comment: an identifier with a line break must not end it.
            sql: format!(
                "{GENERATED_MARKER}{}{eol}{body}",
                crate::escape::comment(&format!("{}: {purpose}", quote(&migration.name)))
            ),
        })
        .collect();

    // Edits on the original file.
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
            for finding in &mut findings {
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
    for (&statement, inserts) in &statement_edits {
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
    let locks_remain = lock_timeout.as_ref().is_some_and(|(_, locking, _)| {
        placement.build_in_place.is_none() && locking.iter().any(|s| !cut.contains(s))
    });
    if !locks_remain {
        findings.retain(|f| !matches!(f.action, Action::SetLockTimeout { .. }));
    }
    let lock_timeout_set = match &lock_timeout {
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
    let rewritten_sql = apply(text, &edits);

    let folders = Folders {
        build: build_folder,
        after: after_folder,
        validate: validate_folder,
        not_null: not_null_folder,
        backfill: backfill_folder,
        trigger_dropped: trigger_drop_folder,
        lock_timeout_set,
        names: &names,
    };
    let outcomes = resolve(findings, text, split, statements, &placement, &folders);
    let unanalysed = statements
        .iter()
        .filter_map(|s| match &s.fact {
            // A DO block whose PL/pgSQL was read is not unread: its statements were judged.
            Fact::Unanalysed { .. } if s.procedure.is_some() => None,
            Fact::Unanalysed { reason } => Some(Unanalysed {
                line: s.line,
                reason: reason.clone(),
            }),
            _ => None,
        })
        .collect();
    Ok(MigrationPlan {
        migration: migration.name.clone(),
        edits_original: rewritten_sql != text,
        original_sql: migration.sql.clone(),
        rewritten_sql,
        new_migrations,
        outcomes,
        unanalysed,
        suppressed: Vec::new(),
    })
}

/// The backfills the plan runs in batches. One steps aside (its finding says why) when a SET NOT NULL
/// of its table stays as written (its own fix stepped aside): that would run before the batches.
fn batched_backfills(
    statements: &[Statement],
    placement: &place::Placement,
    findings: &mut [Finding],
) -> Vec<crate::rules::backfill::Backfill> {
    let fixed_not_null: BTreeSet<(usize, String)> = findings
        .iter()
        .filter_map(|f| match &f.action {
            Action::NotNullViaCheck { column, .. } => Some((f.statement, column.clone())),
            _ => None,
        })
        .collect();
    // Why each batched backfill must step aside, when it must.
    let mut why: BTreeMap<usize, String> = BTreeMap::new();
    for finding in findings.iter() {
        let Action::BatchBackfill { backfill, .. } = &finding.action else {
            continue;
        };
        let table = &backfill.shape.table;
        let later = statements.iter().enumerate().skip(backfill.statement + 1);
        let reason = later.clone().find_map(|(at, s)| match &s.fact {
            Fact::AlterTable { table: t, changes } if t == table => {
                changes.iter().find_map(|c| match &c.kind {
                    crate::source::classify::TableChange::SetNotNull { column }
                        if !fixed_not_null.contains(&(at, column.clone())) =>
                    {
                        Some(format!(
                            "the SET NOT NULL at line {} stays as written (its own fix stepped aside) and would run before the batches",
                            s.line
                        ))
                    }
                    _ => None,
                })
            }
            Fact::CreateIndex(index)
                if index.table == *table && index.unique && !placement.builds.contains(&at) =>
            {
                Some(format!(
                    "the UNIQUE index at line {} stays in this migration and would be built before the batches",
                    s.line
                ))
            }
            _ => None,
        });
        let reason = reason.or_else(|| {
            (placement.dependents.contains_key(&backfill.statement)
                || placement.builds.contains(&backfill.statement))
            .then(|| "it must follow an index build this migration moves".to_string())
        });
        if let Some(reason) = reason {
            why.insert(finding.statement, reason);
        }
    }
    // A backfill that relied on a later one being batched too (to keep their order) steps aside with it.
    let batched_at: BTreeSet<usize> = findings
        .iter()
        .filter(|f| matches!(f.action, Action::BatchBackfill { .. }))
        .map(|f| f.statement)
        .collect();
    loop {
        let stepping: Vec<(usize, String)> = batched_at
            .iter()
            .filter(|s| !why.contains_key(s))
            .filter_map(|&s| {
                let later = why.keys().find(|&&w| w > s)?;
                Some((
                    s,
                    format!(
                        "the backfill at line {} after it stays in this migration, and it must run first",
                        statements[*later].line
                    ),
                ))
            })
            .collect();
        if stepping.is_empty() {
            break;
        }
        why.extend(stepping);
    }
    let mut batched = Vec::new();
    for finding in findings.iter_mut() {
        if let Action::FillVolatileDefault { backfill, .. } = &finding.action {
            batched.push((**backfill).clone());
            continue;
        }
        let Action::BatchBackfill { backfill, .. } = &finding.action else {
            continue;
        };
        match why.get(&finding.statement) {
            Some(why) => {
                finding.message = match finding.message.split_once(": run in batches") {
                    Some((head, _)) => format!("{head}: left alone: {why}"),
                    None => finding.message.clone(),
                };
                finding.action = Action::LeaveAlone;
            }
            None => batched.push((**backfill).clone()),
        }
    }
    batched.sort_by_key(|b| b.statement);
    batched
}

/// A name made fit for a folder name: letters, digits and `_`, lower case, at most 30 characters.
fn slug_part(name: &str) -> String {
    let slug: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .take(30)
        .collect();
    slug.trim_matches('_').to_string()
}
