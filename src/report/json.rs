//! `--format json`: the plan for machines, streamed one migration at a time.

use std::io::{self, Write};

use serde::Serialize;

use super::{Mode, Report, Sink, plan_diffs};
use crate::fix::plan::MigrationPlan;
use crate::prove::Verification;
use crate::source::discover::MigrationsDir;

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

/// `{"directory", "found" (where it was found, when not given), "found_inside", "mode", "migrations": [...], "needs_rewrite", "written", "verification",
/// "proof"}`
pub struct JsonSink<'a> {
    pub out: &'a mut dyn Write,
    pub first: bool,
}

impl Sink for JsonSink<'_> {
    fn begin(
        &mut self,
        dir: &MigrationsDir,
        prisma: &crate::prisma::PrismaTarget,
        mode: Mode,
        _targets: usize,
    ) -> io::Result<()> {
        let found_inside = dir.found_inside.as_ref().map(|p| p.display().to_string());
        write!(
            self.out,
            "{{\n  \"directory\": {},\n  \"found\": {},\n  \"found_inside\": {},\n  \"prisma\": {},\n  \"mode\": {},\n  \"migrations\": [",
            serde_json::to_string(&dir.path.display().to_string())?,
            serde_json::to_string(&dir.origin())?,
            serde_json::to_string(&found_inside)?,
            serde_json::to_string(prisma)?,
            serde_json::to_string(&mode)?
        )
    }

    fn plan(&mut self, plan: &MigrationPlan) -> io::Result<()> {
        let element = JsonPlan {
            plan,
            changes_anything: plan.changes_anything(),
            diff: plan_diffs(plan).concat(),
        };
        write!(
            self.out,
            "{}\n    ",
            if self.first { "\n    " } else { "," }
        )?;
        self.first = false;
        serde_json::to_writer(&mut *self.out, &element)?;
        Ok(())
    }

    fn finish(&mut self, report: &Report) -> io::Result<()> {
        let verification = report
            .verification
            .map(|(server, results)| JsonVerification {
                server,
                proven: results.iter().all(|v| v.proven()),
                migrations: results,
            });
        writeln!(
            self.out,
            "\n  ],\n  \"needs_rewrite\": {},\n  \"written\": {},\n  \"verification\": {},\n  \"proof\": {}\n}}",
            report.needs_rewrite(),
            report.written,
            serde_json::to_string(&verification)?,
            serde_json::to_string(report.proof)?
        )
    }
}
