//! The real binary on copies of every scenario in migrations-fixtures/, compared with the whole expected
//! directory and the expected report. `MIGRATE_SAFE_BLESS=1` regenerates both (then review `git diff`).

use crate::common;

use std::fs;
use std::path::Path;

use common::*;

/// Rewrite a copy of the scenario; returns (temp dir holding `migrations/`, report with paths masked).
fn rewrite_copy(fixture: &Path, extra: &[&str]) -> (tempfile::TempDir, String, i32) {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("migrations");
    copy_tree(&fixture.join("migrations"), &dir);
    let mut args = vec!["rewrite".to_string(), dir.display().to_string()];
    args.extend(fixture_args(fixture));
    args.extend(extra.iter().map(|s| s.to_string()));
    let output = binary().args(&args).output().unwrap();
    assert!(
        stderr(&output).is_empty(),
        "{}: stderr: {}",
        fixture.display(),
        stderr(&output)
    );
    let report = stdout(&output).replace(&dir.display().to_string(), "<migrations>");
    (temp, report, output.status.code().unwrap())
}

#[test]
fn every_fixture_rewrites_to_its_expected_directory_and_report() {
    for fixture in fixtures() {
        let (temp, report, code) = rewrite_copy(&fixture, &[]);
        assert_eq!(code, 0, "{}: {report}", fixture.display());
        let result = temp.path().join("migrations");
        if blessing() {
            replace_tree(&result, &fixture.join("expected"));
            fs::write(fixture.join("expected-report.txt"), &report).unwrap();
            continue;
        }
        assert_same_tree(&result, &fixture.join("expected"));
        let expected_report = fs::read_to_string(fixture.join("expected-report.txt")).unwrap();
        assert_eq!(
            report,
            expected_report,
            "{}: report differs",
            fixture.display()
        );
    }
}

#[test]
fn a_second_rewrite_changes_nothing_and_says_so() {
    for fixture in fixtures() {
        let expected = fixture.join("expected");
        let temp = tempfile::tempdir().unwrap();
        let dir = temp.path().join("migrations");
        copy_tree(&expected, &dir);
        let mut args = vec!["rewrite".to_string(), dir.display().to_string()];
        args.extend(fixture_args(&fixture));
        let output = binary().args(&args).output().unwrap();
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        assert!(
            stdout(&output).contains("Nothing to rewrite"),
            "{}: {}",
            fixture.display(),
            stdout(&output)
        );
        assert_same_tree(&dir, &expected);
        // And the CI gate agrees.
        let check = binary().args(&args).arg("--check").output().unwrap();
        assert_eq!(
            check.status.code(),
            Some(0),
            "{}: {}",
            fixture.display(),
            stdout(&check)
        );
    }
}

#[test]
fn check_exits_1_exactly_when_a_rewrite_is_needed_and_writes_nothing() {
    for fixture in fixtures() {
        let input = fixture.join("migrations");
        let needs_rewrite = read_tree(&input) != read_tree(&fixture.join("expected"));
        let (temp, report, code) = rewrite_copy(&fixture, &["--check"]);
        assert_eq!(
            code,
            if needs_rewrite { 1 } else { 0 },
            "{}: {report}",
            fixture.display()
        );
        assert_same_tree(&temp.path().join("migrations"), &input);
    }
}

#[test]
fn dry_run_prints_the_diff_and_writes_nothing() {
    for fixture in fixtures() {
        let input = fixture.join("migrations");
        let (temp, report, code) = rewrite_copy(&fixture, &["--dry-run"]);
        assert_eq!(code, 0);
        assert_same_tree(&temp.path().join("migrations"), &input);
        // No staging directory left behind either.
        let leftovers: Vec<_> = fs::read_dir(temp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers.len(), 1, "{leftovers:?}");
        if read_tree(&input) != read_tree(&fixture.join("expected")) {
            assert!(
                report.contains("+++ b/"),
                "{}: no diff in\n{report}",
                fixture.display()
            );
            assert!(report.contains("Nothing was written"));
        }
    }
}

#[test]
fn json_plan_names_every_new_migration() {
    for fixture in fixtures() {
        let (_temp, report, _) = rewrite_copy(&fixture, &["--dry-run", "--format", "json"]);
        let json: serde_json::Value = serde_json::from_str(&report).expect("valid JSON");
        let expected: Vec<String> = read_tree(&fixture.join("expected"))
            .keys()
            .filter_map(|p| p.strip_suffix("/migration.sql").map(str::to_string))
            .filter(|name| !fixture.join("migrations").join(name).exists())
            .collect();
        let mut planned: Vec<String> = json["migrations"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|m| m["new_migrations"].as_array().unwrap().iter())
            .map(|n| n["name"].as_str().unwrap().to_string())
            .collect();
        planned.sort();
        assert_eq!(planned, expected, "{}", fixture.display());
        assert_eq!(json["mode"], "dry-run");
        assert_eq!(json["written"], false);
        // A rewrite may only reorder the original (existing-tables-last): no new folder, still a rewrite.
        let changes =
            read_tree(&fixture.join("migrations")) != read_tree(&fixture.join("expected"));
        assert_eq!(json["needs_rewrite"], changes, "{}", fixture.display());
    }
}

#[test]
fn a_backlog_rewritten_in_one_run_equals_one_run_per_migration() {
    let fixture = project_root().join("migrations-fixtures/several-pending");
    let targets: Vec<String> = fixture_args(&fixture)
        .into_iter()
        .filter(|a| a != "--migration")
        .collect();
    assert!(
        targets.len() >= 3,
        "several-pending lists its backlog in `args`"
    );
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("migrations");
    copy_tree(&fixture.join("migrations"), &dir);
    for target in &targets {
        let output = run(&["rewrite", dir.to_str().unwrap(), "--migration", target]);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    }
    assert_same_tree(&dir, &fixture.join("expected"));
}
