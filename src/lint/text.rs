//! Text like a compiler's: `severity[rule]: message`, `--> file:line:col`, the code, the fix.

use std::io::{self, Write};

use super::{Diagnostic, LintReport};
use crate::rules::{Applicability, Severity};

/// How many lines of a statement the code frame shows.
const FRAME_LINES: usize = 4;

pub fn write(report: &LintReport, out: &mut dyn Write, color: bool) -> io::Result<()> {
    let paint = |code: &str, text: &str| {
        if color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    };
    for (dir, origin) in &report.found {
        writeln!(out, "Migrations directory: {} ({origin})", dir.display())?;
    }
    if !report.found.is_empty() {
        writeln!(out)?;
    }
    for d in &report.diagnostics {
        write_one(d, out, &paint)?;
    }
    let counts =
        [Severity::Error, Severity::Warning, Severity::Note].map(|s| (report.count(s), s.as_str()));
    let total = report.diagnostics.len();
    let fixable = report.fixable();
    let suppressed = match report.suppressed {
        0 => String::new(),
        n => format!(", {n} suppressed"),
    };
    if total == 0 {
        writeln!(
            out,
            "{}: {} migration{} linted, no findings{suppressed}",
            paint("1;32", "ok"),
            report.migrations_linted,
            plural(report.migrations_linted)
        )?;
    } else {
        let breakdown: Vec<String> = counts
            .iter()
            .filter(|(n, _)| *n > 0)
            .map(|(n, s)| format!("{n} {s}{}", plural(*n)))
            .collect();
        writeln!(
            out,
            "{} finding{} ({}) in {} migration{} linted{suppressed}; {fixable} fixed by `migrate-safe rewrite`",
            total,
            plural(total),
            breakdown.join(", "),
            report.migrations_linted,
            plural(report.migrations_linted),
        )?;
    }
    for target in &report.prisma {
        writeln!(out, "{}", target.describe())?;
    }
    if report.failed() {
        writeln!(
            out,
            "failing: findings at or above {} (--fail-on)",
            report.fail_on.as_str()
        )?;
    }
    Ok(())
}

fn write_one(
    d: &Diagnostic,
    out: &mut dyn Write,
    paint: &dyn Fn(&str, &str) -> String,
) -> io::Result<()> {
    let (code, label) = match d.severity {
        Severity::Error => ("1;31", "error"),
        Severity::Warning => ("1;33", "warning"),
        Severity::Note => ("1;36", "note"),
    };
    writeln!(
        out,
        "{}: {}",
        paint(code, &format!("{label}[{}]", d.rule)),
        d.message
    )?;
    let width = (d.line + d.code.len()).to_string().len();
    let pad = " ".repeat(width);
    writeln!(
        out,
        "{pad}{} {}:{}:{}",
        paint("1;34", "-->"),
        d.file.display(),
        d.line,
        d.column
    )?;
    writeln!(out, "{pad} {}", paint("1;34", "|"))?;
    for (i, line) in d.code.iter().take(FRAME_LINES).enumerate() {
        writeln!(
            out,
            "{} {} {line}",
            paint("1;34", &format!("{:>width$}", d.line + i)),
            paint("1;34", "|")
        )?;
        if i == 0 {
            let start = d.column.saturating_sub(1);
            let len = line.chars().count().saturating_sub(start).max(1);
            writeln!(
                out,
                "{pad} {} {}{}",
                paint("1;34", "|"),
                " ".repeat(start),
                paint(code, &"^".repeat(len))
            )?;
        }
    }
    if d.code.len() > FRAME_LINES {
        writeln!(out, "{pad} {} ...", paint("1;34", "|"))?;
    }
    if let Some(fix) = &d.fix {
        let kind = match fix.applicability {
            Applicability::Safe => "fix",
            Applicability::Unsafe => "fix (unsafe)",
        };
        writeln!(
            out,
            "{pad} = {} (by `migrate-safe rewrite`): {}",
            paint("1;32", kind),
            fix.description
        )?;
    }
    if let (Some(help), None) = (&d.help, &d.fix) {
        writeln!(out, "{pad} = {}: {help}", paint("1", "help"))?;
    }
    writeln!(out)
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
