//! Apply migrations exactly as Prisma's `migrate deploy` does: each migration.sql sent as ONE simple
//! query (PostgreSQL runs it as one implicit transaction), in order, with a `_prisma_migrations` row
//! kept like Prisma's.

use postgres::Client;
use sha2::{Digest, Sha256};

use super::describe;

/// Prisma's `_prisma_migrations` table, column for column.
pub const PRISMA_MIGRATIONS_TABLE: &str = r#"CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)"#;

/// A migration file that failed, like Prisma's P3018.
#[derive(Debug, Clone)]
pub struct ApplyError {
    pub migration: String,
    pub message: String,
    pub sqlstate: Option<String>,
}

impl std::fmt::Display for ApplyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "migration {} failed: {}", self.migration, self.message)
    }
}

pub fn checksum(sql: &str) -> String {
    Sha256::digest(sql.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Apply one migration file as Prisma does.
pub fn apply_migration(client: &mut Client, name: &str, sql: &str) -> Result<(), ApplyError> {
    let bookkeeping = |e: postgres::Error| ApplyError {
        migration: name.to_string(),
        message: format!("recording it in _prisma_migrations: {}", describe(&e)),
        sqlstate: e.code().map(|c| c.code().to_string()),
    };
    client
        .batch_execute(PRISMA_MIGRATIONS_TABLE)
        .map_err(bookkeeping)?;
    let id = new_id(name);
    client
        .execute(
            r#"INSERT INTO "_prisma_migrations" ("id", "checksum", "migration_name", "started_at", "applied_steps_count") VALUES ($1, $2, $3, now(), 0)"#,
            &[&id, &checksum(sql), &name],
        )
        .map_err(bookkeeping)?;
    match client.batch_execute(sql) {
        Ok(()) => {
            client
                .execute(
                    r#"UPDATE "_prisma_migrations" SET "finished_at" = now(), "applied_steps_count" = 1 WHERE "id" = $1"#,
                    &[&id],
                )
                .map_err(bookkeeping)?;
            Ok(())
        }
        Err(error) => {
            let message = describe(&error);
            let _ = client.execute(
                r#"UPDATE "_prisma_migrations" SET "logs" = $2 WHERE "id" = $1"#,
                &[&id, &message],
            );
            Err(ApplyError {
                migration: name.to_string(),
                sqlstate: error.code().map(|c| c.code().to_string()),
                message,
            })
        }
    }
}

/// A v4-shaped id derived from the name and the clock (Prisma uses random v4 UUIDs).
pub fn new_id(name: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let hash = Sha256::digest(format!("{name}{nanos}{}", std::process::id()).as_bytes());
    let h: String = hash.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-4{}-a{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}
