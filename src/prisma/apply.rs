//! Apply a migration file exactly as a given Prisma does (`ApplyModel`), with a `_prisma_migrations` row
//! kept like Prisma's: one INSERT before the script; `finished_at` and `applied_steps_count = 1` after
//! it, or `logs` = the error.
//!
//! What Prisma then does with its connection is part of the result: its process ends, so a transaction
//! the file left open is rolled back. Two cases the real CLIs show (../notes in the README): a file whose
//! explicit `BEGIN` block fails leaves the connection in an aborted transaction, so Prisma's own UPDATE
//! of `logs` fails with 25P02 and the real error is not recorded; a `BEGIN` without `COMMIT` is reported
//! as success by Prisma while everything it did is rolled back.

use postgres::{Client, GenericClient};
use serde::Serialize;

use super::bookkeeping::{PRISMA_MIGRATIONS_TABLE, checksum, new_id};
use super::model::{ApplyModel, FileRun};
use crate::db::describe;

/// A statement of a file, located.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct StatementAt {
    /// 1-based line of the statement's first character.
    pub line: usize,
    /// Its first line, shortened.
    pub excerpt: String,
}

/// A migration file that failed, like Prisma's P3018.
#[derive(Debug, Clone, Serialize)]
pub struct ApplyError {
    pub migration: String,
    pub message: String,
    pub sqlstate: Option<String>,
    pub model: ApplyModel,
    /// Run statement by statement: the one that failed.
    pub failed_statement: Option<StatementAt>,
    /// Run statement by statement: the statements that committed before the failure. They stay
    /// applied, and the migration is failed in `_prisma_migrations` (P3009).
    pub left_applied: Vec<StatementAt>,
    /// Whether Prisma's bookkeeping could record the error in `logs` (not inside an aborted BEGIN block).
    pub logs_recorded: bool,
}

impl std::fmt::Display for ApplyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "migration {} failed", self.migration)?;
        if let Some(at) = &self.failed_statement {
            write!(f, " at line {} ({})", at.line, at.excerpt)?;
        }
        write!(f, ": {}", self.message)?;
        if !self.left_applied.is_empty() {
            let lines: Vec<String> = self
                .left_applied
                .iter()
                .map(|s| s.line.to_string())
                .collect();
            write!(
                f,
                "; the statements at lines {} stay applied (Prisma runs this file statement by statement)",
                lines.join(", ")
            )?;
        }
        Ok(())
    }
}

/// Apply one migration file as Prisma does under `model`.
pub fn apply_migration(
    client: &mut Client,
    name: &str,
    sql: &str,
    model: ApplyModel,
) -> Result<(), Box<ApplyError>> {
    let failed = |message: String, sqlstate: Option<String>| ApplyError {
        migration: name.to_string(),
        message,
        sqlstate,
        model,
        failed_statement: None,
        left_applied: Vec::new(),
        logs_recorded: false,
    };
    let bookkeeping = |e: postgres::Error| {
        failed(
            format!("recording it in _prisma_migrations: {}", describe(&e)),
            e.code().map(|c| c.code().to_string()),
        )
    };
    let id = record_start(client, name, sql).map_err(|e| Box::new(bookkeeping(e)))?;
    let outcome = match model.run(sql) {
        FileRun::Statements(pieces) => run_statements(client, sql, &pieces),
        FileRun::OneQuery | FileRun::Fallback { .. } => client
            .batch_execute(sql)
            .map_err(|error| (error, None, Vec::new())),
    };
    match outcome {
        Ok(()) => {
            let finished = record_finish(client, &id);
            if transaction_open(client) {
                // Prisma reports success; then its connection closes with the transaction open.
                let _ = client.batch_execute("ROLLBACK");
                return Err(Box::new(failed(
                    "the file leaves a transaction open (BEGIN without COMMIT): Prisma reports success, then its connection closes and everything the file did is rolled back; the migration stays unfinished in _prisma_migrations (P3009)".to_string(),
                    None,
                )));
            }
            finished.map_err(|e| Box::new(bookkeeping(e)))?;
            Ok(())
        }
        Err((error, failed_statement, left_applied)) => {
            let message = describe(&error);
            let logs_recorded = record_failure(client, &id, &message);
            // Prisma's process ends here: whatever transaction is left is rolled back.
            if transaction_open(client) {
                let _ = client.batch_execute("ROLLBACK");
            }
            Err(Box::new(ApplyError {
                sqlstate: error.code().map(|c| c.code().to_string()),
                message,
                failed_statement,
                left_applied,
                logs_recorded,
                ..failed(String::new(), None)
            }))
        }
    }
}

/// Prisma's INSERT before a script: the row that stays unfinished if the script fails (the table made
/// first when absent). Returns its id.
pub fn record_start(client: &mut Client, name: &str, sql: &str) -> Result<String, postgres::Error> {
    client.batch_execute(PRISMA_MIGRATIONS_TABLE)?;
    insert_started(client, name, sql)
}

/// The INSERT of [`record_start`] alone, on a client or inside a transaction (deploy writes the row
/// in the migration's own transaction).
pub fn insert_started(
    client: &mut impl GenericClient,
    name: &str,
    sql: &str,
) -> Result<String, postgres::Error> {
    let id = new_id(name);
    client.execute(
        r#"INSERT INTO "_prisma_migrations" ("id", "checksum", "migration_name", "started_at", "applied_steps_count") VALUES ($1, $2, $3, now(), 0)"#,
        &[&id, &checksum(sql), &name],
    )?;
    Ok(id)
}

/// Prisma's UPDATE after a script that succeeded. The clock, not `now()`: inside a transaction
/// `now()` is its start, and Prisma's own UPDATE runs after the script.
pub fn record_finish(client: &mut impl GenericClient, id: &str) -> Result<(), postgres::Error> {
    client.execute(
        r#"UPDATE "_prisma_migrations" SET "finished_at" = clock_timestamp(), "applied_steps_count" = 1 WHERE "id" = $1"#,
        &[&id],
    )?;
    Ok(())
}

/// Prisma's UPDATE of `logs` after a script that failed; false when it could not be recorded (the
/// session is in an aborted transaction, as after a failure inside the file's own BEGIN block).
pub fn record_failure(client: &mut Client, id: &str, message: &str) -> bool {
    client
        .execute(
            r#"UPDATE "_prisma_migrations" SET "logs" = $2 WHERE "id" = $1"#,
            &[&id, &message],
        )
        .is_ok()
}

type StatementFailure = (postgres::Error, Option<StatementAt>, Vec<StatementAt>);

/// Prisma 7.4+: each piece its own simple query on this connection.
fn run_statements(
    client: &mut Client,
    sql: &str,
    pieces: &[std::ops::Range<usize>],
) -> Result<(), StatementFailure> {
    let lines = crate::source::line_starts(sql);
    let at = |range: &std::ops::Range<usize>| statement_at(sql, &lines, range);
    let mut done: Vec<StatementAt> = Vec::new();
    // Statements inside an explicit BEGIN block commit only with its COMMIT.
    let mut uncommitted = 0;
    for piece in pieces {
        if let Err(error) = client.batch_execute(&sql[piece.clone()]) {
            done.truncate(done.len() - uncommitted.min(done.len()));
            return Err((error, Some(at(piece)), done));
        }
        done.push(at(piece));
        uncommitted = if transaction_open(client) {
            uncommitted + 1
        } else {
            0
        };
    }
    Ok(())
}

/// Where a piece of `sql` is, for messages (`lines` from [`crate::source::line_starts`]).
pub fn statement_at(sql: &str, lines: &[usize], range: &std::ops::Range<usize>) -> StatementAt {
    let text = &sql[range.clone()];
    StatementAt {
        line: lines.partition_point(|&start| start <= range.start + code_offset(text)),
        excerpt: excerpt(text),
    }
}

/// Whether the session is inside a transaction block (open or aborted): SAVEPOINT is refused outside
/// one (25P01) and in an aborted one (25P02), and accepted in an open one.
pub fn transaction_open(client: &mut Client) -> bool {
    match client.batch_execute("SAVEPOINT migrate_safe_probe") {
        Ok(()) => {
            let _ = client.batch_execute("RELEASE SAVEPOINT migrate_safe_probe");
            true
        }
        Err(error) => error.code().is_some_and(|c| c.code() == "25P02"),
    }
}

/// Where a statement's first line of code starts, past its leading comment lines.
fn code_offset(statement: &str) -> usize {
    let mut offset = 0;
    for line in statement.split_inclusive('\n') {
        let trimmed = line.trim();
        if !trimmed.is_empty() && !trimmed.starts_with("--") {
            return offset + (line.len() - line.trim_start().len());
        }
        offset += line.len();
    }
    0
}

/// A statement's first line of code (comment lines skipped), at most 100 characters.
pub fn excerpt(statement: &str) -> String {
    let line = statement
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with("--"))
        .unwrap_or_default();
    if line.chars().count() > 100 {
        format!("{}...", line.chars().take(100).collect::<String>())
    } else {
        line.to_string()
    }
}
