//! `migrate-safe check`: apply the history on a scratch database Prisma's way and prove it leaves
//! nothing half-done, tracing the locks each statement takes.

use std::io::Write;

use crate::Outcome;
use crate::analyse::{Targets, resolve_check_targets};
use crate::check::{DEFAULT_LOCK_THRESHOLD_MS, check};
use crate::cli::{CheckArgs, Format, SCRATCH_WHY, renamed};
use crate::db::provision::{Wanted, provision_from};
use crate::error::{Error, Result};
use crate::source::discover::discover;

pub fn run(args: &CheckArgs, out: &mut dyn Write) -> Result<Outcome> {
    let dir = discover(&args.dir)?;
    let targets = Targets::from_flags(args.all, &args.migrations);
    let targets = resolve_check_targets(&dir, &targets)?;
    let config = crate::config::Loaded::find(None, &dir.path)?;
    let prisma = config.prisma_target(args.prisma.prisma_version.as_deref(), &dir.path)?;
    if args.server.database_url.is_some() {
        return Err(renamed(
            "check --database-url",
            "--scratch-url",
            SCRATCH_WHY,
        ));
    }
    let server = provision_from(
        &Wanted {
            url: args.server.scratch_url.as_deref(),
            configured: config.scratch_url(),
            shadow: None,
        },
        &args.server.pg_version,
    )
    .map_err(|e| Error::Database(e.to_string()))?;
    let threshold = args
        .lock_threshold_ms
        .or((args.rows > 0).then_some(DEFAULT_LOCK_THRESHOLD_MS));
    // One proof per way the project's Prisma may apply the files.
    let mut reports = Vec::new();
    for &model in &prisma.models {
        let mut report = check(&dir, &targets, &server, args.rows, threshold, model)?;
        report.prisma = prisma.clone();
        reports.push(report);
    }
    let written = match args.format {
        Format::Text => crate::check::report::write_text(&reports, out),
        Format::Json => crate::check::report::write_json(&reports, out),
    };
    crate::out::stdout(written)?;
    Ok(if reports.iter().all(|r| r.proven) {
        Outcome::Clean
    } else {
        Outcome::Findings
    })
}
