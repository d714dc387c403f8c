//! `rewrite` proves its output by default: from a scratch URL, from the Prisma shadow database's
//! server, or says plainly that it is not proven; `--require-proof` refuses to write without a proof,
//! `--no-verify` skips it, and a failed proof writes nothing.
//!
//! Each run here controls every source of a server: no scratch URL unless given, no shadow URL unless
//! given, no Docker engine (DOCKER_HOST names a socket that does not exist) and no local PostgreSQL
//! binaries (MIGRATE_SAFE_POSTGRES_BIN is empty).

use crate::common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use common::live::server_url;
use common::{assert_same_tree, binary, copy_tree, migrations_dir, project_root, stderr, stdout};

/// The binary with no server anywhere and the default proof on.
fn isolated() -> Command {
    let mut command = binary();
    command
        .env_remove("MIGRATE_SAFE_NO_VERIFY")
        .env_remove("MIGRATE_SAFE_REQUIRE_PROOF")
        .env_remove("MIGRATE_SAFE_SCRATCH_URL")
        .env_remove("MIGRATE_SAFE_DATABASE_URL")
        .env_remove("SHADOW_DATABASE_URL")
        .env_remove("DATABASE_URL")
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .env("MIGRATE_SAFE_POSTGRES_BIN", "");
    command
}

fn run(command: &mut Command, args: &[&str]) -> Output {
    command.args(args).output().expect("run migrate-safe")
}

fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", stdout(output), stderr(output)))
}

/// A copy of the unique-then-relation fixture (one migration to rewrite) and its expected output.
fn fixture_copy(root: &Path) -> (PathBuf, PathBuf) {
    let fixture = project_root().join("migrations-fixtures/unique-then-relation");
    let dir = root.join("prisma/migrations");
    copy_tree(&fixture.join("migrations"), &dir);
    (dir, fixture.join("expected"))
}

fn same_as_fixture_input(dir: &Path) {
    assert_same_tree(
        dir,
        &project_root().join("migrations-fixtures/unique-then-relation/migrations"),
    );
}

#[test]
fn proven_by_default_with_a_scratch_url_from_the_environment() {
    let Some(server) = server_url() else { return };
    let temp = tempfile::tempdir().unwrap();
    let (dir, expected) = fixture_copy(temp.path());
    let output = run(
        isolated().env("MIGRATE_SAFE_SCRATCH_URL", &server),
        &["rewrite", dir.to_str().unwrap(), "--format", "json"],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report = json(&output);
    assert_eq!(report["proof"]["status"], "proven", "{report}");
    assert_eq!(report["written"], true);
    assert_eq!(report["verification"]["proven"], true);
    assert!(!stderr(&output).contains("NOT proven"));
    assert_same_tree(&dir, &expected);
}

#[test]
fn proven_by_default_with_the_scratch_url_of_migrate_safe_toml() {
    let Some(server) = server_url() else { return };
    let temp = tempfile::tempdir().unwrap();
    let (dir, expected) = fixture_copy(temp.path());
    std::fs::write(
        temp.path().join("migrate-safe.toml"),
        format!("scratch-url = \"{server}\"\n"),
    )
    .unwrap();
    let output = run(&mut isolated(), &["rewrite", dir.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.contains("Verified on the server at") && text.contains("(scratch-url in "),
        "{text}"
    );
    assert_same_tree(&dir, &expected);
}

#[test]
fn proven_by_default_on_the_server_of_the_shadow_database_named_in_schema_prisma() {
    use migrate_safe::db::ScratchDatabase;
    use migrate_safe::db::catalog::snapshot;
    let Some(server) = server_url() else { return };
    // The project's shadow database: a database of this test's own, holding a table, which must come
    // out untouched.
    let shadow = ScratchDatabase::create(&server, None).unwrap();
    shadow
        .connect()
        .unwrap()
        .batch_execute("CREATE TABLE \"Kept\" (\"id\" INTEGER)")
        .unwrap();
    let before = snapshot(&mut shadow.connect().unwrap()).unwrap();
    let temp = tempfile::tempdir().unwrap();
    let (dir, expected) = fixture_copy(temp.path());
    std::fs::write(
        temp.path().join("prisma/schema.prisma"),
        "datasource db {\n  provider          = \"postgresql\"\n  url               = env(\"DATABASE_URL\")\n  shadowDatabaseUrl = env(\"LIVE_PROVE_SHADOW_URL\") // used by prisma migrate dev\n}\n",
    )
    .unwrap();
    let output = run(
        isolated().env("LIVE_PROVE_SHADOW_URL", &shadow.url),
        &["rewrite", dir.to_str().unwrap()],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.contains("Verified on the server of the Prisma shadow database")
            && text.contains("shadowDatabaseUrl = env(\"LIVE_PROVE_SHADOW_URL\")"),
        "{text}"
    );
    assert!(
        text.contains("original and rewritten sequence build the same schema"),
        "{text}"
    );
    assert_same_tree(&dir, &expected);
    let after = snapshot(&mut shadow.connect().unwrap()).unwrap();
    assert_eq!(before, after, "the shadow database itself was changed");
}

#[test]
fn with_no_server_anywhere_it_writes_and_says_it_is_not_proven() {
    let temp = tempfile::tempdir().unwrap();
    let (dir, expected) = fixture_copy(temp.path());
    let started = Instant::now();
    let output = run(
        &mut isolated(),
        &["rewrite", dir.to_str().unwrap(), "--format", "json"],
    );
    let elapsed = started.elapsed();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report = json(&output);
    assert_eq!(report["proof"]["status"], "not-proven", "{report}");
    let why = report["proof"]["why"].as_str().unwrap();
    for source in [
        "--scratch-url URL, MIGRATE_SAFE_SCRATCH_URL or scratch-url in migrate-safe.toml: not given",
        "the Prisma shadow database's server: no shadowDatabaseUrl",
        "no Docker engine answered at unix:///nonexistent/docker.sock",
        "no initdb/pg_ctl in MIGRATE_SAFE_POSTGRES_BIN=",
    ] {
        assert!(why.contains(source), "{source} in {why}");
    }
    assert!(
        report["proof"]["how"]
            .as_str()
            .unwrap()
            .contains("--scratch-url URL")
    );
    assert_eq!(report["written"], true);
    let warning = stderr(&output);
    assert!(
        warning.starts_with("warning: the rewrite was written, but NOT proven"),
        "{warning}"
    );
    assert_same_tree(&dir, &expected);
    // Finding nothing is quick: no multi-second wait for an engine that is not there.
    assert!(
        elapsed < Duration::from_secs(5),
        "took {elapsed:?} to find no server"
    );
}

#[test]
fn require_proof_with_no_server_is_an_error_and_writes_nothing() {
    let temp = tempfile::tempdir().unwrap();
    let (dir, _) = fixture_copy(temp.path());
    for (how, args) in [
        ("the flag", vec!["--require-proof"]),
        ("the old spelling", vec!["--verify"]),
        ("the variable", vec![]),
    ] {
        let mut command = isolated();
        if args.is_empty() {
            command.env("MIGRATE_SAFE_REQUIRE_PROOF", "1");
        }
        let mut all = vec!["rewrite", dir.to_str().unwrap()];
        all.extend(args);
        let output = run(&mut command, &all);
        assert_eq!(output.status.code(), Some(2), "{how}: {}", stdout(&output));
        let error = stderr(&output);
        assert!(
            error.contains("demands a proof, and none can be made, so nothing was written")
                && error.contains("no scratch server could be had")
                && error.contains("no initdb/pg_ctl in MIGRATE_SAFE_POSTGRES_BIN="),
            "{how}: {error}"
        );
        same_as_fixture_input(&dir);
    }
    // CI demands a proof; a --no-verify in a script does not silently win.
    let output = run(
        isolated().env("MIGRATE_SAFE_REQUIRE_PROOF", "1"),
        &["rewrite", dir.to_str().unwrap(), "--no-verify"],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output)
            .contains("--no-verify skips the proof that MIGRATE_SAFE_REQUIRE_PROOF demands"),
        "{}",
        stderr(&output)
    );
    same_as_fixture_input(&dir);
    // The same in migrate-safe.toml.
    std::fs::write(
        temp.path().join("migrate-safe.toml"),
        "require-proof = true\n",
    )
    .unwrap();
    let output = run(&mut isolated(), &["rewrite", dir.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("require-proof in migrate-safe.toml demands a proof"),
        "{}",
        stderr(&output)
    );
    same_as_fixture_input(&dir);
}

#[test]
fn no_verify_skips_the_proof_without_looking_for_a_server() {
    let temp = tempfile::tempdir().unwrap();
    let (dir, expected) = fixture_copy(temp.path());
    // A scratch URL where nothing listens: looked at, it would be an error.
    let output = run(
        isolated().env(
            "MIGRATE_SAFE_SCRATCH_URL",
            "postgresql://postgres@127.0.0.1:1/postgres",
        ),
        &[
            "rewrite",
            dir.to_str().unwrap(),
            "--no-verify",
            "--format",
            "json",
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report = json(&output);
    assert_eq!(report["proof"]["status"], "skipped");
    assert_eq!(report["proof"]["why"], "--no-verify");
    assert_eq!(report["verification"], serde_json::Value::Null);
    assert_eq!(stderr(&output), "");
    assert_same_tree(&dir, &expected);
    // Without --no-verify the same URL is looked at, and an unreachable one is an error.
    let temp = tempfile::tempdir().unwrap();
    let (dir, _) = fixture_copy(temp.path());
    let output = run(
        isolated().env(
            "MIGRATE_SAFE_SCRATCH_URL",
            "postgresql://postgres@127.0.0.1:1/postgres",
        ),
        &["rewrite", dir.to_str().unwrap()],
    );
    assert_eq!(output.status.code(), Some(2));
    same_as_fixture_input(&dir);
}

#[test]
fn a_dry_run_is_proven_only_when_asked() {
    let Some(server) = server_url() else { return };
    let temp = tempfile::tempdir().unwrap();
    let (dir, _) = fixture_copy(temp.path());
    let mut command = isolated();
    command.env("MIGRATE_SAFE_SCRATCH_URL", &server);
    let output = run(
        &mut command,
        &[
            "rewrite",
            dir.to_str().unwrap(),
            "--dry-run",
            "--format",
            "json",
        ],
    );
    let report = json(&output);
    assert_eq!(report["proof"]["status"], "not-run");
    assert_eq!(report["verification"], serde_json::Value::Null);
    let output = run(
        isolated().env("MIGRATE_SAFE_SCRATCH_URL", &server),
        &[
            "rewrite",
            dir.to_str().unwrap(),
            "--dry-run",
            "--require-proof",
            "--format",
            "json",
        ],
    );
    assert_eq!(json(&output)["proof"]["status"], "proven");
    same_as_fixture_input(&dir);
}

#[test]
fn a_failed_proof_writes_nothing() {
    let Some(server) = server_url() else { return };
    let temp = tempfile::tempdir().unwrap();
    // A hand-written step that looks at the catalog: moving the index build after it changes what it
    // does, which only applying both sequences shows.
    let migrations = [
        (
            "1_init",
            "CREATE TABLE \"T\" (\"id\" INTEGER NOT NULL, \"c\" TEXT);\n",
        ),
        (
            "2_next",
            "-- CreateIndex\nCREATE INDEX \"T_c_idx\" ON \"T\"(\"c\");\n\nDO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_indexes WHERE indexname = 'T_c_idx') THEN CREATE TABLE \"Seen\" (\"id\" INTEGER); END IF; END $$;\n",
        ),
    ];
    let dir = migrations_dir(temp.path(), &migrations);
    let untouched = tempfile::tempdir().unwrap();
    let original = migrations_dir(untouched.path(), &migrations);
    let output = run(
        isolated().env("MIGRATE_SAFE_SCRATCH_URL", &server),
        &[
            "rewrite",
            dir.to_str().unwrap(),
            "--prisma-version",
            "6.19.3",
            "--format",
            "json",
        ],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let report = json(&output);
    assert_eq!(report["proof"]["status"], "failed");
    assert_eq!(report["written"], false);
    let differences = report["verification"]["migrations"][0]["differences"].to_string();
    assert!(
        differences.contains("- relation public.\\\"Seen\\\": kind r"),
        "{differences}"
    );
    assert_same_tree(&dir, &original);
}

#[test]
fn proven_by_default_on_the_shadow_database_server_of_prisma_config_ts() {
    let Some(server) = server_url() else { return };
    let temp = tempfile::tempdir().unwrap();
    let (dir, expected) = fixture_copy(temp.path());
    // Prisma 7 keeps the datasource in prisma.config.ts, at the project root.
    std::fs::write(
        temp.path().join("prisma.config.ts"),
        "import \"dotenv/config\";\nimport { defineConfig, env } from \"prisma/config\";\n\nexport default defineConfig({\n  schema: \"prisma/schema.prisma\",\n  migrations: { path: \"prisma/migrations\" },\n  datasource: {\n    url: env(\"DATABASE_URL\"),\n    shadowDatabaseUrl: env(\"LIVE_PROVE_SHADOW_URL\"),\n  },\n});\n",
    )
    .unwrap();
    let output = run(
        isolated().env("LIVE_PROVE_SHADOW_URL", &server),
        &["rewrite", dir.to_str().unwrap(), "--format", "json"],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report = json(&output);
    assert_eq!(report["proof"]["status"], "proven", "{report}");
    let used = report["proof"]["server"].as_str().unwrap();
    assert!(
        used.contains("datasource.shadowDatabaseUrl (env LIVE_PROVE_SHADOW_URL) in ")
            && used.contains("prisma.config.ts"),
        "{used}"
    );
    assert_same_tree(&dir, &expected);
}

#[test]
fn a_history_the_scratch_server_cannot_build_is_not_proven_or_with_a_demand_an_error() {
    let Some(server) = server_url() else { return };
    // Production has this extension; the scratch server does not.
    let migrations = [
        (
            "1_init",
            "CREATE EXTENSION IF NOT EXISTS \"migrate_safe_no_such_extension\";\nCREATE TABLE \"T\" (\"id\" INTEGER NOT NULL, \"c\" TEXT);\n",
        ),
        (
            "2_next",
            "-- CreateIndex\nCREATE INDEX \"T_c_idx\" ON \"T\"(\"c\");\n",
        ),
    ];
    let temp = tempfile::tempdir().unwrap();
    let dir = migrations_dir(temp.path(), &migrations);
    let untouched = tempfile::tempdir().unwrap();
    let original = migrations_dir(untouched.path(), &migrations);
    let output = run(
        isolated().env("MIGRATE_SAFE_SCRATCH_URL", &server),
        &["rewrite", dir.to_str().unwrap(), "--require-proof"],
    );
    assert_eq!(output.status.code(), Some(2), "{}", stdout(&output));
    let error = stderr(&output);
    assert!(
        error.contains("--require-proof demands a proof, and none can be made")
            && error.contains("applying the history before 2_next on the scratch server failed")
            && error.contains("migrate_safe_no_such_extension"),
        "{error}"
    );
    assert_same_tree(&dir, &original);
    let output = run(
        isolated().env("MIGRATE_SAFE_SCRATCH_URL", &server),
        &["rewrite", dir.to_str().unwrap(), "--format", "json"],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report = json(&output);
    assert_eq!(report["proof"]["status"], "not-proven", "{report}");
    assert_eq!(report["written"], true);
    assert!(
        stderr(&output)
            .contains("warning: the rewrite was written, but NOT proven: applying the history"),
        "{}",
        stderr(&output)
    );
}

/// SIGKILL of a run while its throwaway local server runs: the server stops with it (a parent-death
/// signal), and the next run removes the directory it left (121 orphan servers holding 11 GB of shared
/// memory were found after a batch of killed runs).
#[test]
fn a_run_killed_mid_proof_takes_its_local_server_along_and_the_next_run_reaps_the_rest() {
    if server_url().is_none() {
        return;
    }
    let temp = tempfile::tempdir().unwrap();
    // The server runs as an unprivileged user when the tests run as root: it must reach its directory.
    std::fs::set_permissions(
        temp.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let (dir, _) = fixture_copy(temp.path());
    let clusters = temp.path().join("tmp");
    std::fs::create_dir(&clusters).unwrap();
    std::fs::set_permissions(
        &clusters,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let local = || {
        let mut command = isolated();
        command
            .env_remove("MIGRATE_SAFE_POSTGRES_BIN")
            .env("TMPDIR", &clusters);
        command
    };
    let mut child = local()
        .args(["check", dir.to_str().unwrap()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let postmaster = loop {
        let pid = std::fs::read_dir(&clusters)
            .unwrap()
            .flatten()
            .find_map(|e| {
                let text = std::fs::read_to_string(e.path().join("data/postmaster.pid")).ok()?;
                text.lines().next()?.trim().parse::<u32>().ok()
            });
        if let Some(pid) = pid {
            break pid;
        }
        assert!(
            child.try_wait().unwrap().is_none() && started.elapsed() < Duration::from_secs(30),
            "no throwaway server started (are initdb and pg_ctl installed?)"
        );
        std::thread::sleep(Duration::from_millis(5));
    };
    child.kill().unwrap();
    child.wait().unwrap();
    let gone = Instant::now();
    while Path::new(&format!("/proc/{postmaster}")).exists() {
        assert!(
            gone.elapsed() < Duration::from_secs(15),
            "the throwaway server (pid {postmaster}) outlived the killed run"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        std::fs::read_dir(&clusters).unwrap().count(),
        1,
        "the killed run's directory is left"
    );
    let next = local()
        .args(["check", dir.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        matches!(next.status.code(), Some(0 | 1)),
        "{}",
        stderr(&next)
    );
    assert!(
        stderr(&next).contains("removed 1 throwaway server(s) left by runs that were killed"),
        "{}",
        stderr(&next)
    );
    assert_eq!(
        std::fs::read_dir(&clusters).unwrap().count(),
        0,
        "nothing left behind"
    );
}

/// The recommended path end to end: rewrite for Prisma 7.10.1, then `deployed-by = "migrate-safe"`.
/// The second rewrite (which now judges every file as one transaction and reorders it) is proven
/// against the whole rewritten sequence — the folders the first one wrote included — and a third
/// changes nothing; no message is a Rust Debug dump. (It used to fail its proof with `left behind:
/// NotValidConstraint { .. }`, write nothing, and leave `status` pointing at it.)
#[test]
fn a_second_rewrite_under_deployed_by_migrate_safe_is_proven_and_a_third_changes_nothing() {
    let Some(server) = server_url() else { return };
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("prisma/migrations");
    copy_tree(
        &project_root().join("migrations-fixtures/saas-baseline/migrations"),
        &dir,
    );
    let d = dir.to_str().unwrap();
    let first = run(
        isolated().env("MIGRATE_SAFE_SCRATCH_URL", &server),
        &["rewrite", d, "--prisma-version", "7.10.1"],
    );
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    std::fs::write(
        dir.join("migrate-safe.toml"),
        "deployed-by = \"migrate-safe\"\n",
    )
    .unwrap();
    let second = run(
        isolated().env("MIGRATE_SAFE_SCRATCH_URL", &server),
        &["rewrite", d],
    );
    let said = format!("{}{}", stdout(&second), stderr(&second));
    assert_eq!(second.status.code(), Some(0), "{said}");
    common::assert_no_debug_dump(&said, "second rewrite");
    assert!(said.contains("as migrate-safe deploy applies it"), "{said}");
    assert!(!said.contains("NOT PROVEN"), "{said}");
    let third = run(
        isolated().env("MIGRATE_SAFE_SCRATCH_URL", &server),
        &["rewrite", d],
    );
    assert_eq!(third.status.code(), Some(0), "{}", stderr(&third));
    assert!(
        stdout(&third).contains("Nothing to rewrite"),
        "{}",
        stdout(&third)
    );
    let lint = run(&mut isolated(), &["lint", d]);
    common::assert_no_debug_dump(&stdout(&lint), "lint");
    assert_eq!(lint.status.code(), Some(0), "{}", stdout(&lint));
}
