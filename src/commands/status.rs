//! `migrate-safe status`: what a database has applied, what is pending, what went wrong. Read-only.

use std::io::Write;

use crate::Outcome;
use crate::cli::{Format, StatusArgs};
use crate::error::Result;
use crate::source::discover::discover;
use crate::status::{status, write_text};

pub fn run(args: &StatusArgs, out: &mut dyn Write) -> Result<Outcome> {
    let dir = discover(&args.dir)?;
    let url = crate::db::database_url(args.database_url.as_deref(), &dir.path)?;
    let report = status(&dir, &url, args.prisma.prisma_version.as_deref())?;
    let written = match args.format {
        Format::Json => crate::out::json(out, &report),
        Format::Text => write_text(&report, out),
    };
    crate::out::stdout(written)?;
    Ok(if report.needs_attention {
        Outcome::Findings
    } else {
        Outcome::Clean
    })
}
