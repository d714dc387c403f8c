//! `--format json`: the plan for machines.

use std::io::{self, Write};

use serde::Serialize;

use super::{Mode, Report, plan_diffs};
use crate::check::verify::Verification;
use crate::fix::plan::MigrationPlan;

#[derive(Serialize)]
struct JsonReport<'a> {
    directory: String,
    found_inside: Option<String>,
    mode: Mode,
    needs_rewrite: bool,
    written: bool,
    migrations: Vec<JsonPlan<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    verification: Option<JsonVerification<'a>>,
}

#[derive(Serialize)]
struct JsonVerification<'a> {
    server: &'a str,
    proven: bool,
    migrations: &'a [Verification],
}

#[derive(Serialize)]
struct JsonPlan<'a> {
    #[serde(flatten)]
    plan: &'a MigrationPlan,
    changes_anything: bool,
    /// Unified diffs of the edited file and the new files.
    diff: String,
}

pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let json = JsonReport {
        directory: report.dir.path.display().to_string(),
        found_inside: report
            .dir
            .found_inside
            .as_ref()
            .map(|p| p.display().to_string()),
        mode: report.mode,
        needs_rewrite: report.needs_rewrite(),
        written: report.written,
        migrations: report
            .plans
            .iter()
            .map(|plan| JsonPlan {
                plan,
                changes_anything: plan.changes_anything(),
                diff: plan_diffs(plan).concat(),
            })
            .collect(),
        verification: report
            .verification
            .map(|(server, results)| JsonVerification {
                server,
                proven: results.iter().all(|v| v.proven()),
                migrations: results,
            }),
    };
    serde_json::to_writer_pretty(&mut *out, &json)?;
    writeln!(out)
}
