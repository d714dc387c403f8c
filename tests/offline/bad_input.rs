//! Bad input gets a one-line error naming the file (and line:column where known), exit code 2, no
//! panic, and the directory exactly as before.

use crate::common;

use std::fs;
use std::path::Path;

use common::*;

fn prisma_dir(root: &Path) -> std::path::PathBuf {
    let dir = root.join("migrations");
    copy_tree(
        &project_root().join("migrations-fixtures/dependencies/migrations"),
        &dir,
    );
    dir
}

/// Run `rewrite` with `args`, assert exit 2, a single `error:` line containing every `needle`, no
/// stdout, and `dir` unchanged.
fn assert_refused(dir: &Path, args: &[&str], needles: &[&str]) {
    let before = if dir.is_dir() {
        read_tree(dir)
    } else {
        Default::default()
    };
    let output = run(args);
    let err = stderr(&output);
    assert_eq!(
        output.status.code(),
        Some(2),
        "{args:?}: {err}{}",
        stdout(&output)
    );
    assert!(err.starts_with("error: "), "{err}");
    assert_eq!(
        err.trim_end().lines().count(),
        1,
        "one line expected: {err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    for needle in needles {
        assert!(err.contains(needle), "{err:?} should mention {needle:?}");
    }
    assert!(stdout(&output).is_empty());
    if dir.is_dir() {
        assert_eq!(read_tree(dir), before, "directory changed");
    }
}

#[test]
fn missing_path() {
    let temp = tempfile::tempdir().unwrap();
    let missing = temp.path().join("nope");
    assert_refused(
        &missing,
        &["rewrite", missing.to_str().unwrap()],
        &["nope", "no such file or directory"],
    );
}

#[test]
fn a_directory_that_is_not_a_migrations_directory() {
    let temp = tempfile::tempdir().unwrap();
    fs::write(temp.path().join("README.md"), "hello").unwrap();
    let path = temp.path().to_str().unwrap();
    assert_refused(
        temp.path(),
        &["rewrite", path],
        &[path, "not a Prisma migrations directory"],
    );
}

#[test]
fn a_file_instead_of_a_directory() {
    let temp = tempfile::tempdir().unwrap();
    let dir = prisma_dir(temp.path());
    let file = dir.join("0_init/migration.sql");
    assert_refused(
        &dir,
        &["rewrite", file.to_str().unwrap()],
        &["migration.sql", "not a Prisma migrations directory"],
    );
}

#[test]
fn a_folder_without_migration_sql() {
    let temp = tempfile::tempdir().unwrap();
    let dir = prisma_dir(temp.path());
    fs::create_dir(dir.join("20250101000000_empty")).unwrap();
    assert_refused(
        &dir,
        &["rewrite", dir.to_str().unwrap()],
        &["20250101000000_empty", "no migration.sql"],
    );
}

#[test]
fn a_file_that_is_not_utf8() {
    let temp = tempfile::tempdir().unwrap();
    let dir = prisma_dir(temp.path());
    fs::write(
        dir.join("0_init/migration.sql"),
        b"CREATE TABLE \"caf\xe9\" (id int);\n",
    )
    .unwrap();
    assert_refused(
        &dir,
        &["rewrite", dir.to_str().unwrap()],
        &["0_init/migration.sql:1:18:", "not valid UTF-8", "offset 17"],
    );
}

#[test]
fn a_lock_file_for_another_provider() {
    let temp = tempfile::tempdir().unwrap();
    let dir = prisma_dir(temp.path());
    fs::write(dir.join("migration_lock.toml"), "provider = \"mysql\"\n").unwrap();
    assert_refused(
        &dir,
        &["rewrite", dir.to_str().unwrap()],
        &["migration_lock.toml", "\"mysql\"", "PostgreSQL"],
    );
}

#[test]
fn a_lock_file_that_is_not_toml() {
    let temp = tempfile::tempdir().unwrap();
    let dir = prisma_dir(temp.path());
    fs::write(dir.join("migration_lock.toml"), "provider = postgresql\n").unwrap();
    assert_refused(
        &dir,
        &["rewrite", dir.to_str().unwrap()],
        &["migration_lock.toml", "not valid TOML"],
    );
}

#[test]
fn sql_the_tokenizer_rejects_names_file_line_and_column() {
    let temp = tempfile::tempdir().unwrap();
    let dir = prisma_dir(temp.path());
    let file = dir.join("20240401000000_owner_email_relation/migration.sql");
    let mut sql = fs::read_to_string(&file).unwrap();
    sql.push_str("\nUPDATE \"User\" SET \"name\" = 'unterminated;\n");
    fs::write(&file, sql).unwrap();
    assert_refused(
        &dir,
        &["rewrite", dir.to_str().unwrap()],
        &[
            "20240401000000_owner_email_relation/migration.sql:19:28:",
            "cannot tokenize SQL",
        ],
    );
}

#[test]
fn all_refuses_to_write() {
    let temp = tempfile::tempdir().unwrap();
    let dir = prisma_dir(temp.path());
    assert_refused(
        &dir,
        &["rewrite", dir.to_str().unwrap(), "--all"],
        &["--all", "--dry-run or --check"],
    );
}

#[test]
fn unknown_baseline_and_generated_migrations_are_refused() {
    let temp = tempfile::tempdir().unwrap();
    let dir = prisma_dir(temp.path());
    let path = dir.to_str().unwrap();
    assert_refused(
        &dir,
        &["rewrite", path, "--migration", "2024_nope"],
        &["no migration folder named \"2024_nope\""],
    );
    // One meaning per flag: a scratch server is --scratch-url; the old spellings say so.
    assert_refused(
        &dir,
        &["check", path, "--database-url", "postgresql://localhost/x"],
        &["check --database-url is now --scratch-url: it names a scratch server"],
    );
    assert_refused(
        &dir,
        &[
            "rewrite",
            path,
            "--verify",
            "--verify-url",
            "postgresql://localhost/x",
        ],
        &["--verify-url is now --scratch-url"],
    );
    // The timestamp alone: the folder it means is named.
    for command in ["rewrite", "lint", "check"] {
        assert_refused(
            &dir,
            &[command, path, "--migration", "20240401000000"],
            &[
                "no migration folder named \"20240401000000\"; did you mean \"20240401000000_owner_email_relation\"?",
            ],
        );
    }
    assert_refused(
        &dir,
        &["rewrite", path, "--migration", "0_init"],
        &["0_init is a baseline"],
    );
    let generated = dir.join("20240401000000_owner_email_relation_01_create_index_user_email_key");
    fs::create_dir(&generated).unwrap();
    fs::write(
        generated.join("migration.sql"),
        "-- migrate-safe: from migration \"20240401000000_owner_email_relation\": builds an index\nSELECT 1;\n",
    )
    .unwrap();
    assert_refused(
        &dir,
        &[
            "rewrite",
            path,
            "--migration",
            "20240401000000_owner_email_relation_01_create_index_user_email_key",
        ],
        &["written by migrate-safe"],
    );
}

#[test]
fn a_new_folder_that_would_not_sort_right_after_its_migration_is_refused() {
    let temp = tempfile::tempdir().unwrap();
    let dir = prisma_dir(temp.path());
    // A hand-made folder between the migration and where its new folders would go.
    let blocker = dir.join("20240401000000_owner_email_relation_00_manual");
    fs::create_dir(&blocker).unwrap();
    fs::write(blocker.join("migration.sql"), "SELECT 1;\n").unwrap();
    let path = dir.to_str().unwrap();
    assert_refused(
        &dir,
        &[
            "rewrite",
            path,
            "--migration",
            "20240401000000_owner_email_relation",
        ],
        &[
            "20240401000000_owner_email_relation_00_manual",
            "is in the way",
        ],
    );
}

#[test]
fn the_old_scratch_server_variable_is_named_with_its_new_name() {
    let temp = tempfile::tempdir().unwrap();
    let dir = prisma_dir(temp.path());
    let output = binary()
        .args(["check", dir.to_str().unwrap()])
        .env("MIGRATE_SAFE_DATABASE_URL", "postgresql://localhost/x")
        .env_remove("MIGRATE_SAFE_SCRATCH_URL")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("MIGRATE_SAFE_DATABASE_URL is now MIGRATE_SAFE_SCRATCH_URL"),
        "{}",
        stderr(&output)
    );
}

/// Run `args` with a time limit: a hang (a FIFO read, an endless /dev/zero) fails the test instead of
/// stalling the suite.
fn run_bounded(args: &[&str]) -> std::process::Output {
    let mut child = binary()
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > std::time::Duration::from_secs(30) {
            let _ = child.kill();
            panic!("{args:?} hung");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// A `migration.sql` that is a link to /dev/zero, a FIFO, or text with a NUL byte: every command
/// refuses it at once with one error line naming the file (and, for the NUL, its line:column), exit 2 —
/// no endless read, no hang, no "run deploy again" forever.
#[test]
fn hostile_migration_files_are_refused_by_every_command() {
    let nowhere = "postgresql://nobody@127.0.0.1:1/db";
    let commands: [&[&str]; 6] = [
        &["lint"],
        &["rewrite"],
        &["check", "--scratch-url", nowhere],
        &["status", "--database-url", nowhere],
        &["deploy", "--dry-run", "--database-url", nowhere],
        &["baseline", "--database-url", nowhere],
    ];
    type Make = fn(&Path);
    let kinds: [(&str, Make, &str); 3] = [
        (
            "link to /dev/zero",
            |file| std::os::unix::fs::symlink("/dev/zero", file).unwrap(),
            "a character device, not a regular file",
        ),
        (
            "FIFO",
            |file| {
                let status = std::process::Command::new("mkfifo")
                    .arg(file)
                    .status()
                    .unwrap();
                assert!(status.success());
            },
            "a FIFO (named pipe), not a regular file",
        ),
        (
            "NUL byte",
            |file| fs::write(file, "SELECT 1;\nSELECT '\0';\n").unwrap(),
            "migration.sql:2:9: a NUL byte",
        ),
    ];
    for (kind, make, said) in kinds {
        let temp = tempfile::tempdir().unwrap();
        let dir = prisma_dir(temp.path());
        let folder = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_dir())
            .max()
            .unwrap();
        let file = folder.join("migration.sql");
        fs::remove_file(&file).unwrap();
        make(&file);
        for command in commands {
            let mut args = vec![command[0], dir.to_str().unwrap()];
            args.extend(&command[1..]);
            let output = run_bounded(&args);
            let err = stderr(&output);
            assert_eq!(output.status.code(), Some(2), "{kind}, {args:?}: {err}");
            assert!(err.starts_with("error: "), "{kind}, {args:?}: {err}");
            assert_eq!(err.trim_end().lines().count(), 1, "{kind}, {args:?}: {err}");
            assert!(err.contains(&file.display().to_string()), "{kind}: {err}");
            assert!(err.contains(said), "{kind}, {args:?}: {err}");
            assert_no_debug_dump(&err, kind);
        }
    }
}
