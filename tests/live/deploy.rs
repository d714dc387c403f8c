//! `deploy` against a real PostgreSQL: Prisma's bookkeeping, retries behind a blocker (with writers
//! that must not stall), the pre-flight's predictions, recovery of failed builds and transactions,
//! a kill and a dropped connection mid-run, another deploy holding Prisma's lock, a server that is down.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::{Child, Output, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use common::live::{apply_dir, server_url};
use common::*;
use migrate_safe::db::catalog::{diff, snapshot};
use migrate_safe::db::{ScratchDatabase, connect};
use migrate_safe::prisma::ApplyModel;
use migrate_safe::prisma::bookkeeping::checksum;
use serde_json::Value;

const SEED: &str = "CREATE TABLE \"User\" (\"id\" SERIAL PRIMARY KEY, \"email\" TEXT);
CREATE TABLE \"Post\" (\"id\" SERIAL PRIMARY KEY, \"authorId\" INTEGER, \"title\" TEXT);
INSERT INTO \"User\" (\"email\") SELECT 'u' || g FROM generate_series(1, 500) g;
INSERT INTO \"Post\" (\"authorId\", \"title\") SELECT g % 500 + 1, 't' FROM generate_series(1, 2000) g;
";

fn deploy(dir: &Path, url: &str, extra: &[&str]) -> Output {
    binary()
        .arg("deploy")
        .arg(dir)
        .args(["--database-url", url, "--format", "json"])
        .args(extra)
        .output()
        .unwrap()
}

/// `status --format json` of `dir` against `url`.
fn status_json(dir: &Path, url: &str) -> Value {
    let output = binary()
        .args([
            "status",
            dir.to_str().unwrap(),
            "--database-url",
            url,
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    serde_json::from_str(&stdout(&output)).unwrap()
}

fn report(output: &Output) -> Value {
    serde_json::from_str(&stdout(output)).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}):\n{}\nstderr:\n{}",
            stdout(output),
            stderr(output)
        )
    })
}

/// `_prisma_migrations` as (name, finished, rolled back, applied_steps_count, logs), oldest first.
type Row = (String, bool, bool, i32, Option<String>);

fn rows(url: &str) -> Vec<Row> {
    let mut client = connect(url).unwrap();
    client
        .query(
            "SELECT migration_name::text, finished_at IS NOT NULL, rolled_back_at IS NOT NULL, applied_steps_count, logs
             FROM _prisma_migrations ORDER BY started_at, migration_name",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)))
        .collect()
}

fn one(url: &str, sql: &str) -> Option<String> {
    let mut client = connect(url).unwrap();
    client.query_one(sql, &[]).unwrap().get(0)
}

/// A session holding `lock` on "Post" for `hold`, as application `the-blocker`; returns once it holds.
fn blocker(url: &str, lock: &str, hold: Duration) -> std::thread::JoinHandle<()> {
    let mut client = connect(url).unwrap();
    let (sent, held) = std::sync::mpsc::channel();
    let lock = lock.to_string();
    let handle = std::thread::spawn(move || {
        client
            .batch_execute(&format!(
                "SET application_name = 'the-blocker'; BEGIN; {lock}"
            ))
            .unwrap();
        sent.send(()).unwrap();
        sleep(hold);
        client.batch_execute("COMMIT").unwrap();
    });
    held.recv().unwrap();
    handle
}

fn wait_until(what: &str, timeout: Duration, mut condition: impl FnMut() -> bool) {
    let started = Instant::now();
    while !condition() {
        assert!(started.elapsed() < timeout, "timed out waiting for {what}");
        sleep(Duration::from_millis(50));
    }
}

/// deploy's session, once it waits for a lock.
fn waiting_deploy(url: &str) -> i32 {
    let mut pid = 0;
    wait_until("deploy to wait for a lock", Duration::from_secs(20), || {
        let mut client = connect(url).unwrap();
        pid = client
            .query_opt(
                "SELECT pid FROM pg_stat_activity WHERE application_name = 'migrate-safe deploy' AND wait_event_type = 'Lock' AND datname = current_database()",
                &[],
            )
            .unwrap()
            .map_or(0, |r| r.get(0));
        pid != 0
    });
    pid
}

fn spawn_deploy(dir: &Path, url: &str, extra: &[&str]) -> Child {
    binary()
        .arg("deploy")
        .arg(dir)
        .args(["--database-url", url])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// A scratch database with `1_init` (SEED) deployed, and its migrations directory holding `1_init`
/// and the `pending` folders.
fn seeded(server: &str, pending: &[(&str, &str)]) -> (tempfile::TempDir, ScratchDatabase, PathBuf) {
    let temp = tempfile::tempdir().unwrap();
    let database = ScratchDatabase::create(server, None).unwrap();
    let dir = migrations_dir(temp.path(), &[("1_init", SEED)]);
    let first = deploy(&dir, &database.url, &[]);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    migrations_dir(temp.path(), pending);
    (temp, database, dir)
}

#[test]
fn deploys_a_history_with_prismas_bookkeeping_and_the_same_schema() {
    let Some(server) = server_url() else { return };
    let dir = project_root().join("migrations-fixtures/saas-baseline/migrations");
    let database = ScratchDatabase::create(&server, None).unwrap();
    let output = deploy(&dir, &database.url, &[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let json = report(&output);
    assert_eq!(json["outcome"], "applied");
    let names: Vec<&str> = json["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["migration"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["0_init", "20240301120000_teams_and_billing"]);

    // One finished row per migration, with Prisma's checksum and a v4-shaped id.
    let mut client = connect(&database.url).unwrap();
    for row in client
        .query(
            "SELECT id::text, checksum::text, migration_name::text, finished_at IS NOT NULL AND finished_at >= started_at, logs IS NULL, rolled_back_at IS NULL, applied_steps_count FROM _prisma_migrations",
            &[],
        )
        .unwrap()
    {
        let (id, sum, name): (String, String, String) = (row.get(0), row.get(1), row.get(2));
        let sql = std::fs::read_to_string(dir.join(&name).join("migration.sql")).unwrap();
        assert_eq!(sum, checksum(&sql), "{name}");
        assert_eq!(id.len(), 36, "{id}");
        assert_eq!(&id[14..15], "4", "{id}");
        assert!(row.get::<_, bool>(3) && row.get::<_, bool>(4) && row.get::<_, bool>(5));
        assert_eq!(row.get::<_, i32>(6), 1);
    }

    // The schema Prisma itself would build.
    let prisma = apply_dir(&server, &dir, ApplyModel::OneQuery).unwrap();
    let (ours, theirs) = (
        snapshot(&mut client).unwrap(),
        snapshot(&mut prisma.connect().unwrap()).unwrap(),
    );
    assert!(
        diff(&ours, &theirs).is_empty(),
        "{:?}",
        diff(&ours, &theirs)
    );

    // Nothing left to do, and `status` agrees.
    let again = deploy(&dir, &database.url, &[]);
    assert_eq!(again.status.code(), Some(0));
    assert_eq!(report(&again)["outcome"], "nothing_pending");
    let status = common::run(&[
        "status",
        dir.to_str().unwrap(),
        "--database-url",
        &database.url,
    ]);
    assert_eq!(status.status.code(), Some(0), "{}", stdout(&status));
}

#[test]
fn a_blocker_is_waited_out_without_queueing_and_named_while_writers_keep_writing() {
    let Some(server) = server_url() else { return };
    let (_temp, database, dir) = seeded(
        &server,
        &[("2_slug", "ALTER TABLE \"Post\" ADD COLUMN \"slug\" TEXT;\n")],
    );

    // A long reader holds ACCESS SHARE: an ALTER without lock_timeout would queue behind it, and every
    // writer behind the ALTER, for the blocker's whole duration.
    let hold = Duration::from_millis(2500);
    let blocking = blocker(&database.url, "SELECT count(*) FROM \"Post\";", hold);
    let writer = {
        let url = database.url.clone();
        std::thread::spawn(move || {
            let mut client = connect(&url).unwrap();
            let started = Instant::now();
            let mut longest = Duration::ZERO;
            while started.elapsed() < Duration::from_millis(3500) {
                let one = Instant::now();
                client
                    .execute("INSERT INTO \"Post\" (\"title\") VALUES ('w')", &[])
                    .unwrap();
                longest = longest.max(one.elapsed());
                sleep(Duration::from_millis(5));
            }
            longest
        })
    };
    // Older than one lock wait when deploy first looks: a session deploy can tell is not a writer.
    sleep(Duration::from_millis(400));
    let output = deploy(&dir, &database.url, &["--lock-timeout", "200ms"]);
    blocking.join().unwrap();
    let longest_write = writer.join().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let json = report(&output);
    let run = &json["runs"][0];
    assert_eq!(run["result"], "applied");
    // The blocker is waited out without queueing behind it: no attempt collides, it is named.
    assert_eq!(run["attempts"], 1, "{run}");
    assert!(run["retries"].as_array().unwrap().is_empty(), "{run}");
    assert_eq!(
        run["in_the_way"][0]["application_name"], "the-blocker",
        "{run}"
    );
    assert!(
        run["waited_for_clear_ms"].as_f64().unwrap() > 1500.0,
        "{run}"
    );
    assert!(
        run["write_locks_held_ms"].as_f64().unwrap() < 1000.0,
        "{run}"
    );
    // Progress lines went to stderr beside the JSON: the wait and its blocker.
    let progress = stderr(&output);
    assert!(
        progress.contains("waiting for the way to clear, without queueing")
            && progress.contains("holds ACCESS SHARE on public.\"Post\"")
            && progress.contains("(the-blocker)"),
        "{progress}"
    );
    // No writer queued behind an attempt for the blocker's 2.5 s (before: up to a lock_timeout each).
    assert!(
        longest_write < Duration::from_millis(500),
        "a write waited {longest_write:?}"
    );
    assert_eq!(
        one(
            &database.url,
            "SELECT string_agg(column_name::text, ',') FROM information_schema.columns WHERE table_name = 'Post' AND column_name = 'slug'"
        )
        .as_deref(),
        Some("slug")
    );
}

#[test]
fn locks_never_granted_stop_the_run_with_nothing_applied_or_recorded() {
    let Some(server) = server_url() else { return };
    let temp = tempfile::tempdir().unwrap();
    let database = ScratchDatabase::create(&server, None).unwrap();
    let dir = migrations_dir(
        temp.path(),
        &[
            ("1_init", SEED),
            (
                "2_slug",
                "ALTER TABLE \"Post\" ADD COLUMN \"slug\" TEXT;\nCREATE TABLE \"Tag\" (\"id\" INT);\n",
            ),
            ("3_later", "CREATE TABLE \"Later\" (\"id\" INT);\n"),
        ],
    );
    let first = deploy(&dir, &database.url, &["--max-attempts", "1"]);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    psql_reset(
        &database.url,
        &["2_slug", "3_later"],
        "DROP TABLE \"Tag\"; DROP TABLE \"Later\"; ALTER TABLE \"Post\" DROP COLUMN \"slug\";",
    );

    let blocking = blocker(
        &database.url,
        "LOCK TABLE \"Post\" IN ACCESS SHARE MODE;",
        Duration::from_secs(6),
    );
    sleep(Duration::from_millis(300));
    let output = deploy(
        &dir,
        &database.url,
        &[
            "--lock-timeout",
            "100ms",
            "--max-attempts",
            "3",
            "--deadline",
            "1500ms",
        ],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let json = report(&output);
    assert_eq!(json["outcome"], "stopped");
    assert_eq!(json["runs"][0]["result"], "lock_not_granted");
    // The way never cleared: no lock was asked for (writers never queued), the blocker is named.
    assert_eq!(json["runs"][0]["attempts"], 0, "{}", json["runs"][0]);
    assert_eq!(
        json["runs"][0]["in_the_way"][0]["application_name"],
        "the-blocker"
    );
    let stopped = json["stopped"].as_str().unwrap();
    assert!(
        stopped.contains("the way did not clear within --deadline 1500ms")
            && stopped.contains("(the-blocker)")
            && stopped.contains("nothing of it is applied"),
        "{stopped}"
    );
    // Neither the column nor the new table of the same file, no row, and the next migration not run.
    assert_eq!(
        one(&database.url, "SELECT to_regclass('\"Tag\"')::text"),
        None
    );
    assert_eq!(
        one(&database.url, "SELECT to_regclass('\"Later\"')::text"),
        None
    );
    let names: Vec<String> = rows(&database.url).into_iter().map(|r| r.0).collect();
    assert_eq!(names, ["1_init"]);
    blocking.join().unwrap();
}

/// Make migrations pending again after a first deploy (the test's own bookkeeping reset).
fn psql_reset(url: &str, names: &[&str], undo: &str) {
    let mut client = connect(url).unwrap();
    client.batch_execute(undo).unwrap();
    for name in names {
        client
            .execute(
                "DELETE FROM _prisma_migrations WHERE migration_name = $1",
                &[name],
            )
            .unwrap();
    }
}

#[test]
fn the_preflight_predicts_each_data_failure_and_applies_nothing() {
    let Some(server) = server_url() else { return };
    let temp = tempfile::tempdir().unwrap();
    let database = ScratchDatabase::create(&server, None).unwrap();
    let seed = migrations_dir(
        temp.path(),
        &[(
            "1_init",
            &format!(
                "{SEED}INSERT INTO \"User\" (\"email\") VALUES ('u1'), ('u2'), (NULL), (NULL);\nUPDATE \"Post\" SET \"title\" = NULL WHERE \"id\" <= 3;\nINSERT INTO \"Post\" (\"authorId\", \"title\") VALUES (9999, 'orphan');\n"
            ),
        )],
    );
    assert_eq!(deploy(&seed, &database.url, &[]).status.code(), Some(0));
    let dir = migrations_dir(
        temp.path(),
        &[
            (
                "2_column",
                "ALTER TABLE \"Post\" ADD COLUMN \"slug\" TEXT;\n",
            ),
            (
                "3_unique",
                "CREATE UNIQUE INDEX CONCURRENTLY \"User_email_key\" ON \"User\"(\"email\");\n",
            ),
            (
                "4_fk",
                "ALTER TABLE \"Post\" ADD CONSTRAINT \"Post_authorId_fkey\" FOREIGN KEY (\"authorId\") REFERENCES \"User\"(\"id\") NOT VALID;\n",
            ),
            (
                "5_validate",
                "ALTER TABLE \"Post\" VALIDATE CONSTRAINT \"Post_authorId_fkey\";\n",
            ),
            (
                "6_not_null",
                "ALTER TABLE \"Post\" ALTER COLUMN \"title\" SET NOT NULL;\n",
            ),
            (
                "7_check",
                "ALTER TABLE \"Post\" ADD CONSTRAINT \"Post_title_len\" CHECK (length(\"title\") < 3);\n",
            ),
            (
                "8_backfilled",
                "UPDATE \"User\" SET \"email\" = 'x' WHERE \"email\" IS NULL;\nALTER TABLE \"User\" ALTER COLUMN \"email\" SET NOT NULL;\n",
            ),
            (
                "9_new_column",
                "ALTER TABLE \"Post\" ALTER COLUMN \"slug\" SET NOT NULL;\n",
            ),
            (
                "9b_partial",
                "CREATE UNIQUE INDEX \"User_email_active\" ON \"User\"(\"email\") WHERE \"id\" > 0;\n",
            ),
        ],
    );
    let started = Instant::now();
    let output = deploy(&dir, &database.url, &[]);
    let elapsed = started.elapsed();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let json = report(&output);
    let checks: Vec<String> = json["preflight"]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            format!(
                "{}:{} {} {}",
                c["migration"].as_str().unwrap(),
                c["line"],
                c["result"].as_str().unwrap(),
                c["detail"].as_str().or(c["why"].as_str()).unwrap_or("")
            )
        })
        .collect();
    assert_eq!(
        checks,
        [
            "3_unique:1 fails 2 duplicated key value(s) in 4 rows",
            "5_validate:1 fails 1 row(s) reference no existing row",
            "6_not_null:1 fails 3 row(s) hold NULL",
            "7_check:1 fails 1 row(s) violate it",
            "8_backfilled:2 not_predictive 2 row(s) hold NULL",
            "9_new_column:1 no_rows_yet column slug of \"Post\" does not exist yet (a pending migration adds it): its values are not there to check",
            "9b_partial:1 not_checked a partial unique index: its duplicates are not checked",
        ],
        "{}",
        stderr(&output)
    );
    assert!(
        json["stopped"]
            .as_str()
            .unwrap()
            .contains("predicts 4 failure(s)")
    );
    // Nothing was applied: not even the harmless first migration.
    assert!(json["runs"].as_array().unwrap().is_empty());
    let names: Vec<String> = rows(&database.url).into_iter().map(|r| r.0).collect();
    assert_eq!(names, ["1_init"]);
    assert!(elapsed < Duration::from_secs(20), "{elapsed:?}");
}

#[test]
fn a_failed_concurrent_build_has_its_invalid_index_dropped_and_the_rerun_recovers() {
    let Some(server) = server_url() else { return };
    let temp = tempfile::tempdir().unwrap();
    let database = ScratchDatabase::create(&server, None).unwrap();
    let dir = migrations_dir(
        temp.path(),
        &[
            (
                "1_init",
                &format!("{SEED}INSERT INTO \"User\" (\"email\") VALUES ('u1');\n"),
            ),
            (
                "2_unique",
                "CREATE UNIQUE INDEX CONCURRENTLY \"User_email_key\" ON \"User\"(\"email\");\n",
            ),
        ],
    );
    let output = deploy(&dir, &database.url, &["--skip-preflight"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let json = report(&output);
    let run = &json["runs"][1];
    assert_eq!(run["result"], "failed", "{run}");
    assert_eq!(run["sqlstate"], "23505");
    assert_eq!(run["dropped_invalid_index"], "\"User_email_key\"");
    // PostgreSQL's DETAIL names the key; the dropped INVALID index is said once.
    assert!(
        run["message"]
            .as_str()
            .unwrap()
            .contains("DETAIL: Key (email)=(u1) is duplicated"),
        "{run}"
    );
    assert_eq!(
        stderr(&output).matches("INVALID").count(),
        1,
        "{}",
        stderr(&output)
    );
    assert_eq!(run["half_applied"], false);
    assert_eq!(
        one(
            &database.url,
            "SELECT to_regclass('\"User_email_key\"')::text"
        ),
        None
    );
    // The failed state Prisma records: a started row with the error in logs (P3009 for Prisma).
    let recorded = rows(&database.url);
    assert_eq!(recorded.len(), 2);
    let (name, finished, rolled_back, steps, logs) = &recorded[1];
    assert_eq!(
        (name.as_str(), finished, rolled_back, steps),
        ("2_unique", &false, &false, &0)
    );
    let logs = logs.as_deref().unwrap();
    assert!(
        logs.contains("could not create unique index") && logs.contains("dropped"),
        "{logs}"
    );

    // Now the pre-flight predicts it, and gives the read-only query that lists the duplicated keys.
    let dry = deploy(&dir, &database.url, &["--dry-run"]);
    let check = &report(&dry)["preflight"]["checks"][0];
    assert_eq!(check["result"], "fails", "{check}");
    let list = check["list"].as_str().unwrap();
    assert!(
        list.starts_with("SELECT \"email\", count(*) FROM") && list.contains("HAVING count(*) > 1"),
        "{list}"
    );
    let duplicates = connect(&database.url).unwrap().query(list, &[]).unwrap();
    assert_eq!(
        duplicates.len(),
        1,
        "the query lists the one duplicated key"
    );

    // Fix the data; the rerun resolves the failed row itself and builds again.
    connect(&database.url)
        .unwrap()
        .batch_execute("DELETE FROM \"User\" WHERE \"email\" = 'u1' AND \"id\" > 500")
        .unwrap();
    let rerun = deploy(&dir, &database.url, &[]);
    assert_eq!(rerun.status.code(), Some(0), "{}", stderr(&rerun));
    let json = report(&rerun);
    assert_eq!(json["recovered"][0]["migration"], "2_unique");
    assert_eq!(json["recovered"][0]["pending_again"], true);
    let recorded = rows(&database.url);
    assert_eq!(recorded.len(), 3);
    assert!(recorded[1].2, "the failed attempt is marked rolled back");
    assert!(recorded[2].1 && recorded[2].0 == "2_unique");
    assert_eq!(
        one(&database.url, "SELECT indisvalid::text FROM pg_index WHERE indexrelid = '\"User_email_key\"'::regclass").as_deref(),
        Some("true")
    );
}

#[test]
fn a_failed_migration_rolls_back_whole_and_is_recorded_as_prisma_records_it() {
    let Some(server) = server_url() else { return };
    let temp = tempfile::tempdir().unwrap();
    let database = ScratchDatabase::create(&server, None).unwrap();
    let dir = migrations_dir(
        temp.path(),
        &[
            (
                "1_init",
                &format!("{SEED}UPDATE \"Post\" SET \"title\" = NULL WHERE \"id\" = 1;\n"),
            ),
            // Under Prisma 7.4+ the DROP COLUMN would commit before the failing SET NOT NULL.
            (
                "2_drop_then_fail",
                "ALTER TABLE \"Post\" DROP COLUMN \"authorId\";\nALTER TABLE \"Post\" ALTER COLUMN \"title\" SET NOT NULL;\n",
            ),
        ],
    );
    let output = deploy(&dir, &database.url, &["--skip-preflight"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let json = report(&output);
    let run = &json["runs"][1];
    assert_eq!(run["result"], "failed");
    assert_eq!(run["sqlstate"], "23502");
    assert_eq!(run["at"]["line"], 2);
    assert_eq!(run["half_applied"], false);
    assert!(
        json["next"][0].as_str().unwrap().contains("line 2"),
        "{}",
        json["next"]
    );
    assert_eq!(
        one(&database.url, "SELECT column_name::text FROM information_schema.columns WHERE table_name = 'Post' AND column_name = 'authorId'").as_deref(),
        Some("authorId"),
        "the DROP COLUMN was rolled back with the rest"
    );
    let recorded = rows(&database.url);
    assert_eq!(
        (recorded[1].0.as_str(), recorded[1].1, recorded[1].2),
        ("2_drop_then_fail", false, false)
    );
    assert!(
        recorded[1]
            .4
            .as_deref()
            .unwrap()
            .contains("contains null values")
    );

    // `status` sees Prisma's failed state.
    let status = common::run(&[
        "status",
        dir.to_str().unwrap(),
        "--database-url",
        &database.url,
    ]);
    assert_eq!(status.status.code(), Some(1));
    let text = stdout(&status);
    assert!(
        text.contains("FAILED   2_drop_then_fail")
            && text.contains("rolled it back (or dropped the INVALID index its build left): nothing of it is applied"),
        "{text}"
    );

    // Still NULLs: the rerun marks the failure rolled back, and its pre-flight stops it again.
    let rerun = deploy(&dir, &database.url, &[]);
    assert_eq!(rerun.status.code(), Some(1));
    assert_eq!(
        report(&rerun)["recovered"][0]["migration"],
        "2_drop_then_fail"
    );
    connect(&database.url)
        .unwrap()
        .batch_execute("UPDATE \"Post\" SET \"title\" = 'fixed' WHERE \"title\" IS NULL")
        .unwrap();
    let fixed = deploy(&dir, &database.url, &[]);
    assert_eq!(fixed.status.code(), Some(0), "{}", stderr(&fixed));
    assert_eq!(report(&fixed)["outcome"], "applied");
}

#[test]
fn a_failure_deploy_cannot_prove_harmless_stops_the_run_with_prismas_steps() {
    let Some(server) = server_url() else { return };
    let temp = tempfile::tempdir().unwrap();
    let database = ScratchDatabase::create(&server, None).unwrap();
    let dir = migrations_dir(
        temp.path(),
        &[
            ("1_init", SEED),
            (
                "2_failed",
                "ALTER TABLE \"Post\" ADD COLUMN \"a\" TEXT;\nSELECT 1/0;\n",
            ),
            ("3_next", "CREATE TABLE \"Next\" (\"id\" INT);\n"),
        ],
    );
    // Prisma 7.4+ ran 2_failed statement by statement: the ADD COLUMN stays, the row is failed.
    let mut client = connect(&database.url).unwrap();
    let init = discover_one(&dir, "1_init");
    migrate_safe::prisma::apply::apply_migration(
        &mut client,
        "1_init",
        &init,
        ApplyModel::OneQuery,
    )
    .unwrap();
    let failed = discover_one(&dir, "2_failed");
    assert!(
        migrate_safe::prisma::apply::apply_migration(
            &mut client,
            "2_failed",
            &failed,
            ApplyModel::PerStatement
        )
        .is_err()
    );
    let output = deploy(&dir, &database.url, &[]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let json = report(&output);
    assert!(
        json["stopped"]
            .as_str()
            .unwrap()
            .contains("2_failed failed earlier and is not resolved (Prisma's P3009)")
    );
    let next: Vec<&str> = json["next"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert!(
        next.iter()
            .any(|s| s.contains("prisma migrate resolve --rolled-back 2_failed")),
        "{next:?}"
    );
    assert!(
        next.iter()
            .any(|s| s.contains("prisma migrate resolve --applied 2_failed")),
        "{next:?}"
    );
    assert_eq!(
        one(&database.url, "SELECT to_regclass('\"Next\"')::text"),
        None
    );
}

fn discover_one(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name).join("migration.sql")).unwrap()
}

#[test]
fn another_deploy_holding_prismas_advisory_lock_stops_the_run() {
    let Some(server) = server_url() else { return };
    let temp = tempfile::tempdir().unwrap();
    let database = ScratchDatabase::create(&server, None).unwrap();
    let dir = migrations_dir(temp.path(), &[("1_init", SEED)]);
    let mut other = connect(&database.url).unwrap();
    other
        .batch_execute("SET application_name = 'prisma-migrate'; SELECT pg_advisory_lock(72707369)")
        .unwrap();
    let output = deploy(&dir, &database.url, &["--advisory-lock-wait", "300ms"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let stopped = report(&output)["stopped"].as_str().unwrap().to_string();
    assert!(
        stopped.contains("another deploy holds Prisma's advisory lock (72707369)")
            && stopped.contains("(prisma-migrate)"),
        "{stopped}"
    );
    assert_eq!(
        one(&database.url, "SELECT to_regclass('\"User\"')::text"),
        None
    );
    other
        .batch_execute("SELECT pg_advisory_unlock(72707369)")
        .unwrap();
    assert_eq!(deploy(&dir, &database.url, &[]).status.code(), Some(0));
}

#[test]
fn killed_mid_migration_leaves_nothing_half_applied_and_the_rerun_recovers() {
    let Some(server) = server_url() else { return };
    let (temp, database, dir) = seeded(
        &server,
        &[(
            "2_slug",
            "ALTER TABLE \"Post\" ADD COLUMN \"slug\" TEXT;\nCREATE TABLE \"Tag\" (\"id\" INT);\n",
        )],
    );

    // SIGKILL while the transaction waits for its lock.
    let blocking = blocker(
        &database.url,
        "LOCK TABLE \"Post\" IN ACCESS SHARE MODE;",
        Duration::from_secs(3),
    );
    let mut child = spawn_deploy(&dir, &database.url, &["--lock-timeout", "10s"]);
    waiting_deploy(&database.url);
    child.kill().unwrap();
    let _ = child.wait();
    blocking.join().unwrap();
    wait_until("the killed session to end", Duration::from_secs(10), || {
        one(&database.url, "SELECT count(*)::text FROM pg_stat_activity WHERE application_name = 'migrate-safe deploy' AND datname = current_database()").as_deref() == Some("0")
    });
    assert_eq!(
        one(&database.url, "SELECT to_regclass('\"Tag\"')::text"),
        None
    );
    let names: Vec<String> = rows(&database.url).into_iter().map(|r| r.0).collect();
    assert_eq!(
        names,
        ["1_init"],
        "nothing recorded: the migration is simply pending"
    );
    let rerun = deploy(&dir, &database.url, &[]);
    assert_eq!(rerun.status.code(), Some(0), "{}", stderr(&rerun));

    // SIGKILL while a concurrent build waits for a writer: the killed session's build goes on; once it
    // ends, the rerun finds the index valid and records the migration applied.
    let build = migrations_dir(
        temp.path(),
        &[(
            "3_index",
            "CREATE INDEX CONCURRENTLY \"Post_title_idx\" ON \"Post\"(\"title\");\n",
        )],
    );
    let writer = blocker(
        &database.url,
        "INSERT INTO \"Post\" (\"title\") VALUES ('w');",
        Duration::from_secs(2),
    );
    let mut child = spawn_deploy(&build, &database.url, &[]);
    waiting_deploy(&database.url);
    child.kill().unwrap();
    let _ = child.wait();
    // While the orphaned build waits for the writer, status says so and points at no command.
    let building = status_json(&build, &database.url);
    assert_eq!(
        building["failed"]["3_index"]["diagnosis"]["left"], "still_building",
        "{building}"
    );
    writer.join().unwrap();
    wait_until("the orphaned build to end", Duration::from_secs(20), || {
        one(&database.url, "SELECT count(*)::text FROM pg_stat_progress_create_index WHERE datname = current_database()").as_deref() == Some("0")
    });
    // Status reads the killed build the way deploy does: built and valid, so `resolve --applied`
    // (a `--rolled-back` would build again and fail: the index exists), never "rolled back as one
    // transaction".
    let status = status_json(&build, &database.url);
    let failed = &status["failed"]["3_index"];
    assert_eq!(failed["diagnosis"]["left"], "built_index", "{status}");
    assert_eq!(
        failed["with_prisma"][0], "prisma migrate resolve --applied 3_index",
        "{status}"
    );
    let text = stdout(&run(&[
        "status",
        build.to_str().unwrap(),
        "--database-url",
        &database.url,
    ]));
    assert!(
        text.contains("prisma migrate resolve --applied 3_index"),
        "{text}"
    );
    assert!(
        text.contains("`migrate-safe deploy` resolves it itself"),
        "{text}"
    );
    assert!(!text.contains("rolled the file back"), "{text}");
    assert!(!text.contains("--rolled-back"), "{text}");
    assert!(!text.contains("BEGIN block"), "{text}");
    let unfinished = rows(&database.url);
    assert_eq!(
        (
            unfinished.last().unwrap().0.as_str(),
            unfinished.last().unwrap().1
        ),
        ("3_index", false),
        "Prisma's state after a kill: a started row"
    );
    let rerun = deploy(&build, &database.url, &[]);
    assert_eq!(rerun.status.code(), Some(0), "{}", stderr(&rerun));
    let json = report(&rerun);
    assert_eq!(
        json["recovered"][0]["pending_again"], false,
        "{}",
        json["recovered"]
    );
    assert_eq!(
        json["recovered"][0]["action"], failed["deploy_would"],
        "status said what deploy did"
    );
    assert_eq!(json["outcome"], "nothing_pending");
    assert!(rows(&database.url).last().unwrap().1);
}

#[test]
fn a_dropped_connection_is_an_error_with_nothing_applied_and_a_down_server_a_clear_one() {
    let Some(server) = server_url() else { return };
    let (_temp, database, dir) = seeded(
        &server,
        &[("2_slug", "ALTER TABLE \"Post\" ADD COLUMN \"slug\" TEXT;\n")],
    );
    let blocking = blocker(
        &database.url,
        "LOCK TABLE \"Post\" IN ACCESS SHARE MODE;",
        Duration::from_secs(3),
    );
    let child = spawn_deploy(&dir, &database.url, &["--lock-timeout", "10s"]);
    let pid = waiting_deploy(&database.url);
    connect(&database.url)
        .unwrap()
        .execute("SELECT pg_terminate_backend($1)", &[&pid])
        .unwrap();
    let output = child.wait_with_output().unwrap();
    blocking.join().unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stdout(&output));
    let message = stderr(&output);
    assert!(
        message.contains("2_slug: the connection broke")
            && message.contains("nothing of it is applied"),
        "{message}"
    );
    assert!(!message.contains("panicked"), "{message}");
    let rerun = deploy(&dir, &database.url, &[]);
    assert_eq!(rerun.status.code(), Some(0), "{}", stderr(&rerun));

    let down = deploy(&dir, "postgresql://postgres:secret@127.0.0.1:1/app", &[]);
    assert_eq!(down.status.code(), Some(2));
    let message = stderr(&down);
    assert!(
        message.contains("cannot connect") && message.contains("refused"),
        "{message}"
    );
    assert!(!message.contains("secret"), "{message}");
}

#[test]
fn a_concurrent_build_behind_an_old_transaction_waits_for_it_bounded_then_stops_with_nothing_applied()
 {
    let Some(server) = server_url() else { return };
    let (_temp, database, dir) = seeded(
        &server,
        &[(
            "2_index",
            "CREATE INDEX CONCURRENTLY \"Post_title_idx\" ON \"Post\"(\"title\");\n",
        )],
    );
    // A transaction older than 5 s, idle: the build would wait for it to end.
    let mut idle = connect(&database.url).unwrap();
    idle.batch_execute("SET application_name = 'forgotten_console'; BEGIN; SELECT 1")
        .unwrap();
    sleep(Duration::from_millis(5500));
    let output = deploy(&dir, &database.url, &["--old-transaction-wait", "600ms"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let json = report(&output);
    let run = &json["runs"][0];
    assert_eq!(run["result"], "old_transactions", "{run}");
    assert_eq!(
        run["transactions"][0]["application_name"],
        "forgotten_console"
    );
    assert!(
        run["transactions"][0]["transaction_age_s"]
            .as_f64()
            .unwrap()
            > 5.0
    );
    assert!(
        stderr(&output).contains("forgotten_console"),
        "{}",
        stderr(&output)
    );
    let names: Vec<String> = rows(&database.url).into_iter().map(|r| r.0).collect();
    assert_eq!(names, ["1_init"], "nothing recorded");
    // Once it ends, the build goes ahead.
    idle.batch_execute("COMMIT").unwrap();
    let rerun = deploy(&dir, &database.url, &[]);
    assert_eq!(rerun.status.code(), Some(0), "{}", stderr(&rerun));
}

/// On a terminal, a concurrent build shows its phase, blocks and tuples (pg_stat_progress_create_index);
/// through `script` (a pseudo-terminal), as lint's colour test does.
#[test]
fn a_concurrent_build_shows_its_progress_on_a_terminal() {
    let Some(server) = server_url() else { return };
    if !std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        eprintln!("SKIPPED: no `script` (util-linux) to give the binary a terminal");
        return;
    }
    let (_temp, database, dir) = seeded(
        &server,
        &[(
            "2_index",
            "CREATE INDEX CONCURRENTLY \"Post_title_idx\" ON \"Post\"(\"title\");\n",
        )],
    );
    connect(&database.url)
        .unwrap()
        .batch_execute("INSERT INTO \"Post\" (\"title\") SELECT md5(g::text) FROM generate_series(1, 1500000) g; ANALYZE \"Post\"")
        .unwrap();
    let output = std::process::Command::new("script")
        .args([
            "-qec",
            &format!(
                "{} deploy {} --database-url {}",
                env!("CARGO_BIN_EXE_migrate-safe"),
                dir.display(),
                database.url
            ),
            "/dev/null",
        ])
        .output()
        .unwrap();
    let terminal = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{terminal}");
    assert!(
        terminal.contains("blocks ")
            && terminal.contains("tuples ")
            && terminal.contains("Deployed: 1 migration(s) applied."),
        "{terminal}"
    );
}

#[test]
fn a_statement_timeout_bounds_a_slow_statement_and_rolls_the_migration_back() {
    let Some(server) = server_url() else { return };
    let temp = tempfile::tempdir().unwrap();
    let database = ScratchDatabase::create(&server, None).unwrap();
    let dir = migrations_dir(
        temp.path(),
        &[
            ("1_init", SEED),
            (
                "2_slow",
                "CREATE TABLE \"Audit\" (\"id\" INT);\nSELECT pg_sleep(3);\n",
            ),
        ],
    );
    let started = Instant::now();
    let output = deploy(&dir, &database.url, &["--statement-timeout", "300ms"]);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let json = report(&output);
    assert_eq!(json["settings"]["statement_timeout"], 300);
    assert_eq!(json["runs"][1]["sqlstate"], "57014");
    assert_eq!(json["runs"][1]["at"]["line"], 2);
    assert_eq!(
        one(&database.url, "SELECT to_regclass('\"Audit\"')::text"),
        None
    );
}

/// The schema of the deploy-under-load tests: a writer's `INSERT INTO "Post"` checks its author in
/// "User" (the referencing table is locked before the referenced one).
const APP: &str = "CREATE TABLE \"User\" (\"id\" SERIAL PRIMARY KEY, \"email\" TEXT NOT NULL, \"name\" TEXT, \"teamId\" INTEGER, \"score\" INTEGER NOT NULL DEFAULT 0);
CREATE TABLE \"Post\" (\"id\" SERIAL PRIMARY KEY, \"authorId\" INTEGER NOT NULL, \"title\" TEXT NOT NULL, \"createdAt\" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP);
CREATE TABLE \"Comment\" (\"id\" SERIAL PRIMARY KEY, \"postId\" INTEGER NOT NULL, \"body\" TEXT NOT NULL);
ALTER TABLE \"Post\" ADD CONSTRAINT \"Post_authorId_fkey\" FOREIGN KEY (\"authorId\") REFERENCES \"User\"(\"id\") ON DELETE RESTRICT ON UPDATE CASCADE;
";

/// A writer in a cycle with deploy: it holds "User" and then wants "Post" while deploy holds "Post"
/// and wants "User". Deploy's wait ends first (its lock waits end within three quarters of
/// deadlock_timeout after it first asks), so PostgreSQL never picks the writer: the writer commits,
/// deploy's attempt is rolled back and retried. (Deploy used to take "User" halfway through its
/// transaction with a 1 s lock_timeout, and the writer was the deadlock's victim.)
#[test]
fn in_a_lock_cycle_with_a_writer_deploy_gives_way_and_the_writer_commits() {
    let Some(server) = server_url() else { return };
    let temp = tempfile::tempdir().unwrap();
    let database = ScratchDatabase::create(&server, None).unwrap();
    let dir = migrations_dir(temp.path(), &[("1_app", APP)]);
    assert_eq!(deploy(&dir, &database.url, &[]).status.code(), Some(0));
    connect(&database.url)
        .unwrap()
        .batch_execute(
            "INSERT INTO \"User\" (\"email\") SELECT 'u' || g FROM generate_series(1, 100) g",
        )
        .unwrap();
    // Takes "Post", works a while, then takes "User": the order that made the writer the victim.
    migrations_dir(
        temp.path(),
        &[(
            "2_columns",
            "ALTER TABLE \"Post\" ADD COLUMN \"slug\" TEXT;\nSELECT pg_sleep(0.3);\nALTER TABLE \"User\" ADD COLUMN \"bio\" TEXT;\n",
        )],
    );
    // The writer takes "User" first (its own order), young enough that deploy does not wait for it.
    let mut writer = connect(&database.url).unwrap();
    writer
        .batch_execute("SET application_name = 'the-writer'; BEGIN; UPDATE \"User\" SET \"score\" = \"score\" + 1 WHERE \"id\" = 1")
        .unwrap();
    // A long --lock-timeout: the budget under deadlock_timeout is what bounds deploy's second wait.
    let child = spawn_deploy(
        &dir,
        &database.url,
        &["--lock-timeout", "5s", "--format", "json"],
    );
    wait_until("deploy to hold \"Post\"", Duration::from_secs(20), || {
        one(&database.url, "SELECT count(*)::text FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'migrate-safe deploy' AND l.relation = '\"Post\"'::regclass AND l.mode = 'AccessExclusiveLock' AND l.granted").as_deref() == Some("1")
    });
    // Now the writer wants "Post" (which deploy holds) while holding "User": a cycle, the writer
    // waiting first.
    let inserted = writer
        .batch_execute("INSERT INTO \"Post\" (\"authorId\", \"title\") VALUES (1, 'w'); COMMIT");
    assert!(inserted.is_ok(), "the writer failed: {inserted:?}");
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let json = report(&output);
    let run = &json["runs"][0];
    assert_eq!(run["result"], "applied", "{run}");
    let locks: Vec<&str> = run["locks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["table"].as_str().unwrap())
        .collect();
    assert_eq!(
        locks,
        ["public.\"Post\"", "public.\"User\""],
        "children first"
    );
    let collision = &run["retries"][0];
    assert_eq!(collision["lock"], "public.\"User\"", "{run}");
    assert_eq!(
        collision["kind"], "lock_timeout",
        "deploy's own wait ended: {run}"
    );
    assert_eq!(
        collision["blockers"][0]["application_name"], "the-writer",
        "{run}"
    );
    assert!(json["deadlock_timeout_ms"].as_u64().unwrap() > 0);
    assert!(
        stderr(&output).contains("no writer failed"),
        "{}",
        stderr(&output)
    );
}

/// What writers saw while something ran: failed transactions (with their SQLSTATE) and the longest
/// stretch without a committed write.
struct Writers {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    threads: Vec<std::thread::JoinHandle<(Vec<Instant>, Vec<String>)>>,
}

impl Writers {
    /// Four writers, two taking "Post" then "User" (an insert, then its author's score), two "User"
    /// then "Post"; each about 40 transactions a second.
    fn start(url: &str, users: i32) -> Self {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let threads = (0..4)
            .map(|n| {
                let (url, stop) = (url.to_string(), stop.clone());
                std::thread::spawn(move || {
                    let mut client = connect(&url).unwrap();
                    client
                        .batch_execute("SET application_name = 'app-writer'")
                        .unwrap();
                    let (mut done, mut failed) = (Vec::new(), Vec::new());
                    let mut i: i32 = n * 7919;
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        i = (i + 104_729) % users;
                        let user = i + 1;
                        let insert = format!(
                            "INSERT INTO \"Post\" (\"authorId\", \"title\") VALUES ({user}, 'w')"
                        );
                        let update = format!(
                            "UPDATE \"User\" SET \"score\" = \"score\" + 1 WHERE \"id\" = {user}"
                        );
                        let (first, second) = if n % 2 == 0 {
                            (&insert, &update)
                        } else {
                            (&update, &insert)
                        };
                        let result = client.batch_execute(&format!(
                            "BEGIN; {first}; SELECT pg_sleep(0.002); {second}; COMMIT"
                        ));
                        match result {
                            Ok(()) => done.push(Instant::now()),
                            Err(e) => {
                                failed.push(migrate_safe::db::describe(&e));
                                let _ = client.batch_execute("ROLLBACK");
                            }
                        }
                        sleep(Duration::from_millis(20));
                    }
                    (done, failed)
                })
            })
            .collect();
        Writers { stop, threads }
    }

    /// Stop them: (failed transactions, the longest gap between commits within `during`).
    fn stop(self, during: (Instant, Instant)) -> (Vec<String>, Duration) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let mut done = Vec::new();
        let mut failed = Vec::new();
        for thread in self.threads {
            let (d, f) = thread.join().unwrap();
            done.extend(d);
            failed.extend(f);
        }
        done.sort();
        let gap = done
            .windows(2)
            .filter(|w| w[1] >= during.0 && w[0] <= during.1)
            .map(|w| w[1] - w[0])
            .max()
            .unwrap_or_default();
        (failed, gap)
    }
}

/// The issue's scenario: a rewritten Prisma migration (a backfill in batches, SET NOT NULL via a check, a foreign
/// key, four indexes and a unique one) deployed while writers take "Post" and "User" in both orders and
/// a report holds a row lock on "Post" for 15 s. Across runs: no writer transaction fails, writes
/// never stop for long (the blocker is waited out without queueing), everything is applied with
/// Prisma's bookkeeping.
#[test]
fn deploy_under_writers_and_a_15_second_blocker_fails_no_write() {
    let Some(server) = server_url() else { return };
    let v2 = "-- AlterTable\nALTER TABLE \"Post\" ADD COLUMN     \"editorId\" INTEGER;\n\n-- Backfill\nUPDATE \"User\" SET \"name\" = '' WHERE \"name\" IS NULL;\n\n-- AlterTable\nALTER TABLE \"User\" ADD COLUMN     \"role\" TEXT NOT NULL DEFAULT 'member',\nALTER COLUMN \"name\" SET NOT NULL;\n\n-- CreateIndex\nCREATE UNIQUE INDEX \"User_email_key\" ON \"User\"(\"email\");\n\n-- CreateIndex\nCREATE INDEX \"Post_authorId_idx\" ON \"Post\"(\"authorId\");\n\n-- CreateIndex\nCREATE INDEX \"Post_createdAt_idx\" ON \"Post\"(\"createdAt\");\n\n-- CreateIndex\nCREATE INDEX \"User_teamId_idx\" ON \"User\"(\"teamId\");\n\n-- CreateIndex\nCREATE INDEX \"Comment_postId_idx\" ON \"Comment\"(\"postId\");\n\n-- AddForeignKey\nALTER TABLE \"Post\" ADD CONSTRAINT \"Post_editorId_fkey\" FOREIGN KEY (\"editorId\") REFERENCES \"User\"(\"id\") ON DELETE SET NULL ON UPDATE CASCADE;\n";
    for round in 1..=2 {
        let temp = tempfile::tempdir().unwrap();
        let database = ScratchDatabase::create(&server, None).unwrap();
        let dir = migrations_dir(temp.path(), &[("1_app", APP)]);
        assert_eq!(deploy(&dir, &database.url, &[]).status.code(), Some(0));
        connect(&database.url)
            .unwrap()
            .batch_execute(
                "INSERT INTO \"User\" (\"email\", \"name\", \"teamId\") SELECT 'u' || g || '@x', CASE WHEN g % 100 = 0 THEN NULL ELSE 'n' END, g % 10 FROM generate_series(1, 20000) g;
                 INSERT INTO \"Post\" (\"authorId\", \"title\") SELECT g % 20000 + 1, 'p' FROM generate_series(1, 60000) g;
                 INSERT INTO \"Comment\" (\"postId\", \"body\") SELECT g % 60000 + 1, 'c' FROM generate_series(1, 20000) g;
                 ANALYZE",
            )
            .unwrap();
        migrations_dir(temp.path(), &[("2_v2", v2)]);
        let rewrite = run(&[
            "rewrite",
            dir.to_str().unwrap(),
            "--no-verify",
            "--prisma-version",
            "7.10.1",
        ]);
        assert_eq!(rewrite.status.code(), Some(0), "{}", stderr(&rewrite));
        let writers = Writers::start(&database.url, 20000);
        sleep(Duration::from_millis(500));
        let blocking = blocker(
            &database.url,
            "SELECT \"id\" FROM \"Post\" WHERE \"id\" = 1 FOR UPDATE;",
            Duration::from_secs(15),
        );
        sleep(Duration::from_millis(300));
        let started = Instant::now();
        let output = deploy(&dir, &database.url, &[]);
        let ended = Instant::now();
        blocking.join().unwrap();
        sleep(Duration::from_millis(300));
        let (failed, gap) = writers.stop((started, ended));
        assert_eq!(
            output.status.code(),
            Some(0),
            "round {round}: {}",
            stderr(&output)
        );
        let json = report(&output);
        assert!(
            failed.is_empty(),
            "round {round}: writer transactions failed: {failed:?}\n{}",
            stderr(&output)
        );
        assert_eq!(json["outcome"], "applied", "round {round}");
        let runs = json["runs"].as_array().unwrap();
        // The original, its backfill in batches, five index builds, the validation, SET NOT NULL.
        assert_eq!(runs.len(), 9, "round {round}: {runs:?}");
        assert!(
            runs.iter().any(|r| r["migration"]
                .as_str()
                .is_some_and(|m| m.ends_with("_backfill_user"))),
            "round {round}: {runs:?}"
        );
        assert!(
            runs.iter().all(|r| r["result"] == "applied"),
            "round {round}: {runs:?}"
        );
        assert_eq!(
            runs[0]["in_the_way"][0]["application_name"], "the-blocker",
            "round {round}: {}",
            runs[0]
        );
        assert!(
            runs[0]["waited_for_clear_ms"].as_f64().unwrap() > 10_000.0,
            "{}",
            runs[0]
        );
        // Writes went on while deploy waited 15 s for the blocker (the bench measures the figure).
        assert!(
            gap < Duration::from_millis(1000),
            "round {round}: writes stopped for {gap:?}"
        );
        // Prisma's bookkeeping: every folder recorded finished, none failed or rolled back.
        let recorded = rows(&database.url);
        assert_eq!(recorded.len(), 10, "round {round}: {recorded:?}");
        assert!(
            recorded.iter().all(|r| r.1 && !r.2 && r.3 == 1),
            "round {round}: {recorded:?}"
        );
        assert_eq!(
            one(&database.url, "SELECT attnotnull::text FROM pg_attribute WHERE attrelid = '\"User\"'::regclass AND attname = 'name'").as_deref(),
            Some("true")
        );
    }
}

/// Through a transaction-mode pooler deploy's session would not hold: with the project's `directUrl`
/// it deploys through that (and says so); without one it stops before connecting, naming the way out.
#[test]
fn a_pooled_url_is_deployed_through_the_projects_direct_url_or_refused() {
    let Some(server) = server_url() else { return };
    let temp = tempfile::tempdir().unwrap();
    let database = ScratchDatabase::create(&server, None).unwrap();
    let dir = migrations_dir(temp.path(), &[("1_init", SEED)]);
    // Nothing listens on port 1: a connection through the pooled URL would fail loudly.
    let pooled = "postgresql://app:secret@127.0.0.1:1/app?pgbouncer=true&connection_limit=1";
    let refused = deploy(&dir, pooled, &[]);
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    let message = stderr(&refused);
    assert!(
        message.contains("goes through a connection pooler (pgbouncer=true")
            && message.contains("nothing was applied")
            && message.contains("--database-url")
            && message.contains("directUrl"),
        "{message}"
    );
    assert!(!message.contains("secret"), "{message}");

    let schema_dir = dir.parent().unwrap();
    std::fs::write(
        schema_dir.join("schema.prisma"),
        "datasource db {\n  provider  = \"postgresql\"\n  url       = env(\"DATABASE_URL\")\n  directUrl = env(\"MIGRATE_SAFE_TEST_DIRECT_URL\")\n}\n",
    )
    .unwrap();
    let output = binary()
        .arg("deploy")
        .arg(&dir)
        .args(["--database-url", pooled, "--format", "json"])
        .env("MIGRATE_SAFE_TEST_DIRECT_URL", &database.url)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stderr(&output)
            .contains("deploying through directUrl = env(\"MIGRATE_SAFE_TEST_DIRECT_URL\") in"),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        one(&database.url, "SELECT count(*)::text FROM \"User\"").as_deref(),
        Some("500")
    );

    // Prisma 7 keeps no directUrl: the datasource URL of prisma.config.ts is the one it migrates
    // through (nothing is pending any more; reaching the database at all is the point).
    std::fs::remove_file(schema_dir.join("schema.prisma")).unwrap();
    std::fs::write(
        schema_dir.join("prisma.config.ts"),
        "import { defineConfig, env } from \"prisma/config\";\nexport default defineConfig({\n  schema: \"schema.prisma\",\n  datasource: { url: env(\"MIGRATE_SAFE_TEST_DIRECT_URL\") },\n});\n",
    )
    .unwrap();
    let output = binary()
        .arg("deploy")
        .arg(&dir)
        .args(["--database-url", pooled])
        .env("MIGRATE_SAFE_TEST_DIRECT_URL", &database.url)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stderr(&output)
            .contains("deploying through datasource.url (env MIGRATE_SAFE_TEST_DIRECT_URL) in"),
        "{}",
        stderr(&output)
    );
    assert!(
        stdout(&output).contains("Nothing to deploy"),
        "{}",
        stdout(&output)
    );
}

/// SIGKILL of deploy in the middle of a batched backfill, then deploy again: the batches committed so
/// far stay, `status` reads the folder as a backfill to run again, the rerun finishes the rest (every
/// row filled once), the NOT NULL is set and no trigger is left.
#[test]
fn a_backfill_killed_mid_batches_is_finished_by_the_rerun() {
    let Some(server) = server_url() else { return };
    let (_temp, database, dir) = seeded(&server, &[]);
    connect(&database.url)
        .unwrap()
        .batch_execute(r#"INSERT INTO "Post" ("authorId", "title") SELECT g % 500 + 1, 't' || g FROM generate_series(1, 300000) g"#)
        .unwrap();
    migrations_dir(
        dir.parent().unwrap(),
        &[(
            "2_slug",
            "ALTER TABLE \"Post\" ADD COLUMN \"slug\" TEXT;\n\nUPDATE \"Post\" SET \"slug\" = 'post-' || \"id\" WHERE \"slug\" IS NULL;\n\nALTER TABLE \"Post\" ALTER COLUMN \"slug\" SET NOT NULL;\n",
        )],
    );
    let rewrite = run(&["rewrite", dir.to_str().unwrap(), "--no-verify"]);
    assert_eq!(rewrite.status.code(), Some(0), "{}", stderr(&rewrite));
    let backfill = "2_slug_01_backfill_post";
    assert!(dir.join(backfill).is_dir(), "{}", stdout(&rewrite));

    // 0 until the column exists.
    let filled = || -> i64 {
        connect(&database.url)
            .unwrap()
            .query_one(
                r#"SELECT count(*) FROM "Post" WHERE "slug" IS NOT NULL"#,
                &[],
            )
            .map_or(0, |row| row.get(0))
    };
    let mut child = spawn_deploy(&dir, &database.url, &[]);
    wait_until("a few batches", Duration::from_secs(60), || {
        filled() >= 5000
    });
    child.kill().unwrap();
    let _ = child.wait();
    wait_until("the killed session to end", Duration::from_secs(20), || {
        one(&database.url, "SELECT count(*)::text FROM pg_stat_activity WHERE application_name = 'migrate-safe deploy' AND datname = current_database()").as_deref() == Some("0")
    });
    let done = filled();
    assert!(
        done < 302_000,
        "killed after every batch ({done} rows): the test needs a longer backfill"
    );
    let status = status_json(&dir, &database.url);
    assert_eq!(
        status["failed"][backfill]["diagnosis"]["left"], "backfill",
        "{status}"
    );

    let rerun = deploy(&dir, &database.url, &[]);
    assert_eq!(rerun.status.code(), Some(0), "{}", stderr(&rerun));
    assert_eq!(
        one(
            &database.url,
            r#"SELECT count(*)::text FROM "Post" WHERE "slug" IS DISTINCT FROM 'post-' || "id""#
        )
        .as_deref(),
        Some("0")
    );
    assert_eq!(
        one(
            &database.url,
            "SELECT count(*)::text FROM pg_trigger WHERE NOT tgisinternal"
        )
        .as_deref(),
        Some("0")
    );
    let recorded: Vec<(String, bool, bool)> = rows(&database.url)
        .into_iter()
        .filter(|r| r.0 == backfill)
        .map(|r| (r.0, r.1, r.2))
        .collect();
    assert_eq!(
        recorded,
        [
            (backfill.to_string(), false, true),
            (backfill.to_string(), true, false)
        ],
        "the killed run rolled back, the rerun applied"
    );
}
