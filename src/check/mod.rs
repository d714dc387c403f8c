//! The `check` command: apply a migrations directory to a live PostgreSQL the way Prisma does, and prove
//! it: every file applies, no index is INVALID, no constraint is left NOT VALID, and the pending
//! migrations' statements take no write-blocking lock on an existing table for longer than a catalog
//! change.

pub mod report;
pub mod seed;
pub mod trace;

use serde::Serialize;

use crate::db::ScratchDatabase;
use crate::db::catalog::{Hazard, hazards};
use crate::db::provision::Server;
use crate::error::{Error, Result};
use crate::prisma::apply::{StatementAt, apply_migration};
use crate::prisma::{ApplyModel, FileRun, PrismaTarget};
use crate::source::discover::{Migration, MigrationsDir};
use trace::{StatementLocks, TraceFailure, trace};

#[derive(Debug, Serialize)]
pub struct ServerInfo {
    pub source: crate::db::provision::Source,
    pub description: String,
    pub notes: Vec<String>,
}

impl ServerInfo {
    pub fn of(server: &Server) -> Self {
        ServerInfo {
            source: server.source,
            description: server.description.clone(),
            notes: server.notes.clone(),
        }
    }
}

/// A migration file that failed, like Prisma's P3018.
#[derive(Debug, Serialize)]
pub struct ApplyFailure {
    pub migration: String,
    pub file: String,
    pub message: String,
    pub sqlstate: Option<String>,
    /// The failing statement, located by running the file's statements one by one.
    pub statement: Option<TraceFailure>,
    /// Statement by statement (Prisma 7.4+): what committed before the failure and stays applied.
    pub left_applied: Vec<StatementAt>,
    /// Whether Prisma could record the error in `_prisma_migrations.logs` (not after a failure inside
    /// the file's own BEGIN block: its bookkeeping then fails with 25P02).
    pub logs_recorded: bool,
}

#[derive(Debug, Serialize)]
pub struct MigrationLocks {
    pub migration: String,
    /// Each existing table's lock hold: mode, from which statement to the commit, for how long.
    pub holds: Vec<trace::TableHold>,
    /// Applied statement by statement (Prisma 7.4+ on a file it can split), each its own transaction.
    pub per_statement: bool,
    pub statements: Vec<StatementLocks>,
}

#[derive(Debug, Serialize)]
pub struct HazardReport {
    pub kind: &'static str,
    pub object: String,
    pub problem: String,
    pub recovery: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct CheckReport {
    pub directory: String,
    /// Where the directory was found when none was given (Prisma's config, package.json, ...).
    pub found: Option<String>,
    /// Which Prisma the directory was judged for.
    pub prisma: PrismaTarget,
    /// How this report's files were applied.
    pub model: ApplyModel,
    pub server: ServerInfo,
    pub migrations: usize,
    pub applied: usize,
    pub failure: Option<ApplyFailure>,
    pub locks: Vec<MigrationLocks>,
    pub hazards: Vec<HazardReport>,
    /// Rows seeded before each traced migration (`--rows`), and what could not be filled.
    pub seeded_rows: u64,
    /// Statements longer than this under a lock blocking writes are findings (`--lock-threshold-ms`).
    pub lock_threshold_ms: Option<f64>,
    pub notes: Vec<String>,
    pub findings: usize,
    pub proven: bool,
}

/// Apply `dir` on a scratch database of `server` as Prisma does under `model`, tracing the locks of
/// `targets`; statements longer than `lock_threshold_ms` under a lock blocking writes are findings.
pub fn check(
    dir: &MigrationsDir,
    targets: &[String],
    server: &Server,
    rows: u64,
    lock_threshold_ms: Option<f64>,
    model: ApplyModel,
) -> Result<CheckReport> {
    let database = ScratchDatabase::create(&server.admin_url, None).map_err(db_error)?;
    let mut client = database.connect().map_err(db_error)?;
    let mut applied = 0;
    let mut failure = None;
    let mut locks = Vec::new();
    let mut notes = Vec::new();
    let progress = crate::progress::bar(dir.migrations.len(), "applying");
    for migration in &dir.migrations {
        progress.set_message(migration.name.clone());
        progress.inc(1);
        if targets.contains(&migration.name) {
            if rows > 0 {
                progress.set_message(format!(
                    "{}: seeding {rows} rows into each existing table",
                    migration.name
                ));
                for note in seed::seed(&mut client, rows).map_err(db_error)? {
                    if !notes.contains(&note) {
                        notes.push(note);
                    }
                }
            }
            // A batched backfill commits batch by batch: applied on a session that hears its
            // batches, each timed.
            if let Some(statement) = crate::prisma::failed::batched_backfill(migration) {
                // On a failure it is applied below the usual way, which reports it.
                if let Ok(traced) =
                    trace::apply_backfill(&database.url, migration, &statement, model)
                {
                    locks.push(MigrationLocks {
                        migration: migration.name.clone(),
                        holds: Vec::new(),
                        per_statement: true,
                        statements: vec![traced],
                    });
                    applied += 1;
                    continue;
                }
            }
            // Prisma 7.4+ commits each statement: the apply itself is traced, one transaction each.
            if let FileRun::Statements(pieces) = model.run(&migration.sql) {
                let (split, statements) = crate::source::read_statements(migration)?;
                let (traced, failed) = trace::apply_per_statement(
                    &mut client,
                    &migration.name,
                    &migration.sql,
                    &pieces,
                    &split,
                    &statements,
                )
                .map_err(db_error)?;
                locks.push(MigrationLocks {
                    migration: migration.name.clone(),
                    holds: Vec::new(),
                    per_statement: true,
                    statements: traced,
                });
                progress.set_message(migration.name.clone());
                if let Some(failed) = failed {
                    failure = Some(ApplyFailure {
                        migration: migration.name.clone(),
                        file: migration.sql_path().display().to_string(),
                        message: failed.failed.message.clone(),
                        sqlstate: failed.failed.sqlstate.clone(),
                        statement: Some(failed.failed),
                        left_applied: failed.left_applied,
                        logs_recorded: failed.logs_recorded,
                    });
                    break;
                }
                applied += 1;
                continue;
            }
            // A statement that fails here fails in the Prisma-way apply below too, which reports it.
            progress.set_message(migration.name.clone());
            let (statements, _) = trace_migration(&mut client, migration)?;
            locks.push(MigrationLocks {
                migration: migration.name.clone(),
                holds: Vec::new(),
                per_statement: false,
                statements,
            });
        }
        let started = std::time::Instant::now();
        let applied_now = apply_migration(&mut client, &migration.name, &migration.sql, model);
        // A lone CONCURRENTLY statement cannot be traced in a transaction: its time is the apply's.
        if applied_now.is_ok()
            && targets.contains(&migration.name)
            && let Some(traced) = locks.last_mut().filter(|l| l.migration == migration.name)
            && let [only] = traced.statements.as_mut_slice()
            && only.known
            && only.duration_ms.is_none()
        {
            only.duration_ms = Some(started.elapsed().as_secs_f64() * 1000.0);
        }
        if let Err(error) = applied_now {
            let statement = match &error.failed_statement {
                Some(at) => Some(TraceFailure {
                    line: at.line,
                    statement: at.excerpt.clone(),
                    message: error.message.clone(),
                    sqlstate: error.sqlstate.clone(),
                }),
                None => locate_failure(&mut client, migration)?,
            };
            failure = Some(ApplyFailure {
                migration: migration.name.clone(),
                file: migration.sql_path().display().to_string(),
                message: error.message,
                sqlstate: error.sqlstate,
                statement,
                left_applied: error.left_applied,
                logs_recorded: error.logs_recorded,
            });
            break;
        }
        applied += 1;
    }
    progress.finish_and_clear();
    let hazards: Vec<HazardReport> = hazards(&mut client)
        .map_err(db_error)?
        .into_iter()
        .map(explain)
        .collect();
    let mut report = CheckReport {
        directory: dir.path.display().to_string(),
        found: dir.origin(),
        prisma: PrismaTarget::model(model),
        model,
        server: ServerInfo::of(server),
        migrations: dir.migrations.len(),
        applied,
        failure,
        locks,
        hazards,
        seeded_rows: rows,
        lock_threshold_ms: None,
        notes,
        findings: 0,
        proven: false,
    };
    report.judge(lock_threshold_ms);
    Ok(report)
}

fn db_error(e: crate::db::DbError) -> Error {
    Error::Database(e.to_string())
}

fn trace_migration(
    client: &mut postgres::Client,
    migration: &Migration,
) -> Result<(Vec<StatementLocks>, Option<TraceFailure>)> {
    let (split, statements) = crate::source::read_statements(migration)?;
    trace(client, &migration.sql, &split, &statements).map_err(db_error)
}

/// Find which statement of a failed file fails, by running them one by one (rolled back).
fn locate_failure(
    client: &mut postgres::Client,
    migration: &Migration,
) -> Result<Option<TraceFailure>> {
    let (split, statements) = crate::source::read_statements(migration)?;
    Ok(trace(client, &migration.sql, &split, &statements)
        .map_err(db_error)?
        .1)
}

/// With `--rows`, a statement that runs longer than this under a lock blocking writes is a finding.
pub const DEFAULT_LOCK_THRESHOLD_MS: f64 = 50.0;

impl CheckReport {
    /// Lock holds per table, and verdicts from the measured durations when `threshold_ms` is set;
    /// the findings and the proof follow.
    fn judge(&mut self, threshold_ms: Option<f64>) {
        for migration in &mut self.locks {
            if let Some(threshold) = threshold_ms {
                trace::judge_durations(&mut migration.statements, threshold);
            }
            migration.holds = trace::table_holds(&migration.statements, migration.per_statement);
        }
        self.lock_threshold_ms = threshold_ms;
        let lock_findings = self
            .locks
            .iter()
            .flat_map(|m| &m.statements)
            .filter(|s| s.verdict.is_finding())
            .count();
        self.findings = lock_findings + self.hazards.len() + usize::from(self.failure.is_some());
        self.proven = self.findings == 0;
    }
}

pub fn explain(hazard: Hazard) -> HazardReport {
    match hazard {
        Hazard::InvalidIndex {
            schema,
            index,
            table,
        } => {
            let index_name = format!(
                "{}.{}",
                crate::source::names::quote(&schema),
                crate::source::names::quote(&index)
            );
            HazardReport {
                kind: "invalid-index",
                object: index_name.clone(),
                problem: format!(
                    "index {index_name} on {table} is INVALID (a CREATE INDEX CONCURRENTLY failed): it is not used by queries but still slows every write, and Prisma does not see it"
                ),
                recovery: vec![
                    format!("DROP INDEX CONCURRENTLY {index_name};"),
                    "fix what made the build fail (for a UNIQUE index: remove the duplicate rows)".to_string(),
                    "prisma migrate resolve --rolled-back <the failed migration>, then prisma migrate deploy to build it again".to_string(),
                ],
            }
        }
        Hazard::NotValidConstraint {
            schema,
            table,
            constraint,
        } => {
            let table_name = format!(
                "{}.{}",
                crate::source::names::quote(&schema),
                crate::source::names::quote(&table)
            );
            HazardReport {
                kind: "not-valid-constraint",
                object: format!("{table_name}.{}", crate::source::names::quote(&constraint)),
                problem: format!(
                    "constraint {} on {table_name} is NOT VALID: new rows are checked, existing rows never were",
                    crate::source::names::quote(&constraint)
                ),
                recovery: vec![format!(
                    "ALTER TABLE {table_name} VALIDATE CONSTRAINT {};  (if it fails, fix the violating rows first)",
                    crate::source::names::quote(&constraint)
                )],
            }
        }
    }
}
