//! Text output a person can scan: what moved where, what was split, what was left alone and why.

use std::io::{self, IsTerminal, Write};

use super::{Mode, Report, Sink, plan_diffs};
use crate::fix::plan::MigrationPlan;
use crate::source::discover::MigrationsDir;

/// Colour only on a terminal, and never with NO_COLOR set.
pub fn use_color() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && io::stdout().is_terminal()
}

pub struct TextSink<'a> {
    pub out: &'a mut dyn Write,
    pub color: bool,
    pub mode: Mode,
    /// The deployed database the targets came from (redacted), when one was given.
    pub database: Option<String>,
    /// `deployed-by = "migrate-safe"`: models are named as migrate-safe deploy applies files.
    pub deployed_by_migrate_safe: bool,
}

impl Sink for TextSink<'_> {
    fn begin(
        &mut self,
        dir: &MigrationsDir,
        prisma: &crate::prisma::PrismaTarget,
        mode: Mode,
        targets: usize,
    ) -> io::Result<()> {
        self.mode = mode;
        self.deployed_by_migrate_safe = prisma.deployed_by.is_some();
        let out = &mut *self.out;
        match dir.origin() {
            Some(origin) => writeln!(
                out,
                "Migrations directory: {} ({origin}), {}",
                dir.path.display(),
                crate::out::count(dir.migrations.len(), "migration")
            )?,
            None => writeln!(
                out,
                "Migrations directory: {}, {}",
                dir.path.display(),
                crate::out::count(dir.migrations.len(), "migration")
            )?,
        }
        writeln!(out, "{}", prisma.describe())?;
        if targets == 0 {
            match &self.database {
                Some(database) => writeln!(
                    out,
                    "Nothing is pending in {database}: every migration here is applied there (or is a baseline or a folder migrate-safe wrote)."
                )?,
                None => writeln!(
                    out,
                    "No migration to rewrite: only baselines (0_*) and folders written by migrate-safe."
                )?,
            }
        }
        Ok(())
    }

    fn plan(&mut self, plan: &MigrationPlan) -> io::Result<()> {
        write_plan(plan, self.out)?;
        if self.mode == Mode::DryRun {
            for diff in plan_diffs(plan) {
                write_diff(&diff, self.out, self.color)?;
            }
        }
        Ok(())
    }

    fn finish(&mut self, report: &Report) -> io::Result<()> {
        if report.targets == 0 {
            return Ok(());
        }
        let out = &mut *self.out;
        if let Some((server, results)) = report.verification {
            writeln!(out)?;
            writeln!(out, "Verified on {server}:")?;
            for result in results {
                if result.proven() {
                    writeln!(
                        out,
                        "  {}: original and rewritten sequence build the same schema; no INVALID index, no NOT VALID constraint left (applied {})",
                        result.migration,
                        result.model.label_under(self.deployed_by_migrate_safe)
                    )?;
                    continue;
                }
                writeln!(
                    out,
                    "  {}: NOT PROVEN (applied {})",
                    result.migration,
                    result.model.label_under(self.deployed_by_migrate_safe)
                )?;
                if let Some(failure) = &result.failure {
                    writeln!(out, "    {failure}")?;
                }
                if !result.differences.is_empty() {
                    writeln!(
                        out,
                        "    the catalogs differ (- only after the original, + only after the rewrite):"
                    )?;
                    for line in &result.differences {
                        writeln!(out, "      {line}")?;
                    }
                }
                for hazard in &result.hazards {
                    writeln!(out, "    left behind: {hazard}")?;
                }
            }
        }
        writeln!(out)?;
        write_summary(report, out)
    }
}

fn write_plan(plan: &MigrationPlan, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out)?;
    let status = match (plan.changes_anything(), plan.hazards_left() > 0) {
        (true, _) => "needs a rewrite",
        (false, false) => "already safe, nothing to rewrite",
        (false, true) => "nothing to rewrite (hazards without an automatic fix below)",
    };
    writeln!(out, "{}: {status}", plan.migration)?;
    if !plan.suppressed.is_empty() {
        writeln!(
            out,
            "  {} finding(s) accepted with -- migrate-safe-ignore: left as they are",
            plan.suppressed.len()
        )?;
    }
    for outcome in plan.outcomes.iter().filter(|o| o.resolution.is_some()) {
        writeln!(
            out,
            "  line {}: {} [{}]",
            outcome.finding.line, outcome.finding.message, outcome.finding.rule
        )?;
        writeln!(
            out,
            "    -> {}",
            outcome.resolution.as_deref().unwrap_or_default()
        )?;
    }
    // Unanalysed statements get their own line below.
    let left = plan
        .outcomes
        .iter()
        .filter(|o| o.resolution.is_none() && o.finding.rule != crate::rules::unanalysed::RULE.id);
    for outcome in left {
        match outcome.finding.severity {
            Some(severity) => writeln!(
                out,
                "  line {}: {}: {} [{}]",
                outcome.finding.line,
                severity.as_str(),
                outcome.finding.message,
                outcome.finding.rule
            )?,
            None => writeln!(
                out,
                "  line {}: {}",
                outcome.finding.line, outcome.finding.message
            )?,
        }
    }
    for unanalysed in &plan.unanalysed {
        writeln!(
            out,
            "  line {}: not analysed, passed through untouched: {}",
            unanalysed.line, unanalysed.reason
        )?;
    }
    Ok(())
}

fn write_diff(diff: &str, out: &mut dyn Write, color: bool) -> io::Result<()> {
    writeln!(out)?;
    for line in diff.lines() {
        let code = match line.as_bytes().first() {
            _ if !color => None,
            Some(b'+') if !line.starts_with("+++") => Some("32"),
            Some(b'-') if !line.starts_with("---") => Some("31"),
            Some(b'@') => Some("36"),
            _ => None,
        };
        match code {
            Some(code) => writeln!(out, "\x1b[{code}m{line}\x1b[0m")?,
            None => writeln!(out, "{line}")?,
        }
    }
    Ok(())
}

fn write_summary(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    if report.changed == 0 && report.hazards_left == 0 {
        return writeln!(out, "Nothing to rewrite: the migrations are already safe.");
    }
    if report.changed == 0 {
        return writeln!(
            out,
            "Nothing to rewrite; {} without an automatic fix (`migrate-safe lint` shows each with its safe alternative).",
            plural(report.hazards_left, "hazard")
        );
    }
    let migrations = plural(report.changed, "migration");
    let folders = plural(report.new_folders, "new migration folder");
    if report
        .verification
        .is_some_and(|(_, results)| results.iter().any(|r| !r.proven()))
    {
        return writeln!(out, "The rewrite is not proven: nothing was written.");
    }
    match report.mode {
        Mode::Write => writeln!(
            out,
            "Rewrote {migrations} and added {folders}. Review with `git diff` and `git status`, then apply them with `migrate-safe deploy` (bounded lock waits, retries) or `prisma migrate deploy`."
        ),
        Mode::DryRun => writeln!(
            out,
            "Dry run: would rewrite {migrations} and add {folders}. Nothing was written."
        ),
        Mode::Check => writeln!(
            out,
            "Check failed: {migrations} need a rewrite ({folders}). Run `migrate-safe rewrite {}` to fix.",
            crate::escape::shell(&report.dir.path.display().to_string())
        ),
    }
}

fn plural(count: usize, noun: &str) -> String {
    format!("{count} {noun}{}", if count == 1 { "" } else { "s" })
}
