//! What a database says about the migrations directory: Prisma's `_prisma_migrations` table read
//! (read-only) and matched with the folders on disk.

use postgres::Client;
use serde::Serialize;

use crate::db::{DbError, describe};
use crate::prisma::bookkeeping::checksum_matches;
use crate::source::discover::MigrationsDir;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    Applied,
    /// Not in `_prisma_migrations` (or only rolled back): `migrate deploy` will run it.
    Pending,
    /// Started and never finished nor rolled back: Prisma's P3009, `migrate deploy` refuses to go on.
    Failed,
    /// Marked rolled back (`migrate resolve --rolled-back`): `migrate deploy` runs it again.
    RolledBack,
    /// Applied, but the file's checksum differs from the recorded one.
    Modified,
    /// Recorded in the database, no folder here.
    MissingLocally,
}

impl State {
    pub fn needs_attention(self) -> bool {
        matches!(
            self,
            State::Failed | State::Modified | State::MissingLocally
        )
    }

    /// `migrate deploy` would run it.
    pub fn is_pending(self) -> bool {
        matches!(self, State::Pending | State::RolledBack)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct MigrationStatus {
    pub migration: String,
    pub state: State,
    pub finished_at: Option<String>,
    pub logs: Option<String>,
}

struct Row {
    name: String,
    checksum: String,
    finished: Option<String>,
    rolled_back: bool,
    logs: Option<String>,
}

/// Whether Prisma has ever deployed to this database (its `_prisma_migrations` table exists).
pub fn has_history(client: &mut Client) -> Result<bool, DbError> {
    Ok(client
        .query_one("SELECT to_regclass('_prisma_migrations') IS NOT NULL", &[])?
        .get(0))
}

/// Read `_prisma_migrations` in a read-only transaction; an absent table means nothing was applied.
pub fn read_history(
    client: &mut Client,
    dir: &MigrationsDir,
) -> Result<Vec<MigrationStatus>, DbError> {
    let mut transaction = client.build_transaction().read_only(true).start()?;
    let exists: bool = transaction
        .query_one("SELECT to_regclass('_prisma_migrations') IS NOT NULL", &[])?
        .get(0);
    let mut rows: Vec<Row> = Vec::new();
    if exists {
        for row in transaction
            .query(
                "SELECT migration_name::text, checksum::text, finished_at::text, rolled_back_at IS NOT NULL, logs
                 FROM _prisma_migrations ORDER BY started_at, migration_name",
                &[],
            )
            .map_err(|e| DbError::Query(format!("reading _prisma_migrations: {}", describe(&e))))?
        {
            rows.push(Row {
                name: row.get(0),
                checksum: row.get(1),
                finished: row.get(2),
                rolled_back: row.get(3),
                logs: row.get(4),
            });
        }
    }
    transaction.commit()?;
    let mut statuses = Vec::new();
    for migration in &dir.migrations {
        // The latest attempt decides, as in Prisma.
        let attempt = rows.iter().rev().find(|r| r.name == migration.name);
        let (state, finished_at, logs) = match attempt {
            None => (State::Pending, None, None),
            Some(row) if row.rolled_back => (State::RolledBack, None, row.logs.clone()),
            Some(row) if row.finished.is_none() => (State::Failed, None, row.logs.clone()),
            Some(row) if !checksum_matches(&row.checksum, &migration.sql) => {
                (State::Modified, row.finished.clone(), None)
            }
            Some(row) => (State::Applied, row.finished.clone(), None),
        };
        statuses.push(MigrationStatus {
            migration: migration.name.clone(),
            state,
            finished_at,
            logs,
        });
    }
    let mut missing: Vec<&Row> = rows.iter().filter(|r| dir.get(&r.name).is_none()).collect();
    missing.dedup_by(|a, b| a.name == b.name);
    for row in missing {
        statuses.push(MigrationStatus {
            migration: row.name.clone(),
            state: State::MissingLocally,
            finished_at: row.finished.clone(),
            logs: None,
        });
    }
    Ok(statuses)
}
