//! Finding the migrations directory the way Prisma does when none is given (every command's default,
//! `.`), on the small projects in `tests/data/discovery/`: `migrations.path` and `schema` in
//! prisma.config.ts (read without running it: a computed value is an error naming the line),
//! `"prisma"."schema"` in package.json, the default `prisma/migrations`, and a monorepo package run from a
//! folder inside it. Each report's header line says where the directory came from.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::*;

/// A copy of `tests/data/discovery/<name>` (the search may go upwards: a temporary directory has no
/// project above it).
fn project(name: &str) -> (tempfile::TempDir, PathBuf) {
    let temp = tempfile::tempdir().unwrap();
    let root = temp.path().join(name);
    copy_tree(
        &project_root().join("tests/data/discovery").join(name),
        &root,
    );
    (temp, root)
}

fn run_in(dir: &Path, args: &[&str]) -> Output {
    binary().current_dir(dir).args(args).output().unwrap()
}

/// `lint`, `rewrite --dry-run` and `rewrite --check` with no directory, run from `cwd`: all find
/// `expected` (as a path from `cwd`) and say `origin`.
fn finds(cwd: &Path, expected: &str, origin: &str) {
    let lint = run_in(cwd, &["lint"]);
    assert_eq!(lint.status.code(), Some(1), "{}", stderr(&lint));
    let text = stdout(&lint);
    assert_eq!(
        text.lines().next().unwrap(),
        format!("Migrations directory: {expected} ({origin})")
    );
    assert!(
        text.contains(&format!(
            "--> {expected}/20250101000000_add_email_index/migration.sql:2:1"
        )),
        "{text}"
    );
    assert!(text.contains("warning[index-concurrently]"), "{text}");

    let json = run_in(cwd, &["lint", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(json["directories"], serde_json::json!([expected]));
    assert_eq!(
        json["found"],
        serde_json::json!([{"directory": expected, "from": origin}])
    );

    let dry_run = run_in(cwd, &["rewrite", "--dry-run"]);
    assert_eq!(dry_run.status.code(), Some(0), "{}", stderr(&dry_run));
    assert_eq!(
        stdout(&dry_run).lines().next().unwrap(),
        format!("Migrations directory: {expected} ({origin}), 2 migrations")
    );
    let json = run_in(cwd, &["rewrite", "--dry-run", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(json["directory"], expected);
    assert_eq!(json["found"], origin);
    let check = run_in(cwd, &["rewrite", "--check"]);
    assert_eq!(check.status.code(), Some(1), "{}", stderr(&check));

    // status and check take the same default: they get past discovery to the (closed) server.
    let status = run_in(
        cwd,
        &[
            "status",
            "--database-url",
            "postgresql://postgres@127.0.0.1:9/app",
        ],
    );
    assert_eq!(status.status.code(), Some(2));
    assert!(
        stderr(&status).contains("127.0.0.1:9"),
        "{}",
        stderr(&status)
    );
}

#[test]
fn prisma_7_config_migrations_path_wins_over_its_schema() {
    let (_temp, root) = project("prisma7-migrations-path");
    finds(
        &root,
        "db/history",
        "from migrations.path in prisma.config.ts",
    );
}

#[test]
fn prisma_config_schema_puts_migrations_beside_the_schema() {
    let (_temp, root) = project("config-schema");
    finds(
        &root,
        "database/migrations",
        "beside the schema database/schema.prisma, from schema in prisma.config.ts",
    );
}

#[test]
fn package_json_prisma_schema() {
    let (_temp, root) = project("package-json-schema");
    finds(
        &root,
        "src/db/migrations",
        "beside the schema src/db/schema.prisma, from \"prisma\".\"schema\" in package.json",
    );
}

#[test]
fn check_says_where_it_found_the_directory() {
    let Some(server) = common::live::server_url() else {
        return;
    };
    let (_temp, root) = project("prisma7-migrations-path");
    let check = run_in(&root, &["check", "--scratch-url", &server]);
    assert_eq!(check.status.code(), Some(1), "{}", stderr(&check));
    let text = stdout(&check);
    assert_eq!(
        text.lines().next().unwrap(),
        "Migrations directory: db/history (from migrations.path in prisma.config.ts), 2 migrations",
        "{text}"
    );
}

#[test]
fn the_default_prisma_migrations() {
    let (_temp, root) = project("default-layout");
    finds(&root, "prisma/migrations", "found inside .");
}

#[test]
fn a_monorepo_package_from_a_folder_inside_it_and_not_from_another_package() {
    let (_temp, root) = project("monorepo");
    finds(
        &root.join("packages/db/src"),
        "../prisma/migrations",
        "beside the schema ../prisma/schema.prisma, from \"prisma\".\"schema\" in ../package.json",
    );
    // Another package: the search stops at its own package.json, and says so.
    let web = root.join("packages/web/src");
    let output = run_in(&web, &["lint"]);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(
        message.contains(&format!(
            "no Prisma migrations directory here or above, up to {} (the nearest package.json",
            std::fs::canonicalize(root.join("packages/web"))
                .unwrap()
                .display()
        )),
        "{message}"
    );
    // A folder named on the command line is searched, never its parents.
    let output = run(&["lint", web.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("not a Prisma migrations directory"));
}

#[test]
fn a_computed_migrations_path_is_refused_with_its_line() {
    let (_temp, root) = project("computed-path");
    for args in [&["lint"][..], &["rewrite", "--dry-run"], &["status"]] {
        let output = run_in(&root, args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert_eq!(
            stderr(&output),
            "error: prisma.config.ts:6: migrations.path is not a plain string literal, and migrate-safe reads this file without running it; pass the migrations directory (e.g. `migrate-safe lint prisma/migrations`)\n"
        );
        assert!(stdout(&output).is_empty());
    }
    // Named explicitly, the directory is used as it is.
    let output = run_in(&root, &["lint", "db/migrations"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
}

#[test]
fn a_config_naming_a_missing_directory_says_so() {
    let (_temp, root) = project("prisma7-migrations-path");
    std::fs::remove_dir_all(root.join("db/history")).unwrap();
    let output = run_in(&root, &["lint"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).starts_with(
            "error: prisma.config.ts: names the migrations directory db/history (from migrations.path in prisma.config.ts), which does not exist"
        ),
        "{}",
        stderr(&output)
    );
}
