//! New folders: their names (`<original>_NN_<what>`, within Prisma's 200-byte limit) and the first
//! comment line saying why each exists.

use crate::error::{Error, Result};
use crate::source::classify::{Fact, Statement};
use crate::source::names::quote;

use super::place::Placement;

/// Prisma rejects longer folder names (P3010).
pub const MAX_FOLDER_NAME: usize = 200;

/// The slug of a folder holding one statement alone.
pub(super) fn alone_slug(fact: &Fact) -> String {
    match fact {
        Fact::CreateIndex(index) => {
            let what = index
                .name
                .as_ref()
                .map_or_else(|| format!("on_{}", index.table.name), |n| n.name.clone());
            format!("create_index_{}", slug(&what))
        }
        Fact::DropIndexes { indexes, .. } => format!(
            "drop_index_{}",
            slug(&indexes.first().map(|i| i.name.clone()).unwrap_or_default())
        ),
        _ => "reindex".to_string(),
    }
}

pub(super) fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    out.trim_matches('_').to_string()
}

pub(super) fn folder_names<'a>(
    migration: &str,
    slugs: impl Iterator<Item = &'a str>,
    width: usize,
) -> Result<Vec<String>> {
    slugs
        .enumerate()
        .map(|(i, slug)| {
            let prefix = format!("{migration}_{:0width$}", i + 1);
            if prefix.len() > MAX_FOLDER_NAME {
                return Err(Error::Naming {
                    migration: migration.to_string(),
                    message: format!("its name is too long to add a suffix within Prisma's {MAX_FOLDER_NAME}-byte limit"),
                });
            }
            if slug.is_empty() {
                return Ok(prefix);
            }
            let room = MAX_FOLDER_NAME - prefix.len();
            let suffix = format!("_{slug}");
            let cut = suffix.len().min(room);
            Ok(format!("{prefix}{}", suffix[..cut].trim_end_matches('_')))
        })
        .collect()
}

pub(super) fn folder_purposes(
    statements: &[Statement],
    placement: &Placement,
    attaches: bool,
    backfills: &[crate::rules::backfill::Backfill],
    validates_foreign_keys_only: Option<bool>,
    sets_not_null: bool,
) -> Vec<String> {
    // The backfills first, then the builds (in the order the planner pushes their folders).
    let mut purposes: Vec<String> = backfills
        .iter()
        .map(|backfill| {
            let what = if backfill.shape.delete {
                "DELETE"
            } else {
                "UPDATE"
            };
            let change = if backfill.replaces_statement {
                format!("runs the {what} of line {} on {}", backfill.line, backfill.shape.table)
            } else {
                let column = backfill
                    .shape
                    .assignments
                    .first()
                    .map_or("", |a| a.target.as_str());
                format!(
                    "fills {column} of the existing rows of {} (the column line {} added)",
                    backfill.shape.table, backfill.line
                )
            };
            format!(
                "{change} in batches of {} rows, committing after each (must stay alone in this file; rerun after a failure, it finishes the rest)",
                crate::rules::backfill::BATCH_ROWS
            )
        })
        .collect();
    purposes.extend(placement
        .builds
        .iter()
        .map(|&b| match &statements[b].fact {
            Fact::CreateIndex(index) => format!(
                "builds {} on {} without blocking writes (must stay alone in this file)",
                index
                    .name
                    .as_ref()
                    .map_or_else(|| "an index".to_string(), |n| quote(&n.name)),
                index.table
            ),
            Fact::DropIndexes { indexes, .. } => format!(
                "drops {} without blocking reads or writes (must stay alone in this file)",
                indexes
                    .first()
                    .map_or_else(String::new, ToString::to_string)
            ),
            Fact::AlterTable { table, .. } => format!(
                "builds a constraint's unique index on {table} without blocking writes (must stay alone in this file)"
            ),
            _ => {
                "runs a CONCURRENTLY statement outside a transaction (must stay alone in this file)"
                    .to_string()
            }
        })
        );
    if attaches {
        purposes.push(
            "attaches constraints to the indexes built before (metadata only), and what needs them"
                .to_string(),
        );
    } else if !placement.dependents.is_empty() {
        purposes.push("statements that need the indexes built before".to_string());
    }
    match validates_foreign_keys_only {
        Some(true) => purposes.push(
            "validates the foreign keys added NOT VALID (scans without blocking writes)"
                .to_string(),
        ),
        Some(false) => purposes.push(
            "validates the constraints added NOT VALID (scans without blocking writes)".to_string(),
        ),
        None => {}
    }
    if sets_not_null {
        purposes.push(
            "SET NOT NULL without a scan (the validated check proves it), then drops the check"
                .to_string(),
        );
    }
    purposes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_names_stay_within_prisma_limit() {
        let migration = format!("20240101000000_{}", "x".repeat(160));
        let names = folder_names(
            &migration,
            ["create_index_a_very_long_index_name_indeed"].into_iter(),
            2,
        )
        .unwrap();
        assert_eq!(names[0].len(), MAX_FOLDER_NAME);
        assert!(names[0].starts_with(&format!("{migration}_01_create_index_a")));
        let too_long = "y".repeat(199);
        assert!(folder_names(&too_long, ["validate_foreign_keys"].into_iter(), 2).is_err());
    }

    #[test]
    fn slugs_are_lowercase_ascii_words() {
        assert_eq!(
            slug("Document_teamId_updatedAt_idx"),
            "document_teamid_updatedat_idx"
        );
        assert_eq!(slug("\"weird\" name-ü"), "weird_name");
    }
}
