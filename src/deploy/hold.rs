//! How long a migration will hold write-blocking locks, estimated before anything is applied.
//!
//! A migration deploy runs in one transaction holds every lock it takes until it commits. If any of
//! them blocks writes (SHARE and up: most ALTER TABLE, a plain CREATE INDEX, a foreign key), writers to
//! that table wait for the whole transaction, so what matters is the work the transaction does: a
//! validation scan, a table rewrite, an index build, a bulk UPDATE. Each statement's work is known
//! from the file (see [`work_of`]); its size from the table's row estimate (`pg_class.reltuples`), for
//! a data change the planner's estimate of the rows it changes (`EXPLAIN`, which runs nothing).
//!
//! The per-row costs were measured on the 2-core machine this project is developed on (PostgreSQL 15,
//! a 1M-row table, data in memory): a CHECK or NOT NULL scan 0.04 µs/row, a foreign key's validation
//! 0.1, a B-tree build 0.2–0.75, a rewrite (ALTER TYPE, with two indexes) 1.6, an UPDATE 8.7 µs per
//! row changed plus 0.17 per row read. The estimates round them up: a production server is usually
//! faster, and a table not in memory slower. They are estimates, said as such, and used for one
//! decision: a migration estimated to hold write-blocking locks longer than --max-lock-hold is refused
//! unless --allow-long-locks.

use serde::Serialize;

use crate::source::names::QualifiedName;

use super::work::{MICROS_PER_CHANGED_ROW, WorkKind};

/// One statement's estimated share of a migration's hold.
#[derive(Debug, Clone, Serialize)]
pub struct WorkEstimate {
    pub line: usize,
    pub table: String,
    pub kind: WorkKind,
    pub rows: i64,
    /// For a data change: the rows the planner expects it to change.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows_changed: Option<i64>,
    pub estimate_ms: f64,
}

/// A migration's write-blocking locks and how long they are estimated to be held.
#[derive(Debug, Clone, Serialize)]
pub struct HoldEstimate {
    pub migration: String,
    /// The write-blocking locks it takes on existing tables (mode on table).
    pub locks: Vec<String>,
    pub work: Vec<WorkEstimate>,
    pub estimate_ms: f64,
    /// Why the estimate may be short (statements migrate-safe does not read).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unknown: Option<String>,
}

impl WorkEstimate {
    pub fn new(
        line: usize,
        table: String,
        kind: WorkKind,
        rows: i64,
        rows_changed: Option<i64>,
    ) -> Self {
        let read = rows.max(0) as f64 * kind.micros_per_row();
        let changed = rows_changed.unwrap_or(0).max(0) as f64 * MICROS_PER_CHANGED_ROW;
        WorkEstimate {
            line,
            table,
            kind,
            rows,
            rows_changed,
            estimate_ms: (read + changed) / 1000.0,
        }
    }
}

/// The estimated hold of every pending migration that runs in a transaction and takes a
/// write-blocking lock on an existing table. Read-only: catalog queries and EXPLAIN (which plans a
/// statement without running it), each in a READ ONLY transaction.
pub fn estimate(
    client: &mut postgres::Client,
    planned: &[super::plan::Planned],
) -> Result<Vec<HoldEstimate>, postgres::Error> {
    use super::locks::LockMode;
    let mut holds = Vec::new();
    for (position, migration) in planned.iter().enumerate() {
        if !matches!(migration.shape, super::plan::Shape::Transaction { .. }) {
            continue;
        }
        // The strongest write-blocking mode per existing table, in the file's order.
        let mut strongest: Vec<(String, LockMode)> = Vec::new();
        for lock in &migration.locks {
            let Some(mode) = LockMode::parse(lock.mode).filter(|m| m.blocks_writes()) else {
                continue;
            };
            if !exists(client, &lock.target)? {
                continue;
            }
            match strongest.iter_mut().find(|(on, _)| *on == lock.on) {
                Some((_, held)) => *held = (*held).max(mode),
                None => strongest.push((lock.on.clone(), mode)),
            }
        }
        let locks: Vec<String> = strongest
            .iter()
            .map(|(on, mode)| format!("{} on {on}", mode.name()))
            .collect();
        if locks.is_empty() {
            continue;
        }
        let mut work = Vec::new();
        for item in &migration.work {
            let Some(rows) = rows_of(client, &item.table)? else {
                continue; // created by the migration: no rows to speak of
            };
            if let Some(column) = &item.not_null_column
                && proven_not_null(client, &planned[..position], &item.table, column)?
            {
                continue;
            }
            if let Some((column, new_type)) = &item.retyped
                && let Some(old) = column_type(client, &item.table, column)?
                && !crate::rules::column_type_rewrite::rewrites(&old.to_uppercase(), new_type)
            {
                continue;
            }
            let rows_changed = match item.kind {
                WorkKind::RowChange => Some(
                    planned_rows(client, &migration.sql[item.statement.clone()])?.unwrap_or(rows),
                ),
                _ => None,
            };
            work.push(WorkEstimate::new(
                item.line,
                item.table.to_string(),
                item.kind,
                rows,
                rows_changed,
            ));
        }
        let unknown = migration
            .changes_rows_of
            .iter()
            .any(Option::is_none)
            .then(|| {
                "statements migrate-safe does not read (a DO block, a function) are not estimated"
                    .to_string()
            });
        holds.push(HoldEstimate {
            migration: migration.migration.clone(),
            locks,
            estimate_ms: work.iter().fold(0.0, |sum, w| sum + w.estimate_ms),
            work,
            unknown,
        });
    }
    Ok(holds)
}

fn exists(
    client: &mut postgres::Client,
    target: &super::plan::LockTarget,
) -> Result<bool, postgres::Error> {
    // A table, or the index whose table it is: either exists exactly when its name resolves.
    let (super::plan::LockTarget::Table(name) | super::plan::LockTarget::TableOfIndex(name)) =
        target;
    Ok(client
        .query_one("SELECT to_regclass($1) IS NOT NULL", &[&name.to_string()])?
        .get(0))
}

/// The table's row estimate (its size / 100 bytes before the first ANALYZE); `None` when it does not
/// exist yet.
fn rows_of(
    client: &mut postgres::Client,
    table: &QualifiedName,
) -> Result<Option<i64>, postgres::Error> {
    Ok(client
        .query_opt(
            "SELECT CASE WHEN reltuples >= 0 THEN reltuples::int8 ELSE pg_relation_size(oid) / 100 END
             FROM pg_class WHERE oid = to_regclass($1)",
            &[&table.to_string()],
        )?
        .map(|row| row.get(0)))
}

/// Whether a validated `CHECK (column IS NOT NULL)` exists on `table`, or an earlier pending migration
/// adds one (the rewrite's path: check NOT VALID, VALIDATE, then SET NOT NULL without a scan).
fn proven_not_null(
    client: &mut postgres::Client,
    earlier: &[super::plan::Planned],
    table: &QualifiedName,
    column: &str,
) -> Result<bool, postgres::Error> {
    let squeeze = |text: &str| -> String {
        text.chars()
            .filter(|c| !c.is_whitespace() && *c != '"' && *c != '(' && *c != ')')
            .collect::<String>()
            .to_lowercase()
    };
    let wanted = squeeze(&format!("{column} IS NOT NULL"));
    let added_before = earlier.iter().any(|m| {
        m.adds.iter().any(|(t, _, requirement)| {
            t == table
                && matches!(requirement, super::plan::Requirement::Check { expression, .. } if squeeze(expression) == wanted)
        })
    });
    if added_before {
        return Ok(true);
    }
    Ok(client
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = to_regclass($1) AND contype = 'c'
                AND convalidated AND pg_get_constraintdef(oid) = 'CHECK ((' || quote_ident($2) || ' IS NOT NULL))')",
            &[&table.to_string(), &column],
        )?
        .get(0))
}

fn column_type(
    client: &mut postgres::Client,
    table: &QualifiedName,
    column: &str,
) -> Result<Option<String>, postgres::Error> {
    Ok(client
        .query_opt(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute
             WHERE attrelid = to_regclass($1) AND attname = $2 AND NOT attisdropped",
            &[&table.to_string(), &column],
        )?
        .map(|row| row.get(0)))
}

/// The rows the planner expects a data change to touch (EXPLAIN, in a READ ONLY transaction that is
/// rolled back); `None` when it cannot be planned now (a column an earlier statement adds).
fn planned_rows(
    client: &mut postgres::Client,
    statement: &str,
) -> Result<Option<i64>, postgres::Error> {
    let mut transaction = client.build_transaction().read_only(true).start()?;
    transaction.batch_execute("SET LOCAL statement_timeout = '5s'")?;
    // The simple protocol: EXPLAIN's JSON comes back as text (its column type is json).
    let Ok(messages) = transaction.simple_query(&format!("EXPLAIN (FORMAT JSON) {statement}"))
    else {
        return Ok(None);
    };
    let text = messages.iter().find_map(|m| match m {
        postgres::SimpleQueryMessage::Row(row) => row.get(0).map(str::to_string),
        _ => None,
    });
    let Some(plan) = text.and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok()) else {
        return Ok(None);
    };
    // The node under ModifyTable is what it reads and changes; an INSERT .. SELECT's too.
    let top = &plan[0]["Plan"];
    let rows = top["Plans"][0]["Plan Rows"]
        .as_f64()
        .or_else(|| top["Plan Rows"].as_f64());
    Ok(rows.map(|r| r as i64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimates_scale_with_rows_and_rows_changed() {
        let scan = WorkEstimate::new(1, "t".into(), WorkKind::Scan, 1_000_000, None);
        assert!((scan.estimate_ms - 50.0).abs() < 1e-9);
        let update = WorkEstimate::new(1, "t".into(), WorkKind::RowChange, 1_000_000, Some(1_000));
        assert!((update.estimate_ms - 210.0).abs() < 1e-9);
        assert!(
            WorkEstimate::new(1, "t".into(), WorkKind::Rewrite, 1_000_000, None).estimate_ms
                > 1000.0
        );
    }
}
