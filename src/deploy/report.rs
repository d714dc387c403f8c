//! deploy's output: lines as things happen (stdout, or stderr beside `--format json`), then a summary.

use std::fmt::Write as _;
use std::io::Write;
use std::time::Duration;

use super::DeployReport;
use super::apply::{MigrationRun, RunResult};
use super::plan::{Planned, Refusal, Shape};
use super::preflight::{CheckResult, Preflight};

/// Where progress lines go.
pub struct Sink<'a> {
    pub out: &'a mut dyn Write,
    pub json: bool,
}

impl Sink<'_> {
    pub fn line(&mut self, line: String) {
        if line.is_empty() {
            return;
        }
        if self.json {
            eprintln!("{}", crate::secret::scrub(&line));
        } else {
            let _ = writeln!(self.out, "{line}");
            let _ = self.out.flush();
        }
    }
}

/// The pending migrations, how each runs, and (`with_locks`, when no pre-flight will show them with
/// their sizes) the locks each statement asks for.
pub fn plan_text(planned: &[Planned], refusals: &[Refusal], with_locks: bool) -> String {
    let mut text = format!(
        "{} pending migration(s), in order:",
        planned.len() + refusals.len()
    );
    for p in planned {
        let _ = write!(
            text,
            "\n  {}: {}",
            p.migration,
            match &p.shape {
                Shape::Transaction { .. } => "one transaction",
                Shape::Alone { .. } => "alone, outside a transaction",
            }
        );
        if with_locks {
            let locks: Vec<(String, &str, Vec<usize>)> =
                grouped(p.locks.iter().map(|l| (l.on.clone(), l.mode, l.line)));
            for (on, mode, lines) in locks {
                let _ = write!(text, "\n    {mode} on {on} ({})", lines_text(&lines));
            }
        }
        if let Shape::Transaction { skipped, .. } = &p.shape {
            for s in skipped {
                let _ = write!(
                    text,
                    "\n    line {}: not sent ({}): {}",
                    s.at.line, s.at.excerpt, s.why
                );
            }
        }
    }
    for r in refusals {
        let _ = write!(
            text,
            "\n  {}: refused, line {}: {}",
            r.migration, r.line, r.reason
        );
    }
    text
}

fn bytes(n: i64) -> String {
    const UNITS: [&str; 4] = ["B", "kB", "MB", "GB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.0} {}", UNITS[unit])
}

/// Entries grouped by (what, mode), their lines in order.
fn grouped<'a>(
    entries: impl Iterator<Item = (String, &'a str, usize)>,
) -> Vec<(String, &'a str, Vec<usize>)> {
    let mut groups: Vec<(String, &str, Vec<usize>)> = Vec::new();
    for (on, mode, line) in entries {
        match groups.iter_mut().find(|(o, m, _)| *o == on && *m == mode) {
            Some(group) => group.2.push(line),
            None => groups.push((on, mode, vec![line])),
        }
    }
    groups
}

fn lines_text(lines: &[usize]) -> String {
    let list: Vec<String> = lines.iter().map(usize::to_string).collect();
    format!(
        "{} {}",
        if lines.len() == 1 { "line" } else { "lines" },
        list.join(", ")
    )
}

pub fn preflight_text(preflight: &Preflight) -> String {
    let mut text = format!(
        "Pre-flight (read-only, {:.0} ms): locks on existing tables, data checks",
        preflight.elapsed_ms
    );
    let mut no_rows = 0;
    for m in &preflight.migrations {
        let _ = write!(text, "\n  {}:", m.migration);
        let mut said = false;
        let existing = m.tables.iter().filter(|t| t.rows_estimate.is_some());
        let sizes: Vec<(String, String)> = m
            .tables
            .iter()
            .filter_map(|t| {
                Some((
                    t.table.clone(),
                    format!(
                        "~{} rows, {}",
                        t.rows_estimate?.max(0),
                        bytes(t.total_bytes.unwrap_or(0))
                    ),
                ))
            })
            .collect();
        for (on, mode, lines) in grouped(existing.map(|t| (t.table.clone(), t.mode, t.line))) {
            let size = sizes
                .iter()
                .find(|(t, _)| *t == on)
                .map_or(String::new(), |(_, s)| format!(", {s}"));
            let _ = write!(text, "\n    {mode} on {on} ({}{size})", lines_text(&lines));
            said = true;
        }
        for c in preflight
            .checks
            .iter()
            .filter(|c| c.migration == m.migration)
        {
            let (verdict, detail) = match &c.result {
                CheckResult::Passes => ("ok", String::new()),
                CheckResult::Fails { detail, list } if !list.is_empty() => (
                    "WOULD FAIL",
                    format!(": {detail}; list them (read-only): {list}"),
                ),
                CheckResult::Fails { detail, .. } => ("WOULD FAIL", format!(": {detail}")),
                CheckResult::NotPredictive { detail, because } => {
                    ("note", format!(": {detail} now, but {because}"))
                }
                CheckResult::NotChecked { why } => ("not checked", format!(": {why}")),
                CheckResult::NoRowsYet { .. } => {
                    no_rows += 1;
                    continue;
                }
            };
            let _ = write!(
                text,
                "\n    line {}: {} -> {verdict}{detail} ({:.0} ms)",
                c.line, c.what, c.elapsed_ms
            );
            said = true;
        }
        if !said {
            text.push_str(" no lock on an existing table, no data to check");
        }
    }
    if no_rows > 0 {
        let _ = write!(
            text,
            "\n  ({no_rows} check(s) on tables or columns the pending migrations create: no rows yet)"
        );
    }
    for hold in &preflight.holds {
        let _ = write!(
            text,
            "\n  {} holds {} {}",
            hold.migration,
            hold.locks.join(", "),
            if hold.work.is_empty() {
                "for milliseconds (metadata changes only)".to_string()
            } else {
                format!("for about {} ms", hold.estimate_ms.ceil())
            }
        );
        for work in &hold.work {
            let _ = write!(
                text,
                "\n    line {}: {} {} (~{} rows{}): ~{} ms",
                work.line,
                work.kind.describe(),
                work.table,
                work.rows.max(0),
                work.rows_changed
                    .map_or(String::new(), |n| format!(", ~{} changed", n.max(0))),
                work.estimate_ms.ceil()
            );
        }
        if let Some(unknown) = &hold.unknown {
            let _ = write!(text, "\n    ({unknown})");
        }
    }
    for holder in &preflight.lock_holders {
        let _ = write!(
            text,
            "\n  holds a lock on one of these tables now: {holder}"
        );
    }
    text
}

pub fn run_text(run: &MigrationRun, elapsed: Duration) -> String {
    match &run.result {
        RunResult::Applied { attempts, .. } => format!(
            "  applied in {:.0} ms{}",
            elapsed.as_secs_f64() * 1000.0,
            if *attempts > 1 {
                format!(" (attempt {attempts})")
            } else {
                String::new()
            }
        ),
        RunResult::LockNotGranted => "  not applied: its locks were not granted".into(),
        RunResult::OldTransactions { transactions } => {
            let mut text =
                "  not applied: these transactions stayed open (the build would wait for them):"
                    .to_string();
            for t in transactions {
                let _ = write!(text, "\n    {t}");
            }
            text
        }
        RunResult::Failed {
            message,
            at,
            dropped_invalid_index,
            half_applied,
            ..
        } => {
            let mut text = format!("  FAILED: {message}");
            if let Some(at) = at {
                let _ = write!(text, "\n    at line {}: {}", at.line, at.excerpt);
            }
            // That the INVALID index it left was dropped was said when it was (once is enough).
            let _ = dropped_invalid_index;
            text.push_str(if *half_applied {
                "\n    part of it may stay applied: see `migrate-safe status`"
            } else {
                "\n    rolled back: nothing of it is applied; recorded as failed in _prisma_migrations, as Prisma records it"
            });
            text
        }
    }
}

pub fn summary_text(report: &DeployReport) -> String {
    let applied = report
        .runs
        .iter()
        .filter(|r| matches!(r.result, RunResult::Applied { .. }))
        .count();
    let mut text = String::new();
    if !report.runs.is_empty() {
        let _ = writeln!(
            text,
            "Summary: {:.1} s in all (deadlock_timeout {} ms: deploy's lock waits end well before it)",
            report.elapsed_ms / 1000.0,
            report.deadlock_timeout_ms
        );
        for run in &report.runs {
            let _ = writeln!(text, "  {}: {}", run.migration, run_summary(run));
        }
        let collisions: usize = report.runs.iter().map(|r| r.retries.len()).sum();
        let _ = writeln!(
            text,
            "  collisions with writers: {collisions}{}",
            if collisions == 0 {
                String::new()
            } else {
                " (each was deploy's own attempt rolled back; no writer's transaction failed)"
                    .into()
            }
        );
    }
    match report.outcome {
        "applied" => {
            let _ = writeln!(text, "Deployed: {applied} migration(s) applied.");
        }
        "nothing_pending" => {}
        "dry_run" => {
            let _ = writeln!(
                text,
                "Dry run: {} migration(s) would be applied; nothing was.",
                report.pending.len()
            );
        }
        _ => {
            let _ = writeln!(
                text,
                "Stopped: {}",
                report.stopped.as_deref().unwrap_or("see above")
            );
            if applied > 0 {
                let _ = writeln!(text, "  {applied} migration(s) were applied before it.");
            }
            for step in &report.next {
                let _ = writeln!(text, "  next: {step}");
            }
        }
    }
    text
}

/// One migration's run in a line: result, attempts, waits, how long writes were blocked.
fn run_summary(run: &MigrationRun) -> String {
    let result = match &run.result {
        RunResult::Applied { .. } => "applied",
        RunResult::LockNotGranted => "not applied (locks not granted)",
        RunResult::OldTransactions { .. } => "not applied (old transactions)",
        RunResult::Failed { .. } => "FAILED",
    };
    let mut parts = vec![result.to_string()];
    parts.push(format!(
        "{} attempt{}",
        run.attempts,
        if run.attempts == 1 { "" } else { "s" }
    ));
    if run.waited_for_clear_ms >= 100.0 || !run.in_the_way.is_empty() {
        let pids: Vec<String> = run
            .in_the_way
            .iter()
            .map(|b| {
                if b.application_name.is_empty() {
                    format!("pid {}", b.pid)
                } else {
                    format!("pid {} ({})", b.pid, b.application_name)
                }
            })
            .collect();
        parts.push(format!(
            "waited {:.1} s {}{}",
            run.waited_for_clear_ms / 1000.0,
            if run.locks.is_empty() && run.in_the_way.is_empty() {
                "for older transactions"
            } else {
                "for the way to clear"
            },
            if pids.is_empty() {
                String::new()
            } else {
                format!(" ({})", pids.join(", "))
            }
        ));
    }
    let blocking: Vec<String> = run
        .locks
        .iter()
        .filter(|l| l.mode.blocks_writes())
        .map(|l| format!("{} on {}", l.mode.name(), l.table))
        .collect();
    if blocking.is_empty() {
        parts.push("no write-blocking lock".into());
    } else {
        parts.push(format!(
            "write-blocking locks held {:.0} ms ({})",
            run.write_locks_held_ms,
            blocking.join(", ")
        ));
    }
    if !run.retries.is_empty() {
        parts.push(format!("{} collision(s)", run.retries.len()));
    }
    parts.join(", ")
}
