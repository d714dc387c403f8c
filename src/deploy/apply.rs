//! Running one pending migration: in one transaction of deploy's own, or, for a CONCURRENTLY statement,
//! alone with Prisma's bookkeeping around it and the INVALID index of a failed build dropped.
//!
//! A transaction never makes a writer fail and never makes one wait long:
//! 1. it is attempted only when the way is clear ([`super::clear`]): while a long transaction holds
//!    (or waits for) a lock that conflicts with one the migration needs, deploy waits without asking
//!    for any lock, so writers go on;
//! 2. an attempt takes every lock the migration needs on existing tables first ([`super::locks`]),
//!    the first one waiting at most `--lock-timeout` (deploy holds nothing yet: no cycle is possible),
//!    the next ones, and every statement after them, waiting at most until three quarters of the
//!    server's `deadlock_timeout` after the first lock was asked for. A writer that waits for deploy
//!    started waiting after that moment, so deploy's wait ends before the writer's deadlock check can
//!    run: in a cycle deploy's transaction is the one rolled back, by its own lock_timeout, and the
//!    writer goes on;
//! 3. a rolled-back attempt is retried after a short pause, from step 1.

use std::io::IsTerminal;
use std::ops::Range;
use std::time::{Duration, Instant};

use postgres::Client;
use serde::Serialize;

use super::clear::Looker;
use super::locks::TableLock;
use super::plan::Planned;
use super::settings::{CLEAR_POLL, OLD_TRANSACTION_AGE, Settings, backoff, pg_duration};
use super::watch::{Blocker, Watch, old_transactions};
use crate::db::describe;
use crate::prisma::apply::{
    StatementAt, insert_started, record_failure, record_finish, record_start, statement_at,
};
use crate::source::names::QualifiedName;

pub use crate::prisma::failed::{NOTHING_APPLIED, invalid_index};

#[derive(Debug, Clone, Serialize)]
pub struct AttemptReport {
    pub attempt: u32,
    /// `lock_timeout` (deploy's own wait ended) or `deadlock` (PostgreSQL picked deploy's transaction).
    pub kind: &'static str,
    /// The table whose up-front lock waited (`LOCK TABLE`), when it was one of them.
    pub lock: Option<String>,
    /// The longest the wait was allowed to last: --lock-timeout for the first lock, then what was
    /// left of the budget under deadlock_timeout.
    pub limit_ms: u64,
    /// The statement that waited.
    pub waited_at: Option<StatementAt>,
    pub message: String,
    /// Who held (or was queued before) the lock while it waited.
    pub blockers: Vec<Blocker>,
    /// The pause before the next attempt.
    pub retry_in_ms: Option<u64>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum RunResult {
    Applied {
        attempts: u32,
        elapsed_ms: f64,
    },
    /// Its locks were not granted within the attempts or the deadline: rolled back, nothing recorded.
    LockNotGranted,
    /// Transactions older than the limit stayed open: a CONCURRENTLY build would wait for them.
    OldTransactions {
        transactions: Vec<Blocker>,
    },
    /// Failed on its SQL; recorded as failed in `_prisma_migrations`, as Prisma records it.
    Failed {
        message: String,
        sqlstate: Option<String>,
        at: Option<StatementAt>,
        /// Whether something of it stays applied (never, for a transaction).
        half_applied: bool,
        /// An INVALID index the failed build left, dropped.
        dropped_invalid_index: Option<String>,
        recovery: Vec<String>,
    },
}

#[derive(Debug, Clone, Serialize)]
pub struct MigrationRun {
    pub migration: String,
    #[serde(flatten)]
    pub result: RunResult,
    /// Attempts that collided with writers (a lock not granted in time), each rolled back.
    pub retries: Vec<AttemptReport>,
    /// Attempts made (0 when the way never cleared).
    pub attempts: u32,
    /// Time spent waiting, without asking for any lock, for sessions in the way to end (for a
    /// CONCURRENTLY build: for older transactions).
    pub waited_for_clear_ms: f64,
    /// How long the successful attempt held write-blocking locks on existing tables (from its first
    /// lock to its commit).
    pub write_locks_held_ms: f64,
    /// The locks taken up front, in order.
    pub locks: Vec<TableLock>,
    /// The sessions that were in the way, each once.
    pub in_the_way: Vec<Blocker>,
    /// A batched backfill's last progress figures.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backfill: Option<super::backfill::BackfillFigures>,
}

impl MigrationRun {
    fn new(migration: &str, result: RunResult) -> Self {
        MigrationRun {
            migration: migration.to_string(),
            result,
            retries: Vec::new(),
            attempts: 0,
            waited_for_clear_ms: 0.0,
            write_locks_held_ms: 0.0,
            locks: Vec::new(),
            in_the_way: Vec::new(),
            backfill: None,
        }
    }
}

/// The connection broke (or the server went away) mid-migration. For a transaction, the server rolled
/// it back: nothing of it is applied and nothing was recorded.
#[derive(Debug)]
pub struct Broken {
    pub migration: String,
    pub message: String,
    /// For a CONCURRENTLY build: its `_prisma_migrations` row stays unfinished.
    pub left: &'static str,
}

pub type Events<'a> = &'a mut dyn FnMut(String);

/// The session is gone, not the SQL wrong: no SQLSTATE (the socket closed), a connection exception
/// (class 08) or the server ending the session (57P01 terminated by an administrator, 57P02 crash,
/// 57P03 cannot connect now).
fn connection_lost(error: &postgres::Error) -> bool {
    match error.code() {
        None => true,
        Some(code) => {
            let code = code.code();
            code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03")
        }
    }
}

fn is_lock_wait(error: &postgres::Error) -> bool {
    // 55P03 lock_not_available; 40P01 deadlock_detected also ends with nothing applied and may pass
    // on a later attempt.
    error
        .code()
        .is_some_and(|c| matches!(c.code(), "55P03" | "40P01"))
}

/// Where an attempt was when it failed.
enum Step {
    Lock(usize),
    Statement(Range<usize>),
}

/// How long deploy's waits may last after it first asks for a lock: three quarters of the server's
/// deadlock_timeout, so they end before a writer that queued behind deploy reaches its deadlock check.
pub fn lock_budget(deadlock_timeout: Duration) -> Duration {
    deadlock_timeout.mul_f64(0.75)
}

/// A wait as `SET lock_timeout` takes it: at least a millisecond (0 would mean no limit at all).
fn wait_setting(wait: Duration) -> String {
    pg_duration(wait.max(Duration::from_millis(1)))
}

/// Run `planned` in one transaction once the way is clear, its locks taken up front; retried while
/// they are not granted in time. See the module's documentation.
#[allow(clippy::too_many_arguments)]
pub fn in_transaction(
    client: &mut Client,
    planned: &Planned,
    statements: &[Range<usize>],
    settings: &Settings,
    deadlock_timeout: Duration,
    watch: &Watch,
    events: Events<'_>,
) -> Result<MigrationRun, Broken> {
    let sql = &planned.sql;
    let lines = crate::source::line_starts(sql);
    let started = Instant::now();
    let broken = |error: &postgres::Error| Broken {
        migration: planned.migration.clone(),
        message: describe(error),
        left: "the server rolls back the open transaction: nothing of it is applied and nothing was recorded; run deploy again",
    };
    let plan = super::locks::plan(client, planned).map_err(|e| broken(&e))?;
    let mut run = MigrationRun::new(&planned.migration, RunResult::LockNotGranted);
    run.locks = plan.clone();
    let blocks_writes = plan.iter().any(|l| l.mode.blocks_writes());
    let budget = lock_budget(deadlock_timeout);
    let mut looker = Looker::default();
    loop {
        // 1. The way clear: no long transaction holds or waits for a conflicting lock.
        let waiting_since = Instant::now();
        loop {
            let in_the_way = looker
                .in_the_way(client, &plan, settings.lock_timeout)
                .map_err(|e| broken(&e))?;
            if in_the_way.is_empty() {
                break;
            }
            for session in &in_the_way {
                if !run.in_the_way.iter().any(|b| b.pid == session.session.pid) {
                    events(format!(
                        "  waiting for the way to clear, without queueing: {session}"
                    ));
                    run.in_the_way.push(session.session.clone());
                }
            }
            if started.elapsed() >= settings.deadline {
                run.waited_for_clear_ms += waiting_since.elapsed().as_secs_f64() * 1000.0;
                events(format!(
                    "  giving up on {} (--deadline {}): the way did not clear",
                    planned.migration,
                    pg_duration(settings.deadline)
                ));
                return Ok(run);
            }
            std::thread::sleep(CLEAR_POLL);
        }
        run.waited_for_clear_ms += waiting_since.elapsed().as_secs_f64() * 1000.0;

        // 2. One attempt: every lock up front, then the statements, each wait bounded.
        run.attempts += 1;
        let attempt = run.attempts;
        watch.reset();
        let mut step: Option<Step> = None;
        let mut locked_at: Option<Instant> = None;
        let mut limit = settings.lock_timeout;
        let outcome = (|| -> Result<Instant, postgres::Error> {
            let mut transaction = client.transaction()?;
            if let Some(timeout) = settings.statement_timeout {
                transaction.batch_execute(&format!(
                    "SET LOCAL statement_timeout = '{}'",
                    pg_duration(timeout)
                ))?;
            }
            let asked = Instant::now();
            let budget_end = asked + budget;
            let left = || budget_end.saturating_duration_since(Instant::now());
            for (i, lock) in plan.iter().enumerate() {
                step = Some(Step::Lock(i));
                let wait = if i == 0 {
                    settings.lock_timeout
                } else {
                    settings.lock_timeout.min(left())
                };
                limit = wait;
                transaction.batch_execute(&format!(
                    "SET LOCAL lock_timeout = '{}'; LOCK TABLE {} IN {} MODE",
                    wait_setting(wait),
                    lock.table,
                    lock.mode.name()
                ))?;
                locked_at.get_or_insert_with(Instant::now);
            }
            step = None;
            transaction.batch_execute(&format!(
                "SET LOCAL lock_timeout = '{}'",
                wait_setting(left())
            ))?;
            let id = insert_started(&mut transaction, &planned.migration, sql)?;
            for range in statements {
                step = Some(Step::Statement(range.clone()));
                limit = left();
                transaction.batch_execute(&format!(
                    "SET LOCAL lock_timeout = '{}'",
                    wait_setting(limit)
                ))?;
                transaction.batch_execute(&sql[range.clone()])?;
            }
            step = None;
            record_finish(&mut transaction, &id)?;
            transaction.commit()?;
            Ok(Instant::now())
        })();
        let at = match &step {
            Some(Step::Statement(range)) => Some(statement_at(sql, &lines, range)),
            _ => None,
        };
        let error = match outcome {
            Ok(committed) => {
                if blocks_writes && let Some(locked) = locked_at {
                    run.write_locks_held_ms =
                        committed.duration_since(locked).as_secs_f64() * 1000.0;
                }
                run.result = RunResult::Applied {
                    attempts: attempt,
                    elapsed_ms: started.elapsed().as_secs_f64() * 1000.0,
                };
                return Ok(run);
            }
            Err(error) if connection_lost(&error) || client.is_closed() => {
                return Err(broken(&error));
            }
            Err(error) => error,
        };
        if is_lock_wait(&error) {
            let wait = backoff(run.retries.len() as u32 + 1);
            let give_up =
                attempt >= settings.max_attempts || started.elapsed() + wait > settings.deadline;
            let report = AttemptReport {
                attempt,
                kind: if error.code().is_some_and(|c| c.code() == "40P01") {
                    "deadlock"
                } else {
                    "lock_timeout"
                },
                lock: match &step {
                    Some(Step::Lock(i)) => Some(plan[*i].table.clone()),
                    _ => None,
                },
                limit_ms: limit.max(Duration::from_millis(1)).as_millis() as u64,
                waited_at: at.clone(),
                message: describe(&error),
                blockers: watch.blockers(),
                retry_in_ms: (!give_up).then_some(wait.as_millis() as u64),
            };
            events(attempt_line(&planned.migration, &report, settings));
            run.retries.push(report);
            if give_up {
                return Ok(run);
            }
            std::thread::sleep(wait);
            continue;
        }
        // A real failure: nothing is applied (the transaction rolled back). Record it as Prisma does.
        let message = describe(&error);
        let logs = format!(
            "{message}\n\nThe migration ran in one transaction, which was rolled back.\n{NOTHING_APPLIED}"
        );
        let recorded = record_start(client, &planned.migration, sql)
            .map(|id| record_failure(client, &id, &logs))
            .unwrap_or(false);
        let name = &planned.migration;
        let mut recovery = vec![format!(
            "fix the cause ({}), then run `migrate-safe deploy` again: it marks {name} rolled back and runs it again",
            at.as_ref().map_or(message.clone(), |a| format!(
                "line {}: {}",
                a.line, a.excerpt
            ))
        )];
        recovery.push(format!(
            "or with Prisma: `prisma migrate resolve --rolled-back {}`, then `prisma migrate deploy`",
            crate::escape::shell(name)
        ));
        if !recorded {
            recovery.insert(
                0,
                "the failure could not be recorded in _prisma_migrations: Prisma sees the migration as pending".into(),
            );
        }
        run.result = RunResult::Failed {
            message,
            sqlstate: error.code().map(|c| c.code().to_string()),
            at,
            half_applied: false,
            dropped_invalid_index: None,
            recovery,
        };
        return Ok(run);
    }
}

fn attempt_line(migration: &str, report: &AttemptReport, settings: &Settings) -> String {
    let mut line = format!("  attempt {}/{}: ", report.attempt, settings.max_attempts);
    match (&report.lock, &report.waited_at) {
        (Some(table), _) => line.push_str(&format!(
            "lock on {table} not granted within {} ms",
            report.limit_ms
        )),
        (None, Some(at)) => line.push_str(&format!(
            "lock not granted within {} ms at line {} ({})",
            report.limit_ms, at.line, at.excerpt
        )),
        (None, None) => line.push_str("lock not granted in time"),
    }
    if report.kind == "deadlock" {
        line.push_str(" (a deadlock: PostgreSQL chose deploy's transaction)");
    }
    line.push_str("; rolled back, nothing applied, no writer failed");
    for b in &report.blockers {
        line.push_str(&format!("\n    held by {b}"));
    }
    match report.retry_in_ms {
        Some(ms) => line.push_str(&format!("\n    retrying {migration} in {ms} ms")),
        None => line.push_str(&format!(
            "\n    giving up on {migration} (--max-attempts {}, --deadline {})",
            settings.max_attempts,
            pg_duration(settings.deadline)
        )),
    }
    line
}

/// Run a statement that must be alone (outside any transaction), with Prisma's bookkeeping.
#[allow(clippy::too_many_arguments)]
pub fn alone(
    client: &mut Client,
    pid: i32,
    planned: &Planned,
    statement: &Range<usize>,
    builds_index: Option<&QualifiedName>,
    backfill: Option<&super::backfill::Tracker>,
    settings: &Settings,
    watch: &Watch,
    events: Events<'_>,
) -> Result<MigrationRun, Broken> {
    let sql = &planned.sql;
    let name = &planned.migration;
    let broken = |error: &postgres::Error, left: &'static str| Broken {
        migration: name.clone(),
        message: describe(error),
        left,
    };
    let started = Instant::now();
    // A concurrent build waits for every older transaction of this database: see them first (a
    // backfill's batches do not).
    let mut waited = false;
    while backfill.is_none() {
        let old = old_transactions(client, pid, OLD_TRANSACTION_AGE)
            .map_err(|e| broken(&e, "nothing of it was applied"))?;
        if old.is_empty() {
            break;
        }
        if started.elapsed() >= settings.old_transaction_wait {
            let mut run = MigrationRun::new(name, RunResult::OldTransactions { transactions: old });
            run.waited_for_clear_ms = started.elapsed().as_secs_f64() * 1000.0;
            return Ok(run);
        }
        if !waited {
            let mut line = format!(
                "  {} transaction(s) older than {} s are open; the build would wait for each, so deploy waits for them first (at most {}):",
                old.len(),
                OLD_TRANSACTION_AGE.as_secs(),
                pg_duration(settings.old_transaction_wait)
            );
            for t in &old {
                line.push_str(&format!("\n    {t}"));
            }
            events(line);
            waited = true;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    let waited_for_clear_ms = started.elapsed().as_secs_f64() * 1000.0;
    // The build's lock (SHARE UPDATE EXCLUSIVE) blocks no reads or writes, even while it queues; the
    // waits inside a concurrent build obey lock_timeout and would leave an INVALID index: no timeout.
    // (A backfill's batches set their own lock_timeout.)
    let mut setup = "SET lock_timeout = 0".to_string();
    if backfill.is_some() {
        setup.push_str(&format!(
            "; SET {} = '{}'; SET {} = '{}'",
            crate::rules::backfill::BATCH_ROWS_SETTING,
            settings.batch_size,
            crate::rules::backfill::BATCH_PAUSE_SETTING,
            settings.batch_pause.as_secs_f64()
        ));
    }
    if let Some(timeout) = settings.statement_timeout {
        setup.push_str(&format!(
            "; SET statement_timeout = '{}'",
            pg_duration(timeout)
        ));
    }
    client
        .batch_execute(&setup)
        .map_err(|e| broken(&e, "nothing of it was applied"))?;
    let id =
        record_start(client, name, sql).map_err(|e| broken(&e, "nothing of it was applied"))?;
    const BUILD_ATTEMPTS: u32 = 2;
    for attempt in 1..=BUILD_ATTEMPTS {
        watch.reset();
        match backfill {
            Some(tracker) => tracker.start(name),
            None if std::io::stderr().is_terminal() => {
                let bar = indicatif::ProgressBar::new_spinner();
                bar.set_prefix(name.clone());
                watch.show_progress(bar);
            }
            None => {}
        }
        let outcome = client.batch_execute(&sql[statement.clone()]);
        watch.reset();
        let figures = backfill.and_then(super::backfill::Tracker::finish);
        if let Some(figures) = &figures {
            events(format!("  backfill: {}", super::backfill::line(figures)));
        }
        let error = match outcome {
            Ok(()) => {
                let _ = client.batch_execute("RESET lock_timeout; RESET statement_timeout");
                record_finish(client, &id).map_err(|e| {
                    broken(&e, "the statement completed; its _prisma_migrations row stays unfinished: the next deploy finds the index valid and records it applied")
                })?;
                let mut run = MigrationRun::new(
                    name,
                    RunResult::Applied {
                        attempts: attempt,
                        elapsed_ms: started.elapsed().as_secs_f64() * 1000.0,
                    },
                );
                run.attempts = attempt;
                run.waited_for_clear_ms = waited_for_clear_ms;
                run.backfill = figures;
                return Ok(run);
            }
            Err(error) if connection_lost(&error) || client.is_closed() => {
                return Err(broken(
                    &error,
                    "its _prisma_migrations row stays unfinished (Prisma's P3009) and the build may have left an INVALID index: the next deploy drops it and builds again",
                ));
            }
            Err(error) => error,
        };
        let message = describe(&error);
        let mut dropped = None;
        if let Some(index) = builds_index
            && invalid_index(client, index).ok().flatten() == Some(true)
        {
            let drop = format!("DROP INDEX CONCURRENTLY IF EXISTS {index}");
            client
                .batch_execute(&drop)
                .map_err(|e| broken(&e, "the INVALID index it left is still there"))?;
            events(format!(
                "  the failed build left {index} INVALID: dropped it ({drop})"
            ));
            dropped = Some(index.to_string());
        }
        if attempt < BUILD_ATTEMPTS && is_lock_wait(&error) {
            events(format!("  {message}: building again"));
            continue;
        }
        let _ = client.batch_execute("RESET lock_timeout; RESET statement_timeout");
        let logs = match &dropped {
            Some(index) => format!(
                "{message}\n\nThe INVALID index {index} the build left was dropped.\n{NOTHING_APPLIED}"
            ),
            None => message.clone(),
        };
        record_failure(client, &id, &logs);
        let half_applied = builds_index.is_none();
        let mut recovery = vec![format!(
            "fix the cause ({message}), then run `migrate-safe deploy` again: it marks {name} rolled back and runs it again"
        )];
        recovery.push(format!(
            "or with Prisma: `prisma migrate resolve --rolled-back {}`, then `prisma migrate deploy`",
            crate::escape::shell(name)
        ));
        let mut run = MigrationRun::new(
            name,
            RunResult::Failed {
                message,
                sqlstate: error.code().map(|c| c.code().to_string()),
                at: Some(statement_at(
                    sql,
                    &crate::source::line_starts(sql),
                    statement,
                )),
                half_applied,
                dropped_invalid_index: dropped.clone(),
                recovery,
            },
        );
        run.attempts = attempt;
        run.waited_for_clear_ms = waited_for_clear_ms;
        return Ok(run);
    }
    unreachable!("the loop returns on its last attempt")
}
