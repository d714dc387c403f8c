//! TLS with libpq's sslmode and sslrootcert, through the real binary (`status`) and the library's
//! `connect`: against the local server (Debian's snakeoil certificate: CN and SAN `localhost`,
//! self-signed) and against a throwaway server with a CA of the test's own.

use crate::common;

use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::live::server_url;
use common::*;
use migrate_safe::db::connect;

const SNAKEOIL: &str = "/etc/ssl/certs/ssl-cert-snakeoil.pem";
const LOCAL: &str = "postgres:secret@127.0.0.1:5432/postgres";

/// `status` of a fixture with no migrations pending against `url`: (exit code, stderr).
fn status(url: &str, env: &[(&str, &str)]) -> (Option<i32>, String) {
    let fixture = project_root().join("migrations-fixtures/nothing-to-do");
    let mut command = binary();
    command
        .args(["status", fixture.to_str().unwrap(), "--database-url", url])
        .env_remove("PGSSLMODE")
        .env_remove("PGSSLROOTCERT");
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command.output().expect("run migrate-safe");
    (output.status.code(), stderr(&output))
}

/// Connected: `status` reported (0 clean, or 1: the fixture's pending migrations still want a rewrite).
fn assert_connects(url: &str, env: &[(&str, &str)]) {
    let (code, err) = status(url, env);
    assert!(
        matches!(code, Some(0 | 1)) && !err.contains("cannot connect"),
        "status --database-url {url} failed ({code:?}): {err}"
    );
}

/// `status` fails to connect (exit 2) with a message holding every one of `needles`.
fn assert_refused(url: &str, env: &[(&str, &str)], needles: &[&str]) -> String {
    let (code, err) = status(url, env);
    assert_eq!(
        code,
        Some(2),
        "status --database-url {url} should fail: {err}"
    );
    assert!(err.contains("cannot connect to"), "{err}");
    for needle in needles {
        assert!(err.contains(needle), "no {needle:?} in: {err}");
    }
    assert!(
        !err.contains("secret"),
        "the password is in the message: {err}"
    );
    err
}

/// Whether the session of a connection made with `url` is encrypted (pg_stat_ssl).
fn encrypted(url: &str) -> bool {
    let mut client = connect(url).unwrap_or_else(|e| panic!("{e}"));
    client
        .query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .unwrap()
        .get(0)
}

fn have_openssl() -> bool {
    Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn openssl(dir: &Path, args: &[&str]) {
    let output = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run openssl");
    assert!(
        output.status.success(),
        "openssl {args:?}: {}",
        stderr(&output)
    );
}

/// A CA of its own in `dir`: `<name>.pem` and `<name>.key`.
fn make_ca(dir: &Path, name: &str) -> PathBuf {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.pem"),
            "-days",
            "2",
            "-subj",
            &format!("/CN=migrate-safe test {name}"),
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
    );
    dir.join(format!("{name}.pem"))
}

/// A server certificate for `localhost` only (no IP address), signed by the CA `ca`.
fn make_server_cert(dir: &Path, ca: &str) -> (PathBuf, PathBuf) {
    fs::write(
        dir.join("server.ext"),
        "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\n\
         keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=localhost",
        ],
    );
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            &format!("{ca}.pem"),
            "-CAkey",
            &format!("{ca}.key"),
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "2",
            "-extfile",
            "server.ext",
        ],
    );
    (dir.join("server.pem"), dir.join("server.key"))
}

/// The local server at 127.0.0.1:5432 with TLS on and the snakeoil certificate, or why not.
fn local_tls_server() -> Option<()> {
    server_url()?;
    let plain = format!("postgresql://{LOCAL}?sslmode=disable");
    let ssl: String = match connect(&plain) {
        Ok(mut client) => client.query_one("SHOW ssl", &[]).unwrap().get(0),
        Err(error) => {
            eprintln!("SKIPPED: no PostgreSQL at 127.0.0.1:5432 ({error})");
            return None;
        }
    };
    if ssl != "on" {
        eprintln!("SKIPPED: the server at 127.0.0.1:5432 has ssl = {ssl}");
        return None;
    }
    if !Path::new(SNAKEOIL).is_file() {
        eprintln!("SKIPPED: no {SNAKEOIL}");
        return None;
    }
    Some(())
}

#[test]
fn local_server_modes() {
    if local_tls_server().is_none() {
        return;
    }
    // require: TLS, and the session really is encrypted.
    let require = format!("postgresql://{LOCAL}?sslmode=require");
    assert_connects(&require, &[]);
    assert!(encrypted(&require), "sslmode=require is not encrypted");
    // disable: plain.
    let disable = format!("postgresql://{LOCAL}?sslmode=disable");
    assert_connects(&disable, &[]);
    assert!(!encrypted(&disable), "sslmode=disable is encrypted");
    // No sslmode: prefer, which takes the TLS the server offers. `allow` starts plain.
    let prefer = format!("postgresql://{LOCAL}");
    assert_connects(&prefer, &[]);
    assert!(encrypted(&prefer), "prefer (no sslmode) is not encrypted");
    assert!(!encrypted(&format!("postgresql://{LOCAL}?sslmode=allow")));
    // Prisma's parameters still go with them.
    assert!(encrypted(&format!(
        "postgresql://{LOCAL}?schema=app&connection_limit=3&sslmode=require"
    )));
}

#[test]
fn local_server_snakeoil_certificate() {
    if local_tls_server().is_none() {
        return;
    }
    // What the snakeoil certificate names: its subject alternative names decide verify-full.
    let output = Command::new("openssl")
        .args(["x509", "-in", SNAKEOIL, "-noout", "-ext", "subjectAltName"])
        .output();
    let Some(output) = output.ok().filter(|o| o.status.success()) else {
        eprintln!("SKIPPED: openssl cannot read {SNAKEOIL}");
        return;
    };
    let names = stdout(&output);
    let root = format!("sslrootcert={SNAKEOIL}");
    let for_localhost = names.contains("DNS:localhost");
    let for_loopback = names.contains("IP Address:127.0.0.1");
    let localhost =
        format!("postgresql://postgres:secret@localhost:5432/postgres?sslmode=verify-full&{root}");
    let loopback = format!("postgresql://{LOCAL}?sslmode=verify-full&{root}");
    if for_localhost {
        assert_connects(&localhost, &[]);
        assert!(encrypted(&localhost));
    } else {
        assert_refused(
            &localhost,
            &[],
            &["sslmode=verify-full", "host name mismatch"],
        );
    }
    if for_loopback {
        assert_connects(&loopback, &[]);
    } else {
        let err = assert_refused(
            &loopback,
            &[],
            &["sslmode=verify-full", "host name mismatch", "\"127.0.0.1\""],
        );
        assert!(err.contains("postgres:***@127.0.0.1"), "{err}");
    }
    // verify-ca checks the chain only: the snakeoil certificate is its own root.
    assert_connects(
        &format!("postgresql://{LOCAL}?sslmode=verify-ca&{root}"),
        &[],
    );

    if !have_openssl() {
        eprintln!("SKIPPED (wrong CA): no openssl");
        return;
    }
    let temp = tempfile::tempdir().unwrap();
    let wrong = make_ca(temp.path(), "wrong-ca");
    let wrong = wrong.to_str().unwrap();
    assert_refused(
        &format!("postgresql://{LOCAL}?sslmode=verify-ca&sslrootcert={wrong}"),
        &[],
        &[
            "sslmode=verify-ca",
            &format!("sslrootcert={wrong}"),
            "not signed by the root certificate (unknown CA)",
        ],
    );
    // libpq's rule: require with a root certificate verifies the chain as verify-ca does.
    assert_refused(
        &format!("postgresql://{LOCAL}?sslmode=require&sslrootcert={wrong}"),
        &[],
        &["sslmode=require", "unknown CA"],
    );
    // From the environment when the URL does not say; the URL wins.
    let env = [("PGSSLMODE", "verify-full"), ("PGSSLROOTCERT", wrong)];
    assert_refused(
        &format!("postgresql://{LOCAL}"),
        &env,
        &["sslmode=verify-full", "unknown CA"],
    );
    assert_connects(&format!("postgresql://{LOCAL}?sslmode=disable"), &env);
    // Settings that cannot work are said before connecting.
    assert_refused(
        &format!(
            "postgresql://{LOCAL}?sslmode=verify-ca&sslrootcert={}",
            temp.path().join("missing.pem").display()
        ),
        &[],
        &["cannot read sslrootcert"],
    );
    assert_refused(
        &format!("postgresql://{LOCAL}?sslmode=verify-everything"),
        &[],
        &["invalid sslmode \"verify-everything\""],
    );
}

/// A PostgreSQL of its own on a free port, stopped and removed when dropped.
struct OwnServer {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
    as_postgres: bool,
    _dir: tempfile::TempDir,
}

impl OwnServer {
    fn command(&self, program: &str) -> Command {
        command(&self.bin, program, self.as_postgres)
    }

    fn pg_ctl(&self, args: &[&str]) {
        let output = self
            .command("pg_ctl")
            .arg("-D")
            .arg(&self.data)
            .args(args)
            .output()
            .expect("run pg_ctl");
        assert!(
            output.status.success(),
            "pg_ctl {args:?}: {}",
            stderr(&output)
        );
    }

    /// Append `lines` to postgresql.conf (later lines win) and reload.
    fn reconfigure(&self, file: &str, text: &str, append: bool) {
        let path = self.data.join(file);
        let mut content = if append {
            fs::read_to_string(&path).unwrap()
        } else {
            String::new()
        };
        content.push_str(text);
        fs::write(&path, content).unwrap();
        self.pg_ctl(&["reload", "-s"]);
        // The postmaster rereads its files on SIGHUP; give it a moment.
        std::thread::sleep(Duration::from_millis(500));
    }

    fn url(&self, host: &str, query: &str) -> String {
        format!(
            "postgresql://postgres:secret@{host}:{}/postgres?{query}",
            self.port
        )
    }
}

impl Drop for OwnServer {
    fn drop(&mut self) {
        let _ = self
            .command("pg_ctl")
            .arg("-D")
            .arg(&self.data)
            .args(["stop", "-m", "immediate", "-s", "-w"])
            .output();
    }
}

fn command(bin: &Path, program: &str, as_postgres: bool) -> Command {
    let program = bin.join(program);
    if as_postgres {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

fn postgres_bin() -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|bin| bin.join("initdb").is_file() && bin.join("pg_ctl").is_file())
        .collect();
    found.sort();
    found.pop()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn start_own_server() -> Option<(OwnServer, PathBuf)> {
    let Some(bin) = postgres_bin() else {
        eprintln!("SKIPPED: no initdb and pg_ctl under /usr/lib/postgresql/*/bin");
        return None;
    };
    if !have_openssl() {
        eprintln!("SKIPPED: no openssl to make the test's CA");
        return None;
    }
    let as_postgres = is_root();
    let dir = tempfile::Builder::new()
        .prefix("migrate-safe-tls-")
        .tempdir()
        .unwrap();
    let ca = make_ca(dir.path(), "ca");
    let (cert, key) = make_server_cert(dir.path(), "ca");
    let data = dir.path().join("data");
    if as_postgres {
        let chown = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(dir.path())
            .status()
            .unwrap();
        assert!(chown.success(), "chown the temporary directory to postgres");
    }
    let output = command(&bin, "initdb", as_postgres)
        .arg("-D")
        .arg(&data)
        .args(["-U", "postgres", "--auth=trust", "-N", "-E", "UTF8"])
        .output()
        .expect("run initdb");
    assert!(output.status.success(), "initdb: {}", stderr(&output));
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&key, fs::Permissions::from_mode(0o600)).unwrap();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let server = OwnServer {
        bin,
        data: data.clone(),
        port,
        as_postgres,
        _dir: dir,
    };
    let conf = data.join("postgresql.conf");
    let mut text = fs::read_to_string(&conf).unwrap();
    text.push_str(&format!(
        "\nport = {port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{}'\n\
         ssl = on\nssl_cert_file = '{}'\nssl_key_file = '{}'\nfsync = off\n",
        server._dir.path().display(),
        cert.display(),
        key.display()
    ));
    fs::write(&conf, text).unwrap();
    let log = server._dir.path().join("log");
    server.pg_ctl(&["start", "-w", "-s", "-l", log.to_str().unwrap()]);
    Some((server, ca))
}

#[test]
fn own_ca_server() {
    let started = Instant::now();
    let Some((server, ca)) = start_own_server() else {
        return;
    };
    let root = format!("sslrootcert={}", ca.display());
    // verify-full: the certificate names localhost.
    let full = server.url("localhost", &format!("sslmode=verify-full&{root}"));
    assert_connects(&full, &[]);
    assert!(encrypted(&full), "verify-full is not encrypted");
    // ... and not 127.0.0.1.
    let err = assert_refused(
        &server.url("127.0.0.1", &format!("sslmode=verify-full&{root}")),
        &[],
        &[
            "sslmode=verify-full",
            "host name mismatch",
            "\"127.0.0.1\"",
            "localhost",
        ],
    );
    assert!(err.contains("postgres:***@127.0.0.1"), "{err}");
    // verify-ca: the chain only, so 127.0.0.1 passes.
    let ca_only = server.url("127.0.0.1", &format!("sslmode=verify-ca&{root}"));
    assert_connects(&ca_only, &[]);
    assert!(encrypted(&ca_only));
    // require with the CA verifies the chain (libpq's rule): it holds here.
    assert_connects(
        &server.url("127.0.0.1", &format!("sslmode=require&{root}")),
        &[],
    );

    // SCRAM with channel binding (tls-server-end-point): `channel_binding=require` fails unless the
    // binding was used; a wrong password still fails.
    connect(&server.url("127.0.0.1", "sslmode=disable"))
        .unwrap()
        .batch_execute("ALTER ROLE postgres PASSWORD 'secret'")
        .unwrap();
    server.reconfigure(
        "pg_hba.conf",
        "local all all trust\nhostssl all all 127.0.0.1/32 scram-sha-256\n",
        false,
    );
    let bound = server.url(
        "localhost",
        &format!("sslmode=verify-full&{root}&channel_binding=require"),
    );
    assert_connects(&bound, &[]);
    assert!(encrypted(&bound));
    assert_refused(
        &bound.replace(":secret@", ":wrong@"),
        &[],
        &["password authentication failed"],
    );

    // Only TLS connections over TCP (pg_hba.conf's hostssl): allow's plain attempt is turned down
    // and it goes on with TLS.
    server.reconfigure(
        "pg_hba.conf",
        "local all all trust\nhostssl all all 127.0.0.1/32 trust\n",
        false,
    );
    assert!(encrypted(&server.url("127.0.0.1", "sslmode=allow")));
    assert_refused(
        &server.url("127.0.0.1", "sslmode=disable"),
        &[],
        &["no pg_hba.conf entry"],
    );
    // Only plain connections (hostnossl): prefer's TLS attempt is turned down and it goes on
    // without.
    server.reconfigure(
        "pg_hba.conf",
        "local all all trust\nhostnossl all all 127.0.0.1/32 trust\n",
        false,
    );
    assert!(!encrypted(&server.url("127.0.0.1", "")));
    assert_refused(
        &server.url("127.0.0.1", "sslmode=require"),
        &[],
        &["no pg_hba.conf entry", "sslmode=require"],
    );

    // A server without SSL: require says so; prefer connects in plain.
    server.reconfigure(
        "pg_hba.conf",
        "local all all trust\nhost all all 127.0.0.1/32 trust\n",
        false,
    );
    server.reconfigure("postgresql.conf", "\nssl = off\n", true);
    assert_refused(
        &server.url("127.0.0.1", "sslmode=require"),
        &[],
        &["sslmode=require", "the server does not support SSL"],
    );
    assert!(!encrypted(&server.url("127.0.0.1", "sslmode=prefer")));
    eprintln!("own_ca_server: {:?}", started.elapsed());
}
