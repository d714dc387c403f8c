//! The plan for one migration: byte edits on its file and the new migration folders that follow it.
//!
//! Order of the result: the original (edited) → one folder per batched backfill → one folder per
//! statement that must run alone (index builds and drops) → one folder for statements that needed those
//! indexes → one folder validating the constraints added NOT VALID → one folder setting NOT NULL from
//! validated checks.
//!
//! Data flow: `place` decides where statements go, `text` cuts and writes SQL, `bodies` fills the new
//! folders, `folders` names them, `original` edits the migration's own file, `resolve` says what became
//! of each finding.

mod bodies;
mod folders;
mod original;
mod place;
mod resolve;
mod text;

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::error::{Error, Result};
use crate::fix::edit::Edit;
use crate::prisma::order::FolderOrder;
use crate::rules::{Action, Finding};
use crate::source::classify::{Fact, Statement};
use crate::source::discover::{GENERATED_MARKER, Migration};
use crate::source::names::quote;
use crate::source::split::SplitFile;

use bodies::{Planned, new_folders};
pub use folders::MAX_FOLDER_NAME;
use folders::{folder_names, folder_purposes};
use original::edit_original;
use place::{place, split_moved_foreign_keys};
use resolve::{Folders, resolve};
use text::{ConstraintEdits, UniqueViaIndexSql, constraint_edits, unique_via_index_sql};

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

    let mut edits = constraint_edits(&findings, eol);
    for backfill in backfills.iter().filter(|b| b.replaces_statement) {
        if let Some(mut install) = backfill.trigger_install(eol) {
            // The statement's bytes end with its `;` when it has one: the replacement keeps it.
            let bytes = statements[backfill.statement].bytes.clone();
            if text[bytes.clone()].ends_with(';') {
                install.push(';');
            }
            edits
                .statement_edits
                .entry(backfill.statement)
                .or_default()
                .push(Edit::replace(bytes, install));
        }
    }

    // New folders, in order.
    let width = 2.max(
        (placement.builds.len() + backfills.len() + 2)
            .to_string()
            .len(),
    );
    let unique_via_index: BTreeMap<usize, UniqueViaIndexSql> = findings
        .iter()
        .filter_map(|f| Some((f.statement, unique_via_index_sql(&f.action)?)))
        .collect();
    let planned = Planned {
        text,
        split,
        statements,
        eol,
    };
    let mut placed = new_folders(&planned, &placement, &backfills, &edits, &unique_via_index);
    let folders = std::mem::take(&mut placed.folders);
    let ConstraintEdits {
        statement_edits,
        validates_foreign_keys_only,
        lock_timeout,
        ..
    } = edits;
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
        placed.attaches,
        &backfills,
        placed.validate.map(|_| validates_foreign_keys_only),
        placed.not_null.is_some(),
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

    let (rewritten_sql, lock_timeout_set) = edit_original(
        &planned,
        &placement,
        &backfills,
        &mut findings,
        &unique_via_index,
        &statement_edits,
        lock_timeout.as_ref(),
    );

    let folders = Folders {
        placed: &placed,
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
        let reason = statements
            .iter()
            .enumerate()
            .skip(backfill.statement + 1)
            .find_map(|(at, s)| match &s.fact {
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
            Some(why) => finding.backfill_left_alone(why),
            None => batched.push((**backfill).clone()),
        }
    }
    batched.sort_by_key(|b| b.statement);
    batched
}
