//! `lint --format text|json|github|sarif` on the lint-hazards fixture: each format's structure, the
//! same findings in all four, exit codes, and no colour when the output is not a terminal.

use crate::common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Output;

use common::*;

fn lint(dir: &Path, format: &str) -> Output {
    run(&["lint", dir.to_str().unwrap(), "--all", "--format", format])
}

fn fixture_copy() -> (tempfile::TempDir, std::path::PathBuf) {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("migrations");
    copy_tree(
        &project_root().join("migrations-fixtures/lint-hazards/migrations"),
        &dir,
    );
    (temp, dir)
}

/// (rule, line) of every finding in the JSON output.
fn json_findings(output: &Output) -> BTreeSet<(String, u64)> {
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["rule"].as_str().unwrap().to_string(),
                d["line"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn json_has_every_field_and_the_counts_add_up() {
    let (_temp, dir) = fixture_copy();
    let output = lint(&dir, "json");
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["tool"], "migrate-safe");
    assert_eq!(json["migrations_linted"], 2);
    assert_eq!(json["fail_on"], "warning");
    assert_eq!(json["failed"], true);
    // No Prisma version above the fixture: judged under both apply models, and it says so.
    assert_eq!(
        json["prisma"],
        serde_json::json!([{"version": null, "source": {"kind": "not-found"}, "models": ["one-query", "per-statement"]}])
    );
    let diagnostics = json["diagnostics"].as_array().unwrap();
    let summary = &json["summary"];
    let total = ["error", "warning", "note"]
        .iter()
        .map(|s| summary[s].as_u64().unwrap())
        .sum::<u64>();
    assert_eq!(total as usize, diagnostics.len());
    let by_rule: u64 = json["by_rule"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(by_rule as usize, diagnostics.len());
    for d in diagnostics {
        for key in ["rule", "severity", "migration", "file", "message"] {
            assert!(d[key].is_string(), "{key} in {d:#}");
        }
        for key in ["line", "column", "end_line", "end_column"] {
            assert!(d[key].as_u64().unwrap() >= 1, "{key} in {d:#}");
        }
        assert!(d["end_line"].as_u64() >= d["line"].as_u64());
        assert!(Path::new(d["file"].as_str().unwrap()).is_file());
        if let Some(fix) = d["fix"].as_object() {
            assert!(["safe", "unsafe"].contains(&fix["applicability"].as_str().unwrap()));
            assert!(fix["description"].is_string());
        } else {
            assert!(d["help"].is_string(), "no fix and no help: {d:#}");
        }
    }
    assert_eq!(
        summary["fixable"].as_u64().unwrap() as usize,
        diagnostics.iter().filter(|d| d["fix"].is_object()).count()
    );
}

/// The parts of SARIF 2.1.0 that code-scanning uploads require (sarifLog → runs → tool.driver, results
/// with ruleId, message.text and physicalLocation with a 1-based region).
#[test]
fn sarif_is_a_valid_2_1_0_log_with_the_same_findings() {
    let (_temp, dir) = fixture_copy();
    let output = lint(&dir, "sarif");
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let sarif: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    assert_eq!(
        sarif["runs"][0]["properties"]["prisma"][0]["models"],
        serde_json::json!(["one-query", "per-statement"])
    );
    assert_eq!(
        sarif["$schema"],
        "https://json.schemastore.org/sarif-2.1.0.json"
    );
    let runs = sarif["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1);
    let driver = &runs[0]["tool"]["driver"];
    assert_eq!(driver["name"], "migrate-safe");
    let rules = driver["rules"].as_array().unwrap();
    let rule_ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(
        rule_ids.len(),
        rule_ids.iter().collect::<BTreeSet<_>>().len(),
        "rule ids are unique"
    );
    for rule in rules {
        assert!(rule["shortDescription"]["text"].is_string());
        // The rule's own documentation: what, why, and the fix or safe alternative.
        assert!(
            rule["help"]["text"].as_str().unwrap().contains("**Why**"),
            "{rule:#}"
        );
        assert!(
            ["error", "warning", "note"]
                .contains(&rule["defaultConfiguration"]["level"].as_str().unwrap())
        );
    }
    let mut findings = BTreeSet::new();
    for result in runs[0]["results"].as_array().unwrap() {
        let rule_id = result["ruleId"].as_str().unwrap();
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rule_ids[index], rule_id, "ruleIndex points at ruleId");
        assert!(["error", "warning", "note"].contains(&result["level"].as_str().unwrap()));
        assert!(!result["message"]["text"].as_str().unwrap().is_empty());
        let location = &result["locations"][0]["physicalLocation"];
        let uri = location["artifactLocation"]["uri"].as_str().unwrap();
        assert!(
            uri.starts_with("file:///") && uri.ends_with("/migration.sql"),
            "{uri}"
        );
        assert!(!uri.contains(' '));
        let region = &location["region"];
        for key in ["startLine", "startColumn", "endLine", "endColumn"] {
            assert!(region[key].as_u64().unwrap() >= 1, "{key}");
        }
        findings.insert((rule_id.to_string(), region["startLine"].as_u64().unwrap()));
    }
    assert_eq!(findings, json_findings(&lint(&dir, "json")));
}

#[test]
fn github_annotations_and_compiler_style_text_carry_the_same_findings() {
    let (_temp, dir) = fixture_copy();
    let expected = json_findings(&lint(&dir, "json"));

    let github = lint(&dir, "github");
    assert_eq!(github.status.code(), Some(1));
    let text = stdout(&github);
    let annotations: BTreeSet<(String, u64)> = text
        .lines()
        .filter(|l| l.starts_with("::"))
        .map(|l| {
            assert!(
                l.starts_with("::warning file=")
                    || l.starts_with("::error file=")
                    || l.starts_with("::notice file="),
                "{l}"
            );
            let line = l.split(",line=").nth(1).unwrap().split(',').next().unwrap();
            let rule = l
                .split("title=migrate-safe ")
                .nth(1)
                .unwrap()
                .split("::")
                .next()
                .unwrap();
            // A message is one line: newlines are escaped.
            assert!(l.split("::").nth(2).is_some());
            (rule.to_string(), line.parse().unwrap())
        })
        .collect();
    assert_eq!(annotations, expected);

    let output = lint(&dir, "text");
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(
        !text.contains('\x1b'),
        "no colour when stdout is not a terminal"
    );
    for (rule, line) in &expected {
        assert!(text.contains(&format!("[{rule}]: ")), "{rule}");
        assert!(
            text.contains(&format!("/migration.sql:{line}:")),
            "{rule} at {line}"
        );
    }
    assert!(text.contains(
        " = fix (by `migrate-safe rewrite`): moved to 20250105090000_tighten_constraints_"
    ));
    assert!(text.contains("failing: findings at or above warning"));
}

#[test]
fn fail_on_and_a_clean_migration_exit_zero() {
    let (_temp, dir) = fixture_copy();
    let output = run(&["lint", dir.to_str().unwrap(), "--all", "--fail-on", "error"]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    let clean = project_root().join("migrations-fixtures/hand-written-concurrent/migrations");
    let output = run(&["lint", clean.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert!(stdout(&output).contains("no findings"));
    let output = run(&["lint", dir.to_str().unwrap(), "--select", "no-such-rule"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("unknown rule \"no-such-rule\""));
}

/// On a terminal the text is coloured, and `NO_COLOR` turns that off. The terminal comes from util-linux
/// `script` (a pseudo-terminal); without it the test says so and checks nothing.
#[test]
fn colour_only_on_a_terminal_and_never_with_no_color() {
    let has_script = std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_script {
        eprintln!("SKIPPED: no `script` (util-linux) to give the binary a terminal");
        return;
    }
    let binary = env!("CARGO_BIN_EXE_migrate-safe");
    let fixture = project_root().join("migrations-fixtures/saas-baseline");
    let on_a_terminal = |no_color: bool| {
        let mut command = std::process::Command::new("script");
        command
            .args([
                "-qec",
                &format!("{binary} lint {}", fixture.display()),
                "/dev/null",
            ])
            .env_remove("NO_COLOR");
        if no_color {
            command.env("NO_COLOR", "1");
        }
        String::from_utf8(command.output().unwrap().stdout).unwrap()
    };
    let coloured = on_a_terminal(false);
    assert!(
        coloured.contains("\x1b[1;33mwarning[lock-timeout]\x1b[0m"),
        "{coloured}"
    );
    let plain = on_a_terminal(true);
    assert!(
        plain.contains("warning[lock-timeout]: ") && !plain.contains('\x1b'),
        "{plain}"
    );
}

/// `--format markdown` (a pull-request comment) on lint-hazards is exactly
/// `tests/data/lint-hazards.md` (run from the copy's parent, so paths are relative; re-bless with
/// `MIGRATE_SAFE_BLESS=1 cargo test --test offline lint_formats::markdown` and review the diff), and carries the
/// same findings as the JSON output.
#[test]
fn markdown_matches_its_expected_comment_and_carries_the_same_findings() {
    let (temp, _dir) = fixture_copy();
    let output = binary()
        .current_dir(temp.path())
        .args(["lint", "migrations", "--all", "--format", "markdown"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let markdown = stdout(&output);
    let expected_path = project_root().join("tests/data/lint-hazards.md");
    if blessing() {
        std::fs::write(&expected_path, &markdown).unwrap();
    } else {
        let expected = std::fs::read_to_string(&expected_path).unwrap();
        assert_eq!(
            markdown,
            expected,
            "differs from {}",
            expected_path.display()
        );
    }
    // One section per finding, naming its rule and line, each with its fix or safe alternative.
    let json = json_findings(&run(&[
        "lint",
        temp.path().join("migrations").to_str().unwrap(),
        "--all",
        "--format",
        "json",
    ]));
    let sections: Vec<&str> = markdown.split("\n### ").skip(1).collect();
    assert_eq!(sections.len(), json.len());
    let found: BTreeSet<(String, u64)> = sections
        .iter()
        .map(|s| {
            assert!(
                s.contains("**Fix") || s.contains("**Safe alternative**"),
                "{s}"
            );
            let rule = s.split('`').nth(1).unwrap().to_string();
            let line = s
                .split("/migration.sql:")
                .nth(1)
                .unwrap()
                .split(':')
                .next()
                .unwrap()
                .parse()
                .unwrap();
            (rule, line)
        })
        .collect();
    assert_eq!(found, json);
    assert!(markdown.starts_with("<!-- migrate-safe lint -->\n## migrate-safe lint: "));
    assert!(markdown.contains(&format!(
        "| **total** | {n} warnings | {n} |",
        n = json.len()
    )));

    // A clean run says so, without a table.
    let clean = project_root().join("migrations-fixtures/hand-written-concurrent/migrations");
    let output = run(&["lint", clean.to_str().unwrap(), "--format", "markdown"]);
    assert_eq!(output.status.code(), Some(0));
    let text = stdout(&output);
    assert!(
        text.contains("## migrate-safe lint: no findings in 1 migration\n"),
        "{text}"
    );
    assert!(
        text.contains("**Passing**") && !text.contains("| rule |"),
        "{text}"
    );
}
