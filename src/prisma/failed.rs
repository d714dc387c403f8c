//! What a failed migration (Prisma's P3009: a `_prisma_migrations` row neither finished nor rolled
//! back) left in the database, read the same way by `deploy` (which resolves what it can prove) and
//! `status` (which says what deploy would do, and the Prisma commands that do the same): one reading,
//! so the advice never differs from the action.
//!
//! Deploy can prove two cases:
//! - a failure deploy recorded itself after rolling its transaction back (its `logs` end with
//!   [`NOTHING_APPLIED`]);
//! - a lone `CREATE INDEX CONCURRENTLY`: its index is absent (nothing applied), INVALID (drop it
//!   concurrently, then nothing is applied), valid (the build finished before the row was: applied),
//!   or still being built by the session of a deploy that was killed.
//!
//! Anything else needs a person.

use postgres::Client;
use serde::Serialize;

use crate::source::classify::Fact;
use crate::source::discover::Migration;
use crate::source::names::QualifiedName;

/// Ends `logs` of a failed row when deploy knows nothing of the migration is applied (its transaction
/// rolled back; the INVALID index of a failed build dropped): a later `deploy` may then mark it rolled
/// back and run it again.
pub const NOTHING_APPLIED: &str = "migrate-safe deploy: nothing of the migration is applied.";

/// What a failed migration left, as far as the database shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "left", rename_all = "snake_case")]
pub enum Diagnosis {
    /// Deploy ran it in a transaction of its own and rolled it back (or dropped its INVALID index).
    RolledBackByDeploy,
    /// A lone concurrent build that left no index: nothing is applied.
    NoIndex { index: String },
    /// A lone concurrent build that left its index INVALID: drop it, then nothing is applied.
    InvalidIndex { index: String },
    /// A lone concurrent build whose index is valid: the build finished, its row did not.
    BuiltIndex { index: String },
    /// A lone concurrent build still running in the session of a killed deploy.
    StillBuilding { index: String, pid: i32 },
    /// A batched backfill migrate-safe wrote (a lone DO block committing after each batch): what its
    /// batches changed is committed and the rest is not, and a rerun skips the rows already done.
    Backfill,
    /// A batched backfill still running in the session of a run that was stopped.
    StillBackfilling { pid: i32 },
    /// Nothing deploy can prove: a person decides.
    Unknown,
}

impl Diagnosis {
    /// Whether `migrate-safe deploy` resolves it without a person (now or once the build ends).
    pub fn deploy_resolves(&self) -> bool {
        !matches!(self, Diagnosis::Unknown)
    }

    /// What `migrate-safe deploy` does about it, in one sentence (`None`: it stops and asks).
    pub fn deploy_action(&self) -> Option<String> {
        Some(match self {
            Diagnosis::RolledBackByDeploy => {
                "deploy rolled it back itself (its logs say so): marked rolled back, to run again"
                    .into()
            }
            Diagnosis::NoIndex { index } => {
                format!("its build left no index {index}: marked rolled back, to build again")
            }
            Diagnosis::InvalidIndex { index } => format!(
                "its build left {index} INVALID: dropped it (DROP INDEX CONCURRENTLY IF EXISTS {index}) and marked the migration rolled back, to build again"
            ),
            Diagnosis::BuiltIndex { index } => format!(
                "{index} is built and valid (the build finished, its row did not): marked applied"
            ),
            Diagnosis::StillBuilding { index, pid } => format!(
                "session {pid} is still building {index} (the session of a deploy that was killed goes on until the build ends): wait for it (pg_stat_progress_create_index), then deploy again"
            ),
            Diagnosis::Backfill => "a batched backfill: its batches committed as they went and a rerun skips the rows already done: marked rolled back, to run again and finish the rest".into(),
            Diagnosis::StillBackfilling { pid } => format!(
                "session {pid} is still running its batches (the session of a stopped run ends at its next batch): wait for it, then deploy again"
            ),
            Diagnosis::Unknown => return None,
        })
    }

    /// The same outcome by hand, with Prisma's CLI (shell-quoted).
    pub fn prisma_steps(&self, migration: &str) -> Vec<String> {
        let name = crate::escape::shell(migration);
        let rolled_back =
            format!("prisma migrate resolve --rolled-back {name} && prisma migrate deploy");
        match self {
            Diagnosis::RolledBackByDeploy | Diagnosis::NoIndex { .. } | Diagnosis::Backfill => {
                vec![rolled_back]
            }
            Diagnosis::StillBackfilling { .. } => vec![
                "wait for the batches to stop (pg_stat_activity), then look again with `migrate-safe status`".into(),
            ],
            Diagnosis::InvalidIndex { index } => vec![
                format!("DROP INDEX CONCURRENTLY IF EXISTS {index};"),
                rolled_back,
            ],
            // Marking it rolled back would run the build again: it fails, the index exists.
            Diagnosis::BuiltIndex { .. } => {
                vec![format!("prisma migrate resolve --applied {name}")]
            }
            Diagnosis::StillBuilding { .. } => vec![
                "wait for the build to end (pg_stat_progress_create_index), then look again with `migrate-safe status`".into(),
            ],
            Diagnosis::Unknown => vec![
                format!("if nothing of it is applied (or you reverted it): {rolled_back}"),
                format!("if you completed it by hand: prisma migrate resolve --applied {name}"),
            ],
        }
    }
}

/// What the failed `migration` (whose row's logs are `logs`) left in the database of `client`.
/// Read-only.
pub fn diagnose(
    client: &mut Client,
    migration: &Migration,
    logs: Option<&str>,
) -> Result<Diagnosis, postgres::Error> {
    if logs.is_some_and(|l| l.contains(NOTHING_APPLIED)) {
        return Ok(Diagnosis::RolledBackByDeploy);
    }
    if let Some(statement) = batched_backfill(migration) {
        return Ok(
            match backfilling(client, &migration.sql[statement.bytes])? {
                Some(pid) => Diagnosis::StillBackfilling { pid },
                None => Diagnosis::Backfill,
            },
        );
    }
    let Some(index) = lone_concurrent_build(migration) else {
        return Ok(Diagnosis::Unknown);
    };
    let shown = index.to_string();
    if let Some(pid) = building(client, &index)? {
        return Ok(Diagnosis::StillBuilding { index: shown, pid });
    }
    Ok(match invalid_index(client, &index)? {
        None => Diagnosis::NoIndex { index: shown },
        Some(true) => Diagnosis::InvalidIndex { index: shown },
        Some(false) => Diagnosis::BuiltIndex { index: shown },
    })
}

/// The index a file builds when it is one `CREATE INDEX CONCURRENTLY` of a named index and nothing
/// else (the only shape whose state the catalog tells whole).
pub fn lone_concurrent_build(migration: &Migration) -> Option<QualifiedName> {
    let (_, statements) = crate::source::read_statements(migration).ok()?;
    match statements.as_slice() {
        [only] => match &only.fact {
            Fact::CreateIndex(index) if index.concurrently => index.name.clone(),
            _ => None,
        },
        _ => None,
    }
}

/// A folder migrate-safe wrote that runs a backfill in batches: its marker, one `DO` statement, and the
/// setting its batches turn on.
pub fn is_batched_backfill(migration: &Migration) -> bool {
    batched_backfill(migration).is_some()
}

/// The one `DO` statement of a batched backfill folder ([`is_batched_backfill`]).
pub fn batched_backfill(migration: &Migration) -> Option<crate::source::classify::Statement> {
    if !(migration
        .sql
        .starts_with(crate::source::discover::GENERATED_MARKER)
        && migration.sql.contains(BACKFILL_SETTING))
    {
        return None;
    }
    let (_, statements) = crate::source::read_statements(migration).ok()?;
    match <[_; 1]>::try_from(statements) {
        Ok([only]) => Some(only),
        Err(_) => None,
    }
}

/// The setting every batch of a batched backfill turns on in its transaction, and its trigger reads to
/// leave the batches' rows alone (see `rules::backfill`): what marks the folder as one.
pub const BACKFILL_SETTING: &str = "migrate_safe.backfill";

/// Another session running this backfill's DO `statement`, if one is (a killed client's backend runs
/// on until it next writes to the client).
fn backfilling(client: &mut Client, statement: &str) -> Result<Option<i32>, postgres::Error> {
    // The query is the file (Prisma) or the statement alone (deploy): either holds its start.
    let head: String = statement.chars().take(200).collect();
    Ok(client
        .query_opt(
            "SELECT pid FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND state = 'active' AND datname = current_database() AND position($1 in query) > 0 LIMIT 1",
            &[&head],
        )?
        .map(|row| row.get(0)))
}

/// Whether index `name` exists and is INVALID (`None`: it does not exist).
pub fn invalid_index(
    client: &mut Client,
    name: &QualifiedName,
) -> Result<Option<bool>, postgres::Error> {
    Ok(client
        .query_opt(
            "SELECT NOT indisvalid FROM pg_index WHERE indexrelid = to_regclass($1)",
            &[&name.to_string()],
        )?
        .map(|row| row.get(0)))
}

/// The session still building `index`, if one is (a killed client's backend runs on).
fn building(client: &mut Client, index: &QualifiedName) -> Result<Option<i32>, postgres::Error> {
    Ok(client
        .query_opt(
            "SELECT pid FROM pg_stat_progress_create_index WHERE index_relid = to_regclass($1)",
            &[&index.to_string()],
        )?
        .map(|row| row.get(0)))
}
