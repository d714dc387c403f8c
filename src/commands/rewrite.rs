//! `migrate-safe rewrite`: resolve the flags, plan every target (printed as it comes), prove the plans
//! unless told otherwise, write them all at once, and report.

use std::io::Write;

use crate::Outcome;
use crate::analyse::{Targets, analyse_each, resolve_targets};
use crate::cli::{Format, RewriteArgs};
use crate::config::Loaded;
use crate::error::{Error, Result};
use crate::fix::plan::MigrationPlan;
use crate::out::stdout;
use crate::prisma::PrismaTarget;
use crate::report::{self, Mode, Proof, Report, Sink};
use crate::rewrite::{self, ProofPolicy, ProofServer, Verified};
use crate::rules::RuleOptions;
use crate::source::discover::{MigrationsDir, discover};

pub fn run(args: &RewriteArgs, out: &mut dyn Write) -> Result<Outcome> {
    let asked = resolve(args)?;
    let mut out = out;
    let (mut text_sink, mut json_sink);
    let sink: &mut dyn Sink = match args.format {
        Format::Text => {
            text_sink = report::text::TextSink {
                out: &mut out,
                color: report::text::use_color(),
                mode: asked.mode,
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
    let planned = plan(&asked, sink)?;
    let needs_rewrite = planned.changed > 0;
    let (proof, verification) = prove(args, &asked, &planned.kept, needs_rewrite)?;
    let proven = !matches!(proof, Proof::Failed { .. });
    let written = asked.mode == Mode::Write && needs_rewrite && proven;
    if written {
        rewrite::write(&asked.dir, &planned.kept)?;
    }
    let report = Report {
        dir: &asked.dir,
        changed: planned.changed,
        new_folders: planned.new_folders,
        hazards_left: planned.hazards_left,
        targets: asked.targets.len(),
        mode: asked.mode,
        written,
        verification: verification
            .as_ref()
            .map(|(server, results)| (server.as_str(), results.as_slice())),
        proof: &proof,
    };
    if !planned.started {
        stdout(sink.begin(&asked.dir, &asked.prisma, asked.mode, asked.targets.len()))?;
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
    Ok(if !proven || (asked.mode == Mode::Check && needs_rewrite) {
        Outcome::Findings
    } else {
        Outcome::Clean
    })
}

/// What the flags (with the directory's configuration) ask for.
struct Asked {
    dir: MigrationsDir,
    targets: Vec<String>,
    config: Loaded,
    prisma: PrismaTarget,
    options: RuleOptions,
    mode: Mode,
    policy: ProofPolicy,
}

fn resolve(args: &RewriteArgs) -> Result<Asked> {
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
        target_names = crate::analyse::pending_targets(&dir, url, &targets, target_names)?;
    } else if !args.all
        && !args.check
        && let Ok(local) = std::env::var("DATABASE_URL")
    {
        rewrite::warn_if_applied_locally(&dir, &local, &target_names);
    }
    let config = Loaded::find(args.config.as_deref(), &dir.path)?;
    let prisma = config.prisma_target(args.prisma.prisma_version.as_deref(), &dir.path)?;
    let mut options = config.rule_options_for(&prisma);
    if let Some(mode) = args.foreign_keys {
        options.foreign_keys = mode.into();
    }
    options.unsafe_fixes |= args.unsafe_fixes;
    let mode = if args.check {
        Mode::Check
    } else if args.dry_run {
        Mode::DryRun
    } else {
        Mode::Write
    };
    let policy = ProofPolicy::resolve(args.require_proof, args.no_verify, &config)?;
    Ok(Asked {
        dir,
        targets: target_names,
        config,
        prisma,
        options,
        mode,
        policy,
    })
}

/// Proven by default before a write; a dry run only when a proof is required.
fn proves(asked: &Asked) -> bool {
    match (asked.mode, asked.policy) {
        (Mode::Check, _) | (_, ProofPolicy::Skip(_)) => false,
        (Mode::Write, _) | (Mode::DryRun, ProofPolicy::Require(_)) => true,
        (Mode::DryRun, ProofPolicy::Auto) => false,
    }
}

/// What planning the targets gave.
struct Planned {
    /// The plans that change something, when they are to be proven or written.
    kept: Vec<MigrationPlan>,
    changed: usize,
    new_folders: usize,
    hazards_left: usize,
    /// Whether the report's header was printed (it waits for the first plan).
    started: bool,
}

/// Plan every target, printing each plan as it comes.
fn plan(asked: &Asked, sink: &mut dyn Sink) -> Result<Planned> {
    let keep = asked.mode == Mode::Write || proves(asked);
    let mut planned = Planned {
        kept: Vec::new(),
        changed: 0,
        new_folders: 0,
        hazards_left: 0,
        started: false,
    };
    analyse_each(
        &asked.dir,
        &asked.targets,
        &asked.options,
        asked.config.folder_naming(),
        |plan, source| {
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
            // The header waits for the first plan, so input errors found while planning it print
            // nothing.
            if !std::mem::replace(&mut planned.started, true) {
                stdout(sink.begin(&asked.dir, &asked.prisma, asked.mode, asked.targets.len()))?;
            }
            stdout(sink.plan(&plan))?;
            planned.hazards_left += plan.hazards_left();
            if plan.changes_anything() {
                planned.changed += 1;
                planned.new_folders += plan.new_migrations.len();
                if keep {
                    planned.kept.push(plan);
                }
            }
            Ok(())
        },
    )?;
    Ok(planned)
}

/// The proof of the kept plans, or why there is none.
fn prove(
    args: &RewriteArgs,
    asked: &Asked,
    plans: &[MigrationPlan],
    needs_rewrite: bool,
) -> Result<(Proof, Option<Verified>)> {
    if !needs_rewrite {
        let why = "nothing to rewrite".into();
        return Ok((Proof::NotRun { why }, None));
    }
    if !proves(asked) {
        let proof = match asked.policy {
            ProofPolicy::Skip(why) => Proof::Skipped { why: why.into() },
            _ if asked.mode == Mode::Check => Proof::NotRun {
                why: "--check writes nothing".into(),
            },
            _ => Proof::NotRun {
                why: "a dry run is proven only with --require-proof".into(),
            },
        };
        return Ok((proof, None));
    }
    let server = ProofServer {
        scratch_url: args.scratch_url.as_deref(),
        pg_version: &args.pg_version,
    };
    rewrite::prove(
        &asked.dir,
        plans,
        &asked.prisma,
        asked.policy,
        &server,
        &asked.config,
    )
}
