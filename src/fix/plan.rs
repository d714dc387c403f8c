//! The plan for one migration: byte edits on its file and the new migration folders that follow it.
//!
//! Order of the result: the original (edited) → one folder per index build → one folder for statements
//! that needed those indexes → one folder validating the foreign keys added NOT VALID.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::ops::Range;

use serde::Serialize;

use super::edit::{Edit, apply, apply_within};
use crate::config::FolderNaming;
use crate::error::{Error, Result};
use crate::rules::{Action, Finding};
use crate::source::classify::{Fact, Statement, TableChange};
use crate::source::discover::{GENERATED_MARKER, Migration};
use crate::source::names::{QualifiedName, quote};
use crate::source::order::FolderOrder;
use crate::source::split::SplitFile;

/// Prisma rejects longer folder names (P3010).
pub const MAX_FOLDER_NAME: usize = 200;

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
}

impl MigrationPlan {
    pub fn changes_anything(&self) -> bool {
        self.edits_original || !self.new_migrations.is_empty()
    }
}

/// Where each statement goes.
#[derive(Default)]
struct Placement {
    /// Index builds cut out, in order (statement indexes).
    builds: Vec<usize>,
    /// The one build left in place because nothing else would remain in the file.
    build_in_place: Option<usize>,
    /// Statements that need a moved index, with the builds they (transitively) need.
    dependents: BTreeMap<usize, BTreeSet<usize>>,
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
    let placement = place(split, statements, &mut findings);
    split_moved_foreign_keys(statements, &placement, &mut findings);

    // Edits that go wherever their statement goes (the original, or a folder it moves to).
    let mut statement_edits: BTreeMap<usize, Vec<Edit>> = BTreeMap::new();
    let mut validations = Vec::new();
    let mut validates_foreign_keys_only = true;
    let mut set_not_null = Vec::new();
    let mut lock_timeout = None;
    for finding in &findings {
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
                        format!(
                            "ADD CONSTRAINT {} CHECK ({} IS NOT NULL) NOT VALID",
                            quote(constraint),
                            quote(column)
                        ),
                    ));
                validations.push(format!(
                    "ALTER TABLE {table} VALIDATE CONSTRAINT {};",
                    quote(constraint)
                ));
                validates_foreign_keys_only = false;
                set_not_null.push(format!(
                    "ALTER TABLE {table} ALTER COLUMN {} SET NOT NULL;{eol}ALTER TABLE {table} DROP CONSTRAINT {};",
                    quote(column),
                    quote(constraint)
                ));
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

    // New folders, in order.
    let width = 2.max((placement.builds.len() + 2).to_string().len());
    let mut folders: Vec<(String, String)> = Vec::new(); // (slug, body)
    let mut build_folder: BTreeMap<usize, usize> = BTreeMap::new();
    // Constraints attached to their concurrently built index, first thing after the builds.
    let mut attaches = Vec::new();
    let unique_via_index: BTreeMap<usize, (String, String)> = findings
        .iter()
        .filter_map(|f| Some((f.statement, unique_via_index_sql(&f.action)?)))
        .collect();
    for &build in &placement.builds {
        let body = match unique_via_index.get(&build) {
            Some((create, attach)) => {
                attaches.push(format!("{attach}{eol}"));
                let header = split.pieces[statements[build].piece]
                    .header
                    .clone()
                    .map_or("", |h| &text[h]);
                format!("{header}{create}{eol}")
            }
            None => moved_text(
                text,
                split,
                statements,
                build,
                &concurrently_edit(&statements[build].fact),
                eol,
            ),
        };
        build_folder.insert(build, folders.len());
        let slug = match findings.iter().find_map(|f| match &f.action {
            Action::UniqueViaIndex { constraint, .. } if f.statement == build => Some(constraint),
            _ => None,
        }) {
            Some(constraint) => format!("create_index_{}", slug(constraint)),
            None => alone_slug(&statements[build].fact),
        };
        folders.push((slug, body));
    }
    if let Some(build) = placement.build_in_place
        && let Some((_, attach)) = unique_via_index.get(&build)
    {
        attaches.insert(0, format!("{attach}{eol}"));
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
        validate_folder.map(|_| validates_foreign_keys_only),
        not_null_folder.is_some(),
    );
    let new_migrations: Vec<NewMigration> = folders
        .into_iter()
        .zip(&names)
        .zip(purposes)
        .map(|(((_, body), name), purpose)| NewMigration {
            name: name.clone(),
            sql: format!(
                "{GENERATED_MARKER}{}: {purpose}{eol}{body}",
                quote(&migration.name)
            ),
        })
        .collect();

    // Edits on the original file.
    let mut edits: Vec<Edit> = Vec::new();
    for (&statement, inserts) in &statement_edits {
        if !placement.dependents.contains_key(&statement) {
            edits.extend(inserts.iter().cloned());
        }
    }
    if let Some(build) = placement.build_in_place {
        match unique_via_index.get(&build) {
            // The only statement left: the build replaces it in place.
            Some((create, _)) => edits.push(Edit::replace(
                split.pieces[statements[build].piece]
                    .statement
                    .clone()
                    .expect("statement piece"),
                create.clone(),
            )),
            None => edits.extend(concurrently_edit(&statements[build].fact)),
        }
    }
    let cut: BTreeSet<usize> = placement
        .builds
        .iter()
        .chain(placement.dependents.keys())
        .copied()
        .collect();
    // The lock-timeout hazard stays only if a statement locking an existing table stays here.
    let locks_remain = lock_timeout.as_ref().is_some_and(|(_, locking, _)| {
        placement.build_in_place.is_none() && locking.iter().any(|s| !cut.contains(s))
    });
    if !locks_remain {
        findings.retain(|f| !matches!(f.action, Action::SetLockTimeout { .. }));
    }
    let lock_timeout_set = match &lock_timeout {
        Some((value, _, true)) if locks_remain => {
            edits.extend(lock_timeout_edits(split, statements, &cut, value, eol));
            true
        }
        _ => false,
    };
    edits.extend(
        merge(
            cut.iter()
                .map(|&s| cut_range(text, split, statements, s, &cut, eol))
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
        lock_timeout_set,
        names: &names,
    };
    let outcomes = resolve(findings, text, split, statements, &placement, &folders);
    let unanalysed = statements
        .iter()
        .filter_map(|s| match &s.fact {
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
    })
}

/// Actions that cut their statement out into a folder of its own.
fn moves_alone(action: &Action) -> bool {
    matches!(
        action,
        Action::BuildIndexConcurrently { .. }
            | Action::DropIndexConcurrently { .. }
            | Action::MoveAlone { .. }
            | Action::UniqueViaIndex { .. }
    )
}

/// `UniqueViaIndex`: (the concurrent build, the statement attaching it).
fn unique_via_index_sql(action: &Action) -> Option<(String, String)> {
    let Action::UniqueViaIndex {
        table,
        constraint,
        primary,
        columns,
    } = action
    else {
        return None;
    };
    let index = quote(constraint);
    let columns: Vec<String> = columns.iter().map(|c| quote(c)).collect();
    let kind = if *primary { "PRIMARY KEY" } else { "UNIQUE" };
    Some((
        format!(
            "CREATE UNIQUE INDEX CONCURRENTLY {index} ON {table}({});",
            columns.join(", ")
        ),
        format!("ALTER TABLE {table} ADD CONSTRAINT {index} {kind} USING INDEX {index};"),
    ))
}

/// ` CONCURRENTLY` for an index build or drop that lacks it; nothing for statements that have it.
fn concurrently_edit(fact: &Fact) -> Vec<Edit> {
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

/// The slug of a folder holding one statement alone.
fn alone_slug(fact: &Fact) -> String {
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

/// `SET LOCAL lock_timeout` before the first statement left in the original, and after each COMMIT
/// that has statements after it (SET LOCAL ends with its transaction).
fn lock_timeout_edits(
    split: &SplitFile,
    statements: &[Statement],
    cut: &BTreeSet<usize>,
    value: &str,
    eol: &str,
) -> Vec<Edit> {
    let set = format!("SET LOCAL lock_timeout = '{}';", value.replace('\'', "''"));
    let remaining: Vec<usize> = (0..statements.len()).filter(|i| !cut.contains(i)).collect();
    let mut edits = Vec::new();
    if let Some(&first) = remaining.first() {
        let piece = &split.pieces[statements[first].piece];
        let at = piece.block_start().expect("statement piece");
        edits.push(Edit::insert(
            at,
            format!("-- migrate-safe: lock-timeout{eol}{set}{eol}{eol}"),
        ));
    }
    for pair in remaining.windows(2) {
        if statements[pair[0]].fact == Fact::Commit {
            let piece = &split.pieces[statements[pair[0]].piece];
            let end = piece.statement.as_ref().expect("statement piece").end;
            edits.push(Edit::insert(end, format!("{eol}{set}")));
        }
    }
    edits
}

/// A foreign key that moves to a later migration lands where its table already exists (it was created
/// by the original): it is split too, so the moved statement never scans under a write-blocking lock.
fn split_moved_foreign_keys(
    statements: &[Statement],
    placement: &Placement,
    findings: &mut Vec<Finding>,
) {
    for &dependent in placement.dependents.keys() {
        let Fact::AlterTable { table, changes } = &statements[dependent].fact else {
            continue;
        };
        for change in changes {
            let TableChange::AddForeignKey(fk) = &change.kind else {
                continue;
            };
            let (false, Some(name)) = (fk.not_valid, &fk.name) else {
                continue;
            };
            let already = findings.iter().any(|f| {
                f.statement == dependent
                    && matches!(&f.action, Action::SplitForeignKey { constraint, .. } if constraint == name)
            });
            if already {
                continue;
            }
            findings
                .retain(|f| f.statement != dependent || !matches!(f.action, Action::LeaveAlone));
            findings.push(Finding {
                rule: crate::rules::foreign_key_not_valid::RULE.id,
                severity: Some(crate::rules::foreign_key_not_valid::RULE.severity),
                statement: dependent,
                line: statements[dependent].line,
                column: statements[dependent].column,
                help: None,
                message: format!(
                    "FOREIGN KEY \"{name}\" on {table} must follow an index into a later migration, where {table} already exists: add it NOT VALID, VALIDATE it later"
                ),
                action: Action::SplitForeignKey {
                    table: table.clone(),
                    constraint: name.clone(),
                    referenced_table: fk.referenced_table.clone(),
                    referenced_columns: fk.referenced_columns.clone(),
                    not_valid_at: fk.not_valid_at,
                },
            });
        }
    }
}

/// Decide what moves: index builds, then every later statement that needs one of them (by name, or a
/// foreign key relying on a moved unique index), transitively.
fn place(split: &SplitFile, statements: &[Statement], findings: &mut [Finding]) -> Placement {
    let in_block = transaction_blocks(statements);
    loop {
        let builds: Vec<usize> = findings
            .iter()
            .filter(|f| moves_alone(&f.action))
            .map(|f| f.statement)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let dependents = dependents(split, statements, findings, &builds);
        // A statement inside BEGIN ... COMMIT cannot follow its index out; keep the index inline then.
        let stuck: BTreeSet<usize> = dependents
            .iter()
            .filter(|(d, _)| in_block[**d])
            .flat_map(|(_, needs)| needs.iter().copied())
            .collect();
        if !stuck.is_empty() {
            for finding in findings.iter_mut().filter(|f| stuck.contains(&f.statement)) {
                if moves_alone(&finding.action) {
                    finding.action = Action::LeaveAlone;
                    finding.message.push_str(
                        ": left alone: a statement inside an explicit BEGIN ... COMMIT block needs it where it is; move it by hand",
                    );
                }
            }
            continue;
        }
        let cut: HashSet<usize> = builds.iter().chain(dependents.keys()).copied().collect();
        let nothing_left = statements.iter().enumerate().all(|(i, _)| cut.contains(&i));
        let mut placement = Placement {
            builds,
            dependents,
            ..Placement::default()
        };
        if nothing_left && !placement.builds.is_empty() {
            placement.build_in_place = Some(placement.builds.remove(0));
        }
        return placement;
    }
}

fn transaction_blocks(statements: &[Statement]) -> Vec<bool> {
    let mut inside = false;
    statements
        .iter()
        .map(|s| match s.fact {
            Fact::Begin => {
                inside = true;
                true
            }
            Fact::Commit => {
                let was = inside;
                inside = false;
                was
            }
            _ => inside,
        })
        .collect()
}

fn dependents(
    split: &SplitFile,
    statements: &[Statement],
    findings: &[Finding],
    builds: &[usize],
) -> BTreeMap<usize, BTreeSet<usize>> {
    // Names of moved objects → the builds they need.
    let mut names: Vec<(String, usize, BTreeSet<usize>)> = Vec::new(); // (name, defined at, needs)
    let mut unique_keys: Vec<(QualifiedName, BTreeSet<String>, usize)> = Vec::new();
    for finding in findings {
        let defined = match &finding.action {
            Action::DropIndexConcurrently { index, .. } => Some(index.name.clone()),
            Action::MoveAlone { defines } => defines.clone(),
            Action::UniqueViaIndex {
                table,
                constraint,
                columns,
                ..
            } => {
                unique_keys.push((
                    table.clone(),
                    columns.iter().cloned().collect(),
                    finding.statement,
                ));
                Some(constraint.clone())
            }
            _ => None,
        };
        if let Some(name) = defined {
            names.push((name, finding.statement, BTreeSet::from([finding.statement])));
        }
        if let Action::BuildIndexConcurrently {
            index,
            table,
            unique,
            key_columns,
            ..
        } = &finding.action
        {
            if let Some(index) = index {
                names.push((
                    index.name.clone(),
                    finding.statement,
                    BTreeSet::from([finding.statement]),
                ));
            }
            if *unique {
                let columns = key_columns.iter().flatten().cloned().collect();
                unique_keys.push((table.clone(), columns, finding.statement));
            }
        }
    }
    let mut dependents: BTreeMap<usize, BTreeSet<usize>> = BTreeMap::new();
    let first = builds.iter().min().copied().unwrap_or(usize::MAX);
    for (i, statement) in statements.iter().enumerate().skip(first.saturating_add(1)) {
        if builds.contains(&i) {
            continue;
        }
        let piece = &split.pieces[statement.piece];
        let words: HashSet<String> = split
            .significant_tokens(piece)
            .filter_map(|t| match &t.token {
                sqlparser::tokenizer::Token::Word(w) => Some(if w.quote_style.is_some() {
                    w.value.clone()
                } else {
                    w.value.to_lowercase()
                }),
                _ => None,
            })
            .collect();
        let mut needs: BTreeSet<usize> = names
            .iter()
            .filter(|(name, at, _)| *at < i && words.contains(name))
            .flat_map(|(_, _, needs)| needs.iter().copied())
            .collect();
        // `INSERT .. ON CONFLICT` on a table needs its unique index to exist.
        if words.contains("conflict") {
            needs.extend(
                unique_keys
                    .iter()
                    .filter(|(table, _, at)| *at < i && words.contains(&table.name))
                    .map(|(_, _, at)| *at),
            );
        }
        for fk in foreign_keys(&statement.fact) {
            let referenced: BTreeSet<String> = fk.1.iter().cloned().collect();
            needs.extend(
                unique_keys
                    .iter()
                    .filter(|(table, columns, at)| {
                        *at < i && table == fk.0 && !columns.is_empty() && *columns == referenced
                    })
                    .map(|(_, _, at)| *at),
            );
        }
        if needs.is_empty() {
            continue;
        }
        for defined in defined_names(&statement.fact) {
            names.push((defined, i, needs.clone()));
        }
        dependents.insert(i, needs);
    }
    dependents
}

fn foreign_keys(fact: &Fact) -> Vec<(&QualifiedName, &Vec<String>)> {
    match fact {
        Fact::AlterTable { changes, .. } => changes
            .iter()
            .filter_map(|c| match &c.kind {
                TableChange::AddForeignKey(fk) => {
                    Some((&fk.referenced_table, &fk.referenced_columns))
                }
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Names a statement introduces that later statements may refer to.
fn defined_names(fact: &Fact) -> Vec<String> {
    match fact {
        Fact::RenameIndex { to, .. } => vec![to.name.clone()],
        Fact::CreateIndex(index) => index.name.iter().map(|n| n.name.clone()).collect(),
        Fact::AlterTable { changes, .. } => changes
            .iter()
            .filter_map(|c| match &c.kind {
                TableChange::AddForeignKey(fk) => fk.name.clone(),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The text a cut statement takes along: its header, the statement with its edits, its trailing comment.
fn moved_text(
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
fn cut_range(
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

fn merge(mut ranges: Vec<Range<usize>>) -> Vec<Range<usize>> {
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

fn slug(name: &str) -> String {
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

fn folder_names<'a>(
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

fn folder_purposes(
    statements: &[Statement],
    placement: &Placement,
    attaches: bool,
    validates_foreign_keys_only: Option<bool>,
    sets_not_null: bool,
) -> Vec<String> {
    let mut purposes: Vec<String> = placement
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
        .collect();
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

/// Where things went, for the outcomes.
struct Folders<'a> {
    build: BTreeMap<usize, usize>,
    after: Option<usize>,
    validate: Option<usize>,
    not_null: Option<usize>,
    lock_timeout_set: bool,
    names: &'a [String],
}

fn resolve(
    findings: Vec<Finding>,
    text: &str,
    split: &SplitFile,
    statements: &[Statement],
    placement: &Placement,
    folders: &Folders,
) -> Vec<Outcome> {
    let names = folders.names;
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
                } => folders
                    .lock_timeout_set
                    .then(|| format!("SET LOCAL lock_timeout = '{value}' at the top of the migration")),
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

/// The start of a statement's first line, for messages.
fn excerpt(text: &str, split: &SplitFile, statement: &Statement) -> String {
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

    #[test]
    fn touching_cuts_merge() {
        assert_eq!(merge(vec![5..9, 0..3, 3..5, 12..14]), vec![0..9, 12..14]);
    }
}
