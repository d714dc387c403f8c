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
    let plans: Vec<&MigrationPlan> = plans.iter().filter(|p| p.changes_anything()).collect();
    let progress = crate::progress::bar(plans.len(), "verifying");
    for (i, plan) in plans.iter().enumerate() {
        progress.set_message(plan.migration.clone());
        progress.inc(1);
        let target = dir
            .migrations
            .iter()
            .position(|m| m.name == plan.migration)
            .expect("planned migration exists");
        // Folders an earlier rewrite wrote for this migration (its VALIDATE, its builds) run after it on
        // both sides: without them the original is not what will be deployed, and a second rewrite of
        // rewritten output could not be proven.
        let followers: Vec<(&str, &str)> = dir.migrations[target + 1..]
            .iter()
            .filter(|m| m.written_for().as_deref() == Some(plan.migration.as_str()))
            .map(|m| (m.name.as_str(), m.sql.as_str()))
            .collect();
        let mut client = template.connect().map_err(db)?;
        apply_history(&mut client, &dir.migrations[next..target], history_model).map_err(|e| {
            Error::ProofUnavailable(format!(
                "applying the history before {} on the scratch server failed: {e}",
                plan.migration
            ))
        })?;
        next = target;
        let last = i + 1 == plans.len();
        // The original, inside a transaction rolled back after its catalog is read: no clone needed,
        // and one catalog for every model (a plain file builds the same under each).
        let original = if plain(&plan.original_sql) && followers.iter().all(|f| plain(f.1)) {
            original_in_transaction(&mut client, plan, &followers)?
        } else {
            None
        };
        drop(client); // the template must have no connection while it is cloned
        match original {
            Some(before) => {
                // Every clone first, while the template is idle; then each model's rewritten side at
                // once, on connections of their own (the last proof of the run on the template itself).
                let mut clones = Vec::new();
                for m in 0..models.len() {
                    if !(last && m + 1 == models.len()) {
                        clones.push(
                            ScratchDatabase::create(&server.admin_url, Some(&template.name))
                                .map_err(db)?,
                        );
                    }
                }
                let targets: Vec<&ScratchDatabase> =
                    clones.iter().chain(last.then_some(&template)).collect();
                let sides: Vec<Result<Verification>> = std::thread::scope(|scope| {
                    let handles: Vec<_> = models
                        .iter()
                        .zip(&targets)
                        .map(|(&model, database)| {
                            let (before, followers) = (&before, &followers);
                            scope.spawn(move || {
                                rewritten_side(plan, followers, database, model, before)
                            })
                        })
                        .collect();
                    handles
                        .into_iter()
                        .map(|h| h.join().expect("a proof thread panicked"))
                        .collect()
                });
                for side in sides {
                    results.push(side?);
                }
            }
            None => {
                for &model in models {
                    results.push(verify_one(plan, &followers, server, &template, model)?);
                }
            }
        }
    }
    progress.finish_and_clear();
    Ok(results)
}

/// The original of `plan` applied in a transaction on `client`, its catalog read, the transaction
/// rolled back. `None` when it fails: then [`verify_one`] applies it the way Prisma does, for the
/// exact report.
fn original_in_transaction(
    client: &mut postgres::Client,
    plan: &MigrationPlan,
    followers: &[(&str, &str)],
) -> Result<Option<crate::db::catalog::Catalog>> {
    client.batch_execute("BEGIN").map_err(db)?;
    let applied = std::iter::once(plan.original_sql.as_str())
        .chain(followers.iter().map(|f| f.1))
        .try_for_each(|sql| client.batch_execute(sql));
    let before = match applied {
        Ok(()) => Some(snapshot(client).map_err(db)?),
        Err(_) => None,
    };
    client.batch_execute("ROLLBACK").map_err(db)?;
    Ok(before)
}

/// The rewritten sequence of `plan` applied under `model` to `database` (a clone of the template, or
/// for the run's last proof the template itself), compared with the original's catalog `before`.
fn rewritten_side(
    plan: &MigrationPlan,
    followers: &[(&str, &str)],
    database: &ScratchDatabase,
    model: ApplyModel,
    before: &crate::db::catalog::Catalog,
) -> Result<Verification> {
    let mut client = database.connect().map_err(db)?;
    let failure = apply_rewritten(&mut client, plan, followers, model);
    compare(plan, model, failure, before, &mut client)
}

/// The rewritten sequence: the edited original, then the folders an earlier rewrite wrote for it and
/// each new folder, in name order (Prisma's); the first failure.
fn apply_rewritten(
    client: &mut postgres::Client,
    plan: &MigrationPlan,
    followers: &[(&str, &str)],
    model: ApplyModel,
) -> Option<String> {
    let mut after: Vec<(&str, &str)> = followers
        .iter()
        .copied()
        .chain(
            plan.new_migrations
                .iter()
                .map(|m| (m.name.as_str(), m.sql.as_str())),
        )
        .collect();
    after.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let sequence =
        std::iter::once((plan.migration.as_str(), plan.rewritten_sql.as_str())).chain(after);
    for (name, sql) in sequence {
        if let Err(e) = apply_migration(client, name, sql, model) {
            return Some(e.to_string());
        }
    }
    None
}

fn compare(
    plan: &MigrationPlan,
    model: ApplyModel,
    failure: Option<String>,
    before: &crate::db::catalog::Catalog,
    rewritten: &mut postgres::Client,
) -> Result<Verification> {
    let (differences, hazards) = if failure.is_none() {
        let after = snapshot(rewritten).map_err(db)?;
        let hazards = hazards(rewritten)
            .map_err(db)?
            .into_iter()
            .map(|h| h.to_string())
            .collect();
        (diff(before, &after), hazards)
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

/// Original and rewrite of one plan, each on a clone of `template`, applied under `model`.
fn verify_one(
    plan: &MigrationPlan,
    followers: &[(&str, &str)],
    server: &Server,
    template: &ScratchDatabase,
    model: ApplyModel,
) -> Result<Verification> {
    let original = ScratchDatabase::create(&server.admin_url, Some(&template.name)).map_err(db)?;
    let rewritten = ScratchDatabase::create(&server.admin_url, Some(&template.name)).map_err(db)?;
    let mut original_client = original.connect().map_err(db)?;
    let mut rewritten_client = rewritten.connect().map_err(db)?;
    let original_failure = std::iter::once((plan.migration.as_str(), plan.original_sql.as_str()))
        .chain(followers.iter().copied())
        .find_map(|(name, sql)| apply_migration(&mut original_client, name, sql, model).err())
        .map(|e| format!("the original failed: {e}"));
    let failure =
        original_failure.or_else(|| apply_rewritten(&mut rewritten_client, plan, followers, model));
    let before = if failure.is_none() {
        snapshot(&mut original_client).map_err(db)?
    } else {
        Default::default()
    };
    compare(plan, model, failure, &before, &mut rewritten_client)
}

/// Apply `history` to the template the fast way: consecutive files that cannot tell one transaction
/// from several (no transaction control, nothing that refuses a transaction block, nothing
/// transaction-scoped: see [`plain`]) go as one simple query, which PostgreSQL runs as one implicit
/// transaction — one round trip instead of half a dozen per file, and no `_prisma_migrations` rows,
/// which the catalog leaves out. When such a batch fails, nothing of it stays (the one transaction
/// rolls back) and its files are applied one by one the way Prisma does, which names the failing file.
/// Every other file is applied the way Prisma does.
fn apply_history(
    client: &mut postgres::Client,
    history: &[crate::source::discover::Migration],
    model: ApplyModel,
) -> std::result::Result<(), Box<crate::prisma::apply::ApplyError>> {
    let one_by_one = |client: &mut postgres::Client,
                      files: &[crate::source::discover::Migration]| {
        files
            .iter()
            .try_for_each(|m| apply_migration(client, &m.name, &m.sql, model))
    };
    let mut rest = history;
    while !rest.is_empty() {
        let batch = rest.iter().take_while(|m| plain(&m.sql)).count();
        if batch == 0 {
            one_by_one(client, &rest[..1])?;
            rest = &rest[1..];
            continue;
        }
        let (files, after) = rest.split_at(batch);
        let mut sql = String::with_capacity(files.iter().map(|m| m.sql.len() + 4).sum());
        for file in files {
            sql.push_str(&file.sql);
            // A file may end inside a line comment or without its last `;`.
            sql.push_str("\n;\n");
        }
        if client.batch_execute(&sql).is_err() {
            one_by_one(client, files)?;
        }
        rest = after;
    }
    Ok(())
}

/// Whether a file means the same run inside one transaction shared with its neighbours as run alone:
/// none of its words (anywhere, comments and strings included: a false alarm only costs speed) is one
/// that controls, refuses or scopes a transaction, or calls a procedure that could.
fn plain(sql: &str) -> bool {
    const WORDS: [&str; 15] = [
        "begin",
        "commit",
        "rollback",
        "start",
        "end",
        "abort",
        "savepoint",
        "transaction",
        "concurrently",
        "vacuum",
        "local",
        "set_config",
        "constraints",
        "call",
        "do",
    ];
    sql.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .all(|word| !WORDS.iter().any(|w| word.eq_ignore_ascii_case(w)))
}

#[cfg(test)]
mod tests {
    use super::plain;

    #[test]
    fn only_files_without_transaction_words_are_batched() {
        assert!(plain(
            "-- CreateTable\nCREATE TABLE \"A\" (\"id\" TEXT NOT NULL);\nCREATE INDEX \"a\" ON \"A\"(\"id\");\n"
        ));
        for sql in [
            "BEGIN;\nCREATE TABLE a ();\nCOMMIT;",
            "CREATE INDEX CONCURRENTLY a ON t (c);",
            "SET LOCAL search_path = x;",
            "SELECT set_config('search_path', 'x', true);",
            "SET CONSTRAINTS ALL DEFERRED;",
            "CALL p();",
            "DO $$ BEGIN NULL; END $$;",
            "VACUUM t;",
            "end;",
            "PREPARE TRANSACTION 'x';",
        ] {
            assert!(!plain(sql), "{sql}");
        }
    }
}
