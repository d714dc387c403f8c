//! The `status` command: what a database has applied, what is pending, what went wrong, and what the
//! database holds that Prisma does not see (INVALID indexes, NOT VALID constraints). Read-only.

use std::io::Write;

use serde::Serialize;

use crate::Outcome;
use crate::analyse::analyse;
use crate::check::{HazardReport, explain};
use crate::cli::{Format, StatusArgs};
use crate::db::catalog::hazards;
use crate::db::{connect, redact};
use crate::error::{Error, Result};
use crate::history::{MigrationStatus, State, read_history};
use crate::rules::RuleOptions;
use crate::source::discover::{Origin, discover};

#[derive(Debug, Serialize)]
pub struct StatusReport {
    pub directory: String,
    pub database: String,
    pub migrations: Vec<MigrationStatus>,
    /// Pending migrations that `migrate-safe rewrite` would still change.
    pub needs_rewrite: Vec<String>,
    pub hazards: Vec<HazardReport>,
    pub needs_attention: bool,
}

/// The URL of the database to read: `--database-url`, else Prisma's own `DATABASE_URL`.
pub fn database_url(given: Option<&str>) -> Result<String> {
    given
        .map(str::to_string)
        .or_else(|| std::env::var("DATABASE_URL").ok().filter(|v| !v.is_empty()))
        .ok_or_else(|| {
            Error::Usage("no database: pass --database-url URL (or set DATABASE_URL)".into())
        })
}

pub fn run(args: &StatusArgs, out: &mut dyn Write) -> Result<Outcome> {
    let dir = discover(&args.dir)?;
    let url = database_url(args.database_url.as_deref())?;
    crate::db::provision::check_url(&url).map_err(|e| Error::Database(e.to_string()))?;
    let mut client = connect(&url).map_err(|e| Error::Database(e.to_string()))?;
    let migrations = read_history(&mut client, &dir).map_err(|e| Error::Database(e.to_string()))?;
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
    let needs_rewrite = analyse(&dir, &pending, &RuleOptions::default())?
        .into_iter()
        .filter(|p| p.changes_anything())
        .map(|p| p.migration)
        .collect::<Vec<_>>();
    let hazards: Vec<HazardReport> = hazards(&mut client)
        .map_err(|e| Error::Database(e.to_string()))?
        .into_iter()
        .map(explain)
        .collect();
    let needs_attention = migrations.iter().any(|m| m.state.needs_attention())
        || !hazards.is_empty()
        || !needs_rewrite.is_empty();
    let report = StatusReport {
        directory: dir.path.display().to_string(),
        database: redact(&url),
        migrations,
        needs_rewrite,
        hazards,
        needs_attention,
    };
    let written = match args.format {
        Format::Json => serde_json::to_writer_pretty(&mut *out, &report)
            .map_err(std::io::Error::other)
            .and_then(|_| writeln!(out)),
        Format::Text => write_text(&report, out),
    };
    crate::report::stdout(written)?;
    Ok(if report.needs_attention {
        Outcome::Findings
    } else {
        Outcome::Clean
    })
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

fn write_text(report: &StatusReport, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out, "Migrations directory: {}", report.directory)?;
    writeln!(out, "Database: {} (read only)", report.database)?;
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
                if let Some(logs) = migration.logs.as_deref().filter(|l| !l.is_empty()) {
                    writeln!(
                        out,
                        "      logs: {}",
                        logs.lines().next().unwrap_or_default()
                    )?;
                }
                writeln!(
                    out,
                    "      Prisma refuses to deploy until it is resolved (P3009). PostgreSQL rolled the file back as one transaction (a CONCURRENTLY index may be left INVALID, see below). Fix the cause, then:\n      prisma migrate resolve --rolled-back \"{}\" && prisma migrate deploy",
                    migration.migration
                )?;
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
            report.directory
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
