//! Analyse a migrations directory: replay the history in order, and plan a rewrite for each target.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use crate::error::{Error, Result};
use crate::fix::plan::{FolderNaming, MigrationPlan, plan_migration};
use crate::model::SchemaModel;
use crate::prisma::order::FolderOrder;
use crate::rules::suppress::Suppressions;
use crate::rules::{RewrittenBefore, RuleOptions, check_migration, destroys};
use crate::source::classify::{Statement, classify};
use crate::source::discover::{Migration, MigrationsDir, Origin};
use crate::source::split::SplitFile;
use crate::source::split_migration;

/// Which migrations to rewrite.
#[derive(Debug, Clone)]
pub enum Targets {
    /// The newest migration that is not a baseline or written by this tool.
    Newest,
    /// These folders.
    Named(Vec<String>),
    /// Every migration that is not a baseline or written by this tool.
    All,
}

impl Targets {
    /// From the command line: `--all`, else `--migration NAME...`, else the newest.
    pub fn from_flags(all: bool, migrations: &[String]) -> Self {
        if all {
            Targets::All
        } else if migrations.is_empty() {
            Targets::Newest
        } else {
            Targets::Named(migrations.to_vec())
        }
    }
}

/// Targets to report on live (`check`): any folder may be named; by default the newest migration and
/// the folders migrate-safe generated after it; `--all` includes generated folders.
pub fn resolve_check_targets(dir: &MigrationsDir, targets: &Targets) -> Result<Vec<String>> {
    Ok(match targets {
        Targets::Newest => {
            let newest = dir
                .migrations
                .iter()
                .rposition(|m| m.origin == Origin::Prisma);
            match newest {
                Some(i) => dir.migrations[i..]
                    .iter()
                    .filter(|m| m.origin != Origin::Baseline)
                    .map(|m| m.name.clone())
                    .collect(),
                None => Vec::new(),
            }
        }
        Targets::All => dir
            .migrations
            .iter()
            .filter(|m| m.origin != Origin::Baseline)
            .map(|m| m.name.clone())
            .collect(),
        Targets::Named(names) => {
            if let Some(missing) = names.iter().find(|n| dir.get(n).is_none()) {
                return Err(Error::Usage(no_such_migration(dir, missing)));
            }
            dir.migrations
                .iter()
                .filter(|m| names.contains(&m.name))
                .map(|m| m.name.clone())
                .collect()
        }
    })
}

/// Resolve targets to folder names, refusing baselines and generated folders.
pub fn resolve_targets(dir: &MigrationsDir, targets: &Targets) -> Result<Vec<String>> {
    let rewritable = |origin: Origin| origin == Origin::Prisma;
    Ok(match targets {
        Targets::Newest => dir
            .migrations
            .iter()
            .rev()
            .find(|m| rewritable(m.origin))
            .map(|m| vec![m.name.clone()])
            .unwrap_or_default(),
        Targets::All => dir
            .migrations
            .iter()
            .filter(|m| rewritable(m.origin))
            .map(|m| m.name.clone())
            .collect(),
        Targets::Named(names) => {
            for name in names {
                let Some(migration) = dir.get(name) else {
                    return Err(Error::Usage(no_such_migration(dir, name)));
                };
                match migration.origin {
                    Origin::Baseline => {
                        return Err(Error::Usage(format!(
                            "{name} is a baseline (0_* folder): it describes a database that already exists and is never rewritten"
                        )));
                    }
                    Origin::Generated => {
                        return Err(Error::Usage(format!(
                            "{name} was written by migrate-safe; it is never rewritten"
                        )));
                    }
                    Origin::Prisma => {}
                }
            }
            // Prisma's order, each once.
            dir.migrations
                .iter()
                .filter(|m| names.contains(&m.name))
                .map(|m| m.name.clone())
                .collect()
        }
    })
}

/// With a deployed database: by default every migration pending there; never one it has applied.
pub fn pending_targets(
    dir: &MigrationsDir,
    url: &str,
    targets: &Targets,
    resolved: Vec<String>,
) -> Result<Vec<String>> {
    crate::db::provision::check_url(url).map_err(|e| Error::Database(e.to_string()))?;
    let mut client = crate::db::connect(url).map_err(|e| Error::Database(e.to_string()))?;
    if !crate::prisma::history::has_history(&mut client)
        .map_err(|e| Error::Database(e.to_string()))?
    {
        return Err(Error::Usage(format!(
            "{} has no _prisma_migrations table: Prisma has never deployed to it, so every migration would count as pending. --database-url is the application's deployed database; a scratch server for --verify is --scratch-url, and a migration not deployed anywhere yet needs no --database-url",
            crate::db::redact(url)
        )));
    }
    let history = crate::prisma::history::read_history(&mut client, dir)
        .map_err(|e| Error::Database(e.to_string()))?;
    let state = |name: &str| {
        history
            .iter()
            .find(|m| m.migration == name)
            .map(|m| m.state)
    };
    if matches!(targets, Targets::Newest) {
        return Ok(dir
            .migrations
            .iter()
            .filter(|m| {
                m.origin == Origin::Prisma
                    && state(&m.name).is_some_and(crate::prisma::history::State::is_pending)
            })
            .map(|m| m.name.clone())
            .collect());
    }
    for name in &resolved {
        match state(name) {
            Some(
                crate::prisma::history::State::Applied | crate::prisma::history::State::Modified,
            ) => {
                return Err(Error::Usage(format!(
                    "{name} is already applied in {}: rewriting it would change an applied migration (Prisma reports it as modified); write a new migration instead",
                    crate::db::redact(url)
                )));
            }
            Some(crate::prisma::history::State::Failed) => {
                return Err(Error::Usage(format!(
                    "{name} failed in {} and is not resolved: run `prisma migrate resolve --rolled-back {}` first (see `migrate-safe status`)",
                    crate::db::redact(url),
                    crate::escape::shell(name)
                )));
            }
            _ => {}
        }
    }
    Ok(resolved)
}

/// Plan a rewrite of each target against the history before it.
pub fn analyse(
    dir: &MigrationsDir,
    targets: &[String],
    options: &RuleOptions,
    naming: FolderNaming,
) -> Result<Vec<MigrationPlan>> {
    let mut plans = Vec::new();
    analyse_each(dir, targets, options, naming, |plan, _| {
        plans.push(plan);
        Ok(())
    })?;
    Ok(plans)
}

/// A target's file as read: what a reporter needs beyond the plan (token positions, comments).
pub struct Source<'a> {
    pub migration: &'a Migration,
    pub split: &'a SplitFile,
    pub statements: &'a [Statement],
}

/// The same, handing each plan (with its source) to `each` as soon as it is made (in Prisma's order),
/// so a long history is never held whole.
pub fn analyse_each(
    dir: &MigrationsDir,
    targets: &[String],
    options: &RuleOptions,
    naming: FolderNaming,
    mut each: impl FnMut(MigrationPlan, &Source) -> Result<()>,
) -> Result<()> {
    let order = FolderOrder::new(dir.migrations.iter().map(|m| m.name.as_str()));
    let targets: HashSet<&str> = targets.iter().map(String::as_str).collect();
    let mut model = SchemaModel::default();
    let last_target = dir
        .migrations
        .iter()
        .rposition(|m| targets.contains(m.name.as_str()));
    let Some(last_target) = last_target else {
        return Ok(());
    };
    let history = &dir.migrations[..=last_target];
    // Folders earlier rewrites wrote, by the migration they were written for (few: read when asked).
    let mut written_for: HashMap<String, Vec<&Migration>> = HashMap::default();
    for migration in &dir.migrations {
        if let Some(original) = migration.written_for() {
            written_for.entry(original).or_default().push(migration);
        }
    }
    // Splitting and classifying are independent per file: a second thread does them in batches ahead of
    // this one, which replays the model, checks and plans in order (each step needs the schema the
    // previous migration left). This thread reads the first batch itself meanwhile, so it does not wait
    // for the reader to start. Read files go back to the thread that made them to be freed (glibc's
    // allocator is slow at freeing across threads). Both channels are bounded: a long history is never
    // held whole.
    let (head, tail) = history.split_at(READ_BATCH.min(history.len()));
    let mut migrations = history.iter();
    let mut plan_batch = |reads: Vec<Result<Read>>| -> Result<Vec<Read>> {
        let mut used = Vec::with_capacity(reads.len());
        for read in reads {
            let migration = migrations.next().expect("one read per migration");
            let (split, statements) = read?;
            if targets.contains(migration.name.as_str()) {
                // Applies the migration's statements to `model` as it checks them.
                let findings = check_migration(
                    &migration.name,
                    &migration.sql,
                    &statements,
                    &mut model,
                    options,
                    rewritten_before(&written_for, &migration.name)?,
                    split.fast.then_some(split.tokens.as_slice()),
                );
                // What `-- migrate-safe-ignore:` accepts is neither fixed nor reported, as in lint.
                let (findings, suppressed) = if Suppressions::any_in(&migration.sql) {
                    let suppressions = Suppressions::read(&migration.sql, &split, &statements);
                    findings
                        .into_iter()
                        .partition(|f| !suppressions.silences(f.statement, f.rule))
                } else {
                    (findings, Vec::new())
                };
                let mut plan =
                    plan_migration(migration, &split, &statements, findings, &order, naming)?;
                plan.suppressed = suppressed;
                let source = Source {
                    migration,
                    split: &split,
                    statements: &statements,
                };
                each(plan, &source)?;
            } else {
                for statement in &statements {
                    model.apply(&statement.fact, &migration.name);
                }
            }
            used.push((split, statements));
        }
        Ok(used)
    };
    let targets = &targets;
    std::thread::scope(|scope| {
        let (sender, receiver) = std::sync::mpsc::sync_channel::<Vec<_>>(1);
        let (returns, returned) = std::sync::mpsc::channel::<Vec<Read>>();
        scope.spawn(move || {
            for batch in tail.chunks(READ_BATCH) {
                while let Ok(used) = returned.try_recv() {
                    drop(used);
                }
                let reads = read_batch(batch, targets);
                let failed = reads.last().is_some_and(|r| r.is_err());
                if sender.send(reads).is_err() || failed {
                    break; // an error ends the reading, and so does the planner stopping
                }
            }
            drop(sender);
            for used in returned {
                drop(used);
            }
        });
        // A failed split is an error here, which ends the scope and with it the reader.
        drop(plan_batch(read_batch(head, targets))?);
        for batch in receiver {
            let used = plan_batch(batch)?;
            let _ = returns.send(used);
        }
        drop(returns);
        Ok(())
    })
}

/// The first statement that destroys something in the folders an earlier rewrite wrote for
/// `migration` (they run before any folder a fix of it adds now).
fn rewritten_before(
    written_for: &HashMap<String, Vec<&Migration>>,
    migration: &str,
) -> Result<Option<RewrittenBefore>> {
    for folder in written_for.get(migration).into_iter().flatten() {
        let split = split_migration(folder)?;
        let statements = classify(&split, &folder.sql);
        if let Some((line, what)) = statements
            .iter()
            .find_map(|s| Some((s.line, destroys(s, &folder.sql)?)))
        {
            return Ok(Some(RewrittenBefore {
                folder: folder.name.clone(),
                line,
                what,
            }));
        }
    }
    Ok(None)
}

/// A migration's file split and classified.
type Read = (SplitFile, Vec<Statement>);

/// Split and classify each file of a batch, stopping at the first that fails.
fn read_batch(batch: &[Migration], targets: &HashSet<&str>) -> Vec<Result<Read>> {
    let mut reads = Vec::with_capacity(batch.len());
    for migration in batch {
        let read = split_migration(migration).map(|split| {
            let statements = classify(&split, &migration.sql);
            // PostgreSQL's grammar verdicts, while the other thread plans: its `invalid-sql` check
            // then finds them remembered.
            if targets.contains(migration.name.as_str()) {
                for statement in &statements {
                    let text = &migration.sql[statement.bytes.clone()];
                    let _ = crate::source::grammar::gate().check(text);
                }
            }
            (split, statements)
        });
        let failed = read.is_err();
        reads.push(read);
        if failed {
            break;
        }
    }
    reads
}

/// Files per batch handed from the reader to the planner (one more batch may wait).
const READ_BATCH: usize = 16;

/// "No migration folder named X", with the folders it may mean: a name that starts with it (the
/// timestamp alone, `20240301120000`), or one that differs only in case.
pub fn no_such_migration(dir: &MigrationsDir, name: &str) -> String {
    let close: Vec<&str> = dir
        .migrations
        .iter()
        .map(|m| m.name.as_str())
        .filter(|m| m.starts_with(name) || m.eq_ignore_ascii_case(name))
        .take(3)
        .collect();
    let hint = match close.as_slice() {
        [] => String::new(),
        [one] => format!("; did you mean \"{one}\"?"),
        many => format!(
            "; did you mean one of {}?",
            many.iter()
                .map(|m| format!("\"{m}\""))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    format!(
        "{}: no migration folder named \"{name}\"{hint}",
        dir.path.display()
    )
}
