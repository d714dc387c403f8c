//! The `rewrite` command: discover, analyse, report, and write (unless --dry-run / --check).

use std::io::Write;

use crate::Outcome;
use crate::analyse::{Targets, analyse_each, resolve_targets};
use crate::cli::{Format, RewriteArgs};
use crate::config::Loaded;
use crate::error::{Error, Result};
use crate::out::stdout;
use crate::report::{self, Mode, Proof, Report, Sink};
use crate::rewrite::{self, ProofPolicy, ProofServer};
use crate::source::discover::discover;

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
    let policy = ProofPolicy::resolve(args.require_proof, args.no_verify, &config)?;
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
    analyse_each(
        &dir,
        &target_names,
        &options,
        config.folder_naming(),
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
        },
    )?;
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
        let server = ProofServer {
            scratch_url: args.scratch_url.as_deref(),
            pg_version: &args.pg_version,
        };
        let (proof, results) = rewrite::prove(&dir, &plans, &prisma, policy, &server, &config)?;
        verification = results;
        proof
    };
    let proven = !matches!(proof, Proof::Failed { .. });
    let written = mode == Mode::Write && needs_rewrite && proven;
    if written {
        rewrite::write(&dir, &plans)?;
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
