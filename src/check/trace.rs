//! Which locks each statement of a migration takes, read from `pg_locks` inside a transaction that is
//! rolled back afterwards; table rewrites seen through `pg_class.relfilenode`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Instant;

use postgres::Client;
use serde::Serialize;

pub use crate::db::lock_mode::LockMode;
use crate::db::{DbError, describe};
use crate::source::classify::{DataChangeKind, Fact, Statement, TableChange};
use crate::source::names::QualifiedName;
use crate::source::split::SplitFile;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Safe,
    /// Blocks writes (or everything) only for a metadata change: milliseconds, but it still queues
    /// behind long transactions.
    Brief,
    BlocksWrites,
    BlocksReadsAndWrites,
    /// An UPDATE or DELETE that ran long: every row it changed stays locked until its transaction
    /// ends, and a writer of any of them waits (measured, `check --rows`).
    HoldsRowLocks,
}

impl Verdict {
    pub fn describe(self) -> &'static str {
        match self {
            Verdict::Safe => "safe",
            Verdict::Brief => "blocks briefly (metadata only)",
            Verdict::BlocksWrites => "blocks writes",
            Verdict::BlocksReadsAndWrites => "blocks reads and writes",
            Verdict::HoldsRowLocks => "blocks writers of the rows it changes",
        }
    }

    pub fn is_finding(self) -> bool {
        matches!(
            self,
            Verdict::BlocksWrites | Verdict::BlocksReadsAndWrites | Verdict::HoldsRowLocks
        )
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct TableLock {
    pub table: String,
    pub mode: LockMode,
    pub rewritten: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct StatementLocks {
    pub line: usize,
    pub statement: String,
    /// Locks this statement took on tables that existed before the migration.
    pub locks: Vec<TableLock>,
    /// Locks earlier statements of the same transaction still hold while this one runs: a lock is held
    /// until the migration commits, so a long statement after a strong lock keeps that lock long.
    pub held: Vec<TableLock>,
    pub verdict: Verdict,
    /// How long it ran; `None` when it was not run where it could be timed.
    pub duration_ms: Option<f64>,
    /// The lock is known rather than observed (CONCURRENTLY statements cannot run in a transaction).
    pub known: bool,
    /// It ran longer than the threshold while a lock that blocks writes was held on an existing table:
    /// what, measured (`check --rows`).
    pub long_hold: Option<String>,
    /// An UPDATE or DELETE: it row-locks every row it changes until its transaction ends.
    #[serde(skip)]
    pub changes_rows: bool,
    /// A batched backfill: its batches, timed by their notices (`duration_ms` is the longest batch,
    /// the longest any row stayed locked).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batches: Option<BatchTimes>,
}

/// The batches of a batched backfill, as `check` timed them.
#[derive(Debug, Clone, Serialize)]
pub struct BatchTimes {
    pub count: usize,
    pub total_ms: f64,
    pub longest_ms: f64,
}

struct Table {
    name: QualifiedName,
    relfilenode: u32,
}

/// Existing tables by oid.
type Tables = HashMap<u32, Table>;

fn tables(client: &mut Client) -> Result<Tables, DbError> {
    Ok(client
        .query(
            "SELECT c.oid, n.nspname::text, c.relname::text, c.relfilenode
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE c.relkind IN ('r', 'p', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
               AND n.nspname NOT LIKE 'pg_toast%' AND c.relname <> '_prisma_migrations'",
            &[],
        )?
        .into_iter()
        .map(|row| {
            let table = Table {
                name: QualifiedName::new(row.get::<_, String>(1), row.get::<_, String>(2)),
                relfilenode: row.get::<_, u32>(3),
            };
            (row.get::<_, u32>(0), table)
        })
        .collect())
}

/// Every (relation, mode) this session holds: PostgreSQL records each mode separately, so a statement's
/// request shows up even on a table an earlier statement locked more strongly.
fn held_locks(client: &mut Client) -> Result<HashSet<(u32, LockMode)>, DbError> {
    Ok(client
        .query(
            "SELECT relation, mode FROM pg_locks WHERE pid = pg_backend_pid() AND locktype = 'relation' AND granted",
            &[],
        )?
        .into_iter()
        .filter_map(|row| Some((row.get::<_, u32>(0), LockMode::parse(row.get(1))?)))
        .collect())
}

/// A statement whose work grows with the table (scan, sort, rewrite) rather than a catalog change.
/// Only work on a table that existed before counts: a new table is empty. Asked before the statement
/// runs: whether SET NOT NULL scans depends on the constraints already there.
fn scans(client: &mut Client, fact: &Fact, text: &str, existing: &Tables) -> Result<bool, DbError> {
    let is_existing = |name: &QualifiedName| existing.values().any(|t| &t.name == name);
    let (table, changes) = match fact {
        Fact::CreateIndex(index) => return Ok(!index.concurrently && is_existing(&index.table)),
        Fact::AlterTable { table, changes } if is_existing(table) => (table, changes),
        _ => return Ok(false),
    };
    for change in changes {
        let scan = match &change.kind {
            TableChange::AddForeignKey(fk) => !fk.not_valid,
            TableChange::AddCheck { not_valid, .. } => !not_valid,
            TableChange::AddKey {
                using_index: None, ..
            } => true,
            // Attaching a built index is a catalog change; a primary key also sets its columns NOT
            // NULL, which scans unless they already are.
            TableChange::AddKey {
                using_index: Some(index),
                primary,
                ..
            } => *primary && !index_columns_not_null(client, &table.sibling(index.clone()))?,
            // Skipped when a validated CHECK (column IS NOT NULL) proves it (PostgreSQL 12+): what
            // not-null-via-check leaves for its last step.
            TableChange::SetNotNull { column } => !proven_not_null(client, table, column)?,
            TableChange::Other => {
                let upper = text.to_ascii_uppercase();
                upper.contains("SET NOT NULL")
                    || (upper.contains("ADD CONSTRAINT")
                        && !upper.contains("NOT VALID")
                        && !upper.contains("USING INDEX")
                        && (upper.contains("CHECK")
                            || upper.contains("UNIQUE")
                            || upper.contains("PRIMARY KEY")))
            }
            _ => false,
        };
        if scan {
            return Ok(true);
        }
    }
    Ok(false)
}

/// `Some` for a CONCURRENTLY statement, with the table it locks when that is known.
fn concurrently_on(
    client: &mut Client,
    fact: &Fact,
) -> Result<Option<Option<QualifiedName>>, DbError> {
    Ok(match fact {
        Fact::CreateIndex(index) if index.concurrently => Some(Some(index.table.clone())),
        Fact::DropIndexes {
            indexes,
            concurrently: true,
            ..
        } => Some(match indexes.as_slice() {
            [index] => table_of_index(client, index)?,
            _ => None,
        }),
        _ => None,
    })
}

/// The table `index` is on, if it exists.
fn table_of_index(
    client: &mut Client,
    index: &QualifiedName,
) -> Result<Option<QualifiedName>, DbError> {
    Ok(client
        .query_opt(
            "SELECT n.nspname::text, c.relname::text
             FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
             JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE i.indexrelid = to_regclass($1)",
            &[&index.to_string()],
        )?
        .map(|row| QualifiedName::new(row.get::<_, String>(0), row.get::<_, String>(1))))
}

/// Whether every column of `index` is already NOT NULL.
fn index_columns_not_null(client: &mut Client, index: &QualifiedName) -> Result<bool, DbError> {
    let row = client.query_one(
        "SELECT coalesce(bool_and(a.attnotnull), false)
         FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
         WHERE i.indexrelid = to_regclass($1)",
        &[&index.to_string()],
    )?;
    Ok(row.get(0))
}

/// Whether `column` already is NOT NULL, or a validated CHECK (column IS NOT NULL) proves it.
fn proven_not_null(
    client: &mut Client,
    table: &QualifiedName,
    column: &str,
) -> Result<bool, DbError> {
    let row = client.query_one(
        "SELECT EXISTS (
             SELECT 1 FROM pg_attribute
             WHERE attrelid = to_regclass($1) AND attname = $2 AND attnotnull
         ) OR EXISTS (
             SELECT 1 FROM pg_constraint
             WHERE conrelid = to_regclass($1) AND contype = 'c' AND convalidated
               AND pg_get_constraintdef(oid) = format('CHECK ((%I IS NOT NULL))', $2::text)
         )",
        &[&table.to_string(), &column],
    )?;
    Ok(row.get(0))
}

/// What a traced statement failed with.
#[derive(Debug, Clone, Serialize)]
pub struct TraceFailure {
    pub line: usize,
    pub statement: String,
    pub message: String,
    pub sqlstate: Option<String>,
}

/// Run the statements of one migration one by one inside a transaction (rolled back), and report the
/// locks each took on tables that existed before it. `single_concurrent` files are not run: their
/// lock is known.
pub fn trace(
    client: &mut Client,
    text: &str,
    split: &SplitFile,
    statements: &[Statement],
) -> Result<(Vec<StatementLocks>, Option<TraceFailure>), DbError> {
    let existing = tables(client)?;
    let excerpt = |s: &Statement| {
        let range = split.pieces[s.piece].statement.clone().unwrap_or_default();
        crate::prisma::apply::excerpt(&text[range])
    };
    // Alone in its file, a CONCURRENTLY statement cannot run in the tracing transaction: its lock (SHARE
    // UPDATE EXCLUSIVE on the table) is known.
    if let [only] = statements
        && let Some(on) = concurrently_on(client, &only.fact)?
    {
        let table = on
            .and_then(|on| existing.values().find(|t| t.name == on))
            .map(|t| t.name.to_string());
        return Ok((
            vec![StatementLocks {
                line: only.line,
                statement: excerpt(only),
                locks: table
                    .into_iter()
                    .map(|table| TableLock {
                        table,
                        mode: LockMode::ShareUpdateExclusive,
                        rewritten: false,
                    })
                    .collect(),
                held: Vec::new(),
                verdict: Verdict::Safe,
                duration_ms: None,
                known: true,
                long_hold: None,
                changes_rows: false,
                batches: None,
            }],
            None,
        ));
    }
    client.batch_execute("BEGIN")?;
    let mut report = Vec::new();
    let mut failure = None;
    let mut held = HashSet::new();
    // Each statement's "after" is the next one's "before": one catalog read per statement.
    let mut before = tables(client)?;
    for statement in statements {
        if matches!(statement.fact, Fact::Begin | Fact::Commit) {
            continue; // our own transaction stands in for the file's explicit block
        }
        let range = split.pieces[statement.piece]
            .statement
            .clone()
            .unwrap_or_default();
        let sql = &text[range];
        let heavy_work = scans(client, &statement.fact, sql, &existing)?;
        let started = Instant::now();
        if let Err(error) = client.batch_execute(sql) {
            failure = Some(TraceFailure {
                line: statement.line,
                statement: excerpt(statement),
                message: describe(&error),
                sqlstate: error.code().map(|c| c.code().to_string()),
            });
            break;
        }
        let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
        let now_held = held_locks(client)?;
        let after = tables(client)?;
        // The strongest mode each existing table newly got from this statement.
        let locks = table_locks(now_held.difference(&held), &existing, &before, &after);
        let held_locks = blocking_held(held.iter(), &existing);
        held = now_held;
        before = after;
        let verdict = verdict(heavy_work, &locks, &held_locks);
        report.push(StatementLocks {
            line: statement.line,
            statement: excerpt(statement),
            locks,
            held: held_locks,
            verdict,
            duration_ms: Some(duration_ms),
            known: false,
            long_hold: None,
            changes_rows: changes_rows(&statement.fact),
            batches: None,
        });
    }
    client.batch_execute("ROLLBACK")?;
    Ok((report, failure))
}

/// An UPDATE or DELETE of rows (not an INSERT: the rows it locks are its own, nobody waits for them).
fn changes_rows(fact: &Fact) -> bool {
    matches!(
        fact,
        Fact::DataChange {
            change: DataChangeKind::Update | DataChangeKind::Delete,
            ..
        }
    )
}

fn verdict(heavy_work: bool, locks: &[TableLock], held: &[TableLock]) -> Verdict {
    let heavy = heavy_work || locks.iter().any(|l| l.rewritten);
    let strongest_new = locks.iter().map(|l| l.mode).max();
    let strongest_during = locks.iter().chain(held).map(|l| l.mode).max();
    match (heavy, strongest_during) {
        (true, Some(LockMode::AccessExclusive)) => Verdict::BlocksReadsAndWrites,
        (true, Some(mode)) if mode.blocks_writes() => Verdict::BlocksWrites,
        _ if strongest_new.is_some_and(LockMode::blocks_writes) => Verdict::Brief,
        _ => Verdict::Safe,
    }
}

/// The locks `taken` (relation, mode) on existing tables, with rewrites seen between `before` and
/// `after`, one entry per table with its strongest mode.
fn table_locks<'a>(
    taken: impl Iterator<Item = &'a (u32, LockMode)>,
    existing: &Tables,
    before: &Tables,
    after: &Tables,
) -> Vec<TableLock> {
    let taken = strongest_per_table(taken, existing);
    let mut locks = Vec::new();
    for (oid, table) in existing {
        let rewritten = match (before.get(oid), after.get(oid)) {
            (Some(b), Some(a)) => a.relfilenode != b.relfilenode,
            _ => false,
        };
        if let Some(mode) = taken
            .get(oid)
            .copied()
            .or(rewritten.then_some(LockMode::AccessExclusive))
        {
            locks.push(TableLock {
                table: table.name.to_string(),
                mode,
                rewritten,
            });
        }
    }
    locks.sort_by(|a, b| a.table.cmp(&b.table));
    locks
}

/// The locks still `held` from earlier statements that block writes on existing tables, strongest
/// per table, sorted by table.
fn blocking_held<'a>(
    held: impl Iterator<Item = &'a (u32, LockMode)>,
    existing: &Tables,
) -> Vec<TableLock> {
    let mut locks: Vec<TableLock> = strongest_per_table(held, existing)
        .iter()
        .filter(|(_, mode)| mode.blocks_writes())
        .map(|(oid, mode)| TableLock {
            table: existing[oid].name.to_string(),
            mode: *mode,
            rewritten: false,
        })
        .collect();
    locks.sort_by(|a, b| a.table.cmp(&b.table));
    locks
}

/// Where a statement-by-statement apply stopped.
#[derive(Debug, Clone)]
pub struct PerStatementFailure {
    pub failed: TraceFailure,
    /// Statements that committed before it: they stay applied.
    pub left_applied: Vec<crate::prisma::apply::StatementAt>,
    pub logs_recorded: bool,
}

/// Prisma 7.4+'s apply of one file, for real, traced: each piece its own transaction
/// (`BEGIN; piece; read pg_locks; COMMIT`), which is what autocommit gives it; statements inside the
/// file's own BEGIN block run bare and hold their locks to its COMMIT; a CONCURRENTLY statement runs
/// bare (it cannot run in a transaction) with its known lock, and is timed. The bookkeeping row is
/// written like Prisma's around it.
pub fn apply_per_statement(
    client: &mut Client,
    name: &str,
    text: &str,
    pieces: &[std::ops::Range<usize>],
    split: &SplitFile,
    statements: &[Statement],
) -> Result<(Vec<StatementLocks>, Option<PerStatementFailure>), DbError> {
    use crate::prisma::apply::{
        record_failure, record_finish, record_start, statement_at, transaction_open,
    };
    let existing = tables(client)?;
    let lines = crate::source::line_starts(text);
    let id = record_start(client, name, text)?;
    let mut report = Vec::new();
    let mut left_applied = Vec::new();
    let mut uncommitted = 0;
    // Locks the file's own open BEGIN block holds.
    let mut block_held: HashSet<(u32, LockMode)> = HashSet::new();
    for piece in pieces {
        let at = statement_at(text, &lines, piece);
        // Our statement that starts in this piece: its fact says what it is.
        let fact = statements
            .iter()
            .find(|s| {
                split.pieces[s.piece]
                    .statement
                    .as_ref()
                    .is_some_and(|r| piece.contains(&r.start))
            })
            .map(|s| &s.fact);
        let sql = &text[piece.clone()];
        let in_block = transaction_open(client);
        let bare = in_block
            || matches!(fact, Some(Fact::Begin | Fact::Commit))
            || fact.is_some_and(|f| concurrently_on_fact(f).is_some());
        let before = tables(client)?;
        let heavy_work = match fact {
            Some(fact) => scans(client, fact, sql, &existing)?,
            None => false,
        };
        let real_before = held_locks(client)?;
        if !bare {
            client.batch_execute("BEGIN")?;
        }
        let started = Instant::now();
        let result = client.batch_execute(sql);
        let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
        if let Err(error) = result {
            if !bare {
                client.batch_execute("ROLLBACK")?;
            }
            let message = describe(&error);
            let logs_recorded = record_failure(client, &id, &message);
            if transaction_open(client) {
                client.batch_execute("ROLLBACK")?; // Prisma's connection ends
            }
            left_applied.truncate(left_applied.len() - uncommitted.min(left_applied.len()));
            return Ok((
                report,
                Some(PerStatementFailure {
                    failed: TraceFailure {
                        line: at.line,
                        statement: at.excerpt,
                        message,
                        sqlstate: error.code().map(|c| c.code().to_string()),
                    },
                    left_applied,
                    logs_recorded,
                }),
            ));
        }
        let (locks, known) = match fact.and_then(concurrently_on_fact) {
            Some(on) if !in_block => {
                let locks = on
                    .and_then(|on| existing.values().find(|t| t.name == on))
                    .map(|t| TableLock {
                        table: t.name.to_string(),
                        mode: LockMode::ShareUpdateExclusive,
                        rewritten: false,
                    })
                    .into_iter()
                    .collect();
                (locks, true)
            }
            _ => {
                let now_held = held_locks(client)?;
                let after = tables(client)?;
                let taken: Vec<(u32, LockMode)> =
                    now_held.difference(&real_before).copied().collect();
                (table_locks(taken.iter(), &existing, &before, &after), false)
            }
        };
        let held = blocking_held(block_held.iter(), &existing);
        if !bare {
            client.batch_execute("COMMIT")?;
        }
        let open = transaction_open(client);
        if open {
            block_held.extend(held_locks(client)?);
            uncommitted += 1;
        } else {
            block_held.clear();
            uncommitted = 0;
        }
        left_applied.push(at.clone());
        if matches!(fact, Some(Fact::Begin | Fact::Commit)) {
            continue;
        }
        report.push(StatementLocks {
            line: at.line,
            statement: at.excerpt,
            verdict: verdict(heavy_work, &locks, &held),
            locks,
            held,
            duration_ms: Some(duration_ms),
            known,
            long_hold: None,
            changes_rows: fact.is_some_and(changes_rows),
            batches: None,
        });
    }
    let finished = record_finish(client, &id);
    if transaction_open(client) {
        // BEGIN without COMMIT: Prisma's connection closes with it open.
        client.batch_execute("ROLLBACK")?;
        return Ok((
            report,
            Some(PerStatementFailure {
                failed: TraceFailure {
                    line: lines.len(),
                    statement: "(end of file)".to_string(),
                    message: "the file leaves a transaction open (BEGIN without COMMIT): Prisma reports success, then its connection closes and everything since the BEGIN is rolled back; the migration stays unfinished (P3009)".to_string(),
                    sqlstate: None,
                },
                left_applied: Vec::new(),
                logs_recorded: false,
            }),
        ));
    }
    finished?;
    Ok((report, None))
}

/// `Some` for a CONCURRENTLY statement (it cannot run in a transaction), with its table when the
/// statement names it.
fn concurrently_on_fact(fact: &Fact) -> Option<Option<QualifiedName>> {
    match fact {
        Fact::CreateIndex(index) if index.concurrently => Some(Some(index.table.clone())),
        Fact::DropIndexes {
            concurrently: true, ..
        }
        | Fact::Maintenance(crate::source::classify::Maintenance::Reindex { concurrently: true }) => {
            Some(None)
        }
        _ => None,
    }
}

fn strongest_per_table<'a>(
    locks: impl Iterator<Item = &'a (u32, LockMode)>,
    existing: &Tables,
) -> BTreeMap<u32, LockMode> {
    let mut strongest: BTreeMap<u32, LockMode> = BTreeMap::new();
    for (oid, mode) in locks.filter(|(oid, _)| existing.contains_key(oid)) {
        let entry = strongest.entry(*oid).or_insert(*mode);
        *entry = (*entry).max(*mode);
    }
    strongest
}

/// How long an existing table was locked against writes (or reads) during one migration.
#[derive(Debug, Clone, Serialize)]
pub struct TableHold {
    pub table: String,
    /// The strongest mode held.
    pub mode: LockMode,
    /// From the statement that took it to the one after which it was released (the commit).
    pub from_line: usize,
    pub to_line: usize,
    /// Summed over the statements it was held through; `None` when one of them was not measured.
    pub duration_ms: Option<f64>,
}

/// Verdicts from measurements: a statement that ran longer than `threshold_ms` while a lock blocking
/// writes was held on an existing table (its own, or one still held from an earlier statement of the
/// same transaction) is a finding, whatever its kind — an UPDATE backfill under an ADD COLUMN's ACCESS
/// EXCLUSIVE as much as an index build. Says which statement took the lock.
pub fn judge_durations(statements: &mut [StatementLocks], threshold_ms: f64) {
    for i in 0..statements.len() {
        let (earlier, rest) = statements.split_at_mut(i);
        let statement = &mut rest[0];
        let Some(duration) = statement.duration_ms.filter(|d| *d > threshold_ms) else {
            continue;
        };
        let blocking = statement
            .locks
            .iter()
            .chain(&statement.held)
            .filter(|l| l.mode.blocks_writes())
            .max_by_key(|l| l.mode);
        let Some(lock) = blocking else {
            // No table lock in the way, but an UPDATE or DELETE that ran this long held a row lock on
            // every row it changed for all that time (until its transaction ends, if later): writers
            // of those rows waited. A finding under every apply model.
            let changed = statement
                .locks
                .iter()
                .find(|l| l.mode == LockMode::RowExclusive)
                .filter(|_| statement.changes_rows);
            if let Some(table) = changed.map(|l| l.table.clone()) {
                statement.long_hold = Some(format!(
                    "ran {duration:.1} ms (over {threshold_ms:.0} ms) holding a row lock on every row it changed in {table}: the application's writes to those rows waited"
                ));
                statement.verdict = Verdict::HoldsRowLocks;
            }
            continue;
        };
        let taken_at = statement
            .locks
            .iter()
            .any(|l| l.table == lock.table && l.mode == lock.mode)
            .then_some(statement.line)
            .or_else(|| {
                earlier
                    .iter()
                    .find(|s| {
                        s.locks
                            .iter()
                            .any(|l| l.table == lock.table && l.mode.blocks_writes())
                    })
                    .map(|s| s.line)
            })
            .unwrap_or(statement.line);
        statement.long_hold = Some(format!(
            "ran {duration:.1} ms (over {threshold_ms:.0} ms) while {} on {} (taken at line {taken_at}) blocked {}",
            lock.mode.name(),
            lock.table,
            if lock.mode == LockMode::AccessExclusive {
                "reads and writes"
            } else {
                "writes"
            }
        ));
        statement.verdict = if lock.mode == LockMode::AccessExclusive {
            Verdict::BlocksReadsAndWrites
        } else {
            Verdict::BlocksWrites
        };
    }
}

/// Each existing table's lock hold in one traced migration: where the file is one transaction (or
/// inside its own BEGIN block), a lock is held from the statement that took it to the commit;
/// statement by statement, for that statement alone (the longest such hold is reported).
pub fn table_holds(statements: &[StatementLocks], per_statement: bool) -> Vec<TableHold> {
    let mut holds: BTreeMap<String, TableHold> = BTreeMap::new();
    for (i, statement) in statements.iter().enumerate() {
        for lock in statement.locks.iter().filter(|l| l.mode.blocks_writes()) {
            let through: &[StatementLocks] = if per_statement && statement.held.is_empty() {
                std::slice::from_ref(statement)
            } else {
                &statements[i..]
            };
            let duration = through.iter().map(|s| s.duration_ms).sum::<Option<f64>>();
            let hold = TableHold {
                table: lock.table.clone(),
                mode: through
                    .iter()
                    .flat_map(|s| s.locks.iter().filter(|l| l.table == lock.table))
                    .map(|l| l.mode)
                    .max()
                    .unwrap_or(lock.mode),
                from_line: statement.line,
                to_line: through.last().map_or(statement.line, |s| s.line),
                duration_ms: duration,
            };
            let keep = match holds.get(&lock.table) {
                None => true,
                // One transaction: the first taker holds it longest. Per statement: the longest.
                Some(existing) => {
                    per_statement
                        && hold.duration_ms.unwrap_or(0.0) > existing.duration_ms.unwrap_or(0.0)
                }
            };
            if keep {
                holds.insert(lock.table.clone(), hold);
            }
        }
    }
    holds.into_values().collect()
}

/// A batched backfill folder applied the way Prisma does, on a session of its own that hears the
/// batches' notices: each batch is timed from the notice before it (or the start) to its own — the
/// longest is how long any row stayed locked, judged like an UPDATE's duration.
pub fn apply_backfill(
    url: &str,
    migration: &crate::source::discover::Migration,
    statement: &Statement,
    model: crate::prisma::ApplyModel,
) -> Result<StatementLocks, String> {
    let heard: std::sync::Arc<std::sync::Mutex<Vec<(Instant, String)>>> = Default::default();
    let sink = heard.clone();
    let mut client = crate::db::connect_with_notices(url, move |n| {
        sink.lock()
            .expect("notices")
            .push((Instant::now(), n.to_string()));
    })
    .map_err(|e| e.to_string())?;
    let started = Instant::now();
    crate::prisma::apply::apply_migration(&mut client, &migration.name, &migration.sql, model)
        .map_err(|e| e.to_string())?;
    let total_ms = started.elapsed().as_secs_f64() * 1000.0;
    let heard = heard.lock().expect("notices");
    let mut last = started;
    let mut longest_ms: f64 = 0.0;
    let mut count = 0;
    let mut table = None;
    for (at, notice) in heard.iter() {
        let Some((on, _)) = crate::rules::backfill::notice_parts(notice) else {
            continue;
        };
        longest_ms = longest_ms.max(at.duration_since(last).as_secs_f64() * 1000.0);
        last = *at;
        count += 1;
        table = Some(on.to_string());
    }
    Ok(StatementLocks {
        line: statement.line,
        statement: crate::prisma::apply::excerpt(&migration.sql[statement.bytes.clone()]),
        locks: table
            .into_iter()
            .map(|table| TableLock {
                table,
                mode: LockMode::RowExclusive,
                rewritten: false,
            })
            .collect(),
        held: Vec::new(),
        verdict: Verdict::Safe,
        duration_ms: Some(longest_ms),
        known: false,
        long_hold: None,
        changes_rows: true,
        batches: Some(BatchTimes {
            count,
            total_ms,
            longest_ms,
        }),
    })
}
