//! The real-history corpus: ../shared/corpus/{documenso, rallly, inbox-zero} (163, 145 and 240 Prisma
//! migrations, each with its SOURCE.txt). Runs when ../shared is present — always in CI, where its
//! absence is a failure — and skips with a message elsewhere.

use crate::common;

use std::path::PathBuf;

use common::live::{apply_dir, server_url};
use common::*;
use migrate_safe::db::catalog::{diff, hazards, snapshot};
use migrate_safe::prisma::ApplyModel;

/// documenso alone, for the tests that are about one long history rather than breadth.
fn corpus() -> Option<PathBuf> {
    corpora()
        .into_iter()
        .find(|(name, ..)| *name == "documenso")
        .map(|(_, path, _)| path)
}

fn migration_names(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

#[test]
fn every_corpus_migration_is_analysed_or_reported() {
    for (name, corpus, _) in corpora() {
        every_migration_is_analysed_or_reported(name, &corpus);
    }
}

fn every_migration_is_analysed_or_reported(name: &str, corpus: &std::path::Path) {
    let output = run(&[
        "rewrite",
        corpus.to_str().unwrap(),
        "--all",
        "--dry-run",
        "--format",
        "json",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let plans = json["migrations"].as_array().unwrap();
    let expected: Vec<String> = migration_names(corpus)
        .into_iter()
        .filter(|n| !n.starts_with("0_"))
        .collect();
    let analysed: Vec<&str> = plans
        .iter()
        .map(|p| p["migration"].as_str().unwrap())
        .collect();
    assert_eq!(analysed, expected);
    for plan in plans {
        for unanalysed in plan["unanalysed"].as_array().unwrap() {
            assert!(!unanalysed["reason"].as_str().unwrap().is_empty());
        }
    }
    let rewritten = plans
        .iter()
        .filter(|p| p["changes_anything"] == true)
        .count();
    let moved: usize = plans
        .iter()
        .map(|p| p["new_migrations"].as_array().unwrap().len())
        .sum();
    eprintln!(
        "{name}: {} migrations analysed, {rewritten} need a rewrite, {moved} new folders",
        plans.len()
    );
    assert!(rewritten > 0, "{name}");
}

#[test]
fn the_rewritten_corpus_applies_like_prisma_and_builds_the_same_schema() {
    let Some(server) = server_url() else { return };
    for (name, corpus, _) in corpora() {
        rewritten_history_builds_the_same_schema(name, &corpus, &server);
    }
}

/// The whole history as one backlog: every migration rewritten against the history before it, then
/// applied under both of Prisma's apply models.
fn rewritten_history_builds_the_same_schema(name: &str, corpus: &std::path::Path, server: &str) {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("migrations");
    copy_tree(corpus, &dir);
    let mut args = vec!["rewrite".to_string(), dir.display().to_string()];
    for migration in migration_names(corpus) {
        args.push("--migration".into());
        args.push(migration);
    }
    let output = binary().args(&args).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{name}: {}", stderr(&output));
    assert!(migration_names(&dir).len() > migration_names(corpus).len());

    let original = apply_dir(server, corpus, ApplyModel::OneQuery).unwrap();
    let before = snapshot(&mut original.connect().unwrap()).unwrap();
    for model in ApplyModel::ALL {
        let rewritten = apply_dir(server, &dir, model)
            .unwrap_or_else(|e| panic!("{name}: rewritten ({model:?}): {e}"));
        let mut client = rewritten.connect().unwrap();
        assert_eq!(
            diff(&before, &snapshot(&mut client).unwrap()),
            Vec::<String>::new(),
            "{name} ({model:?})"
        );
        assert_eq!(hazards(&mut client).unwrap(), vec![], "{name} ({model:?})");
    }

    // Idempotent: the same run again changes nothing.
    let again = binary().args(&args).arg("--check").output().unwrap();
    assert_eq!(again.status.code(), Some(0), "{}", stdout(&again));
}

#[test]
fn check_applies_the_whole_corpus_in_order_and_reports_every_migration() {
    let Some(server) = server_url() else { return };
    for (name, corpus, migrations) in corpora() {
        check_applies_every_migration(name, &corpus, migrations, &server);
    }
}

fn check_applies_every_migration(
    name: &str,
    corpus: &std::path::Path,
    migrations: usize,
    server: &str,
) {
    let output = run(&[
        "check",
        corpus.to_str().unwrap(),
        "--all",
        "--scratch-url",
        server,
        "--format",
        "json",
    ]);
    let json: serde_json::Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|_| panic!("{name}: {}", stderr(&output)));
    // No Prisma version beside the corpus: one proof per apply model.
    let reports = json["reports"].as_array().unwrap();
    assert_eq!(reports.len(), 2, "{name}");
    for json in reports {
        let model = &json["model"];
        assert_eq!(json["applied"], migrations, "{name} ({model})");
        assert_eq!(json["failure"], serde_json::Value::Null, "{name} ({model})");
        assert_eq!(json["hazards"], serde_json::json!([]), "{name} ({model})");
        assert_eq!(json["locks"].as_array().unwrap().len(), migrations);
        assert!(json["findings"].as_u64().unwrap() > 0, "{name} ({model})");
    }
    // Unedited Prisma history: blocking index builds and foreign keys are found (exit 1).
    assert_eq!(output.status.code(), Some(1), "{name}");
}

#[test]
fn verify_proves_a_sample_of_corpus_migrations_that_touch_existing_tables() {
    let Some(corpus) = corpus() else { return };
    let Some(server) = server_url() else { return };
    let plan = run(&[
        "rewrite",
        corpus.to_str().unwrap(),
        "--all",
        "--dry-run",
        "--format",
        "json",
    ]);
    let json: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
    let changed: Vec<String> = json["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["changes_anything"] == true)
        .map(|m| m["migration"].as_str().unwrap().to_string())
        .collect();
    // Every tenth: early, middle and late in the history.
    let sample: Vec<&String> = changed.iter().step_by(10).collect();
    assert!(sample.len() >= 4, "{sample:?}");
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("migrations");
    copy_tree(&corpus, &dir);
    let mut args = vec![
        "rewrite",
        dir.to_str().unwrap(),
        "--verify",
        "--scratch-url",
        &server,
        "--dry-run",
    ];
    for name in &sample {
        args.push("--migration");
        args.push(name);
    }
    let output = run(&args);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}{}", stderr(&output));
    for name in &sample {
        assert!(
            text.contains(&format!(
                "  {name}: original and rewritten sequence build the same schema"
            )),
            "{name}: {text}"
        );
    }
}

/// `lint --all` over the whole history: the findings per rule are pinned, so a change in what any rule
/// catches on real Prisma SQL shows up in review. Re-pin with MIGRATE_SAFE_BLESS=1 after checking the
/// new findings are right.
#[test]
fn lint_findings_per_rule_on_the_corpus_are_pinned() {
    for (name, corpus, migrations) in corpora() {
        // The Prisma version unknown (judged under both apply models), and Prisma 7.4+ alone, where the
        // rules ask for sqlparser 0.61's split most.
        lint_findings_are_pinned(name, &corpus, migrations, None);
        lint_findings_are_pinned(name, &corpus, migrations, Some("7.10.1"));
    }
}

fn lint_findings_are_pinned(
    name: &str,
    corpus: &std::path::Path,
    migrations: usize,
    prisma: Option<&str>,
) {
    let mut args = vec![
        "lint",
        corpus.to_str().unwrap(),
        "--all",
        "--format",
        "json",
    ];
    if let Some(version) = prisma {
        args.extend(["--prisma-version", version]);
    }
    let output = run(&args);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["migrations_linted"], migrations, "{name}");
    let summary = serde_json::to_string_pretty(&serde_json::json!({
        "by_rule": json["by_rule"],
        "summary": json["summary"],
    }))
    .unwrap()
        + "\n";
    let suffix = prisma.map_or(String::new(), |version| format!("-prisma-{version}"));
    let pinned = project_root().join(format!("tests/data/{name}-lint-summary{suffix}.json"));
    if std::env::var("MIGRATE_SAFE_BLESS").is_ok() {
        std::fs::write(&pinned, &summary).unwrap();
    }
    assert_eq!(
        summary,
        std::fs::read_to_string(&pinned).unwrap_or_default(),
        "{name}: re-pin with MIGRATE_SAFE_BLESS=1 once the new findings are checked"
    );
    // Every fixable finding says what `rewrite` does; every other one gives the safe alternative.
    for diagnostic in json["diagnostics"].as_array().unwrap() {
        assert!(
            diagnostic["fix"].is_object() || diagnostic["help"].is_string(),
            "{diagnostic:#}"
        );
    }
}

/// The grammar gate against PostgreSQL itself: every statement of the three real histories (all of
/// which PostgreSQL applied) passes, and typos, truncations, swapped and dropped words of them are
/// rejected exactly when the server rejects them. The server is asked without running anything:
/// `SELECT 1/0; <statement>` is parsed whole before its first statement fails, so the answer is a
/// syntax error (42601) or the division by zero (22012).
#[test]
fn the_grammar_gate_agrees_with_postgresql_on_the_corpora_and_their_mutants() {
    use migrate_safe::source::discover::discover;
    use migrate_safe::source::grammar;
    let Some(server) = server_url() else { return };
    let mut client = migrate_safe::db::connect(&server).unwrap();
    let server_rejects = |client: &mut postgres::Client, statement: &str| -> bool {
        match client.batch_execute(&format!("SELECT 1/0; {statement}")) {
            Err(e) => e.code().map(|c| c.code()) != Some("22012"),
            Ok(()) => panic!("the division by zero did not fail"),
        }
    };
    let (mut statements, mut mutants, mut rejected) = (0, 0, 0);
    for (name, dir, _) in corpora() {
        let dir = discover(&dir).unwrap();
        for migration in &dir.migrations {
            let (_, parsed) = migrate_safe::source::read_statements(migration).unwrap();
            for (i, statement) in parsed.iter().enumerate() {
                let text = &migration.sql[statement.bytes.clone()];
                statements += 1;
                assert_eq!(
                    grammar::check(text),
                    Ok(()),
                    "{name}/{}: PostgreSQL applied this: {text}",
                    migration.name
                );
                // Mutants of every fifth statement (BEGIN/COMMIT and one-word statements left out).
                let words: Vec<&str> = text.split_whitespace().collect();
                if i % 5 != 0 || words.len() < 3 {
                    continue;
                }
                let mut typo = words.clone();
                let first = typo[0].to_string();
                let typo_word: String =
                    first.chars().take(1).chain(first.chars().skip(2)).collect();
                typo[0] = &typo_word;
                let mut swapped = words.clone();
                swapped.swap(1, 2);
                let mut dropped = words.clone();
                dropped.remove(words.len() / 2);
                for mutant in [
                    typo.join(" "),
                    words[..words.len() / 2].join(" "),
                    swapped.join(" "),
                    dropped.join(" "),
                ] {
                    mutants += 1;
                    let server = server_rejects(&mut client, &mutant);
                    rejected += usize::from(server);
                    assert_eq!(
                        grammar::check(&mutant).is_err(),
                        server,
                        "{name}/{}: the server {} this and the gate does not: {mutant}",
                        migration.name,
                        if server { "rejects" } else { "accepts" }
                    );
                }
            }
        }
    }
    eprintln!(
        "grammar gate: {statements} corpus statements accepted, {mutants} mutants judged as the server judged them ({rejected} rejected)"
    );
}
