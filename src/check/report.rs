//! Output of `check`: text for people, JSON for machines, the same facts.

use std::io::{self, Write};

use serde::Serialize;

use super::CheckReport;
use crate::prisma::ApplyModel;

/// One document for every apply model judged under.
#[derive(Serialize)]
struct Document<'a> {
    prisma: Option<&'a crate::prisma::PrismaTarget>,
    proven: bool,
    reports: &'a [CheckReport],
}

pub fn write_json(reports: &[CheckReport], out: &mut dyn Write) -> io::Result<()> {
    let document = Document {
        prisma: reports.first().map(|r| &r.prisma),
        proven: reports.iter().all(|r| r.proven),
        reports,
    };
    crate::out::json(out, &document)
}

pub fn write_text(reports: &[CheckReport], out: &mut dyn Write) -> io::Result<()> {
    for (i, report) in reports.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        write_one(report, out)?;
    }
    if reports.len() > 1 {
        let proven: Vec<&str> = reports
            .iter()
            .filter(|r| r.proven)
            .map(|r| r.model.label())
            .collect();
        writeln!(out)?;
        if proven.len() == reports.len() {
            writeln!(out, "Proven under both apply models.")?;
        } else {
            writeln!(
                out,
                "Not proven under every apply model (proven: {}).",
                if proven.is_empty() {
                    "none".to_string()
                } else {
                    proven.join(", ")
                }
            )?;
        }
    }
    Ok(())
}

fn write_one(report: &CheckReport, out: &mut dyn Write) -> io::Result<()> {
    let found = report
        .found
        .as_ref()
        .map_or(String::new(), |found| format!(" ({found})"));
    writeln!(
        out,
        "Migrations directory: {}{found}, {}",
        report.directory,
        crate::out::count(report.migrations, "migration")
    )?;
    writeln!(out, "{}", report.prisma.describe())?;
    writeln!(out, "PostgreSQL: {}", report.server.description)?;
    for note in &report.server.notes {
        writeln!(out, "  ({note})")?;
    }
    writeln!(out)?;
    let how = match report.model {
        ApplyModel::OneQuery => "each migration.sql as one query, in order (Prisma <= 7.3)",
        ApplyModel::PerStatement => {
            "statement by statement where sqlparser 0.61 parses the file, else as one query, in order (Prisma 7.4+)"
        }
    };
    match &report.failure {
        None => writeln!(
            out,
            "Applied {} of {} the way Prisma does ({how}): ok",
            report.applied,
            crate::out::count(report.migrations, "migration")
        )?,
        Some(failure) => {
            writeln!(
                out,
                "Applied {} of {} ({how}); migration {} failed (Prisma stops with P3018; the next deploy refuses with P3009 until `prisma migrate resolve`):",
                report.applied,
                crate::out::count(report.migrations, "migration"),
                failure.migration
            )?;
            match &failure.statement {
                Some(statement) => writeln!(
                    out,
                    "  {}:{}: {}",
                    failure.file, statement.line, statement.statement
                )?,
                None => writeln!(out, "  {}", failure.file)?,
            }
            writeln!(out, "  {}", failure.message)?;
            if !failure.left_applied.is_empty() {
                writeln!(
                    out,
                    "  Left applied (each statement committed on its own; undo them before `prisma migrate resolve --rolled-back {}` and a retry):",
                    crate::escape::shell(&failure.migration)
                )?;
                for at in &failure.left_applied {
                    writeln!(out, "    {}:{}: {}", failure.file, at.line, at.excerpt)?;
                }
            }
            if !failure.logs_recorded {
                writeln!(
                    out,
                    "  Prisma cannot record this error: its bookkeeping runs in the aborted transaction (25P02), so `_prisma_migrations.logs` stays empty."
                )?;
            }
            if failure.sqlstate.as_deref() == Some("25001") {
                writeln!(
                    out,
                    "  A CONCURRENTLY statement must be alone in its migration.sql: Prisma runs a file as one transaction. `migrate-safe rewrite` moves it into a folder of its own."
                )?;
            }
        }
    }
    if report.seeded_rows > 0 {
        writeln!(
            out,
            "Seeded up to {} rows into each existing table before each reported migration.",
            report.seeded_rows
        )?;
    }
    for note in &report.notes {
        writeln!(out, "  {note}")?;
    }
    for migration in &report.locks {
        writeln!(out)?;
        writeln!(
            out,
            "Locks taken by {} on tables that existed before it ({}):",
            migration.migration,
            if migration.per_statement {
                "applied statement by statement, each in its own transaction"
            } else {
                "statements run one by one in a rolled-back transaction, then the file as one query"
            }
        )?;
        if migration.statements.is_empty() {
            writeln!(out, "  (no statement ran)")?;
        }
        for statement in &migration.statements {
            let duration = match (&statement.batches, statement.duration_ms) {
                (Some(b), _) => format!(
                    "{} batches, each committed, in {:.1} ms; the longest held its rows {:.1} ms",
                    b.count, b.total_ms, b.longest_ms
                ),
                (None, Some(ms)) => format!("{ms:.1} ms"),
                (None, None) => "not measured".to_string(),
            };
            writeln!(
                out,
                "  line {}: {} ({duration})",
                statement.line, statement.statement
            )?;
            if statement.locks.is_empty() && !statement.verdict.is_finding() {
                let new = if statement.held.is_empty() {
                    ""
                } else {
                    "new "
                };
                writeln!(out, "    no {new}lock on an existing table: safe")?;
                continue;
            }
            for lock in &statement.locks {
                writeln!(
                    out,
                    "    {}: {}{}{}",
                    lock.table,
                    lock.mode.name(),
                    if statement.known {
                        " (known: CONCURRENTLY runs outside a transaction)"
                    } else {
                        ""
                    },
                    if lock.rewritten {
                        ", table rewritten"
                    } else {
                        ""
                    },
                )?;
            }
            for lock in statement
                .held
                .iter()
                .filter(|_| statement.verdict.is_finding())
            {
                writeln!(
                    out,
                    "    {}: {} still held from an earlier statement",
                    lock.table,
                    lock.mode.name()
                )?;
            }
            if let Some(long) = &statement.long_hold {
                writeln!(out, "    {long}")?;
            }
            writeln!(
                out,
                "    -> {}{}",
                statement.verdict.describe(),
                if statement.verdict.is_finding() {
                    "  [finding]"
                } else {
                    ""
                }
            )?;
        }
        if !migration.holds.is_empty() {
            writeln!(out, "  Lock holds on existing tables:")?;
        }
        for hold in &migration.holds {
            let lines = if hold.from_line == hold.to_line {
                format!("line {}", hold.from_line)
            } else {
                format!("lines {}-{}", hold.from_line, hold.to_line)
            };
            let held = match hold.duration_ms {
                Some(ms) => format!("held {ms:.1} ms"),
                None => "held for a time not measured".to_string(),
            };
            writeln!(
                out,
                "    {}: {} {held}, {lines}",
                hold.table,
                hold.mode.name()
            )?;
        }
    }
    writeln!(out)?;
    write_hazards(&report.hazards, out)?;
    writeln!(out)?;
    if report.proven {
        writeln!(out, "Proven: no findings.")
    } else {
        writeln!(
            out,
            "Not proven: {} finding{}.",
            report.findings,
            if report.findings == 1 { "" } else { "s" }
        )
    }
}

/// The database's hazards, each with its numbered recovery steps (shared with `status`).
pub fn write_hazards(hazards: &[super::HazardReport], out: &mut dyn Write) -> io::Result<()> {
    if hazards.is_empty() {
        writeln!(
            out,
            "Every index is valid and every constraint is validated."
        )?;
    }
    for hazard in hazards {
        writeln!(out, "{} [{}]", hazard.problem, hazard.kind)?;
        for (i, step) in hazard.recovery.iter().enumerate() {
            writeln!(out, "  {}. {step}", i + 1)?;
        }
    }
    Ok(())
}
