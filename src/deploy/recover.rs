//! Failed migrations (Prisma's P3009) that deploy can resolve without a person, because it can prove
//! that nothing of them stays applied — or that all of it does: the reading is
//! [`crate::prisma::failed::diagnose`], the one `status` shows. Any other failed migration stops the
//! run with the steps to resolve it, as Prisma does.

use postgres::Client;
use serde::Serialize;

use crate::prisma::failed::{Diagnosis, diagnose};
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
        // The same reading `status` shows: what is said there is what is done here.
        let diagnosis = diagnose(client, migration, logs.as_deref())?;
        let action = diagnosis.deploy_action();
        let pending_again = match &diagnosis {
            Diagnosis::RolledBackByDeploy | Diagnosis::NoIndex { .. } | Diagnosis::Backfill => true,
            Diagnosis::InvalidIndex { index } => {
                if !dry_run {
                    client.batch_execute(&format!("DROP INDEX CONCURRENTLY IF EXISTS {index}"))?;
                }
                true
            }
            Diagnosis::BuiltIndex { .. } => false,
            Diagnosis::StillBuilding { .. } | Diagnosis::StillBackfilling { .. } => {
                return Err(Stop::Unresolved {
                    migration: name.clone(),
                    steps: action.into_iter().collect(),
                });
            }
            Diagnosis::Unknown => {
                let mut steps = vec![format!(
                    "see what it left behind: `migrate-safe status` (its logs: {})",
                    logs.as_deref()
                        .unwrap_or("none")
                        .lines()
                        .next()
                        .unwrap_or("none")
                )];
                let quoted = crate::escape::shell(name);
                steps.push(format!(
                    "if nothing of it is applied (or you reverted it): `prisma migrate resolve --rolled-back {quoted}`, then deploy again"
                ));
                steps.push(format!(
                    "if you completed it by hand: `prisma migrate resolve --applied {quoted}`"
                ));
                return Err(Stop::Unresolved {
                    migration: name.clone(),
                    steps,
                });
            }
        };
        let action = action.unwrap_or_default();
        let update = if pending_again {
            r#"UPDATE "_prisma_migrations" SET "rolled_back_at" = now() WHERE "id" = $1"#
        } else {
            r#"UPDATE "_prisma_migrations" SET "finished_at" = now(), "applied_steps_count" = 1 WHERE "id" = $1"#
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
