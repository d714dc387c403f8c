//! Outcomes: what the plan did about each finding, in words for the report.

use crate::rules::{Action, Finding};
use crate::source::classify::Statement;
use crate::source::split::SplitFile;

use super::bodies::NewFolders;
use super::place::{Placement, moves_alone};
use super::text::excerpt;
use super::{DEPENDENCY_RULE, Outcome};

/// Where things went, for the outcomes: the new folders, their names, and whether lock_timeout is set
/// in the migration's own file.
pub(super) struct Folders<'a> {
    pub(super) placed: &'a NewFolders,
    pub(super) lock_timeout_set: bool,
    pub(super) names: &'a [String],
}

pub(super) fn resolve(
    findings: Vec<Finding>,
    text: &str,
    split: &SplitFile,
    statements: &[Statement],
    placement: &Placement,
    folders: &Folders,
) -> Vec<Outcome> {
    let names = folders.names;
    let lock_timeout_set = folders.lock_timeout_set;
    let folders = folders.placed;
    let build_folder = &folders.build;
    let validated = folders
        .validate
        .map_or_else(String::new, |f| format!("; validated in {}", names[f]));
    let moved = |statement: usize| -> Option<String> {
        placement
            .dependents
            .contains_key(&statement)
            .then(|| names[folders.after.expect("after folder")].clone())
    };
    let mut outcomes: Vec<Outcome> = findings
        .into_iter()
        .map(|finding| {
            let attached = folders.after.map_or_else(String::new, |f| format!("; attached with ADD CONSTRAINT .. USING INDEX in {}", names[f]));
            let resolution = match &finding.action {
                Action::UniqueViaIndex { .. } if placement.build_in_place == Some(finding.statement) => {
                    Some(format!("replaced in place by CREATE UNIQUE INDEX CONCURRENTLY (the only statement left){attached}"))
                }
                Action::UniqueViaIndex { .. } => build_folder.get(&finding.statement).map(|&f| {
                    format!("index built in {} with CREATE UNIQUE INDEX CONCURRENTLY{attached}", names[f])
                }),
                action if moves_alone(action) && placement.build_in_place == Some(finding.statement) => {
                    Some("made CONCURRENTLY in place: it is the only statement left in this migration".to_string())
                }
                Action::BuildIndexConcurrently { unique, .. } => build_folder.get(&finding.statement).map(|&f| {
                    let unique = if *unique { "UNIQUE " } else { "" };
                    format!("moved to {} as CREATE {unique}INDEX CONCURRENTLY", names[f])
                }),
                Action::DropIndexConcurrently { .. } => build_folder
                    .get(&finding.statement)
                    .map(|&f| format!("moved to {} as DROP INDEX CONCURRENTLY", names[f])),
                Action::MoveAlone { .. } => build_folder
                    .get(&finding.statement)
                    .map(|&f| format!("moved to {}, alone", names[f])),
                Action::SplitForeignKey { .. } | Action::SplitCheck { .. } => Some(match moved(finding.statement) {
                    Some(folder) => format!("moved NOT VALID to {folder}{validated}"),
                    None => format!("NOT VALID here{validated}"),
                }),
                Action::NotNullViaCheck { .. } => {
                    let set = folders.not_null.map_or_else(String::new, |f| format!("; SET NOT NULL in {}", names[f]));
                    Some(format!("CHECK NOT VALID here{validated}{set}"))
                }
                Action::SetLockTimeout {
                    value, apply: true, ..
                } => lock_timeout_set
                    .then(|| format!("SET lock_timeout = '{value}' at the top of the migration, RESET lock_timeout at its end")),
                Action::MoveExistingTablesLast { moved_lines, .. } => {
                    let n = moved_lines.len();
                    let lines: Vec<String> = moved_lines.iter().map(|l| l.to_string()).collect();
                    (n > 0).then(|| format!(
                        "moved {n} statement{} on existing tables (line{} {}) after the creation of new objects so their locks are held for milliseconds",
                        if n == 1 { "" } else { "s" },
                        if n == 1 { "" } else { "s" },
                        lines.join(", ")
                    ))
                }
                Action::BatchBackfill { key, backfill, .. } => folders.backfill.get(&finding.statement).map(|&f| {
                    let walk = if key == "ctid" { "pages (ctid)".to_string() } else { crate::source::names::quote(key) };
                    let trigger = if backfill.shape.delete {
                        String::new()
                    } else {
                        let dropped = folders.trigger_dropped.map_or_else(|| "once they are done".to_string(), |d| format!("in {}", names[d]));
                        format!("; a trigger in its place applies it to the rows the application writes until then, dropped {dropped}")
                    };
                    format!("runs in batches in {} (by {walk}){trigger}", names[f])
                }),
                Action::FillVolatileDefault { constraint, .. } => folders.backfill.get(&finding.statement).map(|&f| {
                    let not_null = match (constraint, folders.not_null) {
                        (Some(_), Some(n)) => format!("; NOT NULL through a check{validated}, set in {}", names[n]),
                        _ => String::new(),
                    };
                    format!("added without its default, then SET DEFAULT for new rows and a trigger for rows written meanwhile; existing rows filled in batches in {}{not_null}", names[f])
                }),
                Action::SetLockTimeout { apply: false, .. } | Action::LeaveAlone => None,
            };
            Outcome { finding, resolution }
        })
        .collect();
    for (&dependent, needs) in &placement.dependents {
        // A note that the statement is left alone no longer holds: it moves.
        outcomes.retain(|o| o.finding.statement != dependent || o.resolution.is_some());
        if outcomes.iter().any(|o| o.finding.statement == dependent) {
            continue; // already said where it went
        }
        let needed: Vec<String> = needs
            .iter()
            .filter_map(|b| build_folder.get(b))
            .map(|&f| names[f].clone())
            .collect();
        outcomes.push(Outcome {
            finding: Finding {
                rule: DEPENDENCY_RULE,
                severity: None,
                statement: dependent,
                line: statements[dependent].line,
                column: statements[dependent].column,
                help: None,
                message: format!(
                    "`{}` needs an index that now builds later (in {})",
                    excerpt(text, split, &statements[dependent]),
                    needed.join(", ")
                ),
                action: Action::LeaveAlone,
            },
            resolution: Some(format!(
                "moved to {}",
                names[folders.after.expect("after folder")]
            )),
        });
    }
    outcomes.sort_by_key(|o| (o.finding.line, o.finding.statement));
    outcomes
}
