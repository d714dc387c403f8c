//! Output of `check`: text for people, JSON for machines, the same facts.

use std::io::{self, Write};

use super::CheckReport;

pub fn write_json(report: &CheckReport, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report)?;
    writeln!(out)
}

pub fn write_text(report: &CheckReport, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "Migrations directory: {}, {} migrations",
        report.directory, report.migrations
    )?;
    writeln!(out, "PostgreSQL: {}", report.server.description)?;
    for note in &report.server.notes {
        writeln!(out, "  ({note})")?;
    }
    writeln!(out)?;
    match &report.failure {
        None => writeln!(
            out,
            "Applied {} of {} migrations the way Prisma does (each migration.sql as one query, in order): ok",
            report.applied, report.migrations
        )?,
        Some(failure) => {
            writeln!(
                out,
                "Applied {} of {} migrations; migration {} failed (Prisma would stop with P3018):",
                report.applied, report.migrations, failure.migration
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
            "Locks taken by {} on tables that existed before it (statements run one by one in a rolled-back transaction):",
            migration.migration
        )?;
        if migration.statements.is_empty() {
            writeln!(out, "  (no statement ran)")?;
        }
        for statement in &migration.statements {
            writeln!(
                out,
                "  line {}: {} ({:.1} ms)",
                statement.line, statement.statement, statement.duration_ms
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
