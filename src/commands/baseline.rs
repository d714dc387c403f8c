//! `migrate-safe baseline`: write and record the baseline of a database Prisma has not managed yet.

use std::io::Write;

use crate::Outcome;
use crate::baseline::{BaselineReport, Options, baseline, migrations_dir};
use crate::cli::{BaselineArgs, Format, SCRATCH_WHY, renamed};
use crate::error::Result;

pub fn run(args: &BaselineArgs, out: &mut dyn Write) -> Result<Outcome> {
    if args.verify_url.is_some() {
        return Err(renamed("--verify-url", "--scratch-url", SCRATCH_WHY));
    }
    let dir = migrations_dir(&args.dir)?;
    let url = crate::db::database_url(args.database_url.as_deref(), &dir)?;
    let options = Options {
        name: args.name.clone(),
        mark_applied: args.mark_applied.clone(),
        dry_run: args.dry_run,
        scratch_url: args.scratch_url.clone(),
        pg_version: args.pg_version.clone(),
        prisma_version: args.prisma.prisma_version.clone(),
    };
    let report = baseline(&dir, &url, &options)?;
    let written = match args.format {
        Format::Json => crate::out::json(out, &report),
        Format::Text => write_text(&report, out),
    };
    crate::out::stdout(written)?;
    Ok(Outcome::Clean)
}

fn write_text(report: &BaselineReport, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out, "Migrations directory: {}", report.directory)?;
    writeln!(out, "Database: {}", report.database)?;
    if let Some(server) = &report.verified_on {
        writeln!(
            out,
            "Verified on {server}: {}/migration.sql applied Prisma's way to an empty database reproduces the database's catalog.",
            report.migration
        )?;
        if let Some(prisma) = &report.prisma {
            writeln!(out, "  {prisma}")?;
        }
    }
    if !report.written {
        if let Some(sql) = &report.sql {
            writeln!(
                out,
                "\n--- {}/migration.sql (not written: --dry-run)\n{sql}",
                report.migration
            )?;
        }
        writeln!(out, "Would record: {}", report.row)?;
        return writeln!(out, "Dry run: nothing was written.");
    }
    if report.sql.is_some() {
        writeln!(out, "Wrote {}/migration.sql.", report.migration)?;
    }
    writeln!(out, "Recorded as applied ({}).", report.row)?;
    writeln!(
        out,
        "`prisma migrate deploy` will now skip it and apply only what comes after."
    )
}
