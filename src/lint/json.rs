//! One JSON document: every diagnostic, counts per severity and per rule, and whether the gate fails.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;

use super::{Diagnostic, LintReport};
use crate::rules::Severity;

#[derive(Serialize)]
struct Document<'a> {
    tool: &'static str,
    version: &'static str,
    directories: &'a [std::path::PathBuf],
    /// Directories that were not the path given, and where they came from.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    found: Vec<Found<'a>>,
    prisma: &'a [crate::prisma::PrismaTarget],
    migrations_linted: usize,
    fail_on: Severity,
    failed: bool,
    summary: Summary,
    by_rule: BTreeMap<&'static str, usize>,
    diagnostics: &'a [Diagnostic],
}

#[derive(Serialize)]
struct Found<'a> {
    directory: &'a std::path::Path,
    from: &'a str,
}

#[derive(Serialize)]
struct Summary {
    error: usize,
    warning: usize,
    note: usize,
    fixable: usize,
    suppressed: usize,
}

pub fn write(report: &LintReport, out: &mut dyn Write) -> io::Result<()> {
    let document = Document {
        tool: "migrate-safe",
        version: env!("CARGO_PKG_VERSION"),
        directories: &report.directories,
        found: report
            .found
            .iter()
            .map(|(directory, from)| Found { directory, from })
            .collect(),
        prisma: &report.prisma,
        migrations_linted: report.migrations_linted,
        fail_on: report.fail_on,
        failed: report.failed(),
        summary: Summary {
            error: report.count(Severity::Error),
            warning: report.count(Severity::Warning),
            note: report.count(Severity::Note),
            fixable: report.fixable(),
            suppressed: report.suppressed,
        },
        by_rule: report.by_rule(),
        diagnostics: &report.diagnostics,
    };
    crate::out::json(out, &document)
}
