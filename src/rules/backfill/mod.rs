//! Which bulk data changes of a file run in batches (`data-backfill`'s fix), and the SQL that runs
//! them: a trigger that keeps the application's writes in line while the batches run, and a lone `DO`
//! block that commits after each batch.
//!
//! Decided once per file, before the rules run: the failure order of other fixes depends on it (a
//! batched backfill is meant to commit batch by batch, so it does not hold back a later VALIDATE).

mod decide;
mod notice;
mod sql;

pub use decide::decide;
pub use notice::{NoticeFigures, notice_parts, parse_notice};

use crate::source::classify::backfill::BackfillShape;

/// Rows per batch: a batch's row locks last a few milliseconds at this size on a narrow table, and
/// the per-batch cost (a commit, an index probe) stays a small share of the work. A session setting
/// (`migrate_safe.batch_rows`, which `deploy --batch-size` sets) overrides it.
pub const BATCH_ROWS: u64 = 1000;
/// Session settings the DO block reads: rows per batch, and seconds of pause after each batch
/// (`deploy --batch-size`, `--batch-pause`; `ALTER ROLE .. SET` for `prisma migrate deploy`).
pub const BATCH_ROWS_SETTING: &str = "migrate_safe.batch_rows";
pub const BATCH_PAUSE_SETTING: &str = "migrate_safe.batch_pause";
/// How long a batch may wait for a row lock an application transaction holds before it lets go and
/// tries again: well below `deadlock_timeout` (1 s by default), so in a cycle the batch gives way,
/// never the application's transaction.
pub const BATCH_LOCK_WAIT: &str = "100ms";
/// Attempts of one batch that found its rows locked, before the backfill stops (and can be rerun).
pub const BATCH_ATTEMPTS: u32 = 50;

/// A data change that runs in batches.
#[derive(Debug, Clone, PartialEq)]
pub struct Backfill {
    pub statement: usize,
    pub line: usize,
    pub shape: BackfillShape,
    pub key: BatchKey,
    /// A trigger applies the change to rows the application writes until the batches are done
    /// (not for a DELETE: a row written meanwhile is one written after the original DELETE).
    pub trigger: bool,
    /// The trigger takes the statement's place in the migration (an UPDATE); else the fix that made
    /// this backfill places it.
    pub replaces_statement: bool,
}

/// What the batches walk.
#[derive(Debug, Clone, PartialEq)]
pub enum BatchKey {
    /// A one-column primary key (folded name): ranges of it.
    Column(String),
    /// No primary key known: ranges of pages (`ctid`), a TID range scan since PostgreSQL 14.
    Ctid,
}
