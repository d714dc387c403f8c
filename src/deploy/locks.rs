//! The table locks a migration needs, taken by deploy at the start of its transaction, strongest mode
//! per table, in the order writers take them.
//!
//! Why up front: a lock taken halfway through a migration is taken while others are already held,
//! which is how a deploy and a writer end up waiting for each other. Taken together at the start,
//! each of deploy's lock waits is bounded so that it ends before any writer that waits for deploy can
//! reach PostgreSQL's deadlock check (see `apply`): in a cycle deploy gives way, never a writer.
//!
//! Order: a writer's `INSERT INTO child` locks `child`, then its foreign-key check locks `parent` — the
//! referencing table before the referenced one. Deploy takes them the same way: every table before the
//! tables it references (foreign keys the database has between them, and those the migration adds),
//! otherwise in the order the file first locks them. Where the order cannot be known (a writer's
//! transaction that takes tables in another order, statements migrate-safe does not read: DO blocks,
//! functions, `REFERENCES` inside CREATE TABLE), the bounded waits still make deploy the one that loses.

use postgres::Client;
use serde::Serialize;

pub use crate::db::lock_mode::LockMode;

use super::plan::{LockTarget, Planned};

/// One table deploy locks up front.
#[derive(Debug, Clone, Serialize)]
pub struct TableLock {
    pub table: String,
    #[serde(skip)]
    pub oid: u32,
    pub mode: LockMode,
    /// The lines of the statements that need it.
    pub lines: Vec<usize>,
}

/// The existing tables `planned` locks, strongest mode each, in the order deploy takes them. Tables
/// the migration creates are not there yet: nobody else can hold them.
pub fn plan(client: &mut Client, planned: &Planned) -> Result<Vec<TableLock>, postgres::Error> {
    let mut locks: Vec<TableLock> = Vec::new();
    for taken in &planned.locks {
        let Some(mode) = LockMode::parse(taken.mode) else {
            continue;
        };
        let Some((oid, table)) = resolve(client, &taken.target)? else {
            continue;
        };
        match locks.iter_mut().find(|l| l.oid == oid) {
            Some(lock) => {
                lock.mode = lock.mode.max(mode);
                lock.lines.push(taken.line);
            }
            None => locks.push(TableLock {
                table,
                oid,
                mode,
                lines: vec![taken.line],
            }),
        }
    }
    if locks.len() < 2 {
        return Ok(locks);
    }
    // Who references whom among them: the database's foreign keys and the migration's.
    let oids: Vec<u32> = locks.iter().map(|l| l.oid).collect();
    let mut references: Vec<(u32, u32)> = client
        .query(
            "SELECT DISTINCT conrelid::oid, confrelid::oid FROM pg_constraint
             WHERE contype = 'f' AND conrelid = ANY($1) AND confrelid = ANY($1) AND conrelid <> confrelid",
            &[&oids],
        )?
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect();
    for (child, parent) in &planned.references {
        let child = resolve(client, &LockTarget::Table(child.clone()))?;
        let parent = resolve(client, &LockTarget::Table(parent.clone()))?;
        if let (Some((c, _)), Some((p, _))) = (child, parent)
            && c != p
        {
            references.push((c, p));
        }
    }
    Ok(children_first(locks, &references))
}

/// `locks` reordered so that every table comes before the tables it references; a cycle is broken
/// at the table the file locks first. Otherwise the file's order is kept.
fn children_first(mut locks: Vec<TableLock>, references: &[(u32, u32)]) -> Vec<TableLock> {
    let mut ordered = Vec::with_capacity(locks.len());
    while !locks.is_empty() {
        // The first (in file order) that no remaining table references.
        let next = (0..locks.len())
            .find(|&i| {
                !references.iter().any(|&(child, parent)| {
                    parent == locks[i].oid
                        && child != parent
                        && locks.iter().any(|l| l.oid == child)
                })
            })
            .unwrap_or(0);
        ordered.push(locks.remove(next));
    }
    ordered
}

/// The table a lock is on: its oid and name as PostgreSQL shows it; `None` when it does not exist.
fn resolve(
    client: &mut Client,
    target: &LockTarget,
) -> Result<Option<(u32, String)>, postgres::Error> {
    let row = match target {
        LockTarget::Table(table) => client.query_opt(
            "SELECT c.oid, format('%I.%I', n.nspname, c.relname) FROM pg_class c
             JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE c.oid = to_regclass($1) AND c.relkind IN ('r', 'p')",
            &[&table.to_string()],
        )?,
        LockTarget::TableOfIndex(index) => client.query_opt(
            "SELECT c.oid, format('%I.%I', n.nspname, c.relname) FROM pg_index i
             JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE i.indexrelid = to_regclass($1)",
            &[&index.to_string()],
        )?,
    };
    Ok(row.map(|r| (r.get(0), r.get(1))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn children_come_before_the_tables_they_reference() {
        let lock = |oid: u32| TableLock {
            table: format!("t{oid}"),
            oid,
            mode: LockMode::AccessExclusive,
            lines: vec![],
        };
        // The file locks User (1) first, then Post (2) which references it, and Comment (3) -> Post.
        let ordered = children_first(vec![lock(1), lock(2), lock(3)], &[(2, 1), (3, 2)]);
        let oids: Vec<u32> = ordered.iter().map(|l| l.oid).collect();
        assert_eq!(oids, [3, 2, 1]);
        // A cycle keeps the file's order where it must break it.
        let ordered = children_first(vec![lock(1), lock(2)], &[(1, 2), (2, 1)]);
        assert_eq!(ordered.iter().map(|l| l.oid).collect::<Vec<_>>(), [1, 2]);
    }
}
