//! `check` and `rewrite --verify` against real PostgreSQL servers: the one on 127.0.0.1:5432 (by URL) and
//! a throwaway server from the installed binaries; the testcontainers path up to its "no Docker engine"
//! message and fallback.

mod common;

use std::fs;
use std::path::Path;
use std::process::Output;

use common::live::server_url;
use common::*;

/// These tests look at the server's list of scratch databases: one at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    let guard = SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(server) = server_url() {
        EARLIER.get_or_init(|| all_scratch_databases(&server));
    }
    guard
}

/// Scratch databases that were there before this binary's first test (left by a killed run): not this
/// binary's to answer for.
static EARLIER: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();

/// `check` on `server`, as Prisma 6.19.3 applies files (one query each) unless `extra` picks a version.
fn check(dir: &Path, server: &str, extra: &[&str]) -> Output {
    let mut args = vec!["check", dir.to_str().unwrap(), "--scratch-url", server];
    if !extra.contains(&"--prisma-version") {
        args.extend(["--prisma-version", "6.19.3"]);
    }
    args.extend(extra);
    run(&args)
}

/// The one report of a `check --format json` run for a single Prisma version.
fn only_report(output: &Output) -> serde_json::Value {
    let json: serde_json::Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", stdout(output), stderr(output)));
    let reports = json["reports"].as_array().unwrap();
    assert_eq!(reports.len(), 1, "{json:#}");
    reports[0].clone()
}

/// The scratch databases this binary's tests made and did not drop.
fn scratch_databases(server: &str) -> Vec<String> {
    let earlier = EARLIER.get_or_init(|| all_scratch_databases(server));
    all_scratch_databases(server)
        .into_iter()
        .filter(|name| !earlier.contains(name))
        .collect()
}

fn all_scratch_databases(server: &str) -> Vec<String> {
    let mut client = migrate_safe::db::connect(server).unwrap();
    client
        .query(
            "SELECT datname::text FROM pg_database WHERE datname LIKE 'migrate_safe_%'",
            &[],
        )
        .unwrap()
        .into_iter()
        .map(|r| r.get(0))
        .collect()
}

/// Statements the rewrite is about: index builds and foreign keys.
fn blocking_index_or_foreign_key(report: &serde_json::Value) -> Vec<String> {
    report["locks"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|m| m["statements"].as_array().unwrap())
        .filter(|s| s["verdict"] == "blocks-writes" || s["verdict"] == "blocks-reads-and-writes")
        .map(|s| s["statement"].as_str().unwrap().to_string())
        .filter(|s| s.contains(" INDEX ") || s.contains("FOREIGN KEY"))
        .collect()
}

#[test]
fn rewritten_fixtures_are_proven_and_originals_show_their_blocking_locks() {
    let Some(server) = server_url() else { return };
    let _serial = serial();
    for fixture in fixtures() {
        // A rewrite that only reorders the original (existing-tables-last) adds no folder: such an
        // original has no blocking index build or foreign key to show.
        let original_tree = read_tree(&fixture.join("migrations"));
        let adds_folders = read_tree(&fixture.join("expected"))
            .keys()
            .any(|path| !original_tree.contains_key(path));
        // Only the target selection applies to `check` (not rewrite options like --unsafe-fixes).
        let mut targets = fixture_args(&fixture);
        targets.retain(|a| a != "--unsafe-fixes");
        if targets.is_empty() {
            targets.push("--all".into());
        }
        let targets: Vec<&str> = targets.iter().map(String::as_str).collect();
        let mut args = vec!["--format", "json"];
        args.extend(&targets);

        let original = check(&fixture.join("migrations"), &server, &args);
        let original = only_report(&original);
        assert_eq!(
            original["applied"],
            original["migrations"],
            "{}",
            fixture.display()
        );
        assert_eq!(
            !blocking_index_or_foreign_key(&original).is_empty(),
            adds_folders,
            "{}: {original:#}",
            fixture.display()
        );

        let output = check(
            &fixture.join("expected"),
            &server,
            &["--format", "json", "--all"],
        );
        let expected = only_report(&output);
        assert_eq!(
            expected["applied"],
            expected["migrations"],
            "{}",
            fixture.display()
        );
        assert_eq!(
            expected["hazards"],
            serde_json::json!([]),
            "{}",
            fixture.display()
        );
        // What still blocks is exactly what the rewrite reported leaving alone although it blocks.
        let report = fs::read_to_string(fixture.join("expected-report.txt")).unwrap();
        let left_alone: Vec<&str> = report
            .lines()
            .filter(|l| {
                l.contains("left alone")
                    && (l.contains("blocks writes") || l.contains("blocking writes"))
            })
            .filter_map(|l| l.split('"').nth(1))
            .collect();
        for statement in blocking_index_or_foreign_key(&expected) {
            assert!(
                left_alone.iter().any(|name| statement.contains(name)),
                "{}: {statement}",
                fixture.display()
            );
        }
        // Proven, except where Prisma's own SQL keeps a blocking statement the rewrite does not touch:
        // the enum type change (rewrites the table), an index inside an explicit BEGIN ... COMMIT, and
        // lint-hazards' table rewrites (type change, volatile default), which have no automatic fix, and
        // the foreign key and UNIQUE build failure-order-moved-drop leaves alone (failure order).
        let proven = expected["proven"] == true;
        let kept = fixture.ends_with("enum-value-removal")
            || fixture.ends_with("odd-names-crlf")
            || fixture.ends_with("lint-hazards")
            || fixture.ends_with("failure-order-moved-drop");
        assert_eq!(proven, !kept, "{}: {expected:#}", fixture.display());
        assert_eq!(output.status.code(), Some(if proven { 0 } else { 1 }));
    }
    assert_eq!(
        scratch_databases(&server),
        Vec::<String>::new(),
        "scratch databases left behind"
    );
}

#[test]
fn the_lock_report_names_modes_and_rewrites() {
    let Some(server) = server_url() else { return };
    let _serial = serial();
    let temp = tempfile::tempdir().unwrap();
    let dir = migrations_dir(
        temp.path(),
        &[
            (
                "1_init",
                "CREATE TABLE \"Item\" (\"id\" INT PRIMARY KEY, \"price\" INT);\nINSERT INTO \"Item\" SELECT g, g FROM generate_series(1, 100) g;\n",
            ),
            (
                "2_change",
                "-- AlterTable\nALTER TABLE \"Item\" ALTER COLUMN \"price\" TYPE BIGINT;\n\n-- CreateIndex\nCREATE INDEX \"Item_price_idx\" ON \"Item\"(\"price\");\n\n-- AlterTable\nALTER TABLE \"Item\" ADD COLUMN \"note\" TEXT;\n",
            ),
        ],
    );
    let output = check(&dir, &server, &["--format", "json"]);
    assert_eq!(output.status.code(), Some(1));
    let json = only_report(&output);
    let statements = json["locks"][0]["statements"].as_array().unwrap();
    let summary: Vec<(Vec<String>, Vec<String>, String)> = statements
        .iter()
        .map(|s| {
            let describe = |locks: &serde_json::Value| -> Vec<String> {
                locks
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|l| {
                        format!(
                            "{} {}{}",
                            l["table"].as_str().unwrap(),
                            l["mode"].as_str().unwrap(),
                            if l["rewritten"] == true {
                                " rewritten"
                            } else {
                                ""
                            }
                        )
                    })
                    .collect()
            };
            (
                describe(&s["locks"]),
                describe(&s["held"]),
                s["verdict"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        summary,
        vec![
            (
                strings(&["\"Item\" ACCESS_EXCLUSIVE rewritten"]),
                vec![],
                "blocks-reads-and-writes".to_string()
            ),
            // The index build's SHARE was already taken by the type change, and that statement's
            // ACCESS EXCLUSIVE is held until commit: the build blocks reads too.
            (
                vec![],
                strings(&["\"Item\" ACCESS_EXCLUSIVE"]),
                "blocks-reads-and-writes".to_string()
            ),
            (
                vec![],
                strings(&["\"Item\" ACCESS_EXCLUSIVE"]),
                "safe".to_string()
            ),
        ]
    );
    assert_eq!(json["findings"], 2);
}

#[test]
fn a_concurrent_index_sharing_its_file_fails_with_25001_and_names_file_and_line() {
    let Some(server) = server_url() else { return };
    let _serial = serial();
    let temp = tempfile::tempdir().unwrap();
    let dir = migrations_dir(
        temp.path(),
        &[
            (
                "1_init",
                "CREATE TABLE \"User\" (\"id\" INT PRIMARY KEY, \"email\" TEXT);\n",
            ),
            (
                "2_index",
                "SET lock_timeout = '5s';\nCREATE INDEX CONCURRENTLY \"User_email_idx\" ON \"User\"(\"email\");\n",
            ),
        ],
    );
    let output = check(&dir, &server, &[]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(text.contains("migration 2_index failed"), "{text}");
    assert!(text.contains("SQLSTATE 25001"), "{text}");
    assert!(
        text.contains("2_index/migration.sql:2: CREATE INDEX CONCURRENTLY"),
        "{text}"
    );
    assert!(
        text.contains("must be alone in its migration.sql"),
        "{text}"
    );
    // A failed proof leaves no scratch database behind either.
    assert_eq!(scratch_databases(&server), Vec::<String>::new());
}

#[test]
fn a_failed_concurrent_unique_build_leaves_an_invalid_index_reported_with_recovery() {
    let Some(server) = server_url() else { return };
    let _serial = serial();
    let temp = tempfile::tempdir().unwrap();
    let dir = migrations_dir(
        temp.path(),
        &[
            (
                "1_init",
                "CREATE TABLE \"User\" (\"id\" INT PRIMARY KEY, \"email\" TEXT);\nINSERT INTO \"User\" VALUES (1, 'a@x'), (2, 'a@x');\n",
            ),
            (
                "2_unique",
                "-- CreateIndex\nCREATE UNIQUE INDEX CONCURRENTLY \"User_email_key\" ON \"User\"(\"email\");\n",
            ),
        ],
    );
    let output = check(&dir, &server, &["--format", "json"]);
    assert_eq!(output.status.code(), Some(1));
    let json = only_report(&output);
    assert_eq!(json["failure"]["migration"], "2_unique");
    assert_eq!(json["failure"]["sqlstate"], "23505");
    let hazard = &json["hazards"][0];
    assert_eq!(hazard["kind"], "invalid-index");
    assert_eq!(hazard["object"], "\"public\".\"User_email_key\"");
    assert_eq!(
        hazard["recovery"][0],
        "DROP INDEX CONCURRENTLY \"public\".\"User_email_key\";"
    );
    let text = stdout(&check(&dir, &server, &[]));
    assert!(text.contains("is INVALID"), "{text}");
    assert!(text.contains("1. DROP INDEX CONCURRENTLY"), "{text}");
}

#[test]
fn verify_proves_before_writing() {
    let Some(server) = server_url() else { return };
    let _serial = serial();
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("migrations");
    let fixture = project_root().join("migrations-fixtures/unique-then-relation");
    copy_tree(&fixture.join("migrations"), &dir);
    let output = run(&[
        "rewrite",
        dir.to_str().unwrap(),
        "--verify",
        "--scratch-url",
        &server,
    ]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}{}",
        stdout(&output),
        stderr(&output)
    );
    assert!(stdout(&output).contains("original and rewritten sequence build the same schema"));
    assert_same_tree(&dir, &fixture.join("expected"));
    assert_eq!(scratch_databases(&server), Vec::<String>::new());
}

#[test]
fn verify_catches_a_wrong_rewrite_with_a_readable_diff() {
    use migrate_safe::analyse::analyse;
    use migrate_safe::db::provision::provision;
    use migrate_safe::prove::verify;
    use migrate_safe::source::discover::discover;
    let Some(server) = server_url() else { return };
    let _serial = serial();
    let dir = discover(&project_root().join("migrations-fixtures/saas-baseline")).unwrap();
    let target = vec!["20240301120000_teams_and_billing".to_string()];
    let mut plans = analyse(&dir, &target, &Default::default(), Default::default()).unwrap();
    // Break the rewrite: drop one index build, and change a column in the edited original.
    plans[0].new_migrations.remove(0);
    plans[0].rewritten_sql = plans[0]
        .rewritten_sql
        .replace("\"lastLoginAt\" TIMESTAMP(3)", "\"lastLoginAt\" DATE");
    let server = provision(Some(&server), "16").unwrap();
    let results = verify(
        &dir,
        &plans,
        &server,
        &migrate_safe::prisma::ApplyModel::ALL,
    )
    .unwrap();
    assert_eq!(results.len(), 2, "one proof per apply model");
    for result in &results {
        assert!(!result.proven());
        let differences = result.differences.join("\n");
        assert!(
            differences.contains("- index public.\"Document_teamId_updatedAt_idx\""),
            "{differences}"
        );
        assert!(
            differences.contains("- column public.\"User\".\"lastLoginAt\": #"),
            "{differences}"
        );
        assert!(
            differences.contains("+ column public.\"User\".\"lastLoginAt\": #")
                && differences.contains(" date"),
            "{differences}"
        );
    }
}

#[test]
fn without_url_or_docker_a_throwaway_local_server_is_used_and_removed() {
    if server_url().is_none() {
        return; // the same machine setup provides the binaries
    }
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("migrations");
    copy_tree(
        &project_root().join("migrations-fixtures/dependencies/expected"),
        &dir,
    );
    let output = binary()
        .args(["check", dir.to_str().unwrap()])
        .env_remove("MIGRATE_SAFE_SCRATCH_URL")
        .env(
            "DOCKER_HOST",
            format!("unix://{}/no-docker.sock", temp.path().display()),
        )
        .output()
        .unwrap();
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}{}", stderr(&output));
    assert!(
        text.contains("PostgreSQL: a throwaway server from "),
        "{text}"
    );
    assert!(
        text.contains("testcontainers skipped: no Docker engine answered at unix://"),
        "{text}"
    );
    assert!(text.contains("Proven: no findings."), "{text}");
    // The directory it named is gone.
    let named = text
        .split(" in /")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap();
    let named = format!("/{named}");
    assert!(named.contains("migrate-safe-pg-"), "{text}");
    assert!(!Path::new(&named).exists(), "{named} left behind");
}

/// `rewrite --require-proof --dry-run` of the unique-then-relation fixture on a throwaway local server
/// whose cluster template is kept in `cache`: the server it was proven on, as reported.
fn proven_locally(root: &Path, cache: &Path) -> String {
    let dir = root.join("migrations");
    if !dir.exists() {
        copy_tree(
            &project_root().join("migrations-fixtures/unique-then-relation/migrations"),
            &dir,
        );
    }
    let output = binary()
        .args([
            "rewrite",
            dir.to_str().unwrap(),
            "--require-proof",
            "--dry-run",
        ])
        .args(["--format", "json"])
        .env_remove("MIGRATE_SAFE_SCRATCH_URL")
        .env_remove("SHADOW_DATABASE_URL")
        .env_remove("DATABASE_URL")
        .env(
            "DOCKER_HOST",
            format!("unix://{}/no-docker.sock", root.display()),
        )
        .env("MIGRATE_SAFE_CLUSTER_CACHE", cache)
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", stdout(&output), stderr(&output)));
    assert_eq!(json["proof"]["status"], "proven", "{json:#}");
    let server = json["proof"]["server"].as_str().unwrap().to_string();
    assert!(server.starts_with("a throwaway server from "), "{server}");
    server
}

/// The one template directory in `cache`, and nothing else (no staging left behind).
fn only_template(cache: &Path) -> std::path::PathBuf {
    let entries: Vec<_> = fs::read_dir(cache)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert!(entries[0].join("complete").is_file(), "{entries:?}");
    assert!(entries[0].join("data/PG_VERSION").is_file(), "{entries:?}");
    entries[0].clone()
}

#[test]
fn the_local_server_makes_its_cluster_template_once_then_copies_it() {
    if server_url().is_none() {
        return; // the same machine setup provides the binaries
    }
    let temp = tempfile::tempdir().unwrap();
    let cache = temp.path().join("cache");
    copy_tree(
        &project_root().join("migrations-fixtures/unique-then-relation/migrations"),
        &temp.path().join("migrations"),
    );
    // Two runs at once with no template: both initdb, one template is kept, nothing else is left.
    let (first, other) = std::thread::scope(|scope| {
        let other = scope.spawn(|| proven_locally(temp.path(), &cache));
        (proven_locally(temp.path(), &cache), other.join().unwrap())
    });
    let template = only_template(&cache);
    for made in [&first, &other] {
        assert!(
            made.contains(&format!(
                "the cluster made by initdb, kept as the template {} for the next runs",
                template.display()
            )),
            "{made}"
        );
    }
    let second = proven_locally(temp.path(), &cache);
    assert!(
        second.contains(&format!(
            "the cluster a copy of the template {}",
            template.display()
        )),
        "{second}"
    );
    assert_eq!(only_template(&cache), template);
    // Each run's own copy is gone.
    for server in [&first, &other, &second] {
        let named = server.split(" in ").nth(1).unwrap();
        let named = named.split_whitespace().next().unwrap();
        assert!(named.contains("migrate-safe-pg-"), "{server}");
        assert!(!Path::new(named).exists(), "{named} left behind");
    }
}

#[test]
fn a_partial_or_broken_cluster_template_is_not_used_and_is_made_anew() {
    if server_url().is_none() {
        return;
    }
    let temp = tempfile::tempdir().unwrap();
    let cache = temp.path().join("cache");
    proven_locally(temp.path(), &cache);
    let template = only_template(&cache);
    // A run stopped while saving it: no marker.
    fs::remove_file(template.join("complete")).unwrap();
    let server = proven_locally(temp.path(), &cache);
    assert!(
        server.contains("the cluster made by initdb, kept as the template"),
        "{server}"
    );
    assert_eq!(only_template(&cache), template);
    // Whole by its marker, but no server starts from it: the run still proves, on a new cluster.
    fs::remove_file(template.join("data/global/pg_control")).unwrap();
    let server = proven_locally(temp.path(), &cache);
    assert!(
        server.contains(&format!(
            "the cluster template {} did not serve (the PostgreSQL server (",
            template.display()
        )) && server.contains("exited (")
            && server.contains("pg_control")
            && server.contains("and was made anew; kept as the template"),
        "{server}"
    );
    assert!(
        only_template(&cache)
            .join("data/global/pg_control")
            .is_file()
    );
    let server = proven_locally(temp.path(), &cache);
    assert!(
        server.contains("the cluster a copy of the template"),
        "{server}"
    );
}

#[test]
fn bad_and_unreachable_urls_are_errors_without_passwords() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("migrations");
    copy_tree(
        &project_root().join("migrations-fixtures/dependencies/migrations"),
        &dir,
    );
    for (url, needle) in [
        (
            "postgresql://postgres:s3cret@127.0.0.1:1/postgres",
            "cannot connect to postgresql://postgres:***@127.0.0.1:1/postgres: error connecting to server: Connection refused",
        ),
        ("mysql://root:s3cret@127.0.0.1/db", "bad database URL"),
    ] {
        let output = run(&["check", dir.to_str().unwrap(), "--scratch-url", url]);
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{err}");
        assert!(err.contains(needle), "{err}");
        assert!(
            !err.contains("s3cret") && !stdout(&output).contains("s3cret"),
            "{err}"
        );
    }
}

#[test]
fn interrupting_a_check_drops_its_scratch_database() {
    let Some(server) = server_url() else { return };
    let _serial = serial();
    let temp = tempfile::tempdir().unwrap();
    let dir = migrations_dir(temp.path(), &[("1_slow", "SELECT pg_sleep(20);\n")]);
    let child = binary()
        .args(["check", dir.to_str().unwrap(), "--scratch-url", &server])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while scratch_databases(&server).is_empty() && started.elapsed().as_secs() < 10 {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(
        !scratch_databases(&server).is_empty(),
        "the check never created its database"
    );
    std::thread::sleep(std::time::Duration::from_millis(300));
    std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(started.elapsed().as_secs() < 15, "did not stop promptly");
    assert_eq!(scratch_databases(&server), Vec::<String>::new());
}

#[test]
fn rows_seeds_every_existing_table_respecting_types_and_foreign_keys() {
    use migrate_safe::check::seed::seed;
    let Some(server) = server_url() else { return };
    let _serial = serial();
    for fixture in [
        "saas-baseline",
        "several-pending",
        "multi-schema",
        "enum-value-removal",
    ] {
        let database = common::live::apply_dir(
            &server,
            &project_root()
                .join("migrations-fixtures")
                .join(fixture)
                .join("migrations"),
            migrate_safe::prisma::ApplyModel::OneQuery,
        )
        .unwrap();
        let mut client = database.connect().unwrap();
        let notes = seed(&mut client, 300).unwrap();
        assert_eq!(notes, Vec::<String>::new(), "{fixture}");
        let counts: Vec<(String, i64)> = client
            .query(
                "SELECT quote_ident(schemaname) || '.' || quote_ident(relname), n_live_tup FROM pg_stat_user_tables WHERE relname <> '_prisma_migrations' ORDER BY 1",
                &[],
            )
            .unwrap()
            .into_iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        assert!(counts.len() >= 3, "{fixture}: {counts:?}");
        for (table, _) in &counts {
            let count: i64 = client
                .query_one(&format!("SELECT count(*) FROM {table}"), &[])
                .unwrap()
                .get(0);
            assert_eq!(count, 300, "{fixture}: {table}");
        }
        // Topping up again adds nothing.
        assert_eq!(seed(&mut client, 300).unwrap(), Vec::<String>::new());
        let total: i64 = counts
            .iter()
            .map(|(t, _)| {
                client
                    .query_one(&format!("SELECT count(*) FROM {t}"), &[])
                    .unwrap()
                    .get::<_, i64>(0)
            })
            .sum();
        assert_eq!(total, 300 * counts.len() as i64);
    }
}

#[test]
fn a_backfill_under_an_add_columns_lock_or_holding_row_locks_is_a_finding_measured_not_guessed() {
    let Some(server) = server_url() else { return };
    let _serial = serial();
    let temp = tempfile::tempdir().unwrap();
    let dir = migrations_dir(
        temp.path(),
        &[
            (
                "1_init",
                "CREATE TABLE \"Post\" (\"id\" INTEGER NOT NULL, \"title\" TEXT NOT NULL, CONSTRAINT \"Post_pkey\" PRIMARY KEY (\"id\"));\n",
            ),
            (
                "2_slug",
                "-- AlterTable\nALTER TABLE \"Post\" ADD COLUMN \"slug\" TEXT;\n\nUPDATE \"Post\" SET \"slug\" = lower(\"title\") || '-' || \"id\";\n",
            ),
        ],
    );
    // One transaction (Prisma <= 7.3): the UPDATE runs under the ADD COLUMN's ACCESS EXCLUSIVE.
    let output = check(&dir, &server, &["--rows", "50000", "--format", "json"]);
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    let report = only_report(&output);
    assert_eq!(report["proven"], false);
    assert_eq!(report["lock_threshold_ms"], 50.0);
    let update = &report["locks"][0]["statements"][1];
    assert_eq!(update["verdict"], "blocks-reads-and-writes", "{report:#}");
    let long = update["long_hold"].as_str().unwrap();
    assert!(
        long.contains(
            "while ACCESS EXCLUSIVE on \"Post\" (taken at line 2) blocked reads and writes"
        ),
        "{long}"
    );
    let hold = &report["locks"][0]["holds"][0];
    assert_eq!(hold["table"], "\"Post\"");
    assert_eq!(hold["mode"], "ACCESS_EXCLUSIVE");
    assert_eq!(
        (hold["from_line"].clone(), hold["to_line"].clone()),
        (2.into(), 4.into())
    );
    assert!(hold["duration_ms"].as_f64().unwrap() > 50.0, "{hold}");
    let text = stdout(&check(&dir, &server, &["--rows", "50000"]));
    assert!(text.contains("\"Post\": ACCESS EXCLUSIVE held "), "{text}");
    assert!(text.contains(" ms, lines 2-4"), "{text}");
    assert!(!text.contains("Proven"), "{text}");

    // Statement by statement (Prisma 7.4+) the ADD COLUMN has committed before the UPDATE runs: no
    // table lock is held through it, but the UPDATE itself row-locks all 50,000 rows for as long as it
    // runs, and the application's writes to them wait: still a finding.
    let output = check(
        &dir,
        &server,
        &[
            "--rows",
            "50000",
            "--format",
            "json",
            "--prisma-version",
            "7.10.1",
        ],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    let report = only_report(&output);
    assert_eq!(report["proven"], false, "{report:#}");
    assert_eq!(report["locks"][0]["holds"][0]["to_line"], 2);
    let update = &report["locks"][0]["statements"][1];
    assert_eq!(update["verdict"], "holds-row-locks", "{report:#}");
    let long = update["long_hold"].as_str().unwrap();
    assert!(
        long.contains("holding a row lock on every row it changed in \"Post\""),
        "{long}"
    );
    let text = stdout(&check(
        &dir,
        &server,
        &["--rows", "50000", "--prisma-version", "7.10.1"],
    ));
    assert!(
        text.contains("blocks writers of the rows it changes"),
        "{text}"
    );
    assert!(!text.contains("Proven"), "{text}");
    // Without --rows (empty tables) the same file is judged by what its statements are.
    let output = check(&dir, &server, &["--format", "json"]);
    assert_eq!(
        only_report(&output)["lock_threshold_ms"],
        serde_json::Value::Null
    );

    // The other way: rewritten, the UPDATE runs in batches; check times each by its notice, and no
    // batch holds its rows anywhere near as long.
    let rewrite = run(&["rewrite", dir.to_str().unwrap(), "--no-verify"]);
    assert_eq!(rewrite.status.code(), Some(0), "{}", stderr(&rewrite));
    for version in ["6.19.3", "7.10.1"] {
        let output = check(
            &dir,
            &server,
            &[
                "--rows",
                "50000",
                "--format",
                "json",
                "--prisma-version",
                version,
            ],
        );
        assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
        let report = only_report(&output);
        let batched = report["locks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["migration"] == "2_slug_01_backfill_post")
            .unwrap_or_else(|| panic!("{report:#}"));
        let statement = &batched["statements"][0];
        assert_eq!(statement["batches"]["count"], 50, "{statement:#}");
        assert!(
            statement["batches"]["longest_ms"].as_f64().unwrap() < 50.0,
            "{statement:#}"
        );
        assert_eq!(statement["verdict"], "safe", "{statement:#}");
        assert_eq!(
            statement["locks"][0]["mode"], "ROW_EXCLUSIVE",
            "{statement:#}"
        );
    }
    let text = stdout(&check(&dir, &server, &["--rows", "50000"]));
    assert!(text.contains("50 batches, each committed, in "), "{text}");
    assert_eq!(scratch_databases(&server), Vec::<String>::new());
}

/// SIGKILL of a run mid-proof on a scratch URL: the `migrate_safe_*` databases it made are dropped by
/// the next run on that server, and only those of runs that are gone.
#[test]
fn scratch_databases_of_a_killed_run_are_dropped_by_the_next_run() {
    let Some(server) = server_url() else { return };
    // Serial: another test's run on this server would reap the killed run's databases first.
    let _serial = serial();
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("migrations");
    copy_tree(
        &project_root().join("migrations-fixtures/unique-then-relation/migrations"),
        &dir,
    );
    let mut child = binary()
        .args(["check", dir.to_str().unwrap(), "--scratch-url", &server])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mine = format!("pid={} ", child.id());
    let mut admin = migrate_safe::db::connect(&server).unwrap();
    let count = |admin: &mut postgres::Client| -> i64 {
        admin
            .query_one(
                "SELECT count(*) FROM pg_database WHERE datname LIKE 'migrate\\_safe\\_%' AND shobj_description(oid, 'pg_database') LIKE '%' || $1 || '%'",
                &[&mine],
            )
            .unwrap()
            .get(0)
    };
    let started = std::time::Instant::now();
    while count(&mut admin) == 0 {
        assert!(
            child.try_wait().unwrap().is_none()
                && started.elapsed() < std::time::Duration::from_secs(30),
            "the run ended before it made a scratch database"
        );
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        count(&mut admin) > 0,
        "the killed run left its scratch databases"
    );
    let next = binary()
        .args(["check", dir.to_str().unwrap(), "--scratch-url", &server])
        .output()
        .unwrap();
    assert!(
        matches!(next.status.code(), Some(0 | 1)),
        "{}",
        stderr(&next)
    );
    assert!(
        stderr(&next).contains("scratch database(s) left by runs that were killed"),
        "{}",
        stderr(&next)
    );
    assert_eq!(count(&mut admin), 0, "{}", stderr(&next));
}

/// `check --rows N` times a lone CONCURRENTLY build on the seeded table (it cannot be traced inside a
/// transaction: its time is the apply's), under the one-query model as under 7.4+'s.
#[test]
fn concurrent_builds_are_timed_on_the_seeded_tables() {
    let Some(server) = server_url() else { return };
    let _serial = serial();
    let temp = tempfile::tempdir().unwrap();
    let dir = migrations_dir(
        temp.path(),
        &[
            (
                "1_init",
                "CREATE TABLE \"Post\" (\"id\" INTEGER NOT NULL, \"title\" TEXT NOT NULL, CONSTRAINT \"Post_pkey\" PRIMARY KEY (\"id\"));\n",
            ),
            (
                "2_index",
                "CREATE INDEX CONCURRENTLY \"Post_title_idx\" ON \"Post\"(\"title\");\n",
            ),
        ],
    );
    for version in ["6.19.3", "7.10.1"] {
        let output = check(
            &dir,
            &server,
            &[
                "--rows",
                "20000",
                "--format",
                "json",
                "--prisma-version",
                version,
            ],
        );
        let report = only_report(&output);
        let build = &report["locks"][0]["statements"][0];
        assert!(
            build["duration_ms"].as_f64().is_some_and(|ms| ms > 0.0),
            "{version}: {report:#}"
        );
        let text = stdout(&check(
            &dir,
            &server,
            &["--rows", "20000", "--prisma-version", version],
        ));
        assert!(!text.contains("not measured"), "{version}: {text}");
    }
    assert_eq!(scratch_databases(&server), Vec::<String>::new());
}
