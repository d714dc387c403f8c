//! Prisma's `_prisma_migrations` table: its shape, its ids and its checksums.

use sha2::{Digest, Sha256};

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

/// Lowercase hex SHA-256 of the file's bytes, as Prisma records it.
pub fn checksum(sql: &str) -> String {
    Sha256::digest(sql.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Prisma tolerates CRLF/LF differences between the recorded checksum and the file.
pub fn checksum_matches(recorded: &str, sql: &str) -> bool {
    recorded == checksum(sql)
        || recorded == checksum(&sql.replace("\r\n", "\n"))
        || recorded == checksum(&sql.replace("\r\n", "\n").replace('\n', "\r\n"))
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
