//! `rewrite --verify`: prove a rewrite before writing it. The history before the target is applied once,
//! cloned (CREATE DATABASE .. TEMPLATE) into two databases; the original migration goes into one, the
//! rewritten sequence into the other, and their catalogs must be equal, with no INVALID index and no
//! NOT VALID constraint left. Under each apply model the project's Prisma may use, separately: a
//! rewrite must hold for the way the files will really run.

use serde::Serialize;

use crate::db::ScratchDatabase;
use crate::db::catalog::{diff, hazards, snapshot};
use crate::db::provision::Server;
use crate::error::{Error, Result};
use crate::fix::plan::MigrationPlan;
use crate::prisma::ApplyModel;
use crate::prisma::apply::apply_migration;
use crate::source::discover::MigrationsDir;

#[derive(Debug, Clone, Serialize)]
pub struct Verification {
    pub migration: String,
    /// How both sequences were applied.
    pub model: ApplyModel,
    /// Catalog lines only in the original (`- `) or only in the rewrite (`+ `).
    pub differences: Vec<String>,
    /// INVALID indexes / NOT VALID constraints left by the rewritten sequence.
    pub hazards: Vec<String>,
    /// A file that failed to apply.
    pub failure: Option<String>,
}

impl Verification {
    pub fn proven(&self) -> bool {
        self.differences.is_empty() && self.hazards.is_empty() && self.failure.is_none()
    }
}

fn db(e: impl std::fmt::Display) -> Error {
    Error::Database(e.to_string())
}

pub fn verify(
    dir: &MigrationsDir,
    plans: &[MigrationPlan],
    server: &Server,
    models: &[ApplyModel],
) -> Result<Vec<Verification>> {
    // The history was applied for real by some earlier Prisma: the most lenient model builds it (7.4+
    // splits what it can and runs the rest as one query, as before).
    let history_model = *models.iter().max().expect("at least one apply model");
    let template = ScratchDatabase::create(&server.admin_url, None).map_err(db)?;
    let mut next = 0; // first migration not yet in the template
    let mut results = Vec::new();
    let progress = crate::progress::bar(
        plans.iter().filter(|p| p.changes_anything()).count(),
        "verifying",
    );
    for plan in plans.iter().filter(|p| p.changes_anything()) {
        progress.set_message(plan.migration.clone());
        progress.inc(1);
        let target = dir
            .migrations
            .iter()
            .position(|m| m.name == plan.migration)
            .expect("planned migration exists");
        {
            let mut client = template.connect().map_err(db)?;
            for migration in &dir.migrations[next..target] {
                apply_migration(&mut client, &migration.name, &migration.sql, history_model)
                    .map_err(|e| {
                        Error::Database(format!(
                            "applying the history before {}: {e}",
                            plan.migration
                        ))
                    })?;
            }
        } // the template must have no connection while it is cloned
        next = target;
        for &model in models {
            results.push(verify_one(plan, server, &template, model)?);
        }
    }
    progress.finish_and_clear();
    Ok(results)
}

/// Original and rewrite of one plan, each on a clone of `template`, applied under `model`.
fn verify_one(
    plan: &MigrationPlan,
    server: &Server,
    template: &ScratchDatabase,
    model: ApplyModel,
) -> Result<Verification> {
    let original = ScratchDatabase::create(&server.admin_url, Some(&template.name)).map_err(db)?;
    let rewritten = ScratchDatabase::create(&server.admin_url, Some(&template.name)).map_err(db)?;
    let mut original_client = original.connect().map_err(db)?;
    let mut rewritten_client = rewritten.connect().map_err(db)?;
    let mut failure = apply_migration(
        &mut original_client,
        &plan.migration,
        &plan.original_sql,
        model,
    )
    .err()
    .map(|e| format!("the original failed: {e}"));
    let sequence = std::iter::once((plan.migration.as_str(), plan.rewritten_sql.as_str())).chain(
        plan.new_migrations
            .iter()
            .map(|m| (m.name.as_str(), m.sql.as_str())),
    );
    for (name, sql) in sequence {
        if failure.is_some() {
            break;
        }
        failure = apply_migration(&mut rewritten_client, name, sql, model)
            .err()
            .map(|e| e.to_string());
    }
    let (differences, hazards) = if failure.is_none() {
        let before = snapshot(&mut original_client).map_err(db)?;
        let after = snapshot(&mut rewritten_client).map_err(db)?;
        let hazards = hazards(&mut rewritten_client)
            .map_err(db)?
            .into_iter()
            .map(|h| format!("{h:?}"))
            .collect();
        (diff(&before, &after), hazards)
    } else {
        (Vec::new(), Vec::new())
    };
    Ok(Verification {
        migration: plan.migration.clone(),
        model,
        differences,
        hazards,
        failure,
    })
}
