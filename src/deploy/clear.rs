//! Is the way clear? Before an attempt, deploy looks (in `pg_locks` with `pg_stat_activity`) for
//! sessions that hold, or wait for, a lock that conflicts with one the migration needs. While such a
//! session has been in its transaction longer than a small threshold, an attempt would only queue
//! behind it — and every writer behind the attempt — so deploy waits without asking for any lock, and
//! writers go on. A holder's age is its transaction's (`xact_start`), or, where the role may not see
//! other roles' sessions, how long deploy has seen that transaction (`pg_locks.virtualtransaction`)
//! hold the lock.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use postgres::Client;

use super::locks::{LockMode, TableLock};
use super::watch::{Blocker, SESSION_COLUMNS};

/// A session in the way: who it is, and what it holds or waits for.
#[derive(Debug, Clone)]
pub struct InTheWay {
    pub session: Blocker,
    pub table: String,
    pub mode: LockMode,
    pub granted: bool,
    /// How long it has been in the way, as far as can be told.
    pub age: Duration,
}

impl std::fmt::Display for InTheWay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // `pid N (app)`, what it holds, then the rest of the session: state, age, query.
        let session = self.session.to_string();
        let (who, rest) = match session.split_once(", ") {
            Some((who, rest)) => (who.to_string(), rest.to_string()),
            None => (session, String::new()),
        };
        write!(
            f,
            "{who} {} {} on {}{}{rest}",
            if self.granted { "holds" } else { "waits for" },
            self.mode.name(),
            self.table,
            if rest.is_empty() { "" } else { ", " }
        )
    }
}

/// Remembers since when each lock (transaction, table, mode) has been seen, across looks.
#[derive(Default)]
pub struct Looker {
    first_seen: HashMap<(String, u32, LockMode), Instant>,
}

impl Looker {
    /// The sessions other than deploy's own that hold or wait for a lock conflicting with `plan`,
    /// and have done so for longer than `threshold`.
    pub fn in_the_way(
        &mut self,
        client: &mut Client,
        plan: &[TableLock],
        threshold: Duration,
    ) -> Result<Vec<InTheWay>, postgres::Error> {
        if plan.is_empty() {
            return Ok(Vec::new());
        }
        let oids: Vec<u32> = plan.iter().map(|l| l.oid).collect();
        let query = format!(
            "SELECT l.relation::oid, l.mode, l.granted, l.virtualtransaction, {SESSION_COLUMNS}
             FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
             WHERE l.locktype = 'relation' AND l.relation = ANY($1) AND l.pid <> pg_backend_pid()
               AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        );
        let now = Instant::now();
        let mut seen_now = Vec::new();
        let mut found = Vec::new();
        for row in client.query(&query, &[&oids])? {
            let oid: u32 = row.get(0);
            let mode: String = row.get(1);
            let granted: bool = row.get(2);
            let Some(mode) = LockMode::parse(&mode) else {
                continue;
            };
            let Some(wanted) = plan.iter().find(|l| l.oid == oid) else {
                continue;
            };
            if !wanted.mode.conflicts_with(mode) {
                continue;
            }
            // The transaction, not the session: a writer's session takes the lock again in each of
            // its short transactions, and must not look like one long holder.
            let transaction: String = row.get(3);
            let session = Blocker::from_row_at(&row, 4);
            let key = (transaction, oid, mode);
            let seen_for = now.duration_since(*self.first_seen.entry(key.clone()).or_insert(now));
            seen_now.push(key);
            let transaction = session
                .transaction_age_s
                .map_or(Duration::ZERO, |s| Duration::from_secs_f64(s.max(0.0)));
            let age = seen_for.max(transaction);
            if age > threshold {
                found.push(InTheWay {
                    session,
                    table: wanted.table.clone(),
                    mode,
                    granted,
                    age,
                });
            }
        }
        // A session that let go and comes back later starts its age anew.
        self.first_seen.retain(|key, _| seen_now.contains(key));
        found.sort_by_key(|w| std::cmp::Reverse(w.age));
        Ok(found)
    }
}
