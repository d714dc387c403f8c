//! The `rewrite` command: discover, analyse, report, and write (unless --dry-run / --check).

use std::io::Write;

use crate::Outcome;
use crate::analyse::{Targets, analyse_each, resolve_targets};
use crate::check::verify::verify;
use crate::cli::{Format, RewriteArgs};
use crate::config::Loaded;
use crate::db::provision::provision;
use crate::error::{Error, Result};
use crate::fix::write::{FileChange, NewFolder, write_atomically};
use crate::prisma::history::{State, read_history};
use crate::report::{self, Mode, Report, Sink, stdout};
use crate::source::discover::{MigrationsDir, Origin, discover};

pub fn run(args: &RewriteArgs, out: &mut dyn Write) -> Result<Outcome> {
    if args.verify_url.is_some() {
        return Err(crate::cli::renamed(
            "--verify-url",
            "--scratch-url",
            crate::cli::SCRATCH_WHY,
        ));
    }
    if args.all && !(args.dry_run || args.check) {
        return Err(Error::Usage(
            "--all analyses every migration as if it were pending, including ones already applied somewhere: it only runs with --dry-run or --check, and never writes".into(),
        ));
    }
    let dir = discover(&args.dir)?;
    let targets = Targets::from_flags(args.all, &args.migrations);
    let mut target_names = resolve_targets(&dir, &targets)?;
    if let (Some(url), false) = (&args.database_url, args.all) {
        target_names = pending_targets(&dir, url, &targets, target_names)?;
    } else if !args.all
        && !args.check
        && let Ok(local) = std::env::var("DATABASE_URL")
    {
        warn_if_applied_locally(&dir, &local, &target_names);
    }
    let config = Loaded::find(args.config.as_deref(), &dir.path)?;
    let prisma = config.prisma_target(args.prisma.prisma_version.as_deref(), &dir.path)?;
    let mut options = config.rule_options_for(&prisma);
    if let Some(mode) = args.foreign_keys {
        options.foreign_keys = mode;
    }
    options.unsafe_fixes |= args.unsafe_fixes;
    let mode = if args.check {
        Mode::Check
    } else if args.dry_run {
        Mode::DryRun
    } else {
        Mode::Write
    };
    let mut out = out;
    let mut text_sink;
    let mut json_sink;
    let sink: &mut dyn Sink = match args.format {
        Format::Text => {
            text_sink = report::text::TextSink {
                out: &mut out,
                color: report::text::use_color(),
                mode,
                database: args
                    .database_url
                    .as_deref()
                    .filter(|_| !args.all)
                    .map(crate::db::redact),
            };
            &mut text_sink
        }
        Format::Json => {
            json_sink = report::json::JsonSink {
                out: &mut out,
                first: true,
            };
            &mut json_sink
        }
    };
    // Printed as they come; only the plans that change something are kept, and only when they are to be
    // verified or written.
    let keep = mode == Mode::Write || args.verify;
    let (mut changed, mut new_folders, mut hazards_left) = (0, 0, 0);
    // The header waits for the first plan, so input errors found while planning it print nothing.
    let mut started = false;
    let mut plans = Vec::new();
    analyse_each(&dir, &target_names, &options, |plan, _| {
        if !std::mem::replace(&mut started, true) {
            stdout(sink.begin(&dir, &prisma, mode, target_names.len()))?;
        }
        stdout(sink.plan(&plan))?;
        hazards_left += plan.hazards_left();
        if plan.changes_anything() {
            changed += 1;
            new_folders += plan.new_migrations.len();
            if keep {
                plans.push(plan);
            }
        }
        Ok(())
    })?;
    let needs_rewrite = changed > 0;
    let verification = if args.verify && needs_rewrite {
        let server = provision(args.scratch_url.as_deref(), &args.pg_version)
            .map_err(|e| Error::Database(e.to_string()))?;
        let results = verify(&dir, &plans, &server, &prisma.models)?;
        Some((server.description.clone(), results))
    } else {
        None
    };
    let proven = verification
        .as_ref()
        .is_none_or(|(_, results)| results.iter().all(|v| v.proven()));
    let written = mode == Mode::Write && needs_rewrite && proven;
    if written {
        let edits: Vec<FileChange> = plans
            .iter()
            .filter(|p| p.edits_original)
            .map(|p| FileChange {
                path: dir
                    .get(&p.migration)
                    .expect("planned migration exists")
                    .sql_path(),
                original: p.original_sql.clone(),
                rewritten: p.rewritten_sql.clone(),
            })
            .collect();
        let folders: Vec<NewFolder> = plans
            .iter()
            .flat_map(|p| &p.new_migrations)
            .map(|m| NewFolder {
                name: m.name.clone(),
                sql: m.sql.clone(),
            })
            .collect();
        write_atomically(&dir.path, &edits, &folders)?;
    }
    let report = Report {
        dir: &dir,
        changed,
        new_folders,
        hazards_left,
        targets: target_names.len(),
        mode,
        written,
        verification: verification
            .as_ref()
            .map(|(server, results)| (server.as_str(), results.as_slice())),
    };
    if !started {
        stdout(sink.begin(&dir, &prisma, mode, target_names.len()))?;
    }
    stdout(sink.finish(&report))?;
    Ok(if !proven || (mode == Mode::Check && needs_rewrite) {
        Outcome::Findings
    } else {
        Outcome::Clean
    })
}

/// Without `--database-url`: a target that the developer's own database (Prisma's `DATABASE_URL`) has
/// already applied is about to be changed under it — `prisma migrate dev` will then call it modified.
/// Said on stderr; an unreachable database says nothing (it is only a courtesy check).
fn warn_if_applied_locally(dir: &MigrationsDir, url: &str, targets: &[String]) {
    if targets.is_empty() || crate::db::provision::check_url(url).is_err() {
        return;
    }
    let quick = if url.contains('?') {
        format!("{url}&connect_timeout=2")
    } else {
        format!("{url}?connect_timeout=2")
    };
    let Ok(mut client) = crate::db::connect(&quick) else {
        return;
    };
    let Ok(history) = read_history(&mut client, dir) else {
        return;
    };
    for status in history.iter().filter(|s| targets.contains(&s.migration)) {
        if matches!(status.state, State::Applied | State::Modified) {
            eprintln!(
                "warning: {} is already applied in {} (DATABASE_URL): after this rewrite `prisma migrate dev` reports it as modified. Rewrite right after `prisma migrate dev --create-only`; to start over here: `prisma migrate reset`, then `prisma migrate dev --create-only` and `migrate-safe rewrite`",
                status.migration,
                crate::db::redact(url)
            );
        }
    }
}

/// With a deployed database: by default every migration pending there; never one it has applied.
pub(crate) fn pending_targets(
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
    let history = read_history(&mut client, dir).map_err(|e| Error::Database(e.to_string()))?;
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
            .filter(|m| m.origin == Origin::Prisma && state(&m.name).is_some_and(State::is_pending))
            .map(|m| m.name.clone())
            .collect());
    }
    for name in &resolved {
        match state(name) {
            Some(State::Applied | State::Modified) => {
                return Err(Error::Usage(format!(
                    "{name} is already applied in {}: rewriting it would change an applied migration (Prisma reports it as modified); write a new migration instead",
                    crate::db::redact(url)
                )));
            }
            Some(State::Failed) => {
                return Err(Error::Usage(format!(
                    "{name} failed in {} and is not resolved: run `prisma migrate resolve --rolled-back {name}` first (see `migrate-safe status`)",
                    crate::db::redact(url)
                )));
            }
            _ => {}
        }
    }
    Ok(resolved)
}
