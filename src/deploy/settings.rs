//! How patient `deploy` is: flags over migrate-safe.toml's `[deploy]` over the defaults.

use std::time::Duration;

use serde::Serialize;

use crate::cli::DeployArgs;
use crate::config::{Loaded, parse_duration};
use crate::error::{Error, Result};

/// Short enough that writers queued behind a waiting ALTER wait at most about this long.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(1);
/// With the backoff below, 20 attempts span well over a minute: they outlast a 30-second blocker.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 20;
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(180);
pub const DEFAULT_OLD_TRANSACTION_WAIT: Duration = Duration::from_secs(60);
pub const DEFAULT_PREFLIGHT_TIMEOUT: Duration = Duration::from_secs(30);
/// Transactions older than this when a CONCURRENTLY build starts are reported and waited for.
pub const OLD_TRANSACTION_AGE: Duration = Duration::from_secs(5);
/// Prisma's own wait for its advisory lock (P1002 after 10 s).
pub const ADVISORY_LOCK_WAIT: Duration = Duration::from_secs(10);
const BACKOFF_FIRST_MS: u64 = 1000;
const BACKOFF_CAP_MS: u64 = 8000;

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
}

impl Settings {
    pub fn resolve(args: &DeployArgs, config: &Loaded) -> Result<Self> {
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
        })
    }
}

/// A duration as PostgreSQL's `SET` takes it.
pub fn pg_duration(d: Duration) -> String {
    format!("{}ms", d.as_millis().max(1))
}

/// The wait before attempt `attempt + 1` (attempt counts from 1): doubling from 1 s up to 8 s, with
/// jitter between half and all of it so that several deployers do not retry in step. At least half a
/// second: the writers that queued behind the last attempt get time to drain before the next one.
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
    fn the_default_retries_outlast_a_30_second_blocker() {
        // Each attempt waits lock_timeout, then the shortest backoff.
        let mut total = Duration::ZERO;
        for attempt in 1..DEFAULT_MAX_ATTEMPTS {
            // The shortest each attempt can take: its lock_timeout and half its backoff.
            let full = (Duration::from_millis(BACKOFF_FIRST_MS) * 2u32.pow((attempt - 1).min(8)))
                .min(Duration::from_millis(BACKOFF_CAP_MS));
            total += DEFAULT_LOCK_TIMEOUT + full / 2;
        }
        assert!(total > Duration::from_secs(30), "{total:?}");
        assert!(DEFAULT_DEADLINE > Duration::from_secs(30));
    }
}
