//! Live PostgreSQL for tests: 127.0.0.1:5432 (or MIGRATE_SAFE_TEST_DATABASE_URL). Without a server the
//! tests skip with a message — except in CI (CI=true), where they fail.

use std::path::Path;

use migrate_safe::db::{ScratchDatabase, connect};
use migrate_safe::prisma::ApplyModel;
use migrate_safe::prisma::apply::apply_migration;
use migrate_safe::source::discover::discover;

pub fn server_url() -> Option<String> {
    let url = std::env::var("MIGRATE_SAFE_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgresql://postgres@127.0.0.1:5432/postgres".to_string());
    match connect(&url) {
        Ok(_) => Some(url),
        Err(error) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("CI=true and PostgreSQL is not reachable: {error}")
        }
        Err(error) => {
            eprintln!(
                "SKIPPED: PostgreSQL is not reachable ({error}); start it to run the live tests"
            );
            None
        }
    }
}

/// Apply every migration of `dir` in Prisma's order to a new scratch database, the way Prisma does
/// under `model`.
pub fn apply_dir(server: &str, dir: &Path, model: ApplyModel) -> Result<ScratchDatabase, String> {
    let migrations = discover(dir).map_err(|e| e.to_string())?;
    let database = ScratchDatabase::create(server, None).map_err(|e| e.to_string())?;
    let mut client = database.connect().map_err(|e| e.to_string())?;
    for migration in &migrations.migrations {
        apply_migration(&mut client, &migration.name, &migration.sql, model)
            .map_err(|e| e.to_string())?;
    }
    Ok(database)
}
