//! A `rewrite` killed while it writes: stopped at every step of the commit (the `MIGRATE_SAFE_FAULT_AT`
//! hook aborts the process there, as SIGKILL would), and killed at random moments of a backlog rewrite.
//! After the next migrate-safe command — whichever — the directory is exactly the original or exactly
//! the full rewrite, never a mix; no staging directory or journal is left; and the command said what it
//! finished.

use crate::common;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::*;

const FIXTURE: &str = "migrations-fixtures/saas-baseline";

/// What a parent directory holds beside the migrations directory (staging, journals).
fn leftovers(parent: &Path) -> Vec<String> {
    fs::read_dir(parent)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "migrations")
        .collect()
}

fn copy_fixture(from: &Path) -> (tempfile::TempDir, PathBuf) {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("migrations");
    copy_tree(from, &dir);
    (temp, dir)
}

/// The steps of a write, in order, for a rewrite that adds `folders` and edits `edits`.
fn fault_points(folders: &[String], edits: &[PathBuf]) -> Vec<String> {
    let mut steps = vec![
        "staged".to_string(),
        "journal-written".to_string(),
        "journal".to_string(),
    ];
    steps.extend(folders.iter().map(|f| format!("folder:{f}")));
    steps.extend(edits.iter().map(|e| format!("edit:{}", e.display())));
    steps.extend(["renamed".to_string(), "journal-removed".to_string()]);
    steps
}

#[test]
fn a_write_stopped_at_any_step_is_finished_or_was_never_started() {
    let fixture = project_root().join(FIXTURE);
    let original = read_tree(&fixture.join("migrations"));
    let expected = read_tree(&fixture.join("expected"));
    let new_folders: Vec<String> = fs::read_dir(fixture.join("expected"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !fixture.join("migrations").join(n).exists())
        .collect();
    assert!(!new_folders.is_empty());
    let mut new_folders = new_folders;
    new_folders.sort();
    let mut seen = BTreeMap::new();
    for step in fault_points(&new_folders, &[PathBuf::from("EDIT")]) {
        let (temp, dir) = copy_fixture(&fixture.join("migrations"));
        let step = step.replace(
            "EDIT",
            &dir.join("20240301120000_teams_and_billing/migration.sql")
                .display()
                .to_string(),
        );
        let killed = binary()
            .args(["rewrite", dir.to_str().unwrap()])
            .env("MIGRATE_SAFE_FAULT_AT", &step)
            .output()
            .unwrap();
        assert_eq!(
            killed.status.code(),
            None,
            "{step}: the fault point was not reached: {}",
            stderr(&killed)
        );
        // The next command, a read-only one, finishes or removes what the killed write left.
        let next = run(&["lint", dir.to_str().unwrap()]);
        let said = stderr(&next);
        let tree = read_tree(&dir);
        let finished = if tree == expected {
            true
        } else if tree == original {
            false
        } else {
            panic!(
                "{step}: neither the original nor the rewrite: {:?}",
                tree.keys()
            );
        };
        // Before the journal is in place nothing was touched; from then on the write is finished.
        let before_journal = step == "staged" || step == "journal-written";
        assert_eq!(finished, !before_journal, "{step}: {said}");
        if !before_journal && step != "journal-removed" {
            assert!(
                said.contains("finished an interrupted rewrite of") && !said.contains("removed "),
                "{step}: {said}"
            );
        } else {
            assert!(said.contains("removed "), "{step}: {said}");
        }
        assert_eq!(leftovers(temp.path()), Vec::<String>::new(), "{step}");
        // And the rewrite now has nothing left to do, or does it all.
        let again = run(&["rewrite", dir.to_str().unwrap()]);
        assert_eq!(again.status.code(), Some(0), "{step}: {}", stderr(&again));
        assert_eq!(read_tree(&dir), expected, "{step}");
        seen.insert(step, finished);
    }
    assert_eq!(seen.len(), new_folders.len() + 6);
}

/// A larger backlog, so the write itself takes a while: documenso's whole history when ../shared is
/// here, else every fixture scenario's migrations at once is not possible (one directory), so the
/// largest fixture.
fn backlog() -> (PathBuf, Vec<String>) {
    let corpus = project_root().join("../shared/corpus/documenso/migrations");
    let dir = if corpus.join("migration_lock.toml").is_file() {
        corpus
    } else {
        project_root().join("migrations-fixtures/lint-hazards/migrations")
    };
    let mut names: Vec<String> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with("0_"))
        .collect();
    names.sort();
    let mut args = vec!["rewrite".to_string(), String::new()];
    for name in names {
        args.push("--migration".into());
        args.push(name);
    }
    (dir, args)
}

#[test]
fn a_backlog_rewrite_killed_at_random_moments_is_never_half_written() {
    let (source, mut args) = backlog();
    let original = read_tree(&source);
    // The full rewrite, uninterrupted, and how long it takes.
    let (_temp, dir) = copy_fixture(&source);
    args[1] = dir.display().to_string();
    let started = Instant::now();
    let output = binary().args(&args).output().unwrap();
    let took = started.elapsed();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let expected = read_tree(&dir);
    assert_ne!(expected, original);
    // Half the kills at a spread of moments over the run; the other half once the journal is on disk
    // (the renames), a little later each time.
    let (mut untouched, mut finished, mut in_renames) = (0, 0, 0);
    for i in 0..20u32 {
        let (temp, dir) = copy_fixture(&source);
        args[1] = dir.display().to_string();
        let fraction = 0.2 + 0.9 * f64::from((i * 7) % 10) / 10.0;
        let journal = temp.path().join(".migrate-safe-journal-migrations.json");
        let mut child = binary()
            .args(&args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        if i % 2 == 0 {
            std::thread::sleep(took.mul_f64(fraction).max(Duration::from_millis(1)));
        } else {
            let waited = Instant::now();
            while !journal.exists() && waited.elapsed() < took * 10 {
                std::thread::sleep(Duration::from_micros(50));
            }
            std::thread::sleep(Duration::from_micros(u64::from(i) * 200));
        }
        let _ = child.kill(); // SIGKILL; it may have finished already
        let _ = child.wait();
        if journal.exists() {
            in_renames += 1;
        }
        let next = run(&["lint", dir.to_str().unwrap(), "--all"]);
        assert!(
            matches!(next.status.code(), Some(0 | 1)),
            "{}",
            stderr(&next)
        );
        let tree = read_tree(&dir);
        if tree == original {
            untouched += 1;
        } else if tree == expected {
            finished += 1;
        } else {
            panic!(
                "kill at {fraction:.2} of the run left neither the original nor the rewrite; the next command said: {}",
                stderr(&next)
            );
        }
        assert_eq!(leftovers(temp.path()), Vec::<String>::new());
    }
    eprintln!(
        "20 kills over a {:.0} ms rewrite: {in_renames} while it renamed (journal on disk), then {untouched} left the original, {finished} the full rewrite",
        took.as_secs_f64() * 1000.0
    );
    assert!(in_renames > 0, "no kill landed while the write renamed");
}

/// Two Prisma schemas side by side (`prisma/migrations`, `prisma/analytics`): a command on one never
/// touches the other's interrupted rewrite, which the next command on its own directory finishes
/// whole. (Recovery once removed every staging directory in the parent: the sibling's roll-forward then
/// put the edited file in place without its new folders, and four index builds were lost.)
#[test]
fn a_command_on_one_directory_leaves_a_siblings_interrupted_rewrite_alone() {
    let fixture = project_root().join(FIXTURE);
    let expected = read_tree(&fixture.join("expected"));
    for step in ["staged", "journal-written", "journal"] {
        let temp = tempfile::tempdir().unwrap();
        let prisma = temp.path().join("prisma");
        let (main, analytics) = (prisma.join("migrations"), prisma.join("analytics"));
        copy_tree(&fixture.join("migrations"), &main);
        copy_tree(&fixture.join("migrations"), &analytics);
        let killed = binary()
            .args(["rewrite", analytics.to_str().unwrap()])
            .env("MIGRATE_SAFE_FAULT_AT", step)
            .output()
            .unwrap();
        assert_eq!(killed.status.code(), None, "{step}: {}", stderr(&killed));
        let left_by_analytics = {
            let mut names: Vec<String> = fs::read_dir(&prisma)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with(".migrate-safe-"))
                .collect();
            names.sort();
            names
        };
        assert!(!left_by_analytics.is_empty(), "{step}");
        // The sibling's command sees nothing of it and removes nothing.
        let other = run(&["lint", main.to_str().unwrap()]);
        assert!(
            matches!(other.status.code(), Some(0 | 1)),
            "{}",
            stderr(&other)
        );
        assert!(
            !stderr(&other).contains("migrate-safe: "),
            "{step}: {}",
            stderr(&other)
        );
        let mut still: Vec<String> = fs::read_dir(&prisma)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(".migrate-safe-"))
            .collect();
        still.sort();
        assert_eq!(
            still, left_by_analytics,
            "{step}: the sibling's command touched them"
        );
        // Its own next command finishes it (or, before the journal, finds it never started).
        let own = run(&["lint", analytics.to_str().unwrap()]);
        let said = stderr(&own);
        if step == "journal" {
            assert!(
                said.contains("finished an interrupted rewrite of"),
                "{said}"
            );
            assert_eq!(read_tree(&analytics), expected, "{step}: {said}");
        } else {
            assert_eq!(
                read_tree(&analytics),
                read_tree(&fixture.join("migrations")),
                "{step}"
            );
        }
        let names: Vec<String> = fs::read_dir(&prisma)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), 2, "{step}: left over: {names:?}");
    }
}

/// A journal whose staged folders are gone is finished from the text the journal holds; an older
/// journal without that text stops before touching anything and says what is missing.
#[test]
fn a_roll_forward_without_its_staged_folders_finishes_from_the_journal_or_changes_nothing() {
    let fixture = project_root().join(FIXTURE);
    let expected = read_tree(&fixture.join("expected"));
    let original = read_tree(&fixture.join("migrations"));
    for keep_text in [true, false] {
        let (temp, dir) = copy_fixture(&fixture.join("migrations"));
        let killed = binary()
            .args(["rewrite", dir.to_str().unwrap()])
            .env("MIGRATE_SAFE_FAULT_AT", "journal")
            .output()
            .unwrap();
        assert_eq!(killed.status.code(), None, "{}", stderr(&killed));
        let journal_path = temp.path().join(".migrate-safe-journal-migrations.json");
        let mut journal: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(&journal_path).unwrap()).unwrap();
        let staging = PathBuf::from(journal["staging"].as_str().unwrap());
        fs::remove_dir_all(&staging).unwrap();
        if !keep_text {
            journal.as_object_mut().unwrap().remove("folder_sql");
            fs::write(&journal_path, journal.to_string()).unwrap();
        }
        let next = run(&["lint", dir.to_str().unwrap()]);
        let said = stderr(&next);
        if keep_text {
            assert!(matches!(next.status.code(), Some(0 | 1)), "{said}");
            assert_eq!(read_tree(&dir), expected, "{said}");
            assert_eq!(leftovers(temp.path()), Vec::<String>::new());
        } else {
            assert_eq!(next.status.code(), Some(2), "{said}");
            assert!(
                said.contains("cannot be finished") && said.contains("nothing was changed"),
                "{said}"
            );
            assert_eq!(read_tree(&dir), original, "half finished: {said}");
            assert!(
                journal_path.exists(),
                "the journal must stay until a person decides"
            );
        }
    }
}

/// A read-only command on one directory while a rewrite of its sibling writes: the rewrite is never
/// disturbed (it used to fail in 19 of 20 trials).
#[test]
fn a_siblings_rewrite_is_not_disturbed_by_commands_running_beside_it() {
    let fixture = project_root().join(FIXTURE);
    let expected = read_tree(&fixture.join("expected"));
    for _ in 0..10 {
        let temp = tempfile::tempdir().unwrap();
        let (main, analytics) = (
            temp.path().join("migrations"),
            temp.path().join("analytics"),
        );
        copy_tree(&fixture.join("migrations"), &main);
        copy_tree(&fixture.join("migrations"), &analytics);
        let writer = binary()
            .args(["rewrite", analytics.to_str().unwrap()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        for _ in 0..3 {
            let other = run(&["lint", main.to_str().unwrap()]);
            assert!(
                matches!(other.status.code(), Some(0 | 1)),
                "{}",
                stderr(&other)
            );
        }
        let done = writer.wait_with_output().unwrap();
        assert_eq!(done.status.code(), Some(0), "{}", stderr(&done));
        assert_eq!(read_tree(&analytics), expected);
    }
}
