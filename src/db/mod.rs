//! Live PostgreSQL: scratch databases, applying migrations the way Prisma does, reading the catalog.

pub mod apply;
pub mod catalog;
pub mod cleanup;
pub mod provision;

use std::time::{SystemTime, UNIX_EPOCH};

use postgres::{Client, NoTls};

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("cannot connect to {url}: {message}")]
    Connect { url: String, message: String },
    #[error("{0}")]
    Query(String),
}

impl From<postgres::Error> for DbError {
    fn from(error: postgres::Error) -> Self {
        DbError::Query(describe(&error))
    }
}

/// An error's message with its SQLSTATE, the way psql shows it.
pub fn describe(error: &postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => format!(
            "{}: {} (SQLSTATE {})",
            db.severity(),
            db.message(),
            db.code().code()
        ),
        None => error.to_string(),
    }
}

/// A URL with its password replaced, for messages.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let Some((userinfo, host)) = rest.rsplit_once('@') else {
        return url.to_string();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

pub fn connect(url: &str) -> Result<Client, DbError> {
    Client::connect(url, NoTls).map_err(|e| DbError::Connect {
        url: redact(url),
        message: describe(&e),
    })
}

/// The same server, another database.
pub fn url_for_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{database}", &base[..path_start]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

/// A database created for one job and dropped when this value goes away.
pub struct ScratchDatabase {
    admin_url: String,
    pub name: String,
    pub url: String,
}

impl ScratchDatabase {
    /// Create `migrate_safe_<random>` on the server of `admin_url`, optionally as a copy of `template`.
    pub fn create(admin_url: &str, template: Option<&str>) -> Result<Self, DbError> {
        let name = format!("migrate_safe_{}", random_suffix());
        let mut admin = connect(admin_url)?;
        let sql = match template {
            Some(template) => format!("CREATE DATABASE \"{name}\" TEMPLATE \"{template}\""),
            None => format!("CREATE DATABASE \"{name}\""),
        };
        // Registered first: an interrupt while CREATE DATABASE runs still drops it.
        cleanup::register_database(admin_url, &name);
        if let Err(error) = admin.batch_execute(&sql) {
            cleanup::unregister_database(&name);
            return Err(error.into());
        }
        Ok(ScratchDatabase {
            url: url_for_database(admin_url, &name),
            admin_url: admin_url.to_string(),
            name,
        })
    }

    pub fn connect(&self) -> Result<Client, DbError> {
        connect(&self.url)
    }
}

impl Drop for ScratchDatabase {
    fn drop(&mut self) {
        drop_database(&self.admin_url, &self.name);
        cleanup::unregister_database(&self.name);
    }
}

pub(crate) fn drop_database(admin_url: &str, name: &str) {
    if let Ok(mut admin) = connect(admin_url) {
        let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"));
    }
}

fn random_suffix() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let mixed = nanos
        ^ ((std::process::id() as u128) << 64)
        ^ (COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed) as u128) << 32;
    format!(
        "{:016x}",
        (mixed as u64) ^ ((mixed >> 64) as u64).rotate_left(17)
    )
}

static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
