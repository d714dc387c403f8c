//! Where a PostgreSQL server comes from, in this order: a URL the user gives (`--scratch-url`,
//! `MIGRATE_SAFE_SCRATCH_URL`, `scratch-url` in migrate-safe.toml); for `rewrite`, the server of the
//! Prisma shadow database the project already uses; a container started with testcontainers when a
//! Docker engine answers within 2 seconds; a throwaway server from PostgreSQL binaries installed on the
//! machine. Otherwise an error listing every way.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::local::pg_command;
use super::{DbError, cleanup, cluster_cache, connect, redact};

/// A scratch server (never the application's database): where check and proofs create their databases.
pub const URL_ENV: &str = "MIGRATE_SAFE_SCRATCH_URL";
/// Its old name, answered with an error naming the new one.
pub const OLD_URL_ENV: &str = "MIGRATE_SAFE_DATABASE_URL";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    Url,
    ShadowDatabase,
    Container,
    LocalBinaries,
}

/// A server to create scratch databases on; whatever was started for it stops when this is dropped.
pub struct Server {
    /// Connection URL to the server's maintenance database (`postgres`).
    pub admin_url: String,
    pub source: Source,
    /// What was used, for people (no password).
    pub description: String,
    /// Why earlier sources were skipped.
    pub notes: Vec<String>,
    _keep: Keep,
}

/// Held only so that its `Drop` stops what was started.
#[allow(dead_code)]
enum Keep {
    Nothing,
    Container(Box<testcontainers::Container<testcontainers::GenericImage>>),
    Local(LocalServer),
}

#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    #[error(
        "bad database URL {url}: {message} (expected postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE)"
    )]
    BadUrl { url: String, message: String },
    #[error("{0}")]
    Unreachable(DbError),
    #[error(
        "no PostgreSQL server available:\n{}\nGive a URL (e.g. `docker compose up -d` with this project's docker-compose.yml, then --scratch-url postgresql://postgres:postgres@127.0.0.1:5432/postgres), start Docker, or install PostgreSQL (initdb, pg_ctl).",
        tried.iter().enumerate().map(|(i, t)| format!("  {}. {t}", i + 1)).collect::<Vec<_>>().join("\n")
    )]
    NothingAvailable { tried: Vec<String> },
    #[error(
        "{OLD_URL_ENV} is now {URL_ENV}: it names a scratch server (where migrate-safe creates and drops its own databases), never your application's database; rename the variable"
    )]
    OldVariable,
}

/// Where to look for a server, beyond Docker and local binaries.
#[derive(Debug, Default)]
pub struct Wanted<'a> {
    /// `--scratch-url`.
    pub url: Option<&'a str>,
    /// `scratch-url` in migrate-safe.toml, and that file.
    pub configured: Option<(&'a str, &'a Path)>,
    /// The project's Prisma shadow database (`rewrite` only), and notes on what was found but not
    /// used.
    pub shadow: Option<(Option<crate::source::shadow::ShadowUrl>, Vec<String>)>,
}

/// Find a server. `url` is `--scratch-url` (the environment variable is read when it is `None`).
pub fn provision(url: Option<&str>, pg_version: &str) -> Result<Server, ProvisionError> {
    provision_from(
        &Wanted {
            url,
            ..Wanted::default()
        },
        pg_version,
    )
}

/// Find a server, in the documented order: the given URLs, the shadow database's server, Docker, local
/// binaries.
pub fn provision_from(wanted: &Wanted, pg_version: &str) -> Result<Server, ProvisionError> {
    if std::env::var(OLD_URL_ENV).is_ok_and(|v| !v.is_empty()) && std::env::var(URL_ENV).is_err() {
        return Err(ProvisionError::OldVariable);
    }
    // What killed runs left (their throwaway servers) goes first, whichever server is used now.
    let reaped = super::reap::local_servers(&cluster_parents());
    if !reaped.is_empty() {
        eprintln!(
            "migrate-safe: removed {} throwaway server(s) left by runs that were killed: {}",
            reaped.len(),
            reaped.join(", ")
        );
    }
    let from_env = std::env::var(URL_ENV).ok().filter(|v| !v.is_empty());
    if let Some(url) = wanted.url.map(str::to_string).or(from_env) {
        return from_url(&url);
    }
    if let Some((url, file)) = wanted.configured {
        let mut server = from_url(url)?;
        server.description = format!(
            "the server at {} (scratch-url in {})",
            redact(url),
            file.display()
        );
        return Ok(server);
    }
    let mut tried = vec![format!(
        "--scratch-url URL, {URL_ENV} or scratch-url in migrate-safe.toml: not given"
    )];
    let mut notes = Vec::new();
    if let Some((shadow, shadow_notes)) = &wanted.shadow {
        notes.extend(shadow_notes.iter().cloned());
        match shadow {
            Some(shadow) => match from_shadow(shadow) {
                Ok(mut server) => {
                    server.notes = notes;
                    return Ok(server);
                }
                Err(why) => {
                    notes.push(format!("shadow database skipped: {why}"));
                    tried.push(format!("the Prisma shadow database's server: {why}"));
                }
            },
            None => tried.push(format!(
                "the Prisma shadow database's server: no shadowDatabaseUrl in the schema's datasource or prisma.config.ts, and no {}{}",
                crate::source::shadow::ENV,
                if shadow_notes.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", shadow_notes.join("; "))
                }
            )),
        }
    }
    let docker = match docker_engine(Duration::from_secs(2)) {
        Ok(endpoint) => {
            // Asked before starting: testcontainers pulls a missing image, and when no registry answers
            // its error names only the pull.
            let images = local_postgres_images(&endpoint, Duration::from_secs(2));
            let image = format!("{IMAGE}:{pg_version}");
            match start_container(pg_version) {
                Ok(mut server) => {
                    server.notes = notes;
                    return Ok(server);
                }
                Err(e) => match &images {
                    Ok(images) if !images.contains(&image) => {
                        image_unavailable(&endpoint, &image, pg_version, images, &e)
                    }
                    _ => format!(
                        "Docker answered at {endpoint}, but the {image} container did not start: {e}"
                    ),
                },
            }
        }
        Err(why) => why,
    };
    tried.push(format!("a container via testcontainers: {docker}"));
    match start_local_server() {
        Ok(mut server) => {
            notes.push(format!("testcontainers skipped: {docker}"));
            server.notes = notes;
            Ok(server)
        }
        Err(local) => {
            tried.push(format!("a throwaway local server: {local}"));
            Err(ProvisionError::NothingAvailable { tried })
        }
    }
}

/// The server of the shadow database: reachable within 3 seconds, and the role may create databases
/// (the shadow database itself is never touched).
fn from_shadow(shadow: &crate::source::shadow::ShadowUrl) -> Result<Server, String> {
    let url = &shadow.url;
    check_url(url).map_err(|e| e.to_string())?;
    let quick = if url.contains("connect_timeout=") {
        url.clone()
    } else if url.contains('?') {
        format!("{url}&connect_timeout=3")
    } else {
        format!("{url}?connect_timeout=3")
    };
    let mut client = connect(&quick).map_err(|e| e.to_string())?;
    let may_create: bool = client
        .query_one(
            "SELECT rolcreatedb OR rolsuper FROM pg_roles WHERE rolname = current_user",
            &[],
        )
        .map_err(|e| super::describe(&e))?
        .get(0);
    if !may_create {
        return Err(format!(
            "{} ({}): its role may not create databases",
            redact(url),
            shadow.from
        ));
    }
    Ok(Server {
        admin_url: url.clone(),
        source: Source::ShadowDatabase,
        description: format!(
            "the server of the Prisma shadow database {} ({}; only databases migrate_safe_<random> of its own are created there)",
            redact(url),
            shadow.from
        ),
        notes: Vec::new(),
        _keep: Keep::Nothing,
    })
}

/// The repository of the container image; `--pg-version` is its tag.
const IMAGE: &str = "postgres";

/// Why there is no container when the image is neither local nor pullable, and what to do about it.
fn image_unavailable(
    endpoint: &str,
    image: &str,
    pg_version: &str,
    local: &[String],
    error: &str,
) -> String {
    let others: Vec<&str> = local
        .iter()
        .filter_map(|i| i.strip_prefix(&format!("{IMAGE}:")))
        .collect();
    let instead = match others.as_slice() {
        [] => String::new(),
        tags => format!(
            " or pass --pg-version {} (local: {})",
            tags[0],
            local.join(", ")
        ),
    };
    // The majors Debian releases ship, which the script can build from.
    let build = if ["13", "15", "17"].contains(&pg_version) {
        format!("build it with this project's tools/docker-pg/build-image.sh {pg_version}")
    } else {
        "this project's tools/docker-pg/build-image.sh builds 13, 15 or 17 from Debian's packages"
            .to_string()
    };
    format!(
        "Docker answered at {endpoint}, but {image} is not available locally and could not be pulled \
         ({error}); pull it where a registry answers, {build}{instead}"
    )
}

/// Refuse what is not a PostgreSQL URL before trying to connect.
pub fn check_url(url: &str) -> Result<(), ProvisionError> {
    if !url.starts_with("postgres://") && !url.starts_with("postgresql://") {
        return Err(ProvisionError::BadUrl {
            url: redact(url),
            message: "not a postgres:// or postgresql:// URL".into(),
        });
    }
    let bad = |message: String| ProvisionError::BadUrl {
        url: redact(url),
        message,
    };
    // TLS settings that cannot work (a bad sslmode, verify-ca without a root certificate) are said
    // the way a failed connection is.
    let (rest, _) = super::tls::split_url(&super::libpq_url(url)).map_err(|message| {
        ProvisionError::Unreachable(DbError::Connect {
            url: redact(url),
            message,
        })
    })?;
    rest.parse::<postgres::Config>()
        .map(|_| ())
        .map_err(|e| bad(e.to_string()))
}

fn from_url(url: &str) -> Result<Server, ProvisionError> {
    check_url(url)?;
    connect(url).map_err(ProvisionError::Unreachable)?;
    Ok(Server {
        admin_url: url.to_string(),
        source: Source::Url,
        description: format!("the server at {}", redact(url)),
        notes: Vec::new(),
        _keep: Keep::Nothing,
    })
}

/// Ask the Docker engine for `/_ping`; `Ok` is its endpoint, `Err` says why it is not usable.
pub fn docker_engine(timeout: Duration) -> Result<String, String> {
    let host =
        std::env::var("DOCKER_HOST").unwrap_or_else(|_| "unix:///var/run/docker.sock".into());
    match docker_get(&host, "/_ping", timeout) {
        Ok(response) if String::from_utf8_lossy(&response).ends_with("OK") => Ok(host),
        Ok(_) => Err(format!(
            "the Docker endpoint {host} did not answer /_ping with OK"
        )),
        Err(e) => Err(format!(
            "no Docker engine answered at {host} within {}s ({e})",
            timeout.as_secs()
        )),
    }
}

/// The `postgres:TAG` images the engine at `host` has, sorted.
pub fn local_postgres_images(host: &str, timeout: Duration) -> Result<Vec<String>, String> {
    let response = docker_get(host, "/images/json", timeout).map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&response);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or("no HTTP body in the answer to /images/json")?;
    if !head.starts_with("HTTP/1.") || head.split_whitespace().nth(1) != Some("200") {
        return Err(format!(
            "/images/json answered {}",
            head.lines().next().unwrap_or("")
        ));
    }
    let images: Vec<serde_json::Value> = serde_json::from_str(body).map_err(|e| e.to_string())?;
    let mut tags: Vec<String> = images
        .iter()
        .filter_map(|i| i.get("RepoTags")?.as_array())
        .flatten()
        .filter_map(|t| t.as_str())
        // Docker Hub's official images are also known as docker.io/library/postgres.
        .map(|t| t.strip_prefix("docker.io/library/").unwrap_or(t))
        .filter(|t| t.starts_with(&format!("{IMAGE}:")))
        .map(str::to_string)
        .collect();
    tags.sort();
    tags.dedup();
    Ok(tags)
}

/// One HTTP/1.0 GET to the Docker engine at `host` (`unix://PATH` or `tcp://HOST:PORT`): the whole
/// answer, head and body.
fn docker_get(host: &str, path: &str, timeout: Duration) -> std::io::Result<Vec<u8>> {
    let request = format!("GET {path} HTTP/1.0\r\nHost: docker\r\n\r\n");
    let request = request.as_bytes();
    let mut response = Vec::new();
    let answered = if let Some(socket) = host.strip_prefix("unix://") {
        std::os::unix::net::UnixStream::connect(socket).and_then(|mut stream| {
            stream.set_read_timeout(Some(timeout))?;
            stream.set_write_timeout(Some(timeout))?;
            stream.write_all(request)?;
            stream.read_to_end(&mut response)
        })
    } else if let Some(address) = host.strip_prefix("tcp://") {
        use std::net::ToSocketAddrs;
        address
            .to_socket_addrs()
            .and_then(|mut addrs| {
                addrs
                    .next()
                    .ok_or_else(|| std::io::Error::other("no address"))
            })
            .and_then(|addr| std::net::TcpStream::connect_timeout(&addr, timeout))
            .and_then(|mut stream| {
                stream.set_read_timeout(Some(timeout))?;
                stream.write_all(request)?;
                stream.read_to_end(&mut response)
            })
    } else {
        return Err(std::io::Error::other(format!(
            "DOCKER_HOST={host} is not a unix:// or tcp:// address"
        )));
    };
    answered.map(|_| response)
}

fn start_container(pg_version: &str) -> Result<Server, String> {
    use testcontainers::core::{IntoContainerPort, WaitFor};
    use testcontainers::runners::SyncRunner;
    use testcontainers::{GenericImage, ImageExt};
    let container = GenericImage::new(IMAGE, pg_version)
        .with_exposed_port(5432.tcp())
        .with_wait_for(WaitFor::message_on_stderr(
            "database system is ready to accept connections",
        ))
        .with_env_var("POSTGRES_HOST_AUTH_METHOD", "trust")
        .start()
        .map_err(|e| e.to_string())?;
    let port = container
        .get_host_port_ipv4(5432)
        .map_err(|e| e.to_string())?;
    let url = format!("postgresql://postgres@127.0.0.1:{port}/postgres");
    wait_until_connectable(
        &url,
        Duration::from_secs(30),
        Duration::from_millis(200),
        || None,
    )?;
    Ok(Server {
        admin_url: url,
        source: Source::Container,
        description: format!(
            "a postgres:{pg_version} container started with testcontainers (127.0.0.1:{port})"
        ),
        notes: Vec::new(),
        _keep: Keep::Container(Box::new(container)),
    })
}

/// Ask `url` for a connection every `every` until one succeeds, `limit` has passed, or `gone` says the
/// server is gone (why, as the error).
fn wait_until_connectable(
    url: &str,
    limit: Duration,
    every: Duration,
    mut gone: impl FnMut() -> Option<String>,
) -> Result<(), String> {
    let start = Instant::now();
    loop {
        if let Some(why) = gone() {
            return Err(why);
        }
        match connect(url) {
            Ok(_) => return Ok(()),
            Err(e) if start.elapsed() > limit => return Err(e.to_string()),
            Err(_) => std::thread::sleep(every),
        }
    }
}

/// A server in a temporary directory, stopped and removed on drop.
struct LocalServer {
    bin: PathBuf,
    data: PathBuf,
    run_as: Option<String>,
    /// The uid and gid of `run_as`: the postmaster is started as them directly (not through
    /// runuser), so that it can be told to stop when this process dies.
    ids: Option<(u32, u32)>,
    dir: PathBuf,
    /// The postmaster (or the runuser running it): its exit says the server has stopped.
    postmaster: Option<std::process::Child>,
}

impl LocalServer {
    /// Ask the server to stop at once (`pg_ctl stop` without its wait, which polls every 100 ms) and wait
    /// for the postmaster to exit; `pg_ctl stop -w` if that did not work.
    fn stop(&mut self) {
        let asked = self.pg_ctl_stop("-W");
        let deadline = Instant::now() + Duration::from_secs(10);
        let exited = asked
            && self.postmaster.as_mut().is_some_and(|child| {
                loop {
                    match child.try_wait() {
                        Ok(Some(_)) => break true,
                        Ok(None) if Instant::now() < deadline => {
                            std::thread::sleep(Duration::from_millis(5))
                        }
                        _ => break false,
                    }
                }
            });
        if !exited {
            self.pg_ctl_stop("-w");
            if let Some(child) = self.postmaster.as_mut() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
        self.postmaster = None;
    }

    /// `pg_ctl stop -m immediate` with `wait` (`-w`, or `-W` not to wait); whether it succeeded.
    fn pg_ctl_stop(&self, wait: &str) -> bool {
        pg_command(&self.bin, "pg_ctl", self.run_as.as_deref())
            .arg("-D")
            .arg(&self.data)
            .args(["-m", "immediate", wait, "stop"])
            .output()
            .is_ok_and(|o| o.status.success())
    }
}

impl Drop for LocalServer {
    fn drop(&mut self) {
        cleanup::unregister_local_server(&self.data);
        if self.postmaster.is_some() {
            self.stop();
        }
        // The server's last processes may still be closing files: retry briefly.
        for _ in 0..40 {
            if std::fs::remove_dir_all(&self.dir).is_ok() || !self.dir.exists() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Where to look for `initdb` and `pg_ctl` instead of PATH and /usr/lib/postgresql (a PATH-like list;
/// empty: no local server).
pub const BIN_ENV: &str = "MIGRATE_SAFE_POSTGRES_BIN";

/// Directories holding `initdb` and `pg_ctl`: PATH first, then Debian's /usr/lib/postgresql/*/bin, newest
/// version first.
fn postgres_bin_dirs() -> Vec<PathBuf> {
    // `MIGRATE_SAFE_POSTGRES_BIN`: where to look instead (a PATH-like list; empty: nowhere).
    if let Some(list) = std::env::var_os(BIN_ENV) {
        let mut dirs: Vec<PathBuf> = std::env::split_paths(&list)
            .filter(|d| !d.as_os_str().is_empty())
            .collect();
        dirs.retain(|d| d.join("initdb").is_file() && d.join("pg_ctl").is_file());
        return dirs;
    }
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default();
    dirs.extend(debian_bin_dirs());
    dirs.retain(|d| d.join("initdb").is_file() && d.join("pg_ctl").is_file());
    dirs
}

/// Debian's `/usr/lib/postgresql/<version>/bin` directories, newest version first.
pub(crate) fn debian_bin_dirs() -> Vec<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            Some((
                e.file_name().to_str()?.parse::<u32>().ok()?,
                e.path().join("bin"),
            ))
        })
        .collect();
    versions.sort_by_key(|v| std::cmp::Reverse(v.0));
    versions.into_iter().map(|(_, p)| p).collect()
}

/// An unprivileged user to run the server as when we are root (PostgreSQL refuses to run as root).
fn unprivileged_user() -> Result<Option<(String, u32, u32)>, String> {
    if own_uid() != 0 {
        return Ok(None);
    }
    let passwd = std::fs::read_to_string("/etc/passwd").map_err(|e| format!("/etc/passwd: {e}"))?;
    for wanted in ["postgres", "nobody"] {
        for line in passwd.lines() {
            let fields: Vec<&str> = line.split(':').collect();
            if fields.len() > 3
                && fields[0] == wanted
                && let (Ok(uid), Ok(gid)) = (fields[2].parse(), fields[3].parse())
            {
                return Ok(Some((wanted.to_string(), uid, gid)));
            }
        }
    }
    Err(
        "running as root and found neither a `postgres` nor a `nobody` user to run the server as"
            .into(),
    )
}
/// Our own uid.
fn own_uid() -> u32 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").map_or(u32::MAX, |m| m.uid())
}

/// A server from the local binaries: a copy of the cluster template when there is a usable one, else
/// a new cluster from `initdb` (then kept as the template for the next runs).
fn start_local_server() -> Result<Server, String> {
    let bin =
        postgres_bin_dirs()
            .into_iter()
            .next()
            .ok_or_else(|| match std::env::var_os(BIN_ENV) {
                Some(list) => format!("no initdb/pg_ctl in {BIN_ENV}={}", list.to_string_lossy()),
                None => "no initdb/pg_ctl on PATH or under /usr/lib/postgresql/*/bin".to_string(),
            })?;
    let user = unprivileged_user()?;
    let owner = user.as_ref().map(|(_, uid, gid)| (*uid, *gid));
    let run_as = user.map(|(name, _, _)| name);
    let template = cluster_cache::template(
        &bin,
        run_as.as_deref(),
        owner.map_or_else(own_uid, |(uid, _)| uid),
    );
    let mut origin = None;
    if let Ok(template) = &template
        && template.is_usable()
    {
        let copied = LocalServer::create_dir(&bin, owner, run_as.as_deref()).and_then(|server| {
            template.copy_to(&server.data, owner)?;
            Ok(server)
        });
        match copied.and_then(|server| server.start()) {
            Ok(started) => {
                return Ok(started.into_server(&format!(
                    "the cluster a copy of the template {}",
                    template.dir.display()
                )));
            }
            Err(why) => {
                // Most likely the template (a server from a fresh initdb tells): made anew.
                template.discard();
                origin = Some(format!(
                    "the cluster template {} did not serve ({why}) and was made anew",
                    template.dir.display()
                ));
            }
        }
    }
    let server = LocalServer::create_dir(&bin, owner, run_as.as_deref())?;
    let output = pg_command(&bin, "initdb", run_as.as_deref())
        .arg("-D")
        .arg(&server.data)
        .args(cluster_cache::INITDB_OPTIONS)
        .output()
        .map_err(|e| format!("{}: {e}", bin.join("initdb").display()))?;
    if !output.status.success() {
        return Err(format!(
            "initdb failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    // Saved before the server first starts on it: a template is a cluster never started.
    let kept = match &template {
        Ok(template) => match template.save(&server.data) {
            Ok(()) => format!(
                "kept as the template {} for the next runs",
                template.dir.display()
            ),
            Err(why) => format!("not kept as a template: {why}"),
        },
        Err(why) => format!("no template kept: {why}"),
    };
    let started = server.start()?;
    Ok(started.into_server(&match origin {
        Some(origin) => format!("{origin}; {kept}"),
        None => format!("the cluster made by initdb, {kept}"),
    }))
}

/// Free space a memory file system must have to hold a throwaway cluster (a proof over inbox-zero's 240
/// migrations peaks at about 70 MB).
const SHM_MIN_FREE_KIB: u64 = 512 * 1024;

/// Every place a throwaway cluster may have been put (this run's choice and the others'), for the
/// reaper.
fn cluster_parents() -> Vec<PathBuf> {
    let mut parents = vec![PathBuf::from("/dev/shm"), std::env::temp_dir()];
    parents.dedup();
    parents
}

/// Where a throwaway cluster goes: `TMPDIR` when set; else `/dev/shm` when it is a tmpfs with 512 MiB
/// free (creating a cluster's ~1000 files, and each database the proof creates, costs 5-15x less
/// there than on a busy disk: inbox-zero's proof 1.0-1.3 s instead of 3.3-4.2 s); else the system's
/// temporary directory.
fn cluster_parent() -> PathBuf {
    if std::env::var_os("TMPDIR").is_some_and(|d| !d.is_empty()) {
        return std::env::temp_dir();
    }
    let shm = Path::new("/dev/shm");
    let tmpfs = std::fs::read_to_string("/proc/mounts").is_ok_and(|mounts| {
        mounts.lines().any(|l| {
            let fields: Vec<&str> = l.split_whitespace().collect();
            fields.get(1) == Some(&"/dev/shm") && fields.get(2) == Some(&"tmpfs")
        })
    });
    // `df -Pk`: POSIX output, the fourth field of the second line is the space available in KiB.
    let free_kib = || {
        let output = Command::new("df").args(["-Pk"]).arg(shm).output().ok()?;
        let text = String::from_utf8_lossy(&output.stdout).into_owned();
        text.lines()
            .nth(1)?
            .split_whitespace()
            .nth(3)?
            .parse::<u64>()
            .ok()
    };
    if tmpfs && free_kib().is_some_and(|kib| kib >= SHM_MIN_FREE_KIB) {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    }
}

/// A local server that accepts connections at `url` (on `port`).
struct Started {
    server: LocalServer,
    url: String,
    port: u16,
}

impl LocalServer {
    /// A temporary directory for a cluster (`data`, not made yet) owned by `owner`; removed on drop.
    fn create_dir(
        bin: &Path,
        owner: Option<(u32, u32)>,
        run_as: Option<&str>,
    ) -> Result<Self, String> {
        let dir = tempfile::Builder::new()
            .prefix(super::reap::LOCAL_DIR_PREFIX)
            .tempdir_in(cluster_parent())
            .map_err(|e| format!("temporary directory: {e}"))?;
        // Stamped at once: a run killed from here on leaves a directory the next run can tell is
        // orphaned.
        super::owner::Owner::me()
            .write_to(dir.path())
            .map_err(|e| format!("{}: {e}", dir.path().display()))?;
        if let Some((uid, gid)) = owner {
            std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid))
                .map_err(|e| format!("chown: {e}"))?;
        }
        let dir = dir.keep();
        Ok(LocalServer {
            bin: bin.to_path_buf(),
            data: dir.join("data"),
            run_as: run_as.map(str::to_string),
            ids: owner,
            dir,
            postmaster: None,
        })
    }

    /// Start the postmaster on `data` for a throwaway cluster (nothing of it must survive a crash) and
    /// wait until it accepts connections, asking every 10 ms.
    fn start(mut self) -> Result<Started, String> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("no free port: {e}"))?
            .port();
        let log_path = self.data.join("server.log");
        let log = std::fs::File::create(&log_path)
            .and_then(|log| Ok((log.try_clone()?, log)))
            .map_err(|e| format!("{}: {e}", log_path.display()))?;
        use std::os::unix::process::CommandExt;
        let mut command = Command::new(self.bin.join("postgres"));
        if let Some((uid, gid)) = self.ids {
            command.uid(uid).gid(gid);
        }
        let parent = std::process::id() as libc::pid_t;
        // SAFETY: between fork and exec only async-signal-safe calls (prctl, getppid, _exit).
        unsafe {
            command.pre_exec(move || {
                // The server must not outlive this process (a SIGKILL, a crash): when it dies the
                // kernel sends the postmaster SIGQUIT, PostgreSQL's immediate shutdown.
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGQUIT) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                // Died before the signal was armed: nobody will send it.
                if libc::getppid() != parent {
                    libc::_exit(1);
                }
                Ok(())
            });
        }
        let child = command
            .arg("-D")
            .arg(&self.data)
            .args(["-p", &port.to_string(), "-k"])
            .arg(&self.dir)
            .args([
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
            ])
            .stdin(std::process::Stdio::null())
            .stdout(log.0)
            .stderr(log.1)
            // Not in our process group: Ctrl-C on a terminal is ours to handle (cleanup stops it).
            .process_group(0)
            .spawn()
            .map_err(|e| format!("{}: {e}", self.bin.join("postgres").display()))?;
        self.postmaster = Some(child);
        cleanup::register_local_server(&self.bin, &self.data, self.run_as.as_deref());
        let url = format!("postgresql://postgres@127.0.0.1:{port}/postgres");
        let log_tail = || {
            let log = std::fs::read_to_string(&log_path).unwrap_or_default();
            let lines: Vec<&str> = log.lines().filter(|l| !l.trim().is_empty()).collect();
            lines[lines.len().saturating_sub(5)..].join(" | ")
        };
        let (postgres, data) = (self.bin.join("postgres"), self.data.clone());
        let postmaster = &mut self.postmaster;
        let exited = || {
            let status = postmaster.as_mut()?.try_wait().ok().flatten()?;
            *postmaster = None;
            Some(format!(
                "the PostgreSQL server ({} -D {}) exited ({status}) before accepting connections",
                postgres.display(),
                data.display()
            ))
        };
        match wait_until_connectable(
            &url,
            Duration::from_secs(30),
            Duration::from_millis(10),
            exited,
        ) {
            Ok(()) => Ok(Started {
                server: self,
                url,
                port,
            }),
            Err(why) if self.postmaster.is_none() => {
                Err(format!("{why}; its server.log ended: {}", log_tail()))
            }
            Err(why) => Err(format!(
                "the PostgreSQL server in {} did not accept connections within 30 s ({why}); its server.log ended: {}",
                self.data.display(),
                log_tail()
            )),
        }
    }
}

impl Started {
    fn into_server(self, origin: &str) -> Server {
        let Started { server, url, port } = self;
        Server {
            admin_url: url,
            source: Source::LocalBinaries,
            description: format!(
                "a throwaway server from {} on 127.0.0.1:{port} in {} ({}{origin})",
                server.bin.display(),
                server.dir.display(),
                server
                    .run_as
                    .as_deref()
                    .map_or(String::new(), |u| format!("running as user {u}; "))
            ),
            notes: Vec::new(),
            _keep: Keep::Local(server),
        }
    }
}
