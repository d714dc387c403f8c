//! A first live proof: every fixture's original and rewritten directories applied to PostgreSQL the way
//! Prisma applies them — each file as one simple query (Prisma <= 7.3), and statement by statement
//! (7.4+) — both succeed, build the same schema, and leave no INVALID index and no NOT VALID
//! constraint.

use crate::common;

use common::live::{apply_dir, server_url};
use common::*;
use migrate_safe::db::catalog::{diff, hazards, snapshot};
use migrate_safe::prisma::ApplyModel;

#[test]
fn rewritten_fixtures_apply_like_prisma_and_build_the_same_schema() {
    let Some(server) = server_url() else { return };
    for (fixture, model) in fixtures()
        .into_iter()
        .flat_map(|f| ApplyModel::ALL.map(|m| (f.clone(), m)))
    {
        let original = apply_dir(&server, &fixture.join("migrations"), model)
            .unwrap_or_else(|e| panic!("{} ({model:?}): original: {e}", fixture.display()));
        let rewritten = apply_dir(&server, &fixture.join("expected"), model)
            .unwrap_or_else(|e| panic!("{} ({model:?}): rewritten: {e}", fixture.display()));
        let mut original_client = original.connect().unwrap();
        let mut rewritten_client = rewritten.connect().unwrap();
        let before = snapshot(&mut original_client).unwrap();
        let after = snapshot(&mut rewritten_client).unwrap();
        assert!(!before.lines.is_empty());
        assert_eq!(
            diff(&before, &after),
            Vec::<String>::new(),
            "{} ({model:?}): schemas differ",
            fixture.display()
        );
        assert_eq!(
            hazards(&mut rewritten_client).unwrap(),
            vec![],
            "{}",
            fixture.display()
        );
    }
}

#[test]
fn scratch_databases_are_dropped() {
    let Some(server) = server_url() else { return };
    let name = {
        let database = apply_dir(
            &server,
            &fixtures()[0].join("migrations"),
            ApplyModel::PerStatement,
        )
        .unwrap();
        database.name.clone()
    };
    let mut admin = migrate_safe::db::connect(&server).unwrap();
    let left = admin
        .query("SELECT 1 FROM pg_database WHERE datname = $1", &[&name])
        .unwrap();
    assert!(left.is_empty(), "{name} still exists");
}
