//! Live PostgreSQL: scratch databases, applying migrations the way Prisma does, reading the catalog.

pub mod catalog;
pub mod cleanup;
pub mod cluster_cache;
pub mod local;
pub mod lock_mode;
pub mod owner;
pub mod pooler;
pub mod provision;
pub mod reap;
pub mod tls;

use std::time::{SystemTime, UNIX_EPOCH};

use postgres::Client;

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
        // A duplicate key's DETAIL names the key (`Key (slug)=(hello-world) is duplicated.`): what a
        // person needs to fix the rows. Other DETAILs may carry whole rows: left out of messages.
        Some(db) => match db.detail().filter(|_| db.code().code() == "23505") {
            Some(detail) => format!(
                "{}: {} (SQLSTATE {}); DETAIL: {detail}",
                db.severity(),
                db.message(),
                db.code().code()
            ),
            None => format!(
                "{}: {} (SQLSTATE {})",
                db.severity(),
                db.message(),
                db.code().code()
            ),
        },
        // The client's own message ("error connecting to server") hides the cause (refused, unknown
        // host, timed out, TLS): its source chain says it.
        None => {
            let mut message = error.to_string();
            let mut source = std::error::Error::source(error);
            while let Some(cause) = source {
                let cause_text = cause.to_string();
                if !message.contains(&cause_text) {
                    message.push_str(": ");
                    message.push_str(&cause_text);
                }
                source = cause.source();
            }
            message
        }
    }
}

/// The URL of the application's database: `--database-url`, else `DATABASE_URL` from the environment,
/// else from a `.env` file where Prisma would read it (said on stderr).
pub fn database_url(
    given: Option<&str>,
    migrations_dir: &std::path::Path,
) -> crate::error::Result<String> {
    if let Some(url) = given
        .map(str::to_string)
        .or_else(|| std::env::var("DATABASE_URL").ok().filter(|v| !v.is_empty()))
    {
        return Ok(url);
    }
    let places = crate::source::dotenv::places(migrations_dir);
    match crate::source::dotenv::find("DATABASE_URL", &places) {
        Some((url, file)) => {
            crate::secret::remember(&url);
            eprintln!(
                "migrate-safe: DATABASE_URL from {} (as Prisma reads it)",
                file.display()
            );
            Ok(url)
        }
        None => Err(crate::error::Error::Usage(
            "no database: pass --database-url URL, or set DATABASE_URL (in the environment or a .env file beside the project, as Prisma reads it)".into(),
        )),
    }
}

/// A connection string with every password replaced, for messages (see [`crate::secret`]).
pub fn redact(url: &str) -> String {
    crate::secret::redact(url)
}

/// Connect with TLS as libpq would (`sslmode`, `sslrootcert`, `PGSSLMODE`, `PGSSLROOTCERT`: see
/// [`tls`]).
pub fn connect(url: &str) -> Result<Client, DbError> {
    let fail = |message: String| DbError::Connect {
        url: redact(url),
        message,
    };
    let (rest, settings) = tls::split_url(&libpq_url(url)).map_err(fail)?;
    let mut config: postgres::Config = rest.parse().map_err(|e| fail(describe(&e)))?;
    tls::connect(&mut config, &settings).map_err(fail)
}

/// [`connect`], with each notice the server sends (its message) given to `notice`.
pub fn connect_with_notices(
    url: &str,
    notice: impl Fn(&str) + Send + Sync + 'static,
) -> Result<Client, DbError> {
    let fail = |message: String| DbError::Connect {
        url: redact(url),
        message,
    };
    let (rest, settings) = tls::split_url(&libpq_url(url)).map_err(fail)?;
    let mut config: postgres::Config = rest.parse().map_err(|e| fail(describe(&e)))?;
    config.notice_callback(move |n| notice(n.message()));
    tls::connect(&mut config, &settings).map_err(fail)
}

/// Prisma's URL parameters that libpq does not know: `schema=NAME` becomes the search_path (as Prisma
/// uses it); pool settings are dropped.
pub fn libpq_url(url: &str) -> String {
    let Some((base, query)) = url.split_once('?') else {
        return url.to_string();
    };
    const PRISMA_ONLY: [&str; 6] = [
        "connection_limit",
        "pool_timeout",
        "socket_timeout",
        "pgbouncer",
        "statement_cache_size",
        "schema",
    ];
    let mut kept: Vec<String> = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let key = pair.split_once('=').map_or(pair, |(k, _)| k);
        if key == "schema" {
            let schema = pair.split_once('=').map_or("", |(_, v)| v);
            kept.push(format!("options=-c%20search_path%3D{schema}"));
        } else if !PRISMA_ONLY.contains(&key) {
            kept.push(pair.to_string());
        }
    }
    if kept.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", kept.join("&"))
    }
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
    // A scratch database has only `public`: Prisma's `schema=` names a schema of the user's database.
    let kept: Vec<&str> = query
        .into_iter()
        .flat_map(|q| q.split('&'))
        .filter(|p| !p.is_empty() && !p.starts_with("schema="))
        .collect();
    if !kept.is_empty() {
        out.push('?');
        out.push_str(&kept.join("&"));
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
        reap_once(admin_url, &mut admin);
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
        // Nothing in a scratch database must survive a crash: commits need not wait for the WAL flush
        // (applying statement by statement commits once per statement). Best effort. Its owner is
        // stamped on it, so that a later run drops it if this one is killed.
        let _ = admin.batch_execute(&format!(
            "ALTER DATABASE \"{name}\" SET synchronous_commit = off; COMMENT ON DATABASE \"{name}\" IS '{}'",
            owner::Owner::me().stamp().replace('\'', "''")
        ));
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

/// Drop what killed runs left on the server of `admin_url`, once per server and process.
fn reap_once(admin_url: &str, admin: &mut Client) {
    static REAPED: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let Ok(mut reaped) = REAPED.lock() else {
        return;
    };
    if reaped.iter().any(|u| u == admin_url) {
        return;
    }
    reaped.push(admin_url.to_string());
    let dropped = reap::scratch_databases(admin);
    if !dropped.is_empty() {
        eprintln!(
            "migrate-safe: dropped {} scratch database(s) left by runs that were killed: {}",
            dropped.len(),
            dropped.join(", ")
        );
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prisma_urls_become_libpq_urls() {
        assert_eq!(
            libpq_url("postgresql://u:p@h:5432/db?schema=app&connection_limit=5"),
            "postgresql://u:p@h:5432/db?options=-c%20search_path%3Dapp"
        );
        assert_eq!(
            libpq_url("postgresql://h/db?sslmode=disable"),
            "postgresql://h/db?sslmode=disable"
        );
        assert_eq!(
            libpq_url("postgresql://h/db?pgbouncer=true"),
            "postgresql://h/db"
        );
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact("postgresql://u:secret@h:5432/db"),
            "postgresql://u:***@h:5432/db"
        );
        assert_eq!(redact("postgresql://u@h/db"), "postgresql://u@h/db");
    }

    #[test]
    fn other_database_keeps_server_and_parameters() {
        assert_eq!(
            url_for_database("postgresql://u@h:1/postgres?sslmode=disable", "x"),
            "postgresql://u@h:1/x?sslmode=disable"
        );
        assert_eq!(
            url_for_database("postgresql://u@h:1", "x"),
            "postgresql://u@h:1/x"
        );
        assert_eq!(
            url_for_database("postgresql://u@h/db?schema=app", "x"),
            "postgresql://u@h/x"
        );
    }
}
