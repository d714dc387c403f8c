//! The npm distribution: `npm/pack.sh` packs the launcher and this platform's package around the debug
//! binary, `npm install --offline` puts both tarballs into a scratch Prisma project (no registry: the
//! registry is pointed at a closed port and the cache is empty), and `npx migrate-safe` runs there — its
//! version, `lint` with the exit code passed through (1 on findings, 0 clean, 2 on an error), `rewrite`
//! writing the fixture's expected directory. Also the launcher alone: without the platform package it says
//! which one to install; a binary killed by a signal ends the launcher with the same signal; a signal sent
//! to the launcher reaches the binary.
//!
//! Needs node and npm: without them the test prints `SKIPPED` and passes — except with CI=true.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use common::*;

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// True when node, npm and npx answer; else prints SKIPPED (panics in CI).
fn have_node() -> bool {
    let ok = ["node", "npm", "npx"].iter().all(|tool| {
        Command::new(tool)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    });
    if !ok {
        assert!(!in_ci(), "CI=true and node/npm/npx are not on PATH");
        eprintln!("SKIPPED: node, npm and npx are needed for the npm package test");
    }
    ok
}

fn cargo_version() -> String {
    let manifest = fs::read_to_string(project_root().join("Cargo.toml")).unwrap();
    let table: toml::Table = manifest.parse().unwrap();
    table["package"]["version"].as_str().unwrap().to_string()
}

/// The tarballs, packed once per test binary: (directory, launcher, platform package).
fn tarballs() -> &'static (tempfile::TempDir, PathBuf, PathBuf) {
    static PACKED: OnceLock<(tempfile::TempDir, PathBuf, PathBuf)> = OnceLock::new();
    PACKED.get_or_init(|| {
        let out = tempfile::tempdir().unwrap();
        let output = Command::new(project_root().join("npm/pack.sh"))
            .arg(out.path())
            .args(["--binary", env!("CARGO_BIN_EXE_migrate-safe")])
            .output()
            .unwrap();
        assert!(output.status.success(), "npm/pack.sh: {}", stderr(&output));
        let version = cargo_version();
        let platform = node_platform();
        let launcher = out.path().join(format!("migrate-safe-{version}.tgz"));
        let package = out
            .path()
            .join(format!("migrate-safe-{platform}-{version}.tgz"));
        // pack.sh prints the two tarballs it wrote.
        assert_eq!(
            stdout(&output).lines().collect::<Vec<_>>(),
            [
                launcher.display().to_string(),
                package.display().to_string()
            ]
        );
        assert!(launcher.is_file() && package.is_file());
        (out, launcher, package)
    })
}

fn node_platform() -> String {
    let output = Command::new("node")
        .args(["-p", "process.platform + '-' + process.arch"])
        .output()
        .unwrap();
    stdout(&output).trim().to_string()
}

/// A scratch project (package.json naming prisma, as a Prisma app's does) with the given tarballs
/// installed offline.
fn project(tarballs: &[&Path]) -> tempfile::TempDir {
    let project = tempfile::tempdir().unwrap();
    fs::write(
        project.path().join("package.json"),
        r#"{"name": "scratch-prisma-app", "version": "1.0.0", "private": true}"#,
    )
    .unwrap();
    let cache = project.path().join(".npm-cache");
    let output = Command::new("npm")
        .current_dir(project.path())
        .args([
            "install",
            "--offline",
            "--no-audit",
            "--no-fund",
            "--save-dev",
        ])
        // Nothing may come from a registry: a closed port, and an empty cache.
        .args(["--registry", "http://127.0.0.1:9/", "--cache"])
        .arg(&cache)
        .args(tarballs)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "npm install --offline: {}{}",
        stdout(&output),
        stderr(&output)
    );
    project
}

fn npx(project: &Path, args: &[&str]) -> Output {
    Command::new("npx")
        .current_dir(project)
        .args(["--offline", "--no-install", "migrate-safe"])
        .args(args)
        .env("NO_COLOR", "1")
        .env("npm_config_cache", project.join(".npm-cache"))
        .env_remove("MIGRATE_SAFE_BINARY")
        .output()
        .unwrap()
}

#[test]
fn npx_runs_the_packed_binary_offline_and_passes_its_exit_code_through() {
    if !have_node() {
        return;
    }
    let (_, launcher, package) = tarballs();
    let project = project(&[launcher, package]);
    let root = project.path();
    let installed = root.join(format!(
        "node_modules/@migrate-safe/{}/bin/migrate-safe",
        node_platform()
    ));
    assert_eq!(
        fs::read(&installed).unwrap(),
        fs::read(env!("CARGO_BIN_EXE_migrate-safe")).unwrap(),
        "the platform package holds the binary it was packed with"
    );

    let version = npx(root, &["--version"]);
    assert_eq!(version.status.code(), Some(0), "{}", stderr(&version));
    assert_eq!(
        stdout(&version).trim(),
        format!("migrate-safe {}", cargo_version())
    );

    // lint: findings exit 1, and the report is the binary's own.
    copy_tree(
        &project_root().join("migrations-fixtures/lint-hazards/migrations"),
        &root.join("prisma/migrations"),
    );
    let lint = npx(root, &["lint", "prisma/migrations", "--all"]);
    assert_eq!(lint.status.code(), Some(1), "{}", stderr(&lint));
    let direct = binary()
        .current_dir(root)
        .args(["lint", "prisma/migrations", "--all"])
        .output()
        .unwrap();
    assert_eq!(stdout(&lint), stdout(&direct));
    assert!(stdout(&lint).contains("warning[drop-index-concurrently]"));
    // --fail-on error: the same findings, exit 0.
    let passing = npx(
        root,
        &["lint", "prisma/migrations", "--all", "--fail-on", "error"],
    );
    assert_eq!(passing.status.code(), Some(0), "{}", stdout(&passing));
    // An error: exit 2, the binary's message on stderr.
    let missing = npx(root, &["lint", "no-such-dir"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).contains("no-such-dir: no such file or directory"));

    // rewrite there writes what the fixture expects.
    let saas = root.join("saas/migrations");
    copy_tree(
        &project_root().join("migrations-fixtures/saas-baseline/migrations"),
        &saas,
    );
    let rewrite = npx(root, &["rewrite", "saas/migrations"]);
    assert_eq!(rewrite.status.code(), Some(0), "{}", stderr(&rewrite));
    assert_same_tree(
        &saas,
        &project_root().join("migrations-fixtures/saas-baseline/expected"),
    );
    let check = npx(root, &["rewrite", "saas/migrations", "--check"]);
    assert_eq!(check.status.code(), Some(0), "{}", stdout(&check));
}

#[test]
fn without_the_platform_package_the_launcher_names_what_to_install() {
    if !have_node() {
        return;
    }
    let (_, launcher, _) = tarballs();
    let project = project(&[launcher]);
    let output = npx(project.path(), &["--version"]);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    let package = format!("@migrate-safe/{}", node_platform());
    assert!(
        message.contains(&format!("{package}, is not installed"))
            && message.contains(&format!(
                "npm install --save-dev migrate-safe@{v} {package}@{v}",
                v = cargo_version()
            )),
        "{message}"
    );
}

/// Signals, through `MIGRATE_SAFE_BINARY` (the launcher's override) pointing at small shell scripts.
#[test]
fn signals_pass_through_the_launcher() {
    if !have_node() {
        return;
    }
    use std::os::unix::process::ExitStatusExt;
    let temp = tempfile::tempdir().unwrap();
    let launcher = project_root().join("npm/migrate-safe/bin/migrate-safe.js");
    let script = |name: &str, body: &str| {
        let path = temp.path().join(name);
        fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        let mut perms = fs::metadata(&path).unwrap().permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
        fs::set_permissions(&path, perms).unwrap();
        path
    };

    // The binary dies of SIGTERM: so does the launcher.
    let dies = script("dies.sh", "kill -TERM $$");
    let status = Command::new("node")
        .arg(&launcher)
        .env("MIGRATE_SAFE_BINARY", &dies)
        .status()
        .unwrap();
    assert_eq!(status.signal(), Some(15), "{status:?}");

    // SIGTERM sent to the launcher reaches the binary, whose exit code comes back.
    let marker = temp.path().join("got-term");
    let started = temp.path().join("started");
    let waits = script(
        "waits.sh",
        &format!(
            "trap 'echo term > {}; exit 7' TERM\ntouch {}\nwhile :; do sleep 0.05; done",
            marker.display(),
            started.display()
        ),
    );
    let mut child = Command::new("node")
        .arg(&launcher)
        .env("MIGRATE_SAFE_BINARY", &waits)
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !started.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "the script never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(7), "{status:?}");
    assert_eq!(fs::read_to_string(&marker).unwrap().trim(), "term");

    // A MIGRATE_SAFE_BINARY that does not exist is named.
    let output = Command::new("node")
        .arg(&launcher)
        .env("MIGRATE_SAFE_BINARY", temp.path().join("nope"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("MIGRATE_SAFE_BINARY is"));
}
