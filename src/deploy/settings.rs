//! How patient `deploy` is: flags over migrate-safe.toml's `[deploy]` over the defaults.

use std::time::Duration;

use serde::Serialize;

use crate::config::{Loaded, parse_duration};
use crate::error::{Error, Result};

/// The longest one of an attempt's lock waits lasts: writers queued behind it wait at most about this
/// long. Attempts are made only once no long transaction is in the way, so the lock is normally
/// granted within the few milliseconds the writers in flight take to commit; 50 ms leaves room for a
/// slow writer while staying below what an application notices.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_millis(50);
/// Attempts that collided with writers (a lock not granted in time). Each costs writers at most a
/// lock wait; 30 with the pauses below span about half a minute of a busy table.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 30;
/// A migration whose write-blocking locks the pre-flight estimates to be held longer is refused.
pub const DEFAULT_MAX_LOCK_HOLD: Duration = Duration::from_secs(1);
/// How often deploy looks whether the way is clear while a long transaction is in it.
pub const CLEAR_POLL: Duration = Duration::from_millis(50);
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(180);
pub const DEFAULT_OLD_TRANSACTION_WAIT: Duration = Duration::from_secs(60);
pub const DEFAULT_PREFLIGHT_TIMEOUT: Duration = Duration::from_secs(30);
/// Transactions older than this when a CONCURRENTLY build starts are reported and waited for.
pub const OLD_TRANSACTION_AGE: Duration = Duration::from_secs(5);
/// Prisma's own wait for its advisory lock (P1002 after 10 s).
pub const ADVISORY_LOCK_WAIT: Duration = Duration::from_secs(10);
/// After a collision: the writers that queued behind the attempt (for at most a lock wait) drain in
/// milliseconds, so the next attempt can come soon; repeated collisions space attempts out.
const BACKOFF_FIRST_MS: u64 = 200;
const BACKOFF_CAP_MS: u64 = 2000;

#[derive(Debug, Clone, Serialize)]
pub struct Settings {
    #[serde(serialize_with = "millis")]
    pub lock_timeout: Duration,
    #[serde(serialize_with = "optional_millis")]
    pub statement_timeout: Option<Duration>,
    pub max_attempts: u32,
    #[serde(serialize_with = "millis")]
    pub deadline: Duration,
    #[serde(serialize_with = "millis")]
    pub old_transaction_wait: Duration,
    #[serde(serialize_with = "millis")]
    pub preflight_timeout: Duration,
    #[serde(skip)]
    pub advisory_lock_wait: Duration,
    #[serde(serialize_with = "millis")]
    pub max_lock_hold: Duration,
    pub allow_long_locks: bool,
    /// Rows per batch of a batched backfill.
    pub batch_size: u64,
    #[serde(serialize_with = "millis")]
    pub batch_pause: Duration,
}

/// The settings as given on the command line (durations as text, as the user wrote them), before the
/// configuration file and the defaults fill the gaps.
#[derive(Debug, Clone, Default)]
pub struct Flags {
    pub lock_timeout: Option<String>,
    pub max_lock_hold: Option<String>,
    pub allow_long_locks: bool,
    pub statement_timeout: Option<String>,
    pub max_attempts: Option<u32>,
    pub deadline: Option<String>,
    pub old_transaction_wait: Option<String>,
    pub advisory_lock_wait: Option<String>,
    pub preflight_timeout: Option<String>,
    pub batch_size: Option<u64>,
    pub batch_pause: Option<String>,
}

impl Settings {
    pub fn resolve(args: &Flags, config: &Loaded) -> Result<Self> {
        let file = &config.config.deploy;
        let duration = |flag: &Option<String>, name: &str, configured: &Option<String>| {
            let value = flag.as_ref().or(configured.as_ref());
            value
                .map(|v| {
                    parse_duration(v).map_err(|e| {
                        if flag.is_some() {
                            Error::Usage(format!("--{name}: {e}"))
                        } else {
                            Error::Config {
                                path: config.path.clone().unwrap_or_default(),
                                message: format!("deploy.{name}: {e}"),
                            }
                        }
                    })
                })
                .transpose()
        };
        let none = None;
        let max_attempts = args
            .max_attempts
            .or(file.max_attempts)
            .unwrap_or(DEFAULT_MAX_ATTEMPTS);
        if max_attempts == 0 {
            return Err(Error::Usage(
                "--max-attempts: 0 would never try; give 1 or more".into(),
            ));
        }
        Ok(Settings {
            lock_timeout: duration(&args.lock_timeout, "lock-timeout", &file.lock_timeout)?
                .unwrap_or(DEFAULT_LOCK_TIMEOUT),
            statement_timeout: duration(
                &args.statement_timeout,
                "statement-timeout",
                &file.statement_timeout,
            )?,
            max_attempts,
            deadline: duration(&args.deadline, "deadline", &file.deadline)?
                .unwrap_or(DEFAULT_DEADLINE),
            old_transaction_wait: duration(
                &args.old_transaction_wait,
                "old-transaction-wait",
                &none,
            )?
            .unwrap_or(DEFAULT_OLD_TRANSACTION_WAIT),
            preflight_timeout: duration(&args.preflight_timeout, "preflight-timeout", &none)?
                .unwrap_or(DEFAULT_PREFLIGHT_TIMEOUT),
            advisory_lock_wait: duration(&args.advisory_lock_wait, "advisory-lock-wait", &none)?
                .unwrap_or(ADVISORY_LOCK_WAIT),
            max_lock_hold: duration(&args.max_lock_hold, "max-lock-hold", &file.max_lock_hold)?
                .unwrap_or(DEFAULT_MAX_LOCK_HOLD),
            allow_long_locks: args.allow_long_locks,
            batch_size: match args.batch_size {
                Some(0) => {
                    return Err(Error::Usage(
                        "--batch-size: 0 rows would never finish; give 1 or more".into(),
                    ));
                }
                Some(n) => n,
                None => crate::rules::backfill::BATCH_ROWS,
            },
            batch_pause: duration(&args.batch_pause, "batch-pause", &none)?
                .unwrap_or(Duration::ZERO),
        })
    }
}

/// A duration as PostgreSQL's `SET` takes it.
pub fn pg_duration(d: Duration) -> String {
    format!("{}ms", d.as_millis().max(1))
}

/// The wait before attempt `attempt + 1` (attempt counts from 1): doubling from 200 ms up to 2 s, with
/// jitter between half and all of it so that several deployers do not retry in step.
pub fn backoff(attempt: u32) -> Duration {
    let base = Duration::from_millis(BACKOFF_FIRST_MS)
        * 2u32.saturating_pow(attempt.saturating_sub(1).min(8));
    let capped = base.min(Duration::from_millis(BACKOFF_CAP_MS));
    // Jitter needs no cryptography: the clock's nanoseconds are random enough between attempts.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let fraction = 0.5 + f64::from(nanos % 1000) / 2000.0;
    capped.mul_f64(fraction)
}

fn millis<S: serde::Serializer>(d: &Duration, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_u64(d.as_millis() as u64)
}

fn optional_millis<S: serde::Serializer>(
    d: &Option<Duration>,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.serialize_u64(d.as_millis() as u64),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_is_capped_and_jittered_within_half() {
        for attempt in 1..30 {
            let full = (Duration::from_millis(BACKOFF_FIRST_MS) * 2u32.pow((attempt - 1).min(8)))
                .min(Duration::from_millis(BACKOFF_CAP_MS));
            let wait = backoff(attempt);
            assert!(wait <= full && wait >= full / 2, "{attempt}: {wait:?}");
        }
    }

    #[test]
    fn the_defaults_wait_out_a_30_second_blocker_and_keep_writer_waits_short() {
        // A blocker is waited out without queueing (no attempt is made), within the deadline.
        assert!(DEFAULT_DEADLINE > Duration::from_secs(30));
        // Writers queue behind one attempt for at most one lock wait: tens of milliseconds.
        assert!(DEFAULT_LOCK_TIMEOUT <= Duration::from_millis(100));
        // The pauses between attempts are never long enough to starve the migration.
        let spread: Duration = (1..DEFAULT_MAX_ATTEMPTS).map(backoff).sum();
        assert!(spread < DEFAULT_DEADLINE, "{spread:?}");
    }
}
