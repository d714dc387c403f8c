//! The `rewrite` command: discover, analyse, report, and write (unless --dry-run / --check).

use std::io::Write;

use crate::Outcome;
use crate::analyse::{Targets, analyse_each, resolve_targets};
use crate::check::verify::verify;
use crate::cli::{Format, RewriteArgs};
use crate::config::Loaded;
use crate::db::provision::{ProvisionError, Wanted, provision_from};
use crate::error::{Error, Result};
use crate::fix::write::{FileChange, NewFolder, write_atomically};
use crate::prisma::history::{State, read_history};
use crate::report::{self, Mode, Proof, Report, Sink, stdout};
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
                deployed_by_migrate_safe: false,
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
    let policy = ProofPolicy::resolve(args, &config)?;
    // Proven by default before a write; a dry run only when a proof is required.
    let prove = match (mode, policy) {
        (Mode::Check, _) | (_, ProofPolicy::Skip(_)) => false,
        (Mode::Write, _) | (Mode::DryRun, ProofPolicy::Require(_)) => true,
        (Mode::DryRun, ProofPolicy::Auto) => false,
    };
    // Printed as they come; only the plans that change something are kept, and only when they are to be
    // proven or written.
    let keep = mode == Mode::Write || prove;
    let (mut changed, mut new_folders, mut hazards_left) = (0, 0, 0);
    // The header waits for the first plan, so input errors found while planning it print nothing.
    let mut started = false;
    let mut plans = Vec::new();
    analyse_each(&dir, &target_names, &options, |plan, source| {
        // A statement PostgreSQL's grammar rejects: the file can never be applied; refuse it whole,
        // before anything is printed or written.
        if let Some(invalid) = plan
            .outcomes
            .iter()
            .find(|o| o.finding.rule == crate::rules::invalid_sql::RULE.id)
        {
            return Err(Error::Sql {
                path: source.migration.sql_path(),
                line: invalid.finding.line,
                column: invalid.finding.column,
                message: format!(
                    "{}; nothing was rewritten: correct the statement",
                    invalid.finding.message
                ),
            });
        }
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
    let mut verification = None;
    let proof = if !needs_rewrite {
        Proof::NotRun {
            why: "nothing to rewrite".into(),
        }
    } else if !prove {
        match policy {
            ProofPolicy::Skip(why) => Proof::Skipped { why: why.into() },
            _ if mode == Mode::Check => Proof::NotRun {
                why: "--check writes nothing".into(),
            },
            _ => Proof::NotRun {
                why: "a dry run is proven only with --require-proof".into(),
            },
        }
    } else {
        let shadow = crate::prisma::shadow::find(&dir.path);
        let wanted = Wanted {
            url: args.scratch_url.as_deref(),
            configured: config.scratch_url(),
            shadow: Some(shadow),
        };
        let demanded = match policy {
            ProofPolicy::Require(by) => Some(by),
            _ => None,
        };
        // No proof could be made: said and written, unless one was demanded.
        let unavailable = |why: String| match demanded {
            None => Ok(Proof::NotProven {
                why,
                how: HOW_TO_PROVE.into(),
            }),
            Some(by) => Err(Error::Database(format!(
                "{by} demands a proof, and none can be made, so nothing was written: {why}"
            ))),
        };
        match provision_from(&wanted, &args.pg_version) {
            Ok(server) => match verify(&dir, &plans, &server, &prisma.models) {
                Ok(results) => {
                    let description = server.description.clone();
                    let all = results.iter().all(|v| v.proven());
                    verification = Some((description.clone(), results));
                    if all {
                        Proof::Proven {
                            server: description,
                        }
                    } else {
                        Proof::Failed {
                            server: description,
                        }
                    }
                }
                Err(Error::ProofUnavailable(why)) => unavailable(why)?,
                Err(e) => return Err(e),
            },
            Err(ProvisionError::NothingAvailable { tried }) => unavailable(format!(
                "no scratch server could be had:\n{}",
                tried
                    .iter()
                    .enumerate()
                    .map(|(i, t)| format!("  {}. {t}", i + 1))
                    .collect::<Vec<_>>()
                    .join("\n")
            ))?,
            Err(e) => return Err(Error::Database(e.to_string())),
        }
    };
    let proven = !matches!(proof, Proof::Failed { .. });
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
        proof: &proof,
    };
    if !started {
        stdout(sink.begin(&dir, &prisma, mode, target_names.len()))?;
    }
    stdout(sink.finish(&report))?;
    if let Proof::NotProven { why, how } = &proof {
        let what = if written {
            "written, but NOT proven"
        } else {
            "NOT proven"
        };
        eprintln!("warning: the rewrite was {what}: {why}\n{how}");
    }
    Ok(if !proven || (mode == Mode::Check && needs_rewrite) {
        Outcome::Findings
    } else {
        Outcome::Clean
    })
}

/// What to do about the proof, and who decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ProofPolicy {
    /// Prove when a scratch server can be had; otherwise write and say it is not proven.
    Auto,
    /// Prove, or write nothing (the flag, variable or setting that demands it).
    Require(&'static str),
    /// Do not prove (the flag or variable that said so).
    Skip(&'static str),
}

/// Demands a proof in CI (or anywhere): `rewrite` then writes nothing it could not prove.
pub const REQUIRE_PROOF_ENV: &str = "MIGRATE_SAFE_REQUIRE_PROOF";
/// Skips the proof, as `--no-verify`.
pub const NO_VERIFY_ENV: &str = "MIGRATE_SAFE_NO_VERIFY";

const HOW_TO_PROVE: &str = "To prove a rewrite before it is written, give migrate-safe a scratch server: --scratch-url URL, MIGRATE_SAFE_SCRATCH_URL or `scratch-url` in migrate-safe.toml (any PostgreSQL where the role may create databases; `docker compose up -d` with this project's docker-compose.yml gives one), a Prisma shadowDatabaseUrl, a running Docker engine, or PostgreSQL's initdb and pg_ctl; then rewrite from the original again (undo this one with git). `--require-proof` or MIGRATE_SAFE_REQUIRE_PROOF=1 makes this an error with nothing written; `migrate-safe check` proves what was written applies and leaves no INVALID index or NOT VALID constraint.";

impl ProofPolicy {
    /// Flags first, then the environment, then migrate-safe.toml; a demand for a proof and a refusal
    /// of it from different places is an error, not a choice.
    fn resolve(args: &RewriteArgs, config: &Loaded) -> Result<Self> {
        let set = |name: &str| {
            std::env::var(name).is_ok_and(|v| !v.is_empty() && v != "0" && v != "false")
        };
        let demanded = if args.require_proof {
            Some("--require-proof")
        } else if set(REQUIRE_PROOF_ENV) {
            Some("MIGRATE_SAFE_REQUIRE_PROOF")
        } else if config.config.require_proof == Some(true) {
            Some("require-proof in migrate-safe.toml")
        } else {
            None
        };
        let refused = if args.no_verify {
            Some("--no-verify")
        } else if set(NO_VERIFY_ENV) && !args.require_proof {
            Some("MIGRATE_SAFE_NO_VERIFY")
        } else {
            None
        };
        match (demanded, refused) {
            (Some(demand), Some(refusal)) => Err(Error::Usage(format!(
                "{refusal} skips the proof that {demand} demands: drop one of them"
            ))),
            (Some(demand), None) => Ok(ProofPolicy::Require(demand)),
            (None, Some(refusal)) => Ok(ProofPolicy::Skip(refusal)),
            (None, None) => Ok(ProofPolicy::Auto),
        }
    }
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
