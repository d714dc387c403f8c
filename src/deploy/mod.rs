//! The `deploy` command: apply pending migrations to a live database without a write stall, and
//! recover without a person.
//!
//! Flow: discover → read `_prisma_migrations` under Prisma's advisory lock → recover failed rows
//! deploy can prove harmless ([`recover`]) → plan each pending migration ([`plan`]) → read-only
//! pre-flight ([`preflight`]) → apply one by one ([`apply`]), stopping at the first that does not
//! land. Output as it goes ([`report`]).

pub mod apply;
pub mod backfill;
pub mod clear;
pub mod hold;
pub mod locks;
pub mod plan;
pub mod preflight;
pub mod recover;
pub mod report;
pub mod settings;
pub mod watch;
pub mod work;

use std::io::Write;
use std::time::{Duration, Instant};

use postgres::Client;
use serde::Serialize;

use crate::Outcome;
use crate::db::{connect, redact};
use crate::error::{Error, Result};
use crate::prisma::bookkeeping::PRISMA_MIGRATIONS_TABLE;
use crate::prisma::history::read_history;
use crate::source::discover::discover;
use apply::{Broken, MigrationRun, RunResult};
use plan::{Planned, Refusal, Shape};
use preflight::Preflight;
use recover::Recovered;
use settings::Settings;
use watch::Blocker;

/// Prisma's advisory lock key: `prisma migrate deploy` holds it for its whole run.
pub const PRISMA_ADVISORY_LOCK: i64 = 72707369;

/// Everything a run did, for `--format json` and the text summary.
#[derive(Debug, Serialize)]
pub struct DeployReport {
    pub directory: String,
    /// Where the directory came from when it was found (a Prisma config, package.json, a project).
    pub found: Option<String>,
    pub database: String,
    pub dry_run: bool,
    pub settings: Settings,
    /// The server's deadlock_timeout: deploy's lock waits end within three quarters of it after its
    /// first lock request, so a writer never reaches the deadlock check while waiting for deploy.
    pub deadlock_timeout_ms: u64,
    pub recovered: Vec<Recovered>,
    pub pending: Vec<Planned>,
    pub preflight: Option<Preflight>,
    pub runs: Vec<MigrationRun>,
    /// `applied`, `nothing_pending`, `dry_run`, `stopped` (exit 1) or `error` (exit 2).
    pub outcome: &'static str,
    /// Why it stopped, in one line, when it did.
    pub stopped: Option<String>,
    /// What to do next, when it stopped.
    pub next: Vec<String>,
    /// The whole run, from connecting to the end.
    pub elapsed_ms: f64,
    #[serde(skip)]
    started: Instant,
}

/// What `deploy` was asked, as plain options.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The migrations directory (or a project root holding one).
    pub dir: std::path::PathBuf,
    pub database_url: Option<String>,
    /// A migrate-safe.toml instead of the nearest one.
    pub config: Option<std::path::PathBuf>,
    /// One JSON document at the end instead of text lines as it goes.
    pub json: bool,
    pub dry_run: bool,
    pub skip_preflight: bool,
    pub flags: settings::Flags,
}

/// Apply the pending migrations of `options.dir` to the database, reporting to `out` as it goes.
pub fn deploy(options: &Options, out: &mut dyn Write) -> Result<Outcome> {
    let run_started = Instant::now();
    let dir = discover(&options.dir)?;
    let url = crate::db::database_url(options.database_url.as_deref(), &dir.path)?;
    let url = direct_unless_pooled(url, &dir.path)?;
    crate::db::provision::check_url(&url).map_err(|e| Error::Database(e.to_string()))?;
    let config = crate::config::Loaded::find(options.config.as_deref(), &dir.path)?;
    let settings = Settings::resolve(&options.flags, &config)?;
    let json = options.json;
    let mut sink = report::Sink { out, json };
    let database = redact(&url);
    sink.line(format!(
        "migrate-safe deploy: {}{} -> {database}{}",
        dir.path.display(),
        dir.origin().map_or(String::new(), |o| format!(" ({o})")),
        if options.dry_run {
            " (dry run: nothing is applied)"
        } else {
            ""
        }
    ));
    let Session {
        mut client,
        pid,
        deadlock_timeout,
        backfill,
    } = Session::open(&url)?;
    let database_error = |e: postgres::Error| Error::Database(crate::db::describe(&e));

    let mut report = DeployReport {
        directory: dir.path.display().to_string(),
        found: dir.origin(),
        database,
        dry_run: options.dry_run,
        settings: settings.clone(),
        deadlock_timeout_ms: deadlock_timeout.as_millis() as u64,
        recovered: Vec::new(),
        pending: Vec::new(),
        preflight: None,
        runs: Vec::new(),
        outcome: "stopped",
        stopped: None,
        next: Vec::new(),
        elapsed_ms: 0.0,
        started: run_started,
    };

    if !options.dry_run {
        if let Some(holder) =
            advisory_lock(&mut client, settings.advisory_lock_wait).map_err(database_error)?
        {
            report.stopped = Some(format!(
                "another deploy holds Prisma's advisory lock ({PRISMA_ADVISORY_LOCK}) after waiting {}: {}",
                settings::pg_duration(settings.advisory_lock_wait),
                holder.map_or("its session could not be seen".into(), |h| h.to_string())
            ));
            report.next = vec!["wait for the other `prisma migrate deploy` / `migrate-safe deploy` to end, then run deploy again".into()];
            return finish(report, &mut sink);
        }
        client
            .batch_execute(PRISMA_MIGRATIONS_TABLE)
            .map_err(database_error)?;
    }

    // Failed migrations: recover those deploy can prove harmless, stop at any other.
    let history = read_history(&mut client, &dir).map_err(|e| Error::Database(e.to_string()))?;
    match recover::failed(&mut client, &dir, &history, options.dry_run, &mut |line| {
        sink.line(line)
    }) {
        Ok(recovered) => report.recovered = recovered,
        Err(recover::Stop::Unresolved { migration, steps }) => {
            report.stopped = Some(format!(
                "{migration} failed earlier and is not resolved (Prisma's P3009); deploy applies nothing until it is"
            ));
            report.next = steps;
            return finish(report, &mut sink);
        }
        Err(recover::Stop::Database(e)) => return Err(database_error(e)),
    }
    // What recovery marked rolled back (or, in a dry run, would) is pending again; what it marked
    // applied was failed, so never pending: the history read above still tells the rest.
    let pending: Vec<&crate::source::discover::Migration> = history
        .iter()
        .filter(|m| {
            m.state.is_pending()
                || report
                    .recovered
                    .iter()
                    .any(|r| r.migration == m.migration && r.pending_again)
        })
        .filter_map(|m| dir.get(&m.migration))
        .collect();
    if pending.is_empty() {
        sink.line(format!(
            "Nothing to deploy: all {} migration(s) of {} are applied.",
            dir.migrations.len(),
            dir.path.display()
        ));
        report.outcome = "nothing_pending";
        return finish(report, &mut sink);
    }

    // Plan every pending migration before applying any.
    let mut refusals: Vec<Refusal> = Vec::new();
    for migration in &pending {
        match plan::plan(migration) {
            Ok(planned) => report.pending.push(planned),
            Err(refusal) => refusals.push(refusal),
        }
    }
    sink.line(report::plan_text(
        &report.pending,
        &refusals,
        options.skip_preflight,
    ));
    if let Some(first) = refusals.first() {
        report.stopped = Some(format!(
            "{} line {}: {}",
            first.migration, first.line, first.reason
        ));
        report.next =
            vec!["nothing was applied; change the migration as said, then run deploy again".into()];
        return finish(report, &mut sink);
    }

    if !options.skip_preflight && preflight_stops(&mut client, &mut report, &settings, &mut sink)? {
        return finish(report, &mut sink);
    }
    if options.dry_run {
        report.outcome = "dry_run";
        return finish(report, &mut sink);
    }

    if let Some(broken) = apply_pending(
        &url,
        &mut client,
        pid,
        deadlock_timeout,
        &backfill,
        &settings,
        &mut report,
        &mut sink,
    )? {
        let _ = finish(report, &mut sink);
        return Err(broken);
    }
    if report.stopped.is_none() {
        report.outcome = "applied";
    }
    let _ = client.execute("SELECT pg_advisory_unlock($1)", &[&PRISMA_ADVISORY_LOCK]);
    let error = report.outcome == "error";
    let message = report.stopped.clone();
    let outcome = finish(report, &mut sink)?;
    if error {
        return Err(Error::Database(message.unwrap_or_default()));
    }
    Ok(outcome)
}

/// A URL through a transaction-mode pooler cannot hold deploy's session: the project's direct URL
/// (`directUrl`) is used instead, said on stderr, or deploy stops before connecting and says which
/// URL to pass.
fn direct_unless_pooled(url: String, migrations_dir: &std::path::Path) -> Result<String> {
    use crate::db::pooler::transaction_pooler;
    let Some(why) = transaction_pooler(&url) else {
        return Ok(url);
    };
    let found = match crate::source::shadow::find_direct_url(migrations_dir) {
        Ok(direct) if transaction_pooler(&direct.url).is_none() => {
            eprintln!(
                "migrate-safe deploy: {} goes through a connection pooler ({why}), which keeps no session between transactions: deploying through {} instead",
                redact(&url),
                direct.from
            );
            return Ok(direct.url);
        }
        Ok(direct) => format!("{} goes through a pooler too", direct.from),
        Err(why) => why,
    };
    Err(Error::Usage(format!(
        "{} goes through a connection pooler ({why}): deploy needs a session of its own (Prisma's advisory lock, lock_timeout, the view of its own locks), which a transaction-mode pooler does not keep, so nothing was applied. Pass the database's direct connection with --database-url (directUrl in the datasource block for Prisma 5/6, the datasource url of prisma.config.ts for Prisma 7; {found})",
        redact(&url)
    )))
}

/// deploy's own session: named, with its pid, the server's deadlock_timeout, and the progress of a
/// backfill it runs (read from the session's notices).
struct Session {
    client: Client,
    pid: i32,
    deadlock_timeout: Duration,
    backfill: backfill::Tracker,
}

impl Session {
    fn open(url: &str) -> Result<Self> {
        let backfill = backfill::Tracker::default();
        let notices = backfill.clone();
        let mut client = crate::db::connect_with_notices(url, move |n| notices.notice(n))
            .map_err(|e| Error::Database(e.to_string()))?;
        let database_error = |e: postgres::Error| Error::Database(crate::db::describe(&e));
        // Named, so that a release engineer sees deploy's sessions in pg_stat_activity.
        client
            .batch_execute("SET application_name = 'migrate-safe deploy'")
            .map_err(database_error)?;
        let pid: i32 = client
            .query_one("SELECT pg_backend_pid()", &[])
            .map_err(database_error)?
            .get(0);
        // Read, never assumed: deploy's waits are bounded by it (see `apply`).
        let deadlock_timeout_ms: i64 = client
            .query_one(
                "SELECT setting::int8 FROM pg_settings WHERE name = 'deadlock_timeout'",
                &[],
            )
            .map_err(database_error)?
            .get(0);
        let deadlock_timeout = Duration::from_millis(deadlock_timeout_ms.max(1) as u64);
        Ok(Session {
            client,
            pid,
            deadlock_timeout,
            backfill,
        })
    }
}

/// The pre-flight, and whether what it found stops the deploy before anything is applied (writes
/// would wait longer than --max-lock-hold, or a step would fail on the data).
fn preflight_stops(
    client: &mut Client,
    report: &mut DeployReport,
    settings: &Settings,
    sink: &mut report::Sink<'_>,
) -> Result<bool> {
    let preflight = preflight::run(client, &report.pending, settings.preflight_timeout)
        .map_err(|e| Error::Database(crate::db::describe(&e)))?;
    sink.line(report::preflight_text(&preflight));
    let too_long: Vec<&hold::HoldEstimate> = preflight
        .holds
        .iter()
        .filter(|h| h.estimate_ms > settings.max_lock_hold.as_secs_f64() * 1000.0)
        .collect();
    if !too_long.is_empty() && !settings.allow_long_locks {
        let what: Vec<String> = too_long
            .iter()
            .map(|h| {
                let biggest = h
                    .work
                    .iter()
                    .max_by(|a, b| a.estimate_ms.total_cmp(&b.estimate_ms));
                format!(
                    "{} would hold {} for about {:.1} s{}",
                    h.migration,
                    h.locks.join(", "),
                    h.estimate_ms / 1000.0,
                    biggest.map_or(String::new(), |w| format!(
                        " (line {} {} {}, ~{} rows)",
                        w.line,
                        w.kind.describe(),
                        w.table,
                        w.rows
                    ))
                )
            })
            .collect();
        report.stopped = Some(format!(
            "writes would wait too long: {} (--max-lock-hold {})",
            what.join("; "),
            settings::pg_duration(settings.max_lock_hold)
        ));
        report.next = vec![
            "nothing was applied; `migrate-safe rewrite` moves index builds and validations out of the lock (see `migrate-safe lint` for what it cannot fix)".into(),
            "or accept the stall: --allow-long-locks (or a larger --max-lock-hold)".into(),
        ];
        report.preflight = Some(preflight);
        return Ok(true);
    }
    let failures: Vec<String> = preflight
        .predicted_failures()
        .map(|c| format!("{} line {}: {}", c.migration, c.line, c.what))
        .collect();
    report.preflight = Some(preflight);
    if !failures.is_empty() {
        report.stopped = Some(format!(
            "the pre-flight predicts {} failure(s): {}",
            failures.len(),
            failures.join("; ")
        ));
        report.next = vec![
            "nothing was applied; fix the rows the checks name (or the migration), then run deploy again".into(),
            "`--skip-preflight` applies anyway: the migration then fails on those rows (rolled back, or its INVALID index dropped) and is recorded as failed".into(),
        ];
        return Ok(true);
    }
    Ok(false)
}

/// Apply the planned migrations in order until one stops; `Some(error)` when the connection broke
/// (the report says where, and the caller reports it before failing).
#[allow(clippy::too_many_arguments)]
fn apply_pending(
    url: &str,
    client: &mut Client,
    pid: i32,
    deadlock_timeout: Duration,
    backfill: &backfill::Tracker,
    settings: &Settings,
    report: &mut DeployReport,
    sink: &mut report::Sink<'_>,
) -> Result<Option<Error>> {
    let mut watcher = connect(url).map_err(|e| Error::Database(e.to_string()))?;
    watcher
        .batch_execute("SET application_name = 'migrate-safe deploy (watch)'")
        .map_err(|e| Error::Database(crate::db::describe(&e)))?;
    // Often: an attempt's lock wait lasts tens of milliseconds, and its blockers are seen only then.
    let watch = watch::Watch::start(watcher, pid, Duration::from_millis(10));
    let total = report.pending.len();
    for (n, planned) in report.pending.iter().enumerate() {
        let started = Instant::now();
        sink.line(format!(
            "[{}/{total}] {} ({})",
            n + 1,
            planned.migration,
            match &planned.shape {
                Shape::Transaction { .. } => "one transaction",
                Shape::Alone { .. } => "alone, outside a transaction",
            }
        ));
        let run = match &planned.shape {
            Shape::Transaction { statements, .. } => apply::in_transaction(
                client,
                planned,
                statements,
                settings,
                deadlock_timeout,
                &watch,
                &mut |line| sink.line(line),
            ),
            Shape::Alone {
                statement,
                builds_index,
                backfill: is_backfill,
            } => apply::alone(
                client,
                pid,
                planned,
                statement,
                builds_index.as_ref(),
                is_backfill.then_some(backfill),
                settings,
                &watch,
                &mut |line| sink.line(line),
            ),
        };
        let run = match run {
            Ok(run) => run,
            Err(Broken {
                migration,
                message,
                left,
            }) => {
                report.outcome = "error";
                report.stopped = Some(format!("{migration}: the connection broke: {message}"));
                report.next = vec![left.to_string()];
                return Ok(Some(Error::Database(format!(
                    "{migration}: the connection broke: {message}; {left}"
                ))));
            }
        };
        sink.line(report::run_text(&run, started.elapsed()));
        let result = run.result.clone();
        report.runs.push(run);
        match result {
            RunResult::Applied { .. } => {}
            RunResult::LockNotGranted => {
                let last = report.runs.last();
                let attempts = last.map_or(0, |r| r.attempts);
                let in_the_way: Vec<String> = last
                    .map(|r| r.in_the_way.iter().map(ToString::to_string).collect())
                    .unwrap_or_default();
                let collided = last.map_or(0, |r| r.retries.len());
                report.stopped = Some(if attempts == 0 {
                    format!(
                        "{}: the way did not clear within --deadline {} (in the way: {}); deploy asked for no lock while it waited, and nothing of it is applied",
                        planned.migration,
                        settings::pg_duration(settings.deadline),
                        in_the_way.join("; ")
                    )
                } else {
                    format!(
                        "{}: its locks were not granted: {collided} attempt(s) collided, each rolled back after at most {} (--max-attempts {}, --deadline {}); nothing of it is applied",
                        planned.migration,
                        settings::pg_duration(settings.lock_timeout),
                        settings.max_attempts,
                        settings::pg_duration(settings.deadline)
                    )
                });
                report.next = vec![
                    "end or wait out the sessions named above (a long transaction on the table), then run deploy again".into(),
                    "or allow longer: --deadline / --max-attempts (writers never wait longer than --lock-timeout per attempt; while a long transaction is in the way, deploy asks for no lock at all)".into(),
                ];
                break;
            }
            RunResult::OldTransactions { .. } => {
                report.stopped = Some(format!(
                    "{}: transactions older than {} s stayed open for {}; the concurrent build would wait for them; nothing of it is applied",
                    planned.migration,
                    settings::OLD_TRANSACTION_AGE.as_secs(),
                    settings::pg_duration(settings.old_transaction_wait)
                ));
                report.next = vec![
                    "end those sessions (or raise --old-transaction-wait), then run deploy again"
                        .into(),
                ];
                break;
            }
            RunResult::Failed {
                half_applied,
                recovery,
                ..
            } => {
                report.stopped = Some(format!(
                    "{} failed{}",
                    planned.migration,
                    if half_applied {
                        "; part of it may stay applied"
                    } else {
                        ", and nothing of it is applied"
                    }
                ));
                report.next = recovery;
                if half_applied {
                    report.outcome = "error";
                }
                break;
            }
        }
    }
    drop(watch);
    Ok(None)
}

/// Take Prisma's advisory lock, waiting as long as Prisma does; `Some(holder)` when it stays taken.
/// (Advisory locks belong to a database: the holder is looked for in this one.)
fn advisory_lock(
    client: &mut Client,
    wait: Duration,
) -> std::result::Result<Option<Option<Blocker>>, postgres::Error> {
    let started = Instant::now();
    loop {
        let taken: bool = client
            .query_one("SELECT pg_try_advisory_lock($1)", &[&PRISMA_ADVISORY_LOCK])?
            .get(0);
        if taken {
            return Ok(None);
        }
        if started.elapsed() >= wait {
            let query = format!(
                "SELECT {} FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                 WHERE l.locktype = 'advisory' AND l.granted AND l.classid = 0 AND l.objid = $1::oid
                   AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                 LIMIT 1",
                watch::SESSION_COLUMNS
            );
            let holder = client
                .query_opt(&query, &[&(PRISMA_ADVISORY_LOCK as u32)])?
                .as_ref()
                .map(Blocker::from_row);
            return Ok(Some(holder));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn finish(mut report: DeployReport, sink: &mut report::Sink<'_>) -> Result<Outcome> {
    report.elapsed_ms = report.started.elapsed().as_secs_f64() * 1000.0;
    let write = |e: std::io::Error| Error::Io {
        path: "<stdout>".into(),
        source: e,
    };
    let out = &mut *sink.out;
    if sink.json {
        serde_json::to_writer_pretty(&mut *out, &report)
            .map_err(|e| Error::Usage(format!("cannot write JSON: {e}")))?;
        writeln!(out).map_err(write)?;
    } else {
        write!(out, "{}", report::summary_text(&report)).map_err(write)?;
    }
    Ok(match report.outcome {
        "applied" | "nothing_pending" | "dry_run" => Outcome::Clean,
        _ => Outcome::Findings,
    })
}
