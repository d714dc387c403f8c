//! Tests against a real PostgreSQL (127.0.0.1:5432, or `MIGRATE_SAFE_TEST_URL`; with `CI=true` a
//! missing server fails them): proofs, deploys under load, status, baseline, TLS, containers, the
//! real-history corpora. (`check`'s tests, which count the server's scratch databases, have a binary of
//! their own: tests/live_check.rs.)

#[path = "../common/mod.rs"]
mod common;

mod backfill;
mod baseline;
mod catalog;
mod container;
mod corpus;
mod deploy;
mod fixtures;
mod prisma7_models;
mod properties;
mod prove;
mod status;
mod tls;
