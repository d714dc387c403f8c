//! `baseline` on a database that predates its migrations, then the life after it: a Prisma-style
//! migration rewritten against the baselined tables, applied, and a clean status.

use crate::common;

use std::fs;

use common::live::server_url;
use common::*;
use migrate_safe::db::ScratchDatabase;
use migrate_safe::prisma::ApplyModel;
use migrate_safe::prisma::apply::apply_migration;
use migrate_safe::prisma::bookkeeping::checksum;

fn legacy_database(server: &str) -> ScratchDatabase {
    let database = ScratchDatabase::create(server, None).unwrap();
    let sql = fs::read_to_string(project_root().join("tests/data/legacy-schema.sql")).unwrap();
    database.connect().unwrap().batch_execute(&sql).unwrap();
    database
}

#[test]
fn baseline_is_proven_recorded_and_the_history_goes_on_from_it() {
    let Some(server) = server_url() else { return };
    let database = legacy_database(&server);
    let temp = tempfile::tempdir().unwrap();
    // Not there yet: the baseline creates it (its parent exists).
    let dir = temp.path().join("migrations");
    let path = dir.to_str().unwrap();
    let verify = ["--scratch-url", server.as_str()];

    // Dry run: the SQL and the row are shown, nothing is written anywhere.
    let mut args = vec![
        "baseline",
        path,
        "--database-url",
        &database.url,
        "--dry-run",
    ];
    args.extend(verify);
    let dry = run(&args);
    assert_eq!(dry.status.code(), Some(0), "{}", stderr(&dry));
    assert!(
        stdout(&dry).contains("CREATE TABLE public.\"Membership\""),
        "{}",
        stdout(&dry)
    );
    assert!(stdout(&dry).contains("reproduces the database's catalog"));
    assert!(!dir.exists(), "a dry run creates nothing");
    let mut client = database.connect().unwrap();
    let table: Option<String> = client
        .query_one("SELECT to_regclass('_prisma_migrations')::text", &[])
        .unwrap()
        .get(0);
    assert_eq!(table, None);

    // For real: the file, and the row `prisma migrate resolve --applied 0_init` would write.
    let mut args = vec!["baseline", path, "--database-url", &database.url];
    args.extend(verify);
    let output = run(&args);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let sql = fs::read_to_string(dir.join("0_init/migration.sql")).unwrap();
    assert_eq!(
        fs::read_to_string(dir.join("migration_lock.toml")).unwrap(),
        migrate_safe::baseline::MIGRATION_LOCK
    );
    for needle in [
        "CREATE TYPE public.\"Role\"",
        "USING gin",
        "WHERE (\"deletedAt\" IS NULL)",
        "ON DELETE CASCADE",
        "CREATE VIEW public.\"ActiveAccount\"",
        "CREATE TRIGGER \"Account_touch\"",
    ] {
        assert!(sql.contains(needle), "{needle} missing from\n{sql}");
    }
    assert!(
        !sql.contains("\\restrict") && !sql.contains("set_config('search_path'"),
        "{sql}"
    );
    let row = client
        .query_one("SELECT migration_name, checksum, finished_at IS NOT NULL, logs, applied_steps_count FROM _prisma_migrations", &[])
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "0_init");
    assert_eq!(row.get::<_, String>(1), checksum(&sql));
    assert!(row.get::<_, bool>(2));
    assert_eq!(row.get::<_, Option<String>>(3).as_deref(), Some(""));
    assert_eq!(row.get::<_, i32>(4), 0);

    // Refused now: rows exist; and the folder exists.
    let again = run(&args);
    assert_eq!(again.status.code(), Some(2));
    assert!(
        stderr(&again).contains("already records 1 migration:"),
        "{}",
        stderr(&again)
    );

    // Status is clean.
    let status = run(&["status", path, "--database-url", &database.url]);
    assert_eq!(status.status.code(), Some(0), "{}", stdout(&status));

    // A later Prisma-style migration: the baselined tables count as existing.
    fs::write(
        dir.join("migration_lock.toml"),
        "provider = \"postgresql\"\n",
    )
    .unwrap();
    fs::create_dir_all(dir.join("20250101000000_account_names")).unwrap();
    fs::write(
        dir.join("20250101000000_account_names/migration.sql"),
        "-- AlterTable\nALTER TABLE \"Account\" ADD COLUMN \"name\" TEXT;\n\n-- CreateIndex\nCREATE INDEX \"Account_name_idx\" ON \"Account\"(\"name\");\n",
    )
    .unwrap();
    let rewrite = run(&["rewrite", path, "--database-url", &database.url]);
    assert_eq!(rewrite.status.code(), Some(0), "{}", stderr(&rewrite));
    assert!(
        stdout(&rewrite).contains("existing table \"Account\" (created in 0_init)"),
        "{}",
        stdout(&rewrite)
    );
    let moved = fs::read_to_string(
        dir.join("20250101000000_account_names_01_create_index_account_name_idx/migration.sql"),
    )
    .unwrap();
    assert!(moved.contains("CREATE INDEX CONCURRENTLY \"Account_name_idx\""));

    // Deployed the way Prisma does, then status is clean again.
    for name in [
        "20250101000000_account_names",
        "20250101000000_account_names_01_create_index_account_name_idx",
    ] {
        let sql = fs::read_to_string(dir.join(name).join("migration.sql")).unwrap();
        apply_migration(&mut client, name, &sql, ApplyModel::OneQuery).unwrap();
    }
    let status = run(&["status", path, "--database-url", &database.url]);
    assert!(
        stdout(&status).contains("3 applied, 0 pending"),
        "{}",
        stdout(&status)
    );
    assert_eq!(status.status.code(), Some(0));
}

#[test]
fn baseline_refuses_an_empty_database_and_an_existing_folder() {
    let Some(server) = server_url() else { return };
    let empty = ScratchDatabase::create(&server, None).unwrap();
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("migrations");
    fs::create_dir_all(&dir).unwrap();
    let output = run(&[
        "baseline",
        dir.to_str().unwrap(),
        "--database-url",
        &empty.url,
        "--scratch-url",
        &server,
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("the database is empty"),
        "{}",
        stderr(&output)
    );

    let legacy = legacy_database(&server);
    fs::create_dir_all(dir.join("0_init")).unwrap();
    fs::write(dir.join("0_init/migration.sql"), "SELECT 1;\n").unwrap();
    let output = run(&[
        "baseline",
        dir.to_str().unwrap(),
        "--database-url",
        &legacy.url,
        "--scratch-url",
        &server,
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("already exists"),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        fs::read_to_string(dir.join("0_init/migration.sql")).unwrap(),
        "SELECT 1;\n"
    );

    // --mark-applied records the existing folder, once.
    let output = run(&[
        "baseline",
        dir.to_str().unwrap(),
        "--database-url",
        &legacy.url,
        "--mark-applied",
        "0_init",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let output = run(&[
        "baseline",
        dir.to_str().unwrap(),
        "--database-url",
        &legacy.url,
        "--mark-applied",
        "0_init",
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("already recorded"),
        "{}",
        stderr(&output)
    );
}
