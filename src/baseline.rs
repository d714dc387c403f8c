//! The `baseline` command: for a database whose schema predates its migration history, write a `0_init`
//! migration that recreates it and record it as applied, exactly as `prisma migrate diff --from-empty
//! ... > 0_init/migration.sql` followed by `prisma migrate resolve --applied 0_init` would.
//!
//! The DDL comes from `pg_dump --schema-only` (stripped of what a Prisma migration cannot hold: psql
//! meta-commands, session `SET`s, the empty search_path). It is proven before anything is recorded:
//! applied Prisma's way to an empty scratch database, it must reproduce the database's catalog.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Serialize;

use crate::db::catalog::{diff, snapshot};
use crate::db::provision::{Wanted, check_url, provision_from};
use crate::db::{ScratchDatabase, connect, libpq_url, redact};
use crate::error::{Error, Result};
use crate::prisma::apply::apply_migration;
use crate::prisma::bookkeeping::{PRISMA_MIGRATIONS_TABLE, checksum};
use crate::prisma::order::{byte_cmp, collation_cmp};
use crate::store::{NewFolder, write_atomically};

#[derive(Debug, Serialize)]
pub struct BaselineReport {
    pub directory: String,
    pub database: String,
    pub migration: String,
    pub sql: Option<String>,
    pub checksum: String,
    /// The row recorded (or, with --dry-run, that would be) in `_prisma_migrations`.
    pub row: String,
    pub verified_on: Option<String>,
    /// Which Prisma (and so which apply models) the proof applied the baseline for.
    pub prisma: Option<String>,
    pub written: bool,
}

fn db(e: impl std::fmt::Display) -> Error {
    Error::Database(e.to_string())
}

/// What `baseline` does besides where: the folder's name, whether to write, and the proof's server.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Folder name of the baseline (`0_init`).
    pub name: String,
    /// Only record this existing folder as applied.
    pub mark_applied: Option<String>,
    pub dry_run: bool,
    pub scratch_url: Option<String>,
    pub pg_version: String,
    pub prisma_version: Option<String>,
}

/// Baseline the database at `url` for the migrations directory `dir` (see [`migrations_dir`]): write
/// and record a baseline folder, or only record `mark_applied`.
pub fn baseline(dir: &Path, url: &str, options: &Options) -> Result<BaselineReport> {
    check_url(url).map_err(db)?;
    let mut client = connect(url).map_err(db)?;
    let recorded = recorded_rows(&mut client, None)?;
    match &options.mark_applied {
        Some(name) => mark_applied(options, dir, url, &mut client, name),
        None => {
            if recorded > 0 {
                return Err(Error::Usage(format!(
                    "{}: _prisma_migrations already records {recorded} migration{}: this database is not waiting for a baseline (see `migrate-safe status`)",
                    redact(url),
                    if recorded == 1 { "" } else { "s" }
                )));
            }
            create_baseline(options, dir, url, &mut client)
        }
    }
}

/// The migrations directory, which may not hold any migration yet, or not exist yet (its parent must):
/// the baseline creates it.
pub fn migrations_dir(given: &Path) -> Result<PathBuf> {
    if !given.exists()
        && given
            .parent()
            .is_some_and(|p| p.as_os_str().is_empty() || p.is_dir())
    {
        return Ok(given.to_path_buf());
    }
    if !given.is_dir() {
        return Err(Error::Missing {
            path: given.to_path_buf(),
        });
    }
    // An empty folder is the place for the baseline, whatever a project around it holds.
    if is_empty(given) {
        return Ok(given.to_path_buf());
    }
    crate::source::discover::discover(given).map(|found| found.path)
}

fn is_empty(dir: &Path) -> bool {
    std::fs::read_dir(dir)
        .map(|mut d| d.next().is_none())
        .unwrap_or(false)
}

fn existing_folders(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().is_dir())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| !n.starts_with('.'))
        .collect()
}

fn create_baseline(
    options: &Options,
    dir: &Path,
    url: &str,
    client: &mut postgres::Client,
) -> Result<BaselineReport> {
    let name = &options.name;
    let folders = existing_folders(dir);
    if folders.contains(name) {
        return Err(Error::Usage(format!(
            "{}: already exists; a baseline is written once",
            dir.join(name).display()
        )));
    }
    if let Some(earlier) = folders
        .iter()
        .find(|f| byte_cmp(f, name).is_lt() || collation_cmp(f, name).is_lt())
    {
        return Err(Error::Usage(format!(
            "baseline {name} would not sort before {earlier}: Prisma applies folders in name order; pick a name like 0_init"
        )));
    }
    let objects: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S') AND c.relname <> '_prisma_migrations'
               AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'",
            &[],
        )
        .map_err(db)?
        .get(0);
    if objects == 0 {
        return Err(Error::Usage(format!(
            "{}: the database is empty: there is nothing to baseline (use `prisma migrate dev` for a new database)",
            redact(url)
        )));
    }
    let sql = schema_sql(url)?;
    // Proof: the baseline applied Prisma's way to an empty database reproduces this catalog.
    let config = crate::config::Loaded::find(None, dir)?;
    let server = provision_from(
        &Wanted {
            url: options.scratch_url.as_deref(),
            configured: config.scratch_url(),
            shadow: None,
        },
        &options.pg_version,
    )
    .map_err(db)?;
    let prisma = config.prisma_target(options.prisma_version.as_deref(), dir)?;
    let source = {
        let mut transaction = client
            .build_transaction()
            .read_only(true)
            .start()
            .map_err(db)?;
        let source = snapshot_in(&mut transaction)?;
        transaction.commit().map_err(db)?;
        source
    };
    // Under each way the project's Prisma may apply it (a new database gets the baseline applied).
    for &model in &prisma.models {
        let scratch = ScratchDatabase::create(&server.admin_url, None).map_err(db)?;
        let mut scratch_client = scratch.connect().map_err(db)?;
        apply_migration(&mut scratch_client, name, &sql, model).map_err(|e| {
            db(format!(
                "the baseline does not apply {}: {e}",
                model.label()
            ))
        })?;
        let rebuilt = snapshot(&mut scratch_client).map_err(db)?;
        let differences = diff(&source, &rebuilt);
        if !differences.is_empty() {
            return Err(Error::Database(format!(
                "the baseline, applied {}, does not reproduce the database; nothing was written. Differences (- database, + baseline): {}",
                model.label(),
                differences.join("; ")
            )));
        }
    }
    let sum = checksum(&sql);
    let row = format!(
        "_prisma_migrations: migration_name = '{name}', checksum = '{sum}', finished_at = now(), logs = '', applied_steps_count = 0"
    );
    let mut written = false;
    if !options.dry_run {
        let created = !dir.exists();
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        write_lock_file(dir)?;
        let written_folder = write_atomically(
            dir,
            &[],
            &[NewFolder {
                name: name.clone(),
                sql: sql.clone(),
            }],
        );
        let recorded = written_folder.and_then(|()| record_applied(client, name, &sum));
        if let Err(e) = recorded {
            let _ = std::fs::remove_dir_all(dir.join(name));
            if created {
                let _ = std::fs::remove_dir_all(dir);
            }
            return Err(e);
        }
        written = true;
    }
    Ok(BaselineReport {
        directory: dir.display().to_string(),
        database: redact(url),
        migration: name.clone(),
        sql: Some(sql),
        checksum: sum,
        row,
        verified_on: Some(server.description.clone()),
        prisma: Some(prisma.describe()),
        written,
    })
}

fn snapshot_in(transaction: &mut postgres::Transaction) -> Result<crate::db::catalog::Catalog> {
    // `snapshot` takes a client; a read-only transaction derefs to the same queries.
    crate::db::catalog::snapshot_with(|q| transaction.query(q, &[])).map_err(db)
}

fn mark_applied(
    options: &Options,
    dir: &Path,
    url: &str,
    client: &mut postgres::Client,
    name: &str,
) -> Result<BaselineReport> {
    let file = dir.join(name).join("migration.sql");
    let sql = crate::store::file::read_sql(&file)?;
    let done = recorded_rows(client, Some(name))?;
    if done > 0 {
        return Err(Error::Usage(format!(
            "{name} is already recorded in {}",
            redact(url)
        )));
    }
    let sum = checksum(&sql);
    if !options.dry_run {
        record_applied(client, name, &sum)?;
    }
    Ok(BaselineReport {
        directory: dir.display().to_string(),
        database: redact(url),
        migration: name.to_string(),
        sql: None,
        row: format!(
            "_prisma_migrations: migration_name = '{name}', checksum = '{sum}', finished_at = now(), logs = '', applied_steps_count = 0"
        ),
        checksum: sum,
        verified_on: None,
        prisma: None,
        written: !options.dry_run,
    })
}

/// Rows in `_prisma_migrations` (0 when the table does not exist yet): all of them, or the live ones of
/// one migration.
fn recorded_rows(client: &mut postgres::Client, migration: Option<&str>) -> Result<i64> {
    let exists: bool = client
        .query_one("SELECT to_regclass('_prisma_migrations') IS NOT NULL", &[])
        .map_err(db)?
        .get(0);
    if !exists {
        return Ok(0);
    }
    let row = match migration {
        None => client.query_one("SELECT count(*) FROM _prisma_migrations", &[]),
        Some(name) => client.query_one(
            "SELECT count(*) FROM _prisma_migrations WHERE migration_name = $1 AND rolled_back_at IS NULL",
            &[&name],
        ),
    };
    Ok(row.map_err(db)?.get(0))
}

/// What `prisma migrate resolve --applied` records.
fn record_applied(client: &mut postgres::Client, name: &str, sum: &str) -> Result<()> {
    let id = crate::prisma::bookkeeping::new_id(name);
    client.batch_execute(PRISMA_MIGRATIONS_TABLE).map_err(db)?;
    client
        .execute(
            r#"INSERT INTO "_prisma_migrations" ("id", "checksum", "migration_name", "started_at", "finished_at", "logs", "applied_steps_count")
               VALUES ($1, $2, $3, now(), now(), '', 0)"#,
            &[&id, &sum, &name],
        )
        .map_err(db)?;
    Ok(())
}

/// `pg_dump --schema-only`, from the newest pg_dump installed, cleaned for a Prisma migration.
fn schema_sql(url: &str) -> Result<String> {
    let pg_dump = pg_dump_binary().ok_or_else(|| {
        Error::Database("pg_dump is not installed (PATH or /usr/lib/postgresql/*/bin); install the PostgreSQL client".into())
    })?;
    let output = Command::new(&pg_dump)
        .args([
            "--schema-only",
            "--no-owner",
            "--no-privileges",
            "--no-comments",
            "--no-publications",
            "--no-subscriptions",
            "--no-security-labels",
            "--no-tablespaces",
            "--exclude-table=_prisma_migrations",
            "--dbname",
        ])
        .arg(libpq_url(url))
        .output()
        .map_err(|e| Error::Database(format!("{}: {e}", pg_dump.display())))?;
    if !output.status.success() {
        return Err(Error::Database(format!(
            "pg_dump failed: {}",
            String::from_utf8_lossy(&output.stderr)
                .trim()
                .replace(url, &redact(url))
        )));
    }
    Ok(clean_dump(&String::from_utf8_lossy(&output.stdout)))
}

/// The newest pg_dump: Debian's versioned directories first (pg_dump must be at least the server's
/// version), then PATH.
fn pg_dump_binary() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").map(|p| std::env::split_paths(&p).collect::<Vec<_>>());
    crate::db::provision::debian_bin_dirs()
        .into_iter()
        .chain(path.into_iter().flatten())
        .map(|d| d.join("pg_dump"))
        .find(|p| p.is_file())
}

/// Keep the DDL; drop psql meta-commands (`\restrict`), session settings (a Prisma migration runs in a
/// session that later migrations share: an empty search_path would break them), and pg_dump's banners.
pub fn clean_dump(dump: &str) -> String {
    let mut out = String::from("-- Baseline written by migrate-safe from pg_dump --schema-only\n");
    out.push_str("SET LOCAL check_function_bodies = false;\n");
    let mut blank = 0;
    for line in dump.lines() {
        let trimmed = line.trim();
        let drop = trimmed.starts_with('\\')
            || (trimmed.starts_with("SET ") && trimmed.ends_with(';'))
            || trimmed.starts_with("SELECT pg_catalog.set_config(")
            || trimmed.starts_with("-- Dumped ")
            || trimmed == "-- PostgreSQL database dump"
            || trimmed == "-- PostgreSQL database dump complete";
        if drop {
            continue;
        }
        if trimmed.is_empty() {
            blank += 1;
            if blank > 1 {
                continue;
            }
        } else {
            blank = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    // Banners whose text was dropped leave empty `--` frames behind.
    while out.contains("--\n--\n") {
        out = out.replace("--\n--\n", "");
    }
    out
}

/// `migration_lock.toml` as Prisma writes it, when the directory has none (Prisma refuses a directory
/// whose lock names another provider, and writes this one itself on `migrate dev`).
fn write_lock_file(dir: &Path) -> Result<()> {
    let path = dir.join("migration_lock.toml");
    if path.exists() {
        return Ok(());
    }
    let temp = dir.join(".migration_lock.toml.migrate-safe");
    std::fs::write(&temp, MIGRATION_LOCK)
        .and_then(|()| std::fs::rename(&temp, &path))
        .map_err(|e| Error::io(&path, e))
}

/// Prisma's `migration_lock.toml` for PostgreSQL, byte for byte.
pub const MIGRATION_LOCK: &str = "# Please do not edit this file manually\n# It should be added in your version-control system (e.g., Git)\nprovider = \"postgresql\"\n";
