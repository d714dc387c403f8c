//! What a killed run left behind, removed by the next run that provisions a server: throwaway
//! servers (a `migrate-safe-pg-*` directory under /dev/shm or the temporary directory, with its
//! postmaster if one still runs) and scratch databases (`migrate_safe_<16 hex>`) whose owner
//! ([`super::owner`]) is gone. Ctrl-C and normal exits clean up themselves (`cleanup`); only SIGKILL,
//! a crash or a power cut leave anything, and a throwaway server also stops by itself when its
//! parent dies (a parent-death signal), so what is left here is mostly directories.
//!
//! Directories made before owners were stamped are reaped when their postmaster is gone and they are
//! older than ten minutes, or when their postmaster's parent is gone (it was re-parented to init);
//! unstamped databases when nobody is connected and they are older than an hour (where the server
//! lets the age be read).

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use postgres::Client;

use super::owner::{self, Liveness, Owner};

/// The prefix of a throwaway server's directory.
pub const LOCAL_DIR_PREFIX: &str = "migrate-safe-pg-";

/// Remove the throwaway servers whose owner is gone, in `parents`; says what was removed.
pub fn local_servers(parents: &[PathBuf]) -> Vec<String> {
    let mut removed = Vec::new();
    for parent in parents {
        let Ok(entries) = std::fs::read_dir(parent) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            if !name.to_string_lossy().starts_with(LOCAL_DIR_PREFIX) || !entry.path().is_dir() {
                continue;
            }
            let dir = entry.path();
            if let Some(why) = orphaned(&dir) {
                stop_postmaster(&dir);
                if std::fs::remove_dir_all(&dir).is_ok() {
                    removed.push(format!("{} ({why})", dir.display()));
                }
            }
        }
    }
    removed
}

/// Why the throwaway server in `dir` is an orphan, or `None` while it may still be in use.
fn orphaned(dir: &Path) -> Option<String> {
    let postmaster = postmaster_pid(dir).filter(|&pid| owner::is_running(pid));
    if let Some(owner) = Owner::of_dir(dir) {
        return match owner.liveness() {
            Liveness::Dead => Some(format!("its run, pid {}, is gone", owner.pid)),
            Liveness::Alive | Liveness::Unknown => None,
        };
    }
    // Made before owners were stamped, or being made right now (the stamp follows the directory).
    match postmaster {
        Some(pid) => {
            let mut parent = owner::parent_of(pid)?;
            if owner::command_of(parent).as_deref() == Some("runuser") {
                parent = owner::parent_of(parent)?;
            }
            (parent == 1 || !owner::is_running(parent))
                .then(|| format!("its server, pid {pid}, has no run left"))
        }
        None => {
            let age = std::fs::metadata(dir)
                .and_then(|m| m.modified())
                .ok()
                .and_then(|m| SystemTime::now().duration_since(m).ok())?;
            (age > Duration::from_secs(600))
                .then(|| "no server runs in it, and no run has used it for ten minutes".to_string())
        }
    }
}

/// The postmaster's pid, from `data/postmaster.pid`.
fn postmaster_pid(dir: &Path) -> Option<u32> {
    std::fs::read_to_string(dir.join("data/postmaster.pid"))
        .ok()?
        .lines()
        .next()?
        .trim()
        .parse()
        .ok()
}

/// Stop the postmaster of the server in `dir`, if one runs: an immediate shutdown (SIGQUIT), then
/// SIGKILL after five seconds.
fn stop_postmaster(dir: &Path) {
    let Some(pid) = postmaster_pid(dir).filter(|&pid| owner::is_running(pid)) else {
        return;
    };
    if owner::command_of(pid).as_deref() != Some("postgres") {
        return; // the pid was reused: not ours to signal
    }
    let signal = |sig| unsafe { libc::kill(pid as libc::pid_t, sig) };
    signal(libc::SIGQUIT);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while owner::is_running(pid) && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    if owner::is_running(pid) {
        signal(libc::SIGKILL);
    }
}

/// Drop the scratch databases on the server of `admin` whose owner is gone; says which.
pub fn scratch_databases(admin: &mut Client) -> Vec<String> {
    let Ok(rows) = admin.query(
        "SELECT d.datname::text, coalesce(shobj_description(d.oid, 'pg_database'), ''),
                (SELECT count(*) FROM pg_stat_activity a WHERE a.datname = d.datname)::int8, d.oid::int8
         FROM pg_database d WHERE d.datname ~ '^migrate_safe_[0-9a-f]{16}$'",
        &[],
    ) else {
        return Vec::new();
    };
    let mut dropped = Vec::new();
    for row in rows {
        let (name, comment, connections, oid): (String, String, i64, i64) =
            (row.get(0), row.get(1), row.get(2), row.get(3));
        let why = match Owner::parse(&comment) {
            Some(owner) => match owner.liveness() {
                Liveness::Dead => format!("its run, pid {}, is gone", owner.pid),
                _ => continue,
            },
            None if connections == 0
                && unstamped_age(admin, oid) > Some(Duration::from_secs(3600)) =>
            {
                "nobody is connected and it is over an hour old".to_string()
            }
            None => continue,
        };
        let drop = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
        if admin.batch_execute(&drop).is_ok() {
            dropped.push(format!("{name} ({why})"));
        }
    }
    dropped
}

/// How old a database is, where the server lets its files be read (superuser or
/// pg_read_server_files); `None` otherwise.
fn unstamped_age(admin: &mut Client, oid: i64) -> Option<Duration> {
    let row = admin
        .query_one(
            "SELECT extract(epoch FROM now() - (pg_stat_file('base/' || $1::text || '/PG_VERSION')).modification)::float8",
            &[&oid.to_string()],
        )
        .ok()?;
    let seconds: f64 = row.get(0);
    (seconds >= 0.0).then(|| Duration::from_secs_f64(seconds))
}
