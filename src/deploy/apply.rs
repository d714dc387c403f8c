//! Running one pending migration: in one transaction of deploy's own with lock_timeout, rolled back
//! and retried with backoff while its locks are not granted; or, for a CONCURRENTLY statement, alone
//! with Prisma's bookkeeping around it and the INVALID index of a failed build dropped.

use std::io::IsTerminal;
use std::ops::Range;
use std::time::{Duration, Instant};

use postgres::Client;
use serde::Serialize;

use super::plan::Planned;
use super::settings::{OLD_TRANSACTION_AGE, Settings, backoff, pg_duration};
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
    pub retries: Vec<AttemptReport>,
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

/// Run `planned` in one transaction, retried while its locks are not granted.
pub fn in_transaction(
    client: &mut Client,
    planned: &Planned,
    statements: &[Range<usize>],
    settings: &Settings,
    watch: &Watch,
    events: Events<'_>,
) -> Result<MigrationRun, Broken> {
    let sql = &planned.sql;
    let lines = crate::source::line_starts(sql);
    let started = Instant::now();
    let mut retries = Vec::new();
    let mut attempt = 0;
    loop {
        attempt += 1;
        watch.reset();
        let mut failed_at: Option<Range<usize>> = None;
        let outcome = (|| -> Result<(), postgres::Error> {
            let mut transaction = client.transaction()?;
            transaction.batch_execute(&format!(
                "SET LOCAL lock_timeout = '{}'",
                pg_duration(settings.lock_timeout)
            ))?;
            if let Some(timeout) = settings.statement_timeout {
                transaction.batch_execute(&format!(
                    "SET LOCAL statement_timeout = '{}'",
                    pg_duration(timeout)
                ))?;
            }
            let id = insert_started(&mut transaction, &planned.migration, sql)?;
            for range in statements {
                failed_at = Some(range.clone());
                transaction.batch_execute(&sql[range.clone()])?;
            }
            failed_at = None;
            record_finish(&mut transaction, &id)?;
            transaction.commit()
        })();
        let at = failed_at.as_ref().map(|r| statement_at(sql, &lines, r));
        let error = match outcome {
            Ok(()) => {
                return Ok(MigrationRun {
                    migration: planned.migration.clone(),
                    result: RunResult::Applied {
                        attempts: attempt,
                        elapsed_ms: started.elapsed().as_secs_f64() * 1000.0,
                    },
                    retries,
                });
            }
            Err(error) if connection_lost(&error) || client.is_closed() => {
                return Err(Broken {
                    migration: planned.migration.clone(),
                    message: describe(&error),
                    left: "the server rolls back the open transaction: nothing of it is applied and nothing was recorded; run deploy again",
                });
            }
            Err(error) => error,
        };
        if is_lock_wait(&error) {
            let wait = backoff(attempt);
            let give_up =
                attempt >= settings.max_attempts || started.elapsed() + wait > settings.deadline;
            let report = AttemptReport {
                attempt,
                waited_at: at.clone(),
                message: describe(&error),
                blockers: watch.blockers(),
                retry_in_ms: (!give_up).then_some(wait.as_millis() as u64),
            };
            events(attempt_line(&planned.migration, &report, settings));
            retries.push(report);
            if give_up {
                return Ok(MigrationRun {
                    migration: planned.migration.clone(),
                    result: RunResult::LockNotGranted,
                    retries,
                });
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
        return Ok(MigrationRun {
            migration: planned.migration.clone(),
            result: RunResult::Failed {
                message,
                sqlstate: error.code().map(|c| c.code().to_string()),
                at,
                half_applied: false,
                dropped_invalid_index: None,
                recovery,
            },
            retries,
        });
    }
}

fn attempt_line(migration: &str, report: &AttemptReport, settings: &Settings) -> String {
    let mut line = format!(
        "  attempt {}/{}: lock not granted within {}",
        report.attempt,
        settings.max_attempts,
        pg_duration(settings.lock_timeout)
    );
    if let Some(at) = &report.waited_at {
        line.push_str(&format!(" at line {} ({})", at.line, at.excerpt));
    }
    line.push_str("; rolled back, nothing applied");
    match report.blockers.as_slice() {
        [] => line.push_str("; the blocker ended before it could be seen"),
        blockers => {
            for b in blockers {
                line.push_str(&format!("\n    held by {b}"));
            }
        }
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
    // A concurrent build waits for every older transaction of this database: see them first.
    let mut waited = false;
    loop {
        let old = old_transactions(client, pid, OLD_TRANSACTION_AGE)
            .map_err(|e| broken(&e, "nothing of it was applied"))?;
        if old.is_empty() {
            break;
        }
        if started.elapsed() >= settings.old_transaction_wait {
            return Ok(MigrationRun {
                migration: name.clone(),
                result: RunResult::OldTransactions { transactions: old },
                retries: Vec::new(),
            });
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
    // The build's lock (SHARE UPDATE EXCLUSIVE) blocks no reads or writes, even while it queues; the
    // waits inside a concurrent build obey lock_timeout and would leave an INVALID index: no timeout.
    let mut setup = "SET lock_timeout = 0".to_string();
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
        if std::io::stderr().is_terminal() {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.set_prefix(name.clone());
            watch.show_progress(bar);
        }
        let outcome = client.batch_execute(&sql[statement.clone()]);
        watch.reset();
        let error = match outcome {
            Ok(()) => {
                let _ = client.batch_execute("RESET lock_timeout; RESET statement_timeout");
                record_finish(client, &id).map_err(|e| {
                    broken(&e, "the statement completed; its _prisma_migrations row stays unfinished: the next deploy finds the index valid and records it applied")
                })?;
                return Ok(MigrationRun {
                    migration: name.clone(),
                    result: RunResult::Applied {
                        attempts: attempt,
                        elapsed_ms: started.elapsed().as_secs_f64() * 1000.0,
                    },
                    retries: Vec::new(),
                });
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
        return Ok(MigrationRun {
            migration: name.clone(),
            result: RunResult::Failed {
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
            retries: Vec::new(),
        });
    }
    unreachable!("the loop returns on its last attempt")
}
