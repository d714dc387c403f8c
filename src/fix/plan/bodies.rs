//! What each new folder of a plan holds, in order: the batched backfills, the builds that must run
//! alone, what needed those indexes, the validations, SET NOT NULL (see the order in `super`).

use std::collections::BTreeMap;

use super::folders::alone_slug;
use super::place::Placement;
use super::text::{ConstraintEdits, UniqueViaIndexSql, concurrently_edit, moved_text};
use crate::rules::backfill::Backfill;
use crate::source::classify::Statement;
use crate::source::split::SplitFile;

/// The new folders (slug, body) and where each thing went.
pub(super) struct NewFolders {
    pub(super) folders: Vec<(String, String)>,
    pub(super) build: BTreeMap<usize, usize>,
    pub(super) backfill: BTreeMap<usize, usize>,
    pub(super) after: Option<usize>,
    pub(super) validate: Option<usize>,
    pub(super) not_null: Option<usize>,
    /// The folder that drops the backfills' triggers (`None`: each DO block drops its own).
    pub(super) trigger_dropped: Option<usize>,
    /// Constraints are attached to indexes built concurrently (the after-folder says so).
    pub(super) attaches: bool,
}

/// The file being planned.
pub(super) struct Planned<'a> {
    pub(super) text: &'a str,
    pub(super) split: &'a SplitFile,
    pub(super) statements: &'a [Statement],
    pub(super) eol: &'a str,
}

pub(super) fn new_folders(
    file: &Planned,
    placement: &Placement,
    backfills: &[Backfill],
    edits: &ConstraintEdits,
    unique_via_index: &BTreeMap<usize, UniqueViaIndexSql>,
) -> NewFolders {
    let Planned {
        text,
        split,
        statements,
        eol,
    } = *file;
    let ConstraintEdits {
        statement_edits,
        validations,
        validates_foreign_keys_only,
        set_not_null,
        ..
    } = edits;
    let mut folders: Vec<(String, String)> = Vec::new(); // (slug, body)
    let mut build_folder: BTreeMap<usize, usize> = BTreeMap::new();
    // Constraints attached to their concurrently built index, first thing after the builds.
    let mut attaches = Vec::new();
    // Backfills in batches first, each alone in its folder (its DO block commits): a UNIQUE index the
    // migration builds after the backfill is built on what it wrote; their triggers go with the last
    // folder (a NOT NULL check is validated and set with them on).
    let trigger_dropped_later = !validations.is_empty() || !set_not_null.is_empty();
    let mut backfill_folder: BTreeMap<usize, usize> = BTreeMap::new();
    for backfill in backfills {
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
        let slug = if *validates_foreign_keys_only {
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
    NewFolders {
        folders,
        build: build_folder,
        backfill: backfill_folder,
        after: after_folder,
        validate: validate_folder,
        not_null: not_null_folder,
        trigger_dropped: trigger_drop_folder,
        attaches: !attaches.is_empty(),
    }
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
