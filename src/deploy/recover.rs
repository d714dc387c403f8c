//! Failed migrations (Prisma's P3009) that deploy can resolve without a person, because it can prove
//! that nothing of them stays applied — or that all of it does:
//! - a failure deploy recorded itself after rolling its transaction back (its `logs` say so);
//! - a lone `CREATE INDEX CONCURRENTLY`: its index is absent (nothing applied), INVALID (dropped
//!   concurrently, then nothing applied) or valid (the build finished before the row was: applied).
//!
//! Any other failed migration stops the run with the steps to resolve it, as Prisma does.

use postgres::Client;
use serde::Serialize;

use super::apply::{NOTHING_APPLIED, invalid_index};
use super::plan::{Shape, plan};
use crate::prisma::history::{MigrationStatus, State};
use crate::source::discover::MigrationsDir;

#[derive(Debug, Clone, Serialize)]
pub struct Recovered {
    pub migration: String,
    /// What was done (or, in a dry run, would be).
    pub action: String,
    /// Whether it is pending again (marked rolled back) rather than marked applied.
    pub pending_again: bool,
}

pub enum Stop {
    Unresolved {
        migration: String,
        steps: Vec<String>,
    },
    Database(postgres::Error),
}

impl From<postgres::Error> for Stop {
    fn from(error: postgres::Error) -> Self {
        Stop::Database(error)
    }
}

enum Verdict {
    RolledBack(String),
    Applied(String),
}

pub fn failed(
    client: &mut Client,
    dir: &MigrationsDir,
    history: &[MigrationStatus],
    dry_run: bool,
    events: super::apply::Events<'_>,
) -> Result<Vec<Recovered>, Stop> {
    let mut recovered = Vec::new();
    for status in history.iter().filter(|m| m.state == State::Failed) {
        let name = &status.migration;
        let Some(migration) = dir.get(name) else {
            continue;
        };
        let row = client.query_opt(
            r#"SELECT "id"::text, "logs" FROM "_prisma_migrations" WHERE "migration_name" = $1 AND "finished_at" IS NULL AND "rolled_back_at" IS NULL ORDER BY "started_at" DESC LIMIT 1"#,
            &[name],
        )?;
        let Some(row) = row else { continue };
        let (id, logs): (String, Option<String>) = (row.get(0), row.get(1));
        let verdict = if logs.as_deref().is_some_and(|l| l.contains(NOTHING_APPLIED)) {
            Verdict::RolledBack(
                "deploy rolled it back itself (its logs say so): marked rolled back, to run again"
                    .into(),
            )
        } else {
            match plan(migration).map(|p| p.shape) {
                Ok(Shape::Alone {
                    builds_index: Some(index),
                    ..
                }) if let Some(pid) = still_building(client, &index)? => {
                    return Err(Stop::Unresolved {
                        migration: name.clone(),
                        steps: vec![format!(
                            "session {pid} is still building {index} (the session of a deploy that was killed goes on until the build ends): wait for it (pg_stat_progress_create_index), then deploy again"
                        )],
                    });
                }
                Ok(Shape::Alone {
                    builds_index: Some(index),
                    ..
                }) => match invalid_index(client, &index)? {
                    None => Verdict::RolledBack(format!(
                        "its build left no index {index}: marked rolled back, to build again"
                    )),
                    Some(true) => {
                        let drop = format!("DROP INDEX CONCURRENTLY IF EXISTS {index}");
                        if !dry_run {
                            client.batch_execute(&drop)?;
                        }
                        Verdict::RolledBack(format!(
                            "its build left {index} INVALID: dropped it ({drop}) and marked the migration rolled back, to build again"
                        ))
                    }
                    Some(false) => Verdict::Applied(format!(
                        "{index} is built and valid (the build finished, its row did not): marked applied"
                    )),
                },
                _ => {
                    return Err(Stop::Unresolved {
                        migration: name.clone(),
                        steps: vec![
                            format!(
                                "see what it left behind: `migrate-safe status` (its logs: {})",
                                logs.as_deref()
                                    .unwrap_or("none")
                                    .lines()
                                    .next()
                                    .unwrap_or("none")
                            ),
                            format!(
                                "if nothing of it is applied (or you reverted it): `prisma migrate resolve --rolled-back {}`, then deploy again",
                                crate::escape::shell(name)
                            ),
                            format!(
                                "if you completed it by hand: `prisma migrate resolve --applied {}`",
                                crate::escape::shell(name)
                            ),
                        ],
                    });
                }
            }
        };
        let (action, pending_again, update) = match verdict {
            Verdict::RolledBack(action) => (
                action,
                true,
                r#"UPDATE "_prisma_migrations" SET "rolled_back_at" = now() WHERE "id" = $1"#,
            ),
            Verdict::Applied(action) => (
                action,
                false,
                r#"UPDATE "_prisma_migrations" SET "finished_at" = now(), "applied_steps_count" = 1 WHERE "id" = $1"#,
            ),
        };
        if !dry_run {
            client.execute(update, &[&id])?;
        }
        events(format!(
            "{}{name} had failed: {action}",
            if dry_run {
                "would recover: "
            } else {
                "recovered: "
            }
        ));
        recovered.push(Recovered {
            migration: name.clone(),
            action,
            pending_again,
        });
    }
    Ok(recovered)
}

/// The session still building `index`, if one is (a killed client's backend runs on).
fn still_building(
    client: &mut Client,
    index: &crate::source::names::QualifiedName,
) -> Result<Option<i32>, postgres::Error> {
    Ok(client
        .query_opt(
            "SELECT pid FROM pg_stat_progress_create_index WHERE index_relid = to_regclass($1)",
            &[&index.to_string()],
        )?
        .map(|row| row.get(0)))
}
