//! Where each statement goes: index builds and other CONCURRENTLY statements cut out into folders of
//! their own, and every later statement that needs one of them (by name, or a foreign key relying on a
//! moved unique index), transitively.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use crate::rules::{Action, Finding};
use crate::source::classify::{Fact, Statement, TableChange};
use crate::source::names::QualifiedName;
use crate::source::split::SplitFile;

/// Where each statement goes.
#[derive(Default)]
pub(super) struct Placement {
    /// Index builds cut out, in order (statement indexes).
    pub(super) builds: Vec<usize>,
    /// The one build left in place because nothing else would remain in the file.
    pub(super) build_in_place: Option<usize>,
    /// Statements that need a moved index, with the builds they (transitively) need.
    pub(super) dependents: BTreeMap<usize, BTreeSet<usize>>,
}

/// Actions that cut their statement out into a folder of its own.
pub(super) fn moves_alone(action: &Action) -> bool {
    matches!(
        action,
        Action::BuildIndexConcurrently { .. }
            | Action::DropIndexConcurrently { .. }
            | Action::MoveAlone { .. }
            | Action::UniqueViaIndex { .. }
    )
}

/// A foreign key that moves to a later migration lands where its table already exists (it was created
/// by the original): it is split too, so the moved statement never scans under a write-blocking lock.
pub(super) fn split_moved_foreign_keys(
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
            findings.push(Finding::foreign_key_after_moved_index(
                dependent,
                &statements[dependent],
                table,
                fk,
                name,
            ));
        }
    }
}

/// Decide what moves: index builds, then every later statement that needs one of them (by name, or a
/// foreign key relying on a moved unique index), transitively.
pub(super) fn place(
    text: &str,
    split: &SplitFile,
    statements: &[Statement],
    findings: &mut [Finding],
) -> Placement {
    let in_block = transaction_blocks(statements);
    loop {
        let builds: Vec<usize> = findings
            .iter()
            .filter(|f| moves_alone(&f.action))
            .map(|f| f.statement)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let dependents = dependents(text, split, statements, findings, &builds);
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
        // A drop moves only if every statement using its table or the index leaves the file too (one
        // that stays locks the table anyway, or needs the order kept). A UNIQUE build moves only if
        // every statement of the migration that destroys something leaves it too: cut, it follows a
        // moved index into the folder after all builds, so a failed build finds it not yet run.
        let mut kept = false;
        for finding in findings.iter_mut() {
            let conditions = match &mut finding.action {
                Action::DropIndexConcurrently { unless_kept, .. } => unless_kept,
                Action::BuildIndexConcurrently { failure_order, .. }
                | Action::UniqueViaIndex { failure_order, .. } => failure_order,
                _ => continue,
            };
            let stays = conditions
                .iter_mut()
                .find(|k| k.statement.is_none_or(|s| !cut.contains(&s)))
                .map(|k| (std::mem::take(&mut k.message), std::mem::take(&mut k.help)));
            if let Some((message, help)) = stays {
                finding.message = message;
                finding.help = Some(help);
                finding.action = Action::LeaveAlone;
                kept = true;
            }
        }
        if kept {
            continue;
        }
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

pub(super) fn transaction_blocks(statements: &[Statement]) -> Vec<bool> {
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

pub(super) fn dependents(
    text: &str,
    split: &SplitFile,
    statements: &[Statement],
    findings: &[Finding],
    builds: &[usize],
) -> BTreeMap<usize, BTreeSet<usize>> {
    // Names of moved objects → (defined at, the builds they need): looked up by each statement's words,
    // so a file of many builds costs no more per statement than a short one.
    let mut names: HashMap<String, Vec<(usize, BTreeSet<usize>)>> = HashMap::new();
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
            names
                .entry(name)
                .or_default()
                .push((finding.statement, BTreeSet::from([finding.statement])));
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
                names
                    .entry(index.name.clone())
                    .or_default()
                    .push((finding.statement, BTreeSet::from([finding.statement])));
            }
            if *unique {
                let columns = key_columns.iter().flatten().cloned().collect();
                unique_keys.push((table.clone(), columns, finding.statement));
            }
        }
    }
    let mut dependents: BTreeMap<usize, BTreeSet<usize>> = BTreeMap::new();
    let first = builds.iter().min().copied().unwrap_or(usize::MAX);
    let is_build: HashSet<usize> = builds.iter().copied().collect();
    for (i, statement) in statements.iter().enumerate().skip(first.saturating_add(1)) {
        if is_build.contains(&i) {
            continue;
        }
        let piece = &split.pieces[statement.piece];
        let words: HashSet<String> = split
            .significant_tokens(text, piece)
            .filter_map(|t| t.ident())
            .collect();
        let mut needs: BTreeSet<usize> = words
            .iter()
            .filter_map(|word| names.get(word))
            .flatten()
            .filter(|(at, _)| *at < i)
            .flat_map(|(_, needs)| needs.iter().copied())
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
            names.entry(defined).or_default().push((i, needs.clone()));
        }
        dependents.insert(i, needs);
    }
    dependents
}

pub(super) fn foreign_keys(fact: &Fact) -> Vec<(&QualifiedName, &Vec<String>)> {
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
pub(super) fn defined_names(fact: &Fact) -> Vec<String> {
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
