//! Batched backfills keep the data: generated UPDATE / DELETE backfills on seeded tables (several
//! batches each), the original and the rewrite applied the way Prisma applies them under both of its
//! apply models, and the rewrite deployed by `migrate-safe deploy`, must leave every table with the same rows (a checksum per table) and no trigger or
//! function behind. And with the old application writing during the batches, no write fails and no
//! row escapes the backfill.

use crate::common;

use std::fs;
use std::path::Path;

use common::*;
use migrate_safe::prisma::ApplyModel;
use proptest::prelude::*;

/// 2,500 items (three batches), a table without a primary key (walked by pages).
const INIT: &str = r#"CREATE TABLE "Owner" ("id" INTEGER NOT NULL, "email" TEXT NOT NULL, CONSTRAINT "Owner_pkey" PRIMARY KEY ("id"));
CREATE TABLE "Item" ("id" SERIAL NOT NULL, "name" TEXT, "qty" INTEGER NOT NULL DEFAULT 0, "kind" TEXT, "ownerId" INTEGER, CONSTRAINT "Item_pkey" PRIMARY KEY ("id"));
CREATE TABLE "Log" ("line" TEXT, "n" INTEGER);
INSERT INTO "Owner" SELECT g, 'owner' || g || '@example.com' FROM generate_series(1, 40) g;
INSERT INTO "Item" ("name", "qty", "kind", "ownerId")
  SELECT CASE WHEN g % 4 = 0 THEN NULL ELSE 'item ' || g END, g % 11, (ARRAY['a', 'b', NULL])[1 + g % 3], CASE WHEN g % 5 = 0 THEN NULL ELSE 1 + g % 50 END
  FROM generate_series(1, 2500) g;
INSERT INTO "Log" SELECT 'line ' || g, g FROM generate_series(1, 3000) g;
"#;

const ASSIGNMENTS: &[&str] = &[
    r#""name" = 'x'"#,
    r#""name" = upper("kind")"#,
    r#""name" = coalesce("kind", 'none') || '-' || "id""#,
    r#""name" = NULL"#,
    r#""qty" = "id" % 7"#,
    r#""qty" = length(coalesce("kind", '')), "name" = lower("kind")"#,
];

const CONDITIONS: &[&str] = &[
    "",
    r#" WHERE "kind" = 'a'"#,
    r#" WHERE "id" % 3 = 0"#,
    r#" WHERE "name" IS NULL"#,
    r#" WHERE "kind" IS NULL OR "qty" > 3"#,
];

/// Statements that are not a plain `UPDATE "Item" SET .. WHERE ..`.
const OTHER_SHAPES: &[&str] = &[
    r#"UPDATE "Item" AS i SET "name" = o."email" FROM "Owner" o WHERE o."id" = i."ownerId""#,
    r#"DELETE FROM "Item" WHERE "kind" = 'b'"#,
    r#"DELETE FROM "Item" i USING "Owner" o WHERE o."id" = i."ownerId" AND o."id" % 2 = 0"#,
    r#"DELETE FROM "Item" WHERE NOT EXISTS (SELECT 1 FROM "Owner" o WHERE o."id" = "Item"."ownerId")"#,
    r#"UPDATE "Log" SET "line" = 'even ' || "n" WHERE "n" % 2 = 0"#,
    r#"UPDATE "Item" SET "extra" = "kind" || "id" WHERE "kind" IS NOT NULL"#,
];

/// A change migration: an optional ADD COLUMN before, the backfill, an optional SET NOT NULL after.
fn change() -> impl Strategy<Value = String> {
    let update = (
        prop::sample::select(ASSIGNMENTS),
        prop::sample::select(CONDITIONS),
    )
        .prop_map(|(set, condition)| format!(r#"UPDATE "Item" SET {set}{condition}"#));
    let backfill = prop_oneof![
        update,
        prop::sample::select(OTHER_SHAPES).prop_map(String::from)
    ];
    (backfill, any::<bool>(), any::<bool>()).prop_map(|(backfill, add_column, not_null)| {
        let add = add_column || backfill.contains("\"extra\"");
        let mut sql = String::new();
        if add {
            sql.push_str("-- AlterTable\nALTER TABLE \"Item\" ADD COLUMN \"extra\" TEXT;\n\n");
        }
        sql.push_str(&format!("{backfill};\n"));
        if not_null && backfill.starts_with("UPDATE \"Item\" SET \"name\"") {
            sql.push_str(
                "\n-- AlterTable\nALTER TABLE \"Item\" ALTER COLUMN \"name\" SET NOT NULL;\n",
            );
        }
        sql
    })
}

fn write_dir(root: &Path, change: &str) {
    for (name, sql) in [("1_init", INIT), ("2_change", change)] {
        fs::create_dir_all(root.join(name)).unwrap();
        fs::write(root.join(name).join("migration.sql"), sql).unwrap();
    }
    fs::write(
        root.join("migration_lock.toml"),
        "provider = \"postgresql\"\n",
    )
    .unwrap();
}

/// `change` after INIT in a new migrations directory, rewritten: its migrations, checked by name.
fn rewritten(
    root: &Path,
    change: &str,
    expected: &[&str],
) -> Vec<migrate_safe::source::discover::Migration> {
    let dir = root.join("migrations");
    write_dir(&dir, change);
    let output = run(&["rewrite", dir.to_str().unwrap(), "--no-verify"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let migrations = migrate_safe::source::discover::discover(&dir)
        .unwrap()
        .migrations;
    let names: Vec<&str> = migrations.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, expected);
    migrations
}

/// Each table's rows, as one checksum per table; and the triggers and functions left.
fn contents(client: &mut postgres::Client) -> (Vec<String>, i64) {
    let checksums = ["Owner", "Item", "Log"]
        .iter()
        .map(|table| {
            client
                .query_one(
                    &format!(
                        r#"SELECT coalesce(md5(string_agg(t::text, ',' ORDER BY t::text)), 'empty') FROM "{table}" t"#
                    ),
                    &[],
                )
                .unwrap()
                .get(0)
        })
        .collect();
    let left: i64 = client
        .query_one(
            "SELECT (SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal) + (SELECT count(*) FROM pg_proc WHERE proname LIKE 'migrate_safe%')",
            &[],
        )
        .unwrap()
        .get(0);
    (checksums, left)
}

/// Each run draws new shapes; 48 at a time passed when this was written.
const CASES: u32 = 12;

#[test]
fn a_batched_backfill_leaves_the_rows_the_original_leaves_under_both_deployers_and_apply_models() {
    let Some(server) = live::server_url() else {
        return;
    };
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: CASES,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    let batched = std::cell::Cell::new(0);
    runner
        .run(&change(), |change| {
            let root = tempfile::tempdir().unwrap();
            let original = root.path().join("original");
            let rewritten = root.path().join("rewritten");
            write_dir(&original, &change);
            write_dir(&rewritten, &change);
            let output = run(&["rewrite", rewritten.to_str().unwrap(), "--no-verify"]);
            prop_assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
            // Every generated shape is one the fix batches.
            let folders: Vec<String> = fs::read_dir(&rewritten)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            prop_assert!(
                folders.iter().any(|f| f.contains("_backfill_")),
                "no batched backfill for:\n{change}\n{}",
                stdout(&output)
            );
            let mut expected_rows = None;
            for model in ApplyModel::ALL {
                let Ok(before) = live::apply_dir(&server, &original, model) else {
                    continue; // the original fails (a SET NOT NULL over NULLs): nothing to compare
                };
                let after = live::apply_dir(&server, &rewritten, model).map_err(|e| {
                    TestCaseError::fail(format!(
                        "the rewrite failed under {model:?}: {e}\n{change}"
                    ))
                })?;
                let expected = contents(&mut before.connect().unwrap());
                let actual = contents(&mut after.connect().unwrap());
                prop_assert_eq!(
                    &actual.0,
                    &expected.0,
                    "rows differ under {:?}:\n{}",
                    model,
                    change
                );
                prop_assert_eq!(
                    actual.1,
                    0,
                    "a trigger or function left behind:\n{}",
                    change
                );
                batched.set(batched.get() + 1);
                expected_rows = Some(expected.0);
            }
            // The other deployer: `migrate-safe deploy` runs the rewrite, the batches alone.
            if let Some(expected) = expected_rows {
                let database = migrate_safe::db::ScratchDatabase::create(&server, None).unwrap();
                let deployed = binary()
                    .args([
                        "deploy",
                        rewritten.to_str().unwrap(),
                        "--database-url",
                        &database.url,
                    ])
                    .output()
                    .unwrap();
                prop_assert_eq!(
                    deployed.status.code(),
                    Some(0),
                    "{}\n{}",
                    stderr(&deployed),
                    change
                );
                let actual = contents(&mut database.connect().unwrap());
                prop_assert_eq!(
                    &actual.0,
                    &expected,
                    "rows differ deployed by migrate-safe:\n{}",
                    change
                );
                prop_assert_eq!(
                    actual.1,
                    0,
                    "a trigger or function left behind:\n{}",
                    change
                );
            }
            Ok(())
        })
        .unwrap();
    assert!(batched.get() > 0, "no generated backfill applied");
}

/// The old application inserts rows without the new column and updates others while the batches
/// run: none of its writes fails, and afterwards every row has the backfilled value (the trigger
/// covered what the batches could not see), the NOT NULL is set and the trigger is gone.
#[test]
fn writes_during_the_batches_succeed_and_none_escapes_the_backfill() {
    let Some(server) = live::server_url() else {
        return;
    };
    let change = r#"-- AlterTable
ALTER TABLE "Item" ADD COLUMN "label" TEXT;

UPDATE "Item" SET "label" = coalesce("kind", 'none') || '#' || "id" WHERE "label" IS NULL;

-- AlterTable
ALTER TABLE "Item" ALTER COLUMN "label" SET NOT NULL;
"#;
    let root = tempfile::tempdir().unwrap();
    let migrations = rewritten(
        root.path(),
        change,
        &[
            "1_init",
            "2_change",
            "2_change_01_backfill_item",
            "2_change_02_validate_constraints",
            "2_change_03_set_not_null",
        ],
    );
    let database = migrate_safe::db::ScratchDatabase::create(&server, None).unwrap();
    let mut client = database.connect().unwrap();
    let model = ApplyModel::OneQuery;
    let apply = |client: &mut postgres::Client, m: &migrate_safe::source::discover::Migration| {
        migrate_safe::prisma::apply::apply_migration(client, &m.name, &m.sql, model)
            .unwrap_or_else(|e| panic!("{}: {e}", m.name))
    };
    // More rows, so the batches take long enough for the writers to meet them.
    apply(&mut client, &migrations[0]);
    client
        .batch_execute(
            r#"INSERT INTO "Item" ("name", "kind") SELECT 'more ' || g, (ARRAY['a', NULL])[1 + g % 2] FROM generate_series(1, 40000) g"#,
        )
        .unwrap();
    apply(&mut client, &migrations[1]);
    // The old application: it knows nothing of "label".
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writers: Vec<_> = (0..2)
        .map(|w| {
            let url = database.url.clone();
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut app = migrate_safe::db::connect(&url).unwrap();
                let (mut writes, mut failed) = (0u32, Vec::new());
                while !stop.load(std::sync::atomic::Ordering::Relaxed) || writes < 20 {
                    let id = 1 + (writes * 7919 + w * 104_729) % 42_000;
                    let result = if writes % 2 == 0 {
                        app.execute(
                            r#"INSERT INTO "Item" ("name", "kind") VALUES ($1, 'new')"#,
                            &[&format!("app {w}-{writes}")],
                        )
                    } else {
                        app.execute(
                            r#"UPDATE "Item" SET "qty" = "qty" + 1 WHERE "id" = $1"#,
                            &[&(id as i32)],
                        )
                    };
                    if let Err(e) = result {
                        failed.push(migrate_safe::db::describe(&e));
                    }
                    writes += 1;
                }
                (writes, failed)
            })
        })
        .collect();
    // The batches and the validation run while the old application writes; its inserts without the
    // column end with the NOT NULL (as after the original), so it stops before that folder.
    for m in &migrations[2..4] {
        apply(&mut client, m);
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut total = 0;
    for writer in writers {
        let (writes, failed) = writer.join().unwrap();
        assert!(failed.is_empty(), "application writes failed: {failed:?}");
        total += writes;
    }
    apply(&mut client, &migrations[4]);
    assert!(total >= 40, "the writers wrote {total} times");
    let wrong: i64 = client
        .query_one(
            r#"SELECT count(*) FROM "Item" WHERE "label" IS DISTINCT FROM coalesce("kind", 'none') || '#' || "id""#,
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(wrong, 0, "rows escaped the backfill");
    let (_, left) = contents(&mut client);
    assert_eq!(left, 0, "the trigger or its function is left");
    let not_null: bool = client
        .query_one(
            r#"SELECT attnotnull FROM pg_attribute WHERE attrelid = '"Item"'::regclass AND attname = 'label'"#,
            &[],
        )
        .unwrap()
        .get(0);
    assert!(not_null);
}

/// The batches take their size from the session (`deploy --batch-size` sets it): 2,500 rows at 700 a
/// batch are four batches, each reported by its notice.
#[test]
fn the_batch_size_comes_from_the_session() {
    let Some(server) = live::server_url() else {
        return;
    };
    let root = tempfile::tempdir().unwrap();
    let migrations = rewritten(
        root.path(),
        "UPDATE \"Item\" SET \"qty\" = \"id\" % 5;\n",
        &["1_init", "2_change", "2_change_01_backfill_item"],
    );
    let database = migrate_safe::db::ScratchDatabase::create(&server, None).unwrap();
    let mut client = database.connect().unwrap();
    for m in &migrations[..2] {
        migrate_safe::prisma::apply::apply_migration(
            &mut client,
            &m.name,
            &m.sql,
            ApplyModel::OneQuery,
        )
        .unwrap();
    }
    let notices = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = notices.clone();
    let mut session = migrate_safe::db::connect_with_notices(&database.url, move |n| {
        seen.lock().unwrap().push(n.to_string());
    })
    .unwrap();
    session
        .batch_execute("SET migrate_safe.batch_rows = 700")
        .unwrap();
    let backfill = &migrations[2];
    assert!(
        backfill.name.ends_with("_backfill_item"),
        "{}",
        backfill.name
    );
    session.batch_execute(&backfill.sql).unwrap();
    let walked: Vec<u64> = notices
        .lock()
        .unwrap()
        .iter()
        .filter_map(|n| migrate_safe::deploy::backfill::parse(n).map(|(walked, ..)| walked))
        .collect();
    assert_eq!(walked, [700, 1400, 2100, 2500]);
}

/// `ADD COLUMN .. NOT NULL DEFAULT gen_random_uuid()` on a table with rows, rewritten: added without
/// its default, then filled in batches while the old application inserts and updates rows; afterwards
/// every row has its own value, the column is NOT NULL with its default, and no write failed.
#[test]
fn a_volatile_default_is_filled_in_batches_with_a_value_per_row() {
    let Some(server) = live::server_url() else {
        return;
    };
    let root = tempfile::tempdir().unwrap();
    let migrations = rewritten(
        root.path(),
        "-- AlterTable\nALTER TABLE \"Item\" ADD COLUMN \"uid\" UUID NOT NULL DEFAULT gen_random_uuid();\n",
        &[
            "1_init",
            "2_change",
            "2_change_01_backfill_item",
            "2_change_02_validate_constraints",
            "2_change_03_set_not_null",
        ],
    );
    assert!(!migrations[1].sql.contains("NOT NULL DEFAULT"));
    let database = migrate_safe::db::ScratchDatabase::create(&server, None).unwrap();
    let mut client = database.connect().unwrap();
    let apply = |client: &mut postgres::Client, m: &migrate_safe::source::discover::Migration| {
        migrate_safe::prisma::apply::apply_migration(
            client,
            &m.name,
            &m.sql,
            ApplyModel::PerStatement,
        )
        .unwrap_or_else(|e| panic!("{}: {e}", m.name))
    };
    apply(&mut client, &migrations[0]);
    client
        .batch_execute(
            r#"INSERT INTO "Item" ("name") SELECT 'more ' || g FROM generate_series(1, 30000) g"#,
        )
        .unwrap();
    apply(&mut client, &migrations[1]);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let url = database.url.clone();
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut app = migrate_safe::db::connect(&url).unwrap();
            let mut failed = Vec::new();
            let mut writes = 0u32;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) || writes < 20 {
                let result = if writes.is_multiple_of(2) {
                    app.execute(r#"INSERT INTO "Item" ("name") VALUES ('app')"#, &[])
                } else {
                    app.execute(
                        r#"UPDATE "Item" SET "qty" = "qty" + 1 WHERE "id" = $1"#,
                        &[&(1 + (writes as i32 * 7919) % 32_000)],
                    )
                };
                if let Err(e) = result {
                    failed.push(migrate_safe::db::describe(&e));
                }
                writes += 1;
            }
            failed
        })
    };
    for m in &migrations[2..] {
        apply(&mut client, m);
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let failed = writer.join().unwrap();
    assert!(failed.is_empty(), "application writes failed: {failed:?}");
    let row = client
        .query_one(
            r#"SELECT count(*), count("uid"), count(DISTINCT "uid") FROM "Item""#,
            &[],
        )
        .unwrap();
    let (rows, filled, distinct): (i64, i64, i64) = (row.get(0), row.get(1), row.get(2));
    assert_eq!((filled, distinct), (rows, rows));
    let row = client
        .query_one(
            r#"SELECT attnotnull, pg_get_expr(adbin, adrelid) FROM pg_attribute LEFT JOIN pg_attrdef ON adrelid = attrelid AND adnum = attnum WHERE attrelid = '"Item"'::regclass AND attname = 'uid'"#,
            &[],
        )
        .unwrap();
    let (not_null, default): (bool, Option<String>) = (row.get(0), row.get(1));
    assert!(not_null);
    assert_eq!(default.as_deref(), Some("gen_random_uuid()"));
    assert_eq!(
        contents(&mut client).1,
        0,
        "the trigger or its function is left"
    );
}
