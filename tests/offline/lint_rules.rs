//! The behaviours around the lint rules, through the real binary on tiny migrations directories built
//! in a tempdir (the shared init migration of tests/data/rule-cases/, then one change migration): inline
//! suppression, `--ignore`/`--select`, `migrate-safe.toml`, loose .sql files, folder naming, the `rules`
//! command. The per-rule cases (exact findings, rewritten directories, convergence) are data in
//! tests/data/rule-cases/, run by rule_cases.rs.
//!
//! One test needs PostgreSQL (127.0.0.1:5432, see tests/common/live.rs) and skips without it: it applies
//! every rule case whose rewrite changes something the way Prisma does, before and after the rewrite.

use crate::common;
use crate::rule_cases::{self, CHANGE_NAME, INIT_NAME, LOCK};

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::PathBuf;
use std::process::Output;

use common::*;
use serde_json::Value;

/// An index built on an existing table beside another statement: a fixable finding at line 5.
const INDEX_BESIDE_AN_ALTER: &str = r#"-- AlterTable
ALTER TABLE "User" ADD COLUMN "bio" TEXT;

-- CreateIndex
CREATE UNIQUE INDEX "User_name_key" ON "User"("name");
"#;

// ---------------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------------

/// A migrations directory in a tempdir: `migration_lock.toml`, the init migration and the change.
struct Scenario {
    /// Kept for its lifetime: the directory goes when the scenario does.
    _temp: tempfile::TempDir,
    dir: PathBuf,
}

impl Scenario {
    fn new(change: &str) -> Self {
        let init = fs::read_to_string(rule_cases::cases_root().join("init.sql")).unwrap();
        let temp = tempfile::tempdir().unwrap();
        // The search for migrate-safe.toml stops at a repository root: keep it inside the tempdir.
        fs::create_dir(temp.path().join(".git")).unwrap();
        let dir = temp.path().join("migrations");
        fs::create_dir(&dir).unwrap();
        let scenario = Scenario { _temp: temp, dir };
        scenario.write("migration_lock.toml", LOCK);
        scenario.write(&format!("{INIT_NAME}/migration.sql"), &init);
        scenario.write(&format!("{CHANGE_NAME}/migration.sql"), change);
        scenario
    }
    fn path(&self) -> &str {
        self.dir.to_str().unwrap()
    }

    /// Write a file relative to the migrations directory.
    fn write(&self, relative: &str, text: &str) -> &Self {
        let path = self.dir.join(relative);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
        self
    }

    /// `migrate-safe lint <dir> --format json <args>`.
    fn lint(&self, args: &[&str]) -> Lint {
        lint(self.path(), args)
    }

    /// `migrate-safe rewrite <dir> <args>`; never an error here.
    fn rewrite(&self, args: &[&str]) -> Output {
        let output = binary()
            .arg("rewrite")
            .arg(&self.dir)
            .args(args)
            .output()
            .unwrap();
        assert!(
            matches!(output.status.code(), Some(0 | 1)),
            "rewrite {args:?}: {}{}",
            stdout(&output),
            stderr(&output)
        );
        output
    }

    /// Every file of the migrations directory, as text.
    fn files(&self) -> BTreeMap<String, String> {
        read_tree(&self.dir)
            .into_iter()
            .map(|(path, bytes)| (path, String::from_utf8(bytes).unwrap()))
            .collect()
    }
}

/// What `lint --format json` said, and its exit code.
struct Lint {
    code: i32,
    json: Value,
}

impl Lint {
    fn findings(&self) -> Vec<Finding> {
        self.json["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| Finding {
                rule: d["rule"].as_str().unwrap().to_string(),
                severity: d["severity"].as_str().unwrap().to_string(),
                line: d["line"].as_u64().unwrap(),
                column: d["column"].as_u64().unwrap(),
                fix: d["fix"]["applicability"].as_str().map(str::to_string),
            })
            .collect()
    }

    fn messages(&self) -> Vec<&str> {
        self.json["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["message"].as_str().unwrap())
            .collect()
    }

    fn summary(&self, key: &str) -> u64 {
        self.json["summary"][key].as_u64().unwrap()
    }

    /// Exactly these findings, in this order, and this exit code.
    fn assert(&self, code: i32, expected: &[Finding]) {
        assert_eq!(
            self.findings(),
            expected,
            "{}",
            serde_json::to_string_pretty(&self.json).unwrap()
        );
        assert_eq!(
            self.code,
            code,
            "exit code; findings: {:?}",
            self.findings()
        );
    }

    fn assert_clean(&self) {
        self.assert(0, &[]);
    }
}

fn lint(path: &str, args: &[&str]) -> Lint {
    let output = binary()
        .args(["lint", path, "--format", "json"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        stderr(&output).is_empty(),
        "lint {args:?}: stderr: {}",
        stderr(&output)
    );
    Lint {
        code: output.status.code().unwrap(),
        json: serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", stdout(&output))),
    }
}

#[derive(Debug, PartialEq)]
struct Finding {
    rule: String,
    severity: String,
    line: u64,
    column: u64,
    /// The fix's applicability (`safe`, `unsafe`), when `rewrite` does something about it.
    fix: Option<String>,
}

/// A finding `rewrite` does nothing about.
fn hazard(rule: &str, severity: &str, line: u64, column: u64) -> Finding {
    Finding {
        rule: rule.to_string(),
        severity: severity.to_string(),
        line,
        column,
        fix: None,
    }
}

/// A finding with a fix of the given applicability.
fn fixable(rule: &str, severity: &str, line: u64, column: u64, applicability: &str) -> Finding {
    Finding {
        fix: Some(applicability.to_string()),
        ..hazard(rule, severity, line, column)
    }
}

// ---------------------------------------------------------------------------------------------------
// The registry
// ---------------------------------------------------------------------------------------------------

#[test]
fn the_rules_command_lists_the_registry_in_order_and_explains_each_rule() {
    let ids: Vec<&str> = migrate_safe::rules::RULES.iter().map(|r| r.id).collect();
    let output = run(&["rules"]);
    assert_eq!(output.status.code(), Some(0));
    let listed: Vec<String> = stdout(&output)
        .lines()
        .take_while(|l| !l.is_empty())
        .map(|l| l.split_whitespace().next().unwrap().to_string())
        .collect();
    assert_eq!(listed, ids);
    // `migrate-safe rules <id>` explains each one; an unknown id is a usage error.
    for id in &ids {
        let output = run(&["rules", id]);
        assert_eq!(output.status.code(), Some(0), "{id}");
        let text = stdout(&output);
        assert!(
            text.starts_with(&format!("`{id}`: ")) && text.contains("**Why**"),
            "{text}"
        );
        assert!(text.contains("Default severity: "), "{text}");
    }
    let unknown = run(&["rules", "no-such-rule"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(stderr(&unknown).contains("unknown rule \"no-such-rule\""));
}

// ---------------------------------------------------------------------------------------------------
// What the rule cases' text output does not show
// ---------------------------------------------------------------------------------------------------

/// The text format prints a fixable finding's fix, not its help; the help spells out the two steps for
/// whoever does it by hand (tests/data/rule-cases/unique-using-index/ pins the finding itself).
#[test]
fn unique_using_index_help_spells_out_the_concurrent_build_and_the_attach() {
    let lint = Scenario::new(
        "-- AlterTable\nALTER TABLE \"User\" ADD CONSTRAINT \"User_name_key\" UNIQUE (\"name\");\n",
    )
    .lint(&["--select", "unique-using-index"]);
    lint.assert(
        1,
        &[fixable("unique-using-index", "warning", 2, 20, "safe")],
    );
    let help = lint.json["diagnostics"][0]["help"].as_str().unwrap();
    assert!(
        help.starts_with(
            "CREATE UNIQUE INDEX CONCURRENTLY \"User_name_key\" ON \"User\" (\"name\"); alone in its own migration, then ALTER TABLE \"User\" ADD CONSTRAINT \"User_name_key\" UNIQUE USING INDEX \"User_name_key\";"
        ),
        "{help}"
    );
}

// ---------------------------------------------------------------------------------------------------
// Suppression, selection, configuration, loose files
// ---------------------------------------------------------------------------------------------------

#[test]
fn a_suppression_with_a_reason_silences_the_finding_and_is_counted() {
    for change in [
        // Above Prisma's step header, or between it and the statement.
        "-- migrate-safe-ignore: breaking-change the column is unused since v2.3\n-- AlterTable\nALTER TABLE \"User\" DROP COLUMN \"name\";\n",
        "-- AlterTable\n-- migrate-safe-ignore: breaking-change the column is unused since v2.3\nALTER TABLE \"User\" DROP COLUMN \"name\";\n",
    ] {
        let lint = Scenario::new(change).lint(&[]);
        lint.assert_clean();
        assert_eq!(lint.summary("suppressed"), 1, "{change}");
    }

    // Several rules in one directive; it silences only the statement right below it.
    let lint = Scenario::new(
        r#"-- migrate-safe-ignore: breaking-change,lock-timeout nobody reads these columns any more
ALTER TABLE "User" DROP COLUMN "name";
ALTER TABLE "Post" DROP COLUMN "title";
"#,
    )
    .lint(&[]);
    lint.assert(1, &[hazard("breaking-change", "warning", 3, 20)]);
    assert_eq!(lint.summary("suppressed"), 2);

    // A directive for another rule silences nothing.
    let lint = Scenario::new(
        "-- migrate-safe-ignore: lock-timeout fine\nALTER TABLE \"User\" DROP COLUMN \"name\";\n",
    )
    .lint(&[]);
    lint.assert(1, &[hazard("breaking-change", "warning", 2, 20)]);
    assert_eq!(lint.summary("suppressed"), 0);
}

#[test]
fn a_suppression_without_a_reason_or_with_an_unknown_rule_is_reported_and_not_obeyed() {
    let lint = Scenario::new(
        "-- AlterTable\n-- migrate-safe-ignore: breaking-change\nALTER TABLE \"User\" DROP COLUMN \"name\";\n",
    )
    .lint(&[]);
    lint.assert(
        1,
        &[
            hazard("suppression", "warning", 2, 1),
            hazard("breaking-change", "warning", 3, 20),
        ],
    );
    assert_eq!(lint.summary("suppressed"), 0);
    assert!(
        lint.messages()[0].contains("has no reason"),
        "{:?}",
        lint.messages()
    );

    let lint = Scenario::new(
        "-- migrate-safe-ignore: breaking-changes the column is unused\nALTER TABLE \"User\" DROP COLUMN \"name\";\n",
    )
    .lint(&[]);
    lint.assert(
        1,
        &[
            hazard("suppression", "warning", 1, 1),
            hazard("breaking-change", "warning", 2, 20),
        ],
    );
    assert!(
        lint.messages()[0].contains("unknown rule \"breaking-changes\""),
        "{:?}",
        lint.messages()
    );
}

#[test]
fn ignore_and_select_choose_the_rules() {
    let scenario = Scenario::new(
        "-- AlterTable\nALTER TABLE \"User\" DROP COLUMN \"name\";\n\n-- CreateIndex\nCREATE INDEX \"Post_title_idx\" ON \"Post\"(\"title\");\n",
    );
    // In the file's order: line, then column.
    scenario.lint(&[]).assert(
        1,
        &[
            hazard("lock-timeout", "warning", 2, 1),
            hazard("breaking-change", "warning", 2, 20),
            fixable("index-concurrently", "warning", 5, 1, "safe"),
        ],
    );
    scenario.lint(&["--ignore", "breaking-change"]).assert(
        1,
        &[
            hazard("lock-timeout", "warning", 2, 1),
            fixable("index-concurrently", "warning", 5, 1, "safe"),
        ],
    );
    // Comma-separated or repeated.
    scenario
        .lint(&[
            "--ignore",
            "breaking-change,lock-timeout",
            "--ignore",
            "index-concurrently",
        ])
        .assert_clean();
    scenario
        .lint(&[
            "--select",
            "breaking-change,index-concurrently",
            "--ignore",
            "index-concurrently",
        ])
        .assert(1, &[hazard("breaking-change", "warning", 2, 20)]);

    // An unknown rule is a usage error.
    for flag in ["--select", "--ignore"] {
        let output = run(&["lint", scenario.path(), flag, "no-such-rule"]);
        assert_eq!(output.status.code(), Some(2));
        assert!(
            stderr(&output).contains("unknown rule \"no-such-rule\""),
            "{}",
            stderr(&output)
        );
    }
}

#[test]
fn the_config_file_changes_severities_and_the_gate() {
    let scenario = Scenario::new("-- AlterTable\nALTER TABLE \"User\" DROP COLUMN \"name\";\n");
    scenario
        .lint(&[])
        .assert(1, &[hazard("breaking-change", "warning", 2, 20)]);

    scenario.write(
        "migrate-safe.toml",
        "[severity]\nbreaking-change = \"error\"\n",
    );
    let lint = scenario.lint(&[]);
    lint.assert(1, &[hazard("breaking-change", "error", 2, 20)]);
    assert_eq!(lint.summary("error"), 1);

    // Warnings no longer fail the gate; --fail-on on the command line wins over the file.
    scenario.write("migrate-safe.toml", "fail-on = \"error\"\n");
    let lint = scenario.lint(&[]);
    lint.assert(0, &[hazard("breaking-change", "warning", 2, 20)]);
    assert_eq!(lint.json["fail_on"], "error");
    assert_eq!(lint.json["failed"], false);
    assert_eq!(scenario.lint(&["--fail-on", "warning"]).code, 1);

    scenario.write(
        "migrate-safe.toml",
        "fail-on = \"error\"\n\n[severity]\nbreaking-change = \"error\"\n",
    );
    scenario
        .lint(&[])
        .assert(1, &[hazard("breaking-change", "error", 2, 20)]);

    scenario.write("migrate-safe.toml", "ignore = [\"breaking-change\"]\n");
    scenario.lint(&[]).assert_clean();
}

#[test]
fn a_bad_config_file_is_an_error_naming_it() {
    let scenario = Scenario::new("-- AlterTable\nALTER TABLE \"User\" DROP COLUMN \"name\";\n");
    let config = scenario.dir.join("migrate-safe.toml");
    for (text, says) in [
        (
            "fail-on = \"error\"\nfial-on = \"note\"\n",
            "line 2: unknown field `fial-on`",
        ),
        ("[severity]\nbreaking-change = \"fatal\"\n", "line 2:"),
        (
            "ignore = [\"no-such-rule\"]\n",
            "unknown rule \"no-such-rule\"",
        ),
    ] {
        fs::write(&config, text).unwrap();
        let output = run(&["lint", scenario.path(), "--format", "json"]);
        assert_eq!(output.status.code(), Some(2), "{text}");
        assert!(stdout(&output).is_empty(), "{}", stdout(&output));
        let error = stderr(&output);
        assert!(
            error.contains(&config.display().to_string()) && error.contains(says),
            "{text}: {error}"
        );
    }
}

#[test]
fn a_sql_file_outside_any_migrations_directory_is_linted_alone() {
    let temp = tempfile::tempdir().unwrap();
    fs::create_dir(temp.path().join(".git")).unwrap();
    let file = temp.path().join("change.sql");
    fs::write(
        &file,
        r#"-- CreateIndex
CREATE INDEX "User_name_idx" ON "User"("name");

-- CreateTable
CREATE TABLE "Tag" ("id" TEXT NOT NULL, "label" TEXT);

-- CreateIndex
CREATE INDEX "Tag_label_idx" ON "Tag"("label");
"#,
    )
    .unwrap();
    // "User" is not created by the file: assumed to exist. "Tag" is.
    let lint = lint(file.to_str().unwrap(), &["--select", "index-concurrently"]);
    lint.assert(1, &[fixable("index-concurrently", "warning", 2, 1, "safe")]);
    assert!(
        lint.messages()[0]
            .contains("\"User\" (not created by any earlier migration: assumed to exist)"),
        "{:?}",
        lint.messages()
    );
    assert_eq!(lint.json["migrations_linted"], 1);
    assert_eq!(
        lint.json["diagnostics"][0]["file"],
        file.display().to_string()
    );
}

#[test]
fn a_migration_sql_named_on_the_command_line_is_linted_against_its_history() {
    let scenario = Scenario::new(INDEX_BESIDE_AN_ALTER);
    let file = scenario.dir.join(CHANGE_NAME).join("migration.sql");
    let lint = lint(file.to_str().unwrap(), &["--select", "index-concurrently"]);
    lint.assert(1, &[fixable("index-concurrently", "warning", 5, 1, "safe")]);
    assert!(
        lint.messages()[0].contains("(created in 20240101000000_init)"),
        "{:?}",
        lint.messages()
    );
}

#[test]
fn folder_naming_numbered_in_the_configuration_drops_the_description() {
    let scenario = Scenario::new(INDEX_BESIDE_AN_ALTER);
    scenario.write("migrate-safe.toml", "folder-naming = \"numbered\"\n");
    let output = scenario.rewrite(&[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let folders: BTreeSet<String> = scenario
        .files()
        .keys()
        .filter_map(|p| p.split('/').next().map(str::to_string))
        .collect();
    assert!(
        folders.contains(&format!("{CHANGE_NAME}_01")),
        "{folders:?}"
    );
    assert!(
        !folders.iter().any(|f| f.contains("create_index")),
        "{folders:?}"
    );
}

#[test]
fn a_loose_file_gets_no_folder_names_in_its_fix() {
    let temp = tempfile::tempdir().unwrap();
    fs::create_dir(temp.path().join(".git")).unwrap();
    let file = temp.path().join("change.sql");
    fs::write(
        &file,
        "CREATE INDEX \"User_name_idx\" ON \"User\"(\"name\");\n",
    )
    .unwrap();
    let lint = lint(file.to_str().unwrap(), &[]);
    let fix = lint.json["diagnostics"][0]["fix"]["description"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(fix.contains("once the file is a migration.sql"), "{fix}");
    assert!(!fix.contains("change.sql_01"), "{fix}");
}

#[test]
fn a_generated_folder_or_a_baseline_named_on_the_command_line_is_skipped_with_a_note() {
    let scenario = Scenario::new(INDEX_BESIDE_AN_ALTER);
    scenario.rewrite(&[]);
    let generated = scenario
        .files()
        .keys()
        .find(|path| path.contains("_01_"))
        .unwrap()
        .clone();
    let output = binary()
        .args(["lint", "--format", "json"])
        .arg(scenario.dir.join(&generated))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stderr(&output).contains("was written by migrate-safe"));
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["migrations_linted"], 0);
}

// ---------------------------------------------------------------------------------------------------
// Live: the fixes apply the way Prisma applies them (skipped without PostgreSQL)
// ---------------------------------------------------------------------------------------------------

/// The rule cases whose original cannot apply the way Prisma <= 7.3 applies a file: a CONCURRENTLY
/// statement beside others in one query fails with 25001. Every other original applies.
const ORIGINAL_FAILS: &[&str] = &[
    "concurrently-alone/drop-index-sharing-a-file",
    "concurrently-alone/index-build-and-reindex-each-moved-out",
];

/// Lint-only shapes that PostgreSQL never applies, rewritten or not: here the enum's old type is
/// dropped while "User"."role" still uses it.
const NEVER_APPLIES: &[&str] =
    &["index-concurrently/failure-order-ignores-enum-recreation-drop-type"];

/// The rule cases whose rewrite changes something (they hold `rewritten/`) and that can apply.
fn fix_cases() -> Vec<rule_cases::Case> {
    rule_cases::cases()
        .into_iter()
        .filter(|c| c.path.join("rewritten").is_dir())
        .filter(|c| !NEVER_APPLIES.contains(&c.id().as_str()))
        .collect()
}

/// Every rule with a fix has a case whose `rewritten/` applies it (so the live test below applies that
/// fix), and no rule without a fix shows one.
#[test]
fn every_fix_case_is_a_rule_with_a_fix() {
    let cases = rule_cases::cases();
    let fixed_in_own_folder: BTreeSet<&str> = fix_cases_of(&cases);
    let with_fix: BTreeSet<&str> = migrate_safe::rules::RULES
        .iter()
        .filter(|r| r.fix.is_some())
        .map(|r| r.id)
        .collect();
    assert_eq!(fixed_in_own_folder, with_fix);
    // The exceptions of the live test name cases that exist.
    for id in ORIGINAL_FAILS.iter().chain(NEVER_APPLIES) {
        assert!(
            cases
                .iter()
                .any(|c| c.id() == *id && c.path.join("rewritten").is_dir()),
            "{id}: not a rule case with rewritten/"
        );
    }
}

/// The rules whose folder holds a case with `rewritten/` in which lint.txt shows the rule's fix.
fn fix_cases_of(cases: &[rule_cases::Case]) -> BTreeSet<&str> {
    cases
        .iter()
        .filter(|c| c.path.join("rewritten").is_dir())
        .filter(|c| {
            rule_cases::reported(c)
                .iter()
                .any(|(rule, _, fix)| *rule == c.rule && *fix)
        })
        .map(|c| c.rule.as_str())
        .collect()
}

#[test]
fn live_rewritten_fix_cases_apply_like_prisma_and_build_the_same_schema() {
    use migrate_safe::db::catalog::{diff, hazards, snapshot};
    let Some(server) = common::live::server_url() else {
        return;
    };
    for case in fix_cases() {
        let id = case.id();
        let (_original_temp, original) = case.build();
        // The expected directory, checked against the real rewrite by rule_cases.rs.
        let rewritten_temp = tempfile::tempdir().unwrap();
        let rewritten = rewritten_temp.path().join("migrations");
        copy_tree(&case.path.join("rewritten"), &rewritten);
        let applied = common::live::apply_dir(
            &server,
            &rewritten,
            migrate_safe::prisma::ApplyModel::PerStatement,
        )
        .unwrap_or_else(|e| panic!("{id}: rewritten: {e}"));
        let mut client = applied.connect().unwrap();
        assert_eq!(hazards(&mut client).unwrap(), vec![], "{id}");
        // And `check` proves it: no statement of the rewrite blocks on a scan (a SET NOT NULL after
        // its validated check, a constraint attached to a built index are catalog changes), and a lone
        // DROP INDEX CONCURRENTLY is reported with its known lock.
        let check = run(&[
            "check",
            rewritten.to_str().unwrap(),
            "--all",
            "--scratch-url",
            &server,
            "--format",
            "json",
        ]);
        let report: serde_json::Value = serde_json::from_slice(&check.stdout)
            .unwrap_or_else(|e| panic!("{id}: {e}: {}", stderr(&check)));
        assert_eq!(report["proven"], true, "{id}: {}", stdout(&check));
        let original_applies = !ORIGINAL_FAILS.contains(&id.as_str());
        match common::live::apply_dir(
            &server,
            &original,
            migrate_safe::prisma::ApplyModel::OneQuery,
        ) {
            Ok(database) => {
                assert!(original_applies, "{id}: the original applied");
                let mut original_client = database.connect().unwrap();
                let before = snapshot(&mut original_client).unwrap();
                let after = snapshot(&mut client).unwrap();
                assert_eq!(diff(&before, &after), Vec::<String>::new(), "{id}");
            }
            Err(error) => {
                assert!(!original_applies, "{id}: original: {error}");
                assert!(error.contains("25001"), "{id}: {error}");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------------
// Regressions: bugs these tests found in src/ (all fixed)
// ---------------------------------------------------------------------------------------------------

#[test]

fn a_suppression_problem_is_reported_on_its_own_line_across_a_blank_line() {
    let lint = Scenario::new(
        "-- AlterTable\n-- migrate-safe-ignore: breaking-change\n\nALTER TABLE \"User\" DROP COLUMN \"name\";\n",
    )
    .lint(&[]);
    lint.assert(
        1,
        &[
            hazard("suppression", "warning", 2, 1),
            hazard("breaking-change", "warning", 4, 20),
        ],
    );
}
