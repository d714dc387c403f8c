//! Helpers shared by the integration tests: run the real binary, copy and compare directory trees.
#![allow(dead_code)]

pub mod live;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The binary, without color, and without the proof `rewrite` makes by default whenever it finds a
/// scratch server: tests that are not about proving stay as fast as before (`--verify` /
/// `--require-proof` still prove). Tests of the default proof remove the variable. The throwaway local
/// server's cluster template is kept under target/tmp, never in the user's cache.
pub fn binary() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_migrate-safe"));
    command
        .env("NO_COLOR", "1")
        .env("MIGRATE_SAFE_NO_VERIFY", "1")
        .env(
            "MIGRATE_SAFE_CLUSTER_CACHE",
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("cluster-cache"),
        );
    command
}

pub fn run(args: &[&str]) -> Output {
    binary().args(args).output().expect("run migrate-safe")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

pub fn project_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every scenario under migrations-fixtures/ (folders holding `migrations/`).
pub fn fixtures() -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = fs::read_dir(project_root().join("migrations-fixtures"))
        .expect("migrations-fixtures/")
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("migrations").is_dir())
        .collect();
    found.sort();
    assert!(!found.is_empty(), "no fixtures found");
    found
}

/// Extra arguments of a scenario (`args` file, one per line).
pub fn fixture_args(fixture: &Path) -> Vec<String> {
    fs::read_to_string(fixture.join("args"))
        .map(|text| {
            text.lines()
                .filter(|l| !l.trim().is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

pub fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Relative path → bytes, for every file under `root`.
pub fn read_tree(root: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let relative = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                out.insert(relative, fs::read(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

/// Assert two trees are byte-identical, with a readable message naming what differs.
pub fn assert_same_tree(actual: &Path, expected: &Path) {
    let actual_files = read_tree(actual);
    let expected_files = read_tree(expected);
    let mut problems = Vec::new();
    for (path, bytes) in &expected_files {
        match actual_files.get(path) {
            None => problems.push(format!("missing: {path}")),
            Some(got) if got != bytes => problems.push(format!(
                "differs: {path}\n--- expected\n{}\n--- actual\n{}",
                String::from_utf8_lossy(bytes),
                String::from_utf8_lossy(got)
            )),
            _ => {}
        }
    }
    for path in actual_files
        .keys()
        .filter(|p| !expected_files.contains_key(*p))
    {
        problems.push(format!("unexpected: {path}"));
    }
    assert!(
        problems.is_empty(),
        "{} vs {}:\n{}",
        actual.display(),
        expected.display(),
        problems.join("\n")
    );
}

/// `MIGRATE_SAFE_BLESS=1 cargo test` rewrites expected outputs instead of comparing (review the diff!).
pub fn blessing() -> bool {
    std::env::var_os("MIGRATE_SAFE_BLESS").is_some_and(|v| v == "1")
}

pub fn replace_tree(from: &Path, to: &Path) {
    if to.exists() {
        fs::remove_dir_all(to).unwrap();
    }
    copy_tree(from, to);
}

/// Every `.sql` file under `root`, at any depth.
pub fn sql_files(root: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(root).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sql_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "sql") {
            out.push(path);
        }
    }
}

/// `<root>/migrations` with a `migration_lock.toml` and one folder per `(name, sql)`.
pub fn migrations_dir(root: &Path, migrations: &[(&str, &str)]) -> PathBuf {
    let dir = root.join("migrations");
    fs::create_dir_all(&dir).unwrap();
    fs::write(
        dir.join("migration_lock.toml"),
        "provider = \"postgresql\"\n",
    )
    .unwrap();
    for (name, sql) in migrations {
        fs::create_dir_all(dir.join(name)).unwrap();
        fs::write(dir.join(name).join("migration.sql"), sql).unwrap();
    }
    dir
}

/// The histories and how many migrations each holds.
pub const CORPORA: &[(&str, usize)] = &[("documenso", 163), ("rallly", 145), ("inbox-zero", 240)];

/// Each history's migrations directory, with its name and size; empty (after a message) without
/// ../shared, a panic in CI.
pub fn corpora() -> Vec<(&'static str, PathBuf, usize)> {
    let mut found = Vec::new();
    for &(name, migrations) in CORPORA {
        let path = project_root().join(format!("../shared/corpus/{name}/migrations"));
        if path.join("migration_lock.toml").is_file() {
            found.push((name, path, migrations));
            continue;
        }
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("CI=true but the corpus is missing at {}", path.display());
        }
        eprintln!(
            "SKIPPED: no corpus at {} (it comes with ../shared)",
            path.display()
        );
    }
    found
}

/// Panic if `text` (output meant for people) holds a Rust `Debug` dump: `Name { field: ..`, `Some(..)`,
/// `Ok(..)`, `Err(..)`.
pub fn assert_no_debug_dump(text: &str, context: &str) {
    for marker in ["Some(", "Ok(", "Err(", "None)"] {
        assert!(
            !text.contains(marker),
            "{context}: a Debug dump ({marker}) in:\n{text}"
        );
    }
    let bytes = text.as_bytes();
    for (at, _) in text.match_indices(" { ") {
        // `Name { field: ` — an upper-case identifier before, `word: ` after.
        let before = &text[..at];
        let name: String = before
            .chars()
            .rev()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        let after = &text[at + 3..];
        let field: String = after
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        let dump = name.chars().last().is_some_and(|c| c.is_ascii_uppercase())
            && !field.is_empty()
            && after[field.len()..].starts_with(": ");
        assert!(!dump, "{context}: a Debug dump at byte {at} in:\n{text}");
        let _ = bytes;
    }
}
