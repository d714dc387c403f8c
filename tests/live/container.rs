//! The container path for real: with no URL, `check` and `rewrite --verify` get their server from a
//! `postgres:15` container started with testcontainers, and leave no container behind.
//!
//! Needs a Docker engine and a local `postgres:15` image (here no registry answers, so
//! tools/docker-pg/build-image.sh builds one from Debian's packages; .ci/run does that). Without them
//! the test prints `SKIPPED: <reason>` and passes — except in CI (CI=true), where it fails.

use crate::common;

use std::collections::BTreeSet;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use common::{assert_same_tree, binary, copy_tree, project_root, stderr, stdout};
use migrate_safe::db::connect;
use migrate_safe::db::provision::{docker_engine, local_postgres_images};

const PG_VERSION: &str = "15";
const IMAGE: &str = "postgres:15";
const FIXTURE: &str = "migrations-fixtures/saas-baseline";

/// Skip (print why, return true) or, in CI, fail when `reason` says the test cannot run.
fn skip(reason: Option<String>) -> bool {
    let Some(reason) = reason else { return false };
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("CI=true and the container path cannot run: {reason}");
    }
    eprintln!("SKIPPED: {reason}");
    true
}

fn no_engine() -> Option<String> {
    docker_engine(Duration::from_secs(2))
        .err()
        .map(|why| format!("{why}; start one with tools/docker-pg/start-dockerd.sh"))
}

/// Why the container path cannot be tried here, if it cannot.
fn unavailable() -> Option<String> {
    let endpoint = match docker_engine(Duration::from_secs(2)) {
        Ok(endpoint) => endpoint,
        Err(_) => return no_engine(),
    };
    match local_postgres_images(&endpoint, Duration::from_secs(5)) {
        Ok(images) if images.iter().any(|i| i == IMAGE) => None,
        Ok(images) => Some(format!(
            "the Docker engine at {endpoint} has no {IMAGE} image (it has: {images:?}); build it with tools/docker-pg/build-image.sh {PG_VERSION}"
        )),
        Err(e) => Some(format!(
            "cannot list the images of the Docker engine at {endpoint}: {e}"
        )),
    }
}

/// The ids of every container made from the image, running or not (`docker ps -a`).
fn containers_of_image() -> BTreeSet<String> {
    let output = Command::new("docker")
        .args([
            "ps",
            "-a",
            "--no-trunc",
            "--filter",
            &format!("ancestor={IMAGE}"),
            "--format",
            "{{.ID}}",
        ])
        .output()
        .expect("run the docker CLI");
    assert!(output.status.success(), "docker ps: {}", stderr(&output));
    stdout(&output).lines().map(str::to_string).collect()
}

/// migrate-safe with no way to a server but the ones it finds itself.
fn migrate_safe(args: &[&str]) -> Output {
    migrate_safe_on(PG_VERSION, args)
}

fn migrate_safe_on(pg_version: &str, args: &[&str]) -> Output {
    binary()
        .args(args)
        .args(["--pg-version", pg_version])
        .env_remove("MIGRATE_SAFE_SCRATCH_URL")
        .env_remove("MIGRATE_SAFE_TEST_DATABASE_URL")
        .output()
        .expect("run migrate-safe")
}

/// `127.0.0.1:PORT` out of "a postgres:15 container started with testcontainers (127.0.0.1:PORT)".
fn container_address(description: &str) -> String {
    let expected = format!("a {IMAGE} container started with testcontainers (127.0.0.1:");
    assert!(description.starts_with(&expected), "{description}");
    description[expected.len() - "127.0.0.1:".len()..]
        .trim_end_matches(')')
        .to_string()
}

fn assert_gone(address: &str, before: &BTreeSet<String>) {
    let left: Vec<String> = containers_of_image().difference(before).cloned().collect();
    assert!(left.is_empty(), "containers left behind: {left:?}");
    let url = format!("postgresql://postgres@{address}/postgres");
    assert!(
        connect(&url).is_err(),
        "the container's server at {address} still answers"
    );
}

#[test]
fn check_and_rewrite_verify_prove_on_a_testcontainers_container_and_remove_it() {
    if skip(unavailable()) {
        return;
    }
    let before = containers_of_image();
    let started = Instant::now();

    // check: the rewritten fixture is proven without findings, on the container.
    let fixture = project_root().join(FIXTURE);
    let expected = fixture.join("expected");
    let output = migrate_safe(&["check", expected.to_str().unwrap(), "--format", "json"]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_str(&text).expect("check's JSON");
    // One proof per Prisma apply model, on the same server.
    assert_eq!(json["reports"].as_array().unwrap().len(), 2, "{text}");
    let report = &json["reports"][0];
    let server = &report["server"];
    assert_eq!(server["source"], "container", "{server}");
    assert_eq!(server["notes"], serde_json::json!([]), "{server}");
    assert_eq!(report["failure"], serde_json::Value::Null, "{text}");
    assert_eq!(report["applied"], report["migrations"], "{text}");
    let address = container_address(server["description"].as_str().unwrap());
    assert_gone(&address, &before);
    let check_took = started.elapsed();

    // rewrite --verify: the original and rewritten sequences are proven equal on a container, then
    // written; the result is the fixture's expected tree.
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("migrations");
    copy_tree(&fixture.join("migrations"), &dir);
    let output = migrate_safe(&["rewrite", dir.to_str().unwrap(), "--verify"]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}{}", stderr(&output));
    let verified = text
        .lines()
        .find_map(|l| l.strip_prefix("Verified on "))
        .unwrap_or_else(|| panic!("no `Verified on` line:\n{text}"));
    let address = container_address(verified.trim_end_matches(':'));
    assert!(
        text.contains(
            "original and rewritten sequence build the same schema; no INVALID index, no NOT VALID constraint left"
        ),
        "{text}"
    );
    assert!(text.contains("Rewrote 1 migration"), "{text}");
    assert_same_tree(&dir, &expected);
    assert_gone(&address, &before);
    eprintln!(
        "check took {:.1}s, rewrite --verify {:.1}s",
        check_took.as_secs_f64(),
        (started.elapsed() - check_took).as_secs_f64()
    );
}

#[test]
fn an_image_neither_local_nor_pullable_is_named_and_the_next_source_is_used() {
    if skip(no_engine()) {
        return;
    }
    // No registry has this tag, so the pull fails wherever the test runs (quickly: a "no such host"
    // here, a "manifest unknown" where a registry answers).
    let tag = "no-such-tag-migrate-safe-test";
    let expected = project_root().join(FIXTURE).join("expected");
    let output = migrate_safe_on(
        tag,
        &["check", expected.to_str().unwrap(), "--format", "json"],
    );
    let (out, err) = (stdout(&output), stderr(&output));
    let why = match output.status.code() {
        // The local binaries took over, with a note.
        Some(0) => {
            let json: serde_json::Value = serde_json::from_str(&out).expect("check's JSON");
            let report = &json["reports"][0];
            assert_eq!(report["server"]["source"], "local-binaries", "{out}");
            report["server"]["notes"][0].as_str().unwrap().to_string()
        }
        // No local binaries either: the error lists the ways.
        Some(2) => err.clone(),
        _ => panic!("{out}{err}"),
    };
    assert!(
        why.contains(&format!(
            "postgres:{tag} is not available locally and could not be pulled"
        )),
        "{why}"
    );
    assert!(
        why.contains("tools/docker-pg/build-image.sh builds 13, 15 or 17"),
        "{why}"
    );
    if unavailable().is_none() {
        assert!(
            why.contains(" or pass --pg-version ") && why.contains(IMAGE),
            "{why}"
        );
    }
}
