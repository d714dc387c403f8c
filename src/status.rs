//! `status`: what a database has applied, what is pending, what went wrong, and what the
//! database holds that Prisma does not see (INVALID indexes, NOT VALID constraints). Read-only.

use std::io::Write;

use serde::Serialize;

use crate::analyse::analyse;
use crate::check::{HazardReport, explain};
use crate::db::catalog::hazards;
use crate::db::{connect, redact};
use crate::error::{Error, Result};
use crate::prisma::failed::{Diagnosis, diagnose};
use crate::prisma::history::{MigrationStatus, State, read_history};
use crate::prisma::{ApplyModel, FileRun};
use crate::rules::RuleOptions;
use crate::source::discover::{MigrationsDir, Origin};

#[derive(Debug, Serialize)]
pub struct StatusReport {
    pub directory: String,
    /// Where the directory came from, when it is not the path given (a project root, prisma.config.ts).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub found: Option<String>,
    pub database: String,
    pub migrations: Vec<MigrationStatus>,
    /// Pending migrations that `migrate-safe rewrite` would still change.
    pub needs_rewrite: Vec<String>,
    pub hazards: Vec<HazardReport>,
    pub needs_attention: bool,
    /// Whether the database has Prisma's `_prisma_migrations` table at all.
    pub has_prisma_migrations: bool,
    /// Which Prisma applies the migrations.
    pub prisma: crate::prisma::PrismaTarget,
    /// For each failed migration, what its failure left behind under that Prisma's apply model.
    pub failure_left: std::collections::BTreeMap<String, String>,
    /// For each failed migration, what the database shows it left (the reading `deploy` acts on),
    /// what `migrate-safe deploy` would do about it, and the same by hand with Prisma's CLI.
    pub failed: std::collections::BTreeMap<String, FailedMigration>,
}

#[derive(Debug, Serialize)]
pub struct FailedMigration {
    pub diagnosis: Diagnosis,
    /// What `migrate-safe deploy` does about it (`None`: it stops and asks a person).
    pub deploy_would: Option<String>,
    /// The same outcome with Prisma's CLI.
    pub with_prisma: Vec<String>,
}

/// Read what the database at `url` has applied of `dir`, and what needs attention.
pub fn status(
    dir: &MigrationsDir,
    url: &str,
    prisma_version: Option<&str>,
) -> Result<StatusReport> {
    crate::db::provision::check_url(url).map_err(|e| Error::Database(e.to_string()))?;
    let mut client = connect(url).map_err(|e| Error::Database(e.to_string()))?;
    let deployed = crate::prisma::history::has_history(&mut client)
        .map_err(|e| Error::Database(e.to_string()))?;
    let migrations = read_history(&mut client, dir).map_err(|e| Error::Database(e.to_string()))?;
    let pending: Vec<String> = migrations
        .iter()
        .filter(|m| {
            m.state.is_pending()
                && dir
                    .get(&m.migration)
                    .is_some_and(|d| d.origin == Origin::Prisma)
        })
        .map(|m| m.migration.clone())
        .collect();
    let config = crate::config::Loaded::find(None, &dir.path)?;
    let prisma = config.prisma_target(prisma_version, &dir.path)?;
    let options = RuleOptions {
        apply_models: prisma.models.clone(),
        ..config.rule_options()
    };
    // Read the way deploy reads it: what status says deploy would do is what deploy does.
    let mut failed_report = std::collections::BTreeMap::new();
    for m in migrations.iter().filter(|m| m.state == State::Failed) {
        let Some(migration) = dir.get(&m.migration) else {
            continue;
        };
        let diagnosis = diagnose(&mut client, migration, m.logs.as_deref())
            .map_err(|e| Error::Database(crate::db::describe(&e)))?;
        failed_report.insert(
            m.migration.clone(),
            FailedMigration {
                deploy_would: diagnosis.deploy_action(),
                with_prisma: diagnosis.prisma_steps(&m.migration),
                diagnosis,
            },
        );
    }
    let failure_left = migrations
        .iter()
        .filter(|m| m.state == State::Failed)
        .filter_map(|m| {
            let sql = &dir.get(&m.migration)?.sql;
            let left = match failed_report.get(&m.migration).map(|f| &f.diagnosis) {
                Some(Diagnosis::RolledBackByDeploy) => "migrate-safe deploy ran it in one transaction of its own and rolled it back (or dropped the INVALID index its build left): nothing of it is applied".to_string(),
                Some(Diagnosis::NoIndex { index }) => format!("its concurrent build left no index {index}: nothing of it is applied"),
                Some(Diagnosis::InvalidIndex { index }) => format!("its concurrent build left {index} INVALID (not used by queries, but it slows every write): drop it and nothing of it is applied"),
                Some(Diagnosis::BuiltIndex { index }) => format!("its concurrent build finished: {index} is built and valid, only Prisma's row was never finished (the run was stopped after the build)"),
                Some(Diagnosis::StillBuilding { index, pid }) => format!("its concurrent build of {index} is still running in session {pid} (the session of a run that was stopped)"),
                Some(Diagnosis::Backfill) => "a batched backfill: the batches it ran are committed, the rest is not; run again, it skips the rows already done and finishes".to_string(),
                Some(Diagnosis::StillBackfilling { pid }) => format!("its batched backfill is still running in session {pid} (the session of a run that was stopped; it ends at its next batch)"),
                _ => failure_left(sql, &prisma.models),
            };
            Some((m.migration.clone(), left))
        })
        .collect();
    let needs_rewrite = analyse(dir, &pending, &options, config.folder_naming())?
        .into_iter()
        .filter(|p| p.changes_anything())
        .map(|p| p.migration)
        .collect::<Vec<_>>();
    let failed: Vec<&str> = migrations
        .iter()
        .filter(|m| m.state == State::Failed)
        .map(|m| m.migration.as_str())
        .collect();
    let pending_sql: Vec<(&str, &str)> = migrations
        .iter()
        .filter(|m| m.state.is_pending())
        .filter_map(|m| Some((m.migration.as_str(), dir.get(&m.migration)?.sql.as_str())))
        .collect();
    let hazards: Vec<HazardReport> = hazards(&mut client)
        .map_err(|e| Error::Database(e.to_string()))?
        .into_iter()
        .map(|hazard| {
            // A NOT VALID constraint that a pending migration validates is on its way: deploy it.
            let validated_by = match &hazard {
                crate::db::catalog::Hazard::NotValidConstraint { constraint, .. } => {
                    let needle = format!(
                        "VALIDATE CONSTRAINT {}",
                        crate::source::names::quote(constraint)
                    );
                    pending_sql
                        .iter()
                        .find(|(_, sql)| sql.contains(&needle))
                        .map(|(name, _)| name.to_string())
                }
                _ => None,
            };
            let mut report = explain(hazard);
            if let Some(name) = validated_by {
                report.problem.push_str(&format!(
                    "; the pending migration {name} validates it"
                ));
                report.recovery = vec![format!(
                    "prisma migrate deploy (runs {name}, which validates it; if it fails, fix the violating rows first)"
                )];
            }
            report
        })
        .map(|mut hazard| {
            // The recovery names the failed migration when there is one to name.
            if let [name] = failed.as_slice() {
                for step in &mut hazard.recovery {
                    *step = step.replace("<the failed migration>", &crate::escape::shell(name));
                }
            }
            hazard
        })
        .collect();
    let needs_attention = migrations.iter().any(|m| m.state.needs_attention())
        || !hazards.is_empty()
        || !needs_rewrite.is_empty();
    let report = StatusReport {
        directory: dir.path.display().to_string(),
        found: dir.origin(),
        database: redact(url),
        migrations,
        needs_rewrite,
        hazards,
        needs_attention,
        has_prisma_migrations: deployed,
        prisma,
        failure_left,
        failed: failed_report,
    };
    Ok(report)
}

/// What a failed file left behind, under each apply model the project's Prisma may use.
fn failure_left(sql: &str, models: &[ApplyModel]) -> String {
    let mut parts = Vec::new();
    for &model in models {
        parts.push(match model.run(sql) {
            FileRun::Statements(pieces) if pieces.len() > 1 => {
                let lines = crate::source::line_starts(sql);
                let at: Vec<String> = pieces
                    .iter()
                    .map(|p| crate::prisma::apply::statement_at(sql, &lines, p).line.to_string())
                    .collect();
                format!(
                    "Prisma 7.4+ ran this file statement by statement (lines {}): the statements before the failing one stay applied; undo what they made (or the retry fails on it)",
                    at.join(", ")
                )
            }
            _ => "PostgreSQL rolled the file back as one transaction".to_string(),
        });
    }
    if parts.len() > 1 {
        format!(
            "if Prisma <= 7.3 applied it, {}; if Prisma 7.4+ did: {}",
            parts[0], parts[1]
        )
    } else {
        parts.concat()
    }
}

fn label(state: State) -> &'static str {
    match state {
        State::Applied => "applied",
        State::Pending => "pending",
        State::Failed => "FAILED",
        State::RolledBack => "rolled back (pending again)",
        State::Modified => "MODIFIED after apply",
        State::MissingLocally => "MISSING locally",
    }
}

pub fn write_text(report: &StatusReport, out: &mut dyn Write) -> std::io::Result<()> {
    match &report.found {
        Some(found) => writeln!(out, "Migrations directory: {} ({found})", report.directory)?,
        None => writeln!(out, "Migrations directory: {}", report.directory)?,
    }
    writeln!(out, "Database: {} (read only)", report.database)?;
    writeln!(out, "{}", report.prisma.describe())?;
    if !report.has_prisma_migrations {
        writeln!(
            out,
            "No _prisma_migrations table in this database: Prisma has never deployed here, so every migration shows as pending. Is this the application's database? (A scratch server is never passed as --database-url.)"
        )?;
    }
    writeln!(out)?;
    let width = report
        .migrations
        .iter()
        .map(|m| label(m.state).len())
        .max()
        .unwrap_or(0);
    for migration in &report.migrations {
        write!(
            out,
            "  {:width$}  {}",
            label(migration.state),
            migration.migration
        )?;
        if report.needs_rewrite.contains(&migration.migration) {
            write!(out, "  (migrate-safe would rewrite it)")?;
        }
        writeln!(out)?;
        match migration.state {
            State::Failed => {
                let failed = report.failed.get(&migration.migration);
                match migration.logs.as_deref().filter(|l| !l.trim().is_empty()) {
                    Some(logs) => {
                        writeln!(out, "      logs:")?;
                        for line in logs.lines().filter(|l| !l.trim().is_empty()) {
                            writeln!(out, "        {}", line.trim_end())?;
                        }
                    }
                    None if failed.is_some_and(|f| f.diagnosis != Diagnosis::Unknown) => writeln!(
                        out,
                        "      logs: none recorded (the run was stopped before it could record how the statement ended)"
                    )?,
                    None => writeln!(
                        out,
                        "      logs: none recorded (the run was stopped before it could record the outcome, or a failure inside the file's own BEGIN block made Prisma's bookkeeping fail too)"
                    )?,
                }
                let left = report
                    .failure_left
                    .get(&migration.migration)
                    .map_or("the file is not in this directory", String::as_str);
                match failed {
                    Some(failed) if failed.deploy_would.is_some() => {
                        writeln!(
                            out,
                            "      Prisma refuses to deploy until it is resolved (P3009). What the database shows: {left}.\n      `migrate-safe deploy` resolves it itself: {}.\n      With Prisma instead:",
                            failed.deploy_would.as_deref().unwrap_or_default()
                        )?;
                        for step in &failed.with_prisma {
                            writeln!(out, "        {step}")?;
                        }
                    }
                    _ => {
                        let invalid_below =
                            report.hazards.iter().any(|h| h.kind == "invalid-index");
                        writeln!(
                            out,
                            "      Prisma refuses to deploy until it is resolved (P3009). {left}{}. Fix the cause, then:\n      prisma migrate resolve --rolled-back {} && prisma migrate deploy",
                            if invalid_below {
                                " (an INVALID index is left, see below)"
                            } else {
                                ""
                            },
                            crate::escape::shell(&migration.migration)
                        )?;
                    }
                }
            }
            State::Modified => writeln!(
                out,
                "      the file changed after it was applied: `prisma migrate dev` will report it; restore it from version control"
            )?,
            State::MissingLocally => writeln!(
                out,
                "      recorded in the database but not in this directory: pull the branch that has it"
            )?,
            _ => {}
        }
    }
    writeln!(out)?;
    crate::check::report::write_hazards(&report.hazards, out)?;
    if !report.needs_rewrite.is_empty() {
        writeln!(
            out,
            "Pending migrations that still block writes: {}. Run `migrate-safe rewrite {} --database-url ...` before deploying.",
            report.needs_rewrite.join(", "),
            crate::escape::shell(&report.directory)
        )?;
    }
    let count = |state: State| {
        report
            .migrations
            .iter()
            .filter(|m| m.state == state)
            .count()
    };
    writeln!(
        out,
        "\n{} applied, {} pending, {} failed, {} rolled back, {} modified, {} missing locally: {}",
        count(State::Applied),
        count(State::Pending),
        count(State::Failed),
        count(State::RolledBack),
        count(State::Modified),
        count(State::MissingLocally),
        if report.needs_attention {
            "needs attention"
        } else {
            "clean"
        }
    )
}
