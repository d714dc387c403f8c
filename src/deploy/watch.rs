//! A second connection that watches deploy's own session while a statement runs: who blocks it
//! (`pg_blocking_pids`), and how far a CONCURRENTLY build has got (`pg_stat_progress_create_index`).
//! The blockers must be read while the wait lasts: once lock_timeout fires, they are gone from view.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use postgres::Client;
use serde::Serialize;

/// A session holding (or queued before) a lock deploy waits for.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Blocker {
    pub pid: i32,
    pub application_name: String,
    pub state: String,
    /// Seconds since its transaction began, when it is in one.
    pub transaction_age_s: Option<f64>,
    /// The start of its current (or last) query, whitespace folded, at most 120 characters.
    pub query: String,
}

impl std::fmt::Display for Blocker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "pid {}", self.pid)?;
        if !self.application_name.is_empty() {
            write!(f, " ({})", self.application_name)?;
        }
        write!(f, ", {}", self.state)?;
        if let Some(age) = self.transaction_age_s {
            write!(f, ", transaction open for {age:.1} s")?;
        }
        if !self.query.is_empty() {
            write!(f, ": {}", self.query)?;
        }
        Ok(())
    }
}

/// The columns of a [`Blocker`] from `pg_stat_activity a`, for [`Blocker::from_row`].
pub const SESSION_COLUMNS: &str = "a.pid, coalesce(a.application_name, ''), coalesce(a.state, ''),
        extract(epoch FROM clock_timestamp() - a.xact_start)::float8,
        left(regexp_replace(coalesce(a.query, ''), '\\s+', ' ', 'g'), 120)";

impl Blocker {
    /// From a row that starts with [`SESSION_COLUMNS`].
    pub fn from_row(row: &postgres::Row) -> Self {
        Self::from_row_at(row, 0)
    }

    /// From a row whose [`SESSION_COLUMNS`] start at column `at`. Columns a role may not see of
    /// another role's session (without pg_read_all_stats) are empty.
    pub fn from_row_at(row: &postgres::Row, at: usize) -> Self {
        Blocker {
            pid: row.get(at),
            application_name: row.get(at + 1),
            state: row.get(at + 2),
            transaction_age_s: row.get(at + 3),
            query: row.get(at + 4),
        }
    }
}

/// The sessions blocking `pid` now.
pub fn blockers_of(client: &mut Client, pid: i32) -> Result<Vec<Blocker>, postgres::Error> {
    let query = format!(
        "SELECT {SESSION_COLUMNS} FROM pg_stat_activity a
         WHERE a.pid = ANY (pg_blocking_pids($1)) ORDER BY a.xact_start NULLS LAST"
    );
    Ok(client
        .query(&query, &[&pid])?
        .iter()
        .map(Blocker::from_row)
        .collect())
}

/// Transactions of this database other than `pid`'s older than `age`: a CONCURRENTLY build waits
/// for each of them to end.
pub fn old_transactions(
    client: &mut Client,
    pid: i32,
    age: Duration,
) -> Result<Vec<Blocker>, postgres::Error> {
    let query = format!(
        "SELECT {SESSION_COLUMNS} FROM pg_stat_activity a
         WHERE a.datname = current_database() AND a.pid <> $1 AND a.pid <> pg_backend_pid()
           AND a.xact_start < clock_timestamp() - make_interval(secs => $2)
           AND a.backend_type = 'client backend'
         ORDER BY a.xact_start"
    );
    Ok(client
        .query(&query, &[&pid, &age.as_secs_f64()])?
        .iter()
        .map(Blocker::from_row)
        .collect())
}

#[derive(Debug, Default)]
struct Seen {
    /// The latest non-empty set of blockers since [`Watch::reset`].
    blockers: Vec<Blocker>,
    progress: Option<String>,
    /// Where to show a build's progress (a spinner on a terminal).
    bar: Option<indicatif::ProgressBar>,
}

/// The watching thread; stopped when dropped.
pub struct Watch {
    seen: Arc<Mutex<Seen>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Watch {
    /// Watch session `pid` through `client` (a connection of its own), every `every`.
    pub fn start(mut client: Client, pid: i32, every: Duration) -> Self {
        let seen = Arc::new(Mutex::new(Seen::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (seen, stop) = (seen.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let blockers = blockers_of(&mut client, pid).unwrap_or_default();
                    let progress = build_progress(&mut client, pid);
                    if let Ok(mut seen) = seen.lock() {
                        if !blockers.is_empty() {
                            seen.blockers = blockers;
                        }
                        if let (Some(bar), Some(progress)) = (&seen.bar, &progress) {
                            bar.set_message(progress.clone());
                            bar.tick();
                        }
                        seen.progress = progress;
                    }
                    std::thread::sleep(every);
                }
            })
        };
        Watch {
            seen,
            stop,
            thread: Some(thread),
        }
    }

    /// Forget what was seen: a new attempt starts.
    pub fn reset(&self) {
        if let Ok(mut seen) = self.seen.lock() {
            if let Some(bar) = seen.bar.take() {
                bar.finish_and_clear();
            }
            *seen = Seen::default();
        }
    }

    /// Show build progress on `bar` until [`Watch::reset`].
    pub fn show_progress(&self, bar: indicatif::ProgressBar) {
        if let Ok(mut seen) = self.seen.lock() {
            seen.bar = Some(bar);
        }
    }

    pub fn blockers(&self) -> Vec<Blocker> {
        self.seen
            .lock()
            .map(|s| s.blockers.clone())
            .unwrap_or_default()
    }

    /// `phase, blocks done/total, tuples done/total` of a running CREATE INDEX, if one runs.
    pub fn progress(&self) -> Option<String> {
        self.seen.lock().ok().and_then(|s| s.progress.clone())
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn build_progress(client: &mut Client, pid: i32) -> Option<String> {
    let row = client
        .query_opt(
            "SELECT phase, blocks_done, blocks_total, tuples_done, tuples_total
             FROM pg_stat_progress_create_index WHERE pid = $1",
            &[&pid],
        )
        .ok()??;
    let (phase, blocks_done, blocks_total, tuples_done, tuples_total): (
        String,
        i64,
        i64,
        i64,
        i64,
    ) = (row.get(0), row.get(1), row.get(2), row.get(3), row.get(4));
    Some(format!(
        "{phase}: blocks {blocks_done}/{blocks_total}, tuples {tuples_done}/{tuples_total}"
    ))
}
