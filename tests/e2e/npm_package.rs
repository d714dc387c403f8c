//! The npm distribution: `npm/pack.sh` packs the launcher and this platform's package around the debug
//! binary, `npm install --offline` puts both tarballs into a scratch Prisma project (no registry: the
//! registry is pointed at a closed port and the cache is empty), and `npx migrate-safe` runs there — its
//! version, `lint` with the exit code passed through (1 on findings, 0 clean, 2 on an error), `rewrite`
//! writing the fixture's expected directory. Also the launcher alone: without the platform package it says
//! which one to install; a binary killed by a signal ends the launcher with the same signal; a signal sent
//! to the launcher reaches the binary.
//!
//! Needs node and npm: without them the test prints `SKIPPED` and passes — except with CI=true.

use crate::common;

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
    // (Compared without printing: the debug binary is some 240 MB.)
    assert!(
        fs::read(&installed).unwrap() == fs::read(env!("CARGO_BIN_EXE_migrate-safe")).unwrap(),
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
    // With no directory, found as Prisma does (prisma/migrations here), and said so.
    let found = npx(root, &["lint", "--all"]);
    assert_eq!(found.status.code(), Some(1), "{}", stderr(&found));
    assert_eq!(
        stdout(&found),
        format!(
            "Migrations directory: prisma/migrations (found inside .)\n\n{}",
            stdout(&lint)
        )
    );
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

/// The GitHub Action's steps (action/*.sh, as action.yml runs them) with the variables GitHub sets:
/// install from the packed tarballs (offline), the SARIF file and the comment's markdown, the comment
/// posted through a stub `gh` (first a new comment, then the earlier one updated), and the gate's
/// annotations with exit 1.
#[test]
fn the_action_installs_from_npm_comments_and_gates() {
    if !have_node() {
        return;
    }
    let (_, launcher, package) = tarballs();
    let temp = tempfile::tempdir().unwrap();
    let workspace = temp.path().join("workspace");
    let runner_temp = temp.path().join("runner-temp");
    fs::create_dir_all(&runner_temp).unwrap();
    copy_tree(
        &project_root().join("migrations-fixtures/lint-hazards/migrations"),
        &workspace.join("prisma/migrations"),
    );
    let github_path = temp.path().join("github-path");
    let step = |script: &str, env: &[(&str, &str)]| {
        let mut command = Command::new("bash");
        command
            .arg(project_root().join("action").join(script))
            .current_dir(&workspace)
            .env("GITHUB_ACTION_PATH", project_root())
            .env("RUNNER_TEMP", &runner_temp)
            .env("GITHUB_PATH", &github_path)
            .env("npm_config_offline", "true")
            .env("npm_config_registry", "http://127.0.0.1:9/")
            .env("npm_config_cache", temp.path().join("npm-cache"))
            .env("NO_COLOR", "1");
        for (key, value) in env {
            command.env(key, value);
        }
        command.output().unwrap()
    };

    let specs = format!("{} {}", launcher.display(), package.display());
    let install = step("install.sh", &[("INPUT_PACKAGE", &specs)]);
    assert!(install.status.success(), "{}", stderr(&install));
    // The installed binary answers (the step's last line).
    assert_eq!(
        stdout(&install).lines().last(),
        Some(format!("migrate-safe {}", cargo_version()).as_str())
    );
    assert_eq!(
        fs::read_to_string(&github_path).unwrap().trim(),
        runner_temp
            .join("migrate-safe/node_modules/.bin")
            .display()
            .to_string()
    );

    // The action's default path: empty, the directory found as Prisma finds it.
    let inputs = [
        ("INPUT_PATH", ""),
        ("INPUT_ARGS", "--all"),
        ("INPUT_SARIF", "migrate-safe.sarif"),
        ("INPUT_COMMENT", "true"),
    ];
    let report = step("lint.sh", &inputs);
    assert!(report.status.success(), "{}", stderr(&report));
    let sarif: serde_json::Value =
        serde_json::from_slice(&fs::read(workspace.join("migrate-safe.sarif")).unwrap()).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let markdown = fs::read_to_string(runner_temp.join("migrate-safe-comment.md")).unwrap();
    let direct = binary()
        .current_dir(&workspace)
        .args(["lint", "--all", "--format", "markdown"])
        .output()
        .unwrap();
    assert_eq!(markdown, stdout(&direct));
    // A wrong path is an error of the step.
    let wrong = step(
        "lint.sh",
        &[("INPUT_PATH", "nope"), ("INPUT_COMMENT", "true")],
    );
    assert_eq!(wrong.status.code(), Some(2), "{}", stderr(&wrong));

    // The comment: a stub gh records its calls; the first run finds no earlier comment.
    let bin = temp.path().join("stub-bin");
    fs::create_dir_all(&bin).unwrap();
    let calls = temp.path().join("gh-calls");
    let existing = temp.path().join("existing-id");
    fs::write(
        bin.join("gh"),
        format!(
            "#!/bin/sh\necho \"$@\" >> {calls}\ncase \"$*\" in *--paginate*) cat {existing} 2>/dev/null || true;; esac\n",
            calls = calls.display(),
            existing = existing.display()
        ),
    )
    .unwrap();
    Command::new("chmod")
        .arg("+x")
        .arg(bin.join("gh"))
        .status()
        .unwrap();
    let event = temp.path().join("event.json");
    fs::write(&event, r#"{"pull_request": {"number": 17}}"#).unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let comment_env = [
        ("PATH", path.as_str()),
        ("GITHUB_EVENT_PATH", event.to_str().unwrap()),
        ("GITHUB_REPOSITORY", "acme/app"),
    ];
    let first = step("comment.sh", &comment_env);
    assert!(first.status.success(), "{}", stderr(&first));
    fs::write(&existing, "4242\n").unwrap();
    let second = step("comment.sh", &comment_env);
    assert!(second.status.success(), "{}", stderr(&second));
    let body = format!(
        "body=@{}",
        runner_temp.join("migrate-safe-comment.md").display()
    );
    let recorded: Vec<String> = fs::read_to_string(&calls)
        .unwrap()
        .lines()
        .map(|l| l.replace(&body, "body=@<comment.md>"))
        .collect();
    assert_eq!(
        recorded,
        [
            "api --paginate repos/acme/app/issues/17/comments --jq .[] | select(.body | startswith(\"<!-- migrate-safe lint -->\")) | .id",
            "api --method POST repos/acme/app/issues/17/comments -F body=@<comment.md> --silent",
            "api --paginate repos/acme/app/issues/17/comments --jq .[] | select(.body | startswith(\"<!-- migrate-safe lint -->\")) | .id",
            "api --method PATCH repos/acme/app/issues/comments/4242 -F body=@<comment.md> --silent",
        ]
    );
    // Outside a pull request: nothing.
    let push = temp.path().join("push.json");
    fs::write(&push, r#"{"ref": "refs/heads/main"}"#).unwrap();
    let none = step(
        "comment.sh",
        &[
            ("PATH", path.as_str()),
            ("GITHUB_EVENT_PATH", push.to_str().unwrap()),
        ],
    );
    assert!(none.status.success());
    assert!(stdout(&none).contains("not a pull request"));
    assert_eq!(fs::read_to_string(&calls).unwrap().lines().count(), 4);

    // The gate: annotations, exit 1; --fail-on error passes.
    let gate = step("gate.sh", &inputs);
    assert_eq!(gate.status.code(), Some(1), "{}", stderr(&gate));
    assert!(stdout(&gate).contains("::warning file=prisma/migrations/"));
    let passing = step(
        "gate.sh",
        &[
            ("INPUT_PATH", "prisma/migrations"),
            ("INPUT_ARGS", "--all --fail-on error"),
        ],
    );
    assert_eq!(passing.status.code(), Some(0), "{}", stdout(&passing));
}
