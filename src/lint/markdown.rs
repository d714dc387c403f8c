//! Markdown for a pull-request comment: a verdict, a summary table per rule, then one section per finding
//! with its statement and the fix `rewrite` applies (or the safe alternative). The first line is a hidden
//! marker, so a workflow can find and update its earlier comment instead of adding another.

use std::collections::BTreeMap;
use std::io::{self, Write};

use super::{Diagnostic, LintReport};
use crate::out::count;
use crate::rules::{self, Applicability, Severity};

/// The hidden first line of every comment.
pub const MARKER: &str = "<!-- migrate-safe lint -->";

/// GitHub refuses comments over 65,536 characters: findings stop being detailed past this much text
/// (the summary table still counts them all).
const SECTIONS_BUDGET: usize = 50_000;

/// How many lines of a statement a section quotes.
const CODE_LINES: usize = 12;

pub fn write(report: &LintReport, out: &mut dyn Write) -> io::Result<()> {
    let total = report.diagnostics.len();
    let fixable = report.fixable();
    writeln!(out, "{MARKER}")?;
    let migrations = count(report.migrations_linted, "migration");
    if total == 0 {
        writeln!(out, "## migrate-safe lint: no findings in {migrations}")?;
    } else {
        writeln!(
            out,
            "## migrate-safe lint: {} in {migrations}",
            count(total, "finding")
        )?;
    }
    writeln!(out)?;
    let verdict = if report.failed() {
        format!(
            "**Failing**: findings at or above `{}` (`--fail-on`).",
            report.fail_on.as_str()
        )
    } else {
        format!(
            "**Passing**: no finding at or above `{}` (`--fail-on`).",
            report.fail_on.as_str()
        )
    };
    let suppressed = match report.suppressed {
        0 => String::new(),
        n => format!(
            " {} silenced by `-- migrate-safe-ignore:` comments.",
            count(n, "finding")
        ),
    };
    writeln!(out, "{verdict}{suppressed}")?;
    if total > 0 {
        writeln!(out)?;
        summary_table(report, out)?;
        if fixable > 0 {
            writeln!(out)?;
            writeln!(
                out,
                "{fixable} of {total} fixed by `migrate-safe rewrite` (`npx migrate-safe rewrite <migrations directory>`, then commit the result); the others need the change described in their section."
            )?;
        }
    }
    writeln!(out)?;
    let mut written = 0;
    for (i, d) in report.diagnostics.iter().enumerate() {
        if written > SECTIONS_BUDGET {
            writeln!(
                out,
                "_… and {} more: run `migrate-safe lint` for every finding._",
                count(total - i, "finding")
            )?;
            writeln!(out)?;
            break;
        }
        let mut section = Vec::new();
        write_section(i + 1, d, &mut section)?;
        written += section.len();
        out.write_all(&section)?;
    }
    for (dir, origin) in &report.found {
        writeln!(
            out,
            "<sub>Migrations directory: {} ({})</sub>",
            prose(&dir.display().to_string()),
            prose(origin)
        )?;
    }
    for target in &report.prisma {
        writeln!(out, "<sub>{}</sub>", prose(&target.describe()))?;
    }
    Ok(())
}

fn summary_table(report: &LintReport, out: &mut dyn Write) -> io::Result<()> {
    // Per rule: (severities seen, findings, fixed by rewrite).
    let mut rows: BTreeMap<&str, (Vec<Severity>, usize, usize)> = BTreeMap::new();
    for d in &report.diagnostics {
        let row = rows.entry(d.rule).or_default();
        if !row.0.contains(&d.severity) {
            row.0.push(d.severity);
        }
        row.1 += 1;
        row.2 += usize::from(d.fix.is_some());
    }
    // Most severe first, then by rule id.
    let mut rows: Vec<_> = rows.into_iter().collect();
    rows.sort_by_key(|(rule, (severities, _, _))| {
        (std::cmp::Reverse(severities.iter().max().copied()), *rule)
    });
    writeln!(
        out,
        "| rule | severity | findings | fixed by `rewrite` | catches |"
    )?;
    writeln!(out, "|---|---|---:|---:|---|")?;
    for (rule, (mut severities, findings, fixed)) in rows {
        severities.sort_by(|a, b| b.cmp(a));
        let severity: Vec<&str> = severities.iter().map(|s| s.as_str()).collect();
        let summary = rules::rule(rule).map_or("", |r| r.summary);
        writeln!(
            out,
            "| `{rule}` | {} | {findings} | {fixed} | {} |",
            severity.join(", "),
            cell(summary)
        )?;
    }
    let counts: Vec<String> = [Severity::Error, Severity::Warning, Severity::Note]
        .iter()
        .map(|&s| (report.count(s), s))
        .filter(|(n, _)| *n > 0)
        .map(|(n, s)| count(n, s.as_str()))
        .collect();
    let fixed = report.fixable();
    writeln!(
        out,
        "| **total** | {} | {} | {fixed} | |",
        counts.join(", "),
        report.diagnostics.len()
    )
}

fn write_section(n: usize, d: &Diagnostic, out: &mut Vec<u8>) -> io::Result<()> {
    writeln!(
        out,
        "### {n}. {} `{}` in `{}`",
        d.severity.as_str(),
        d.rule,
        d.migration
    )?;
    writeln!(out)?;
    writeln!(out, "`{}:{}:{}`", d.file.display(), d.line, d.column)?;
    writeln!(out)?;
    writeln!(out, "{}", prose(&d.message))?;
    writeln!(out)?;
    if !d.code.is_empty() {
        let shown = &d.code[..d.code.len().min(CODE_LINES)];
        let fence = fence_for(shown);
        writeln!(out, "{fence}sql")?;
        for line in shown {
            writeln!(out, "{line}")?;
        }
        if d.code.len() > CODE_LINES {
            writeln!(out, "-- … {} more lines", d.code.len() - CODE_LINES)?;
        }
        writeln!(out, "{fence}")?;
        writeln!(out)?;
    }
    match (&d.fix, &d.help) {
        (Some(fix), _) => {
            let kind = match fix.applicability {
                Applicability::Safe => "Fix",
                Applicability::Unsafe => "Fix (unsafe: applied with `--unsafe-fixes`)",
            };
            writeln!(
                out,
                "**{kind}** by `migrate-safe rewrite`: {}",
                prose(&fix.description)
            )?;
        }
        (None, Some(help)) => writeln!(out, "**Safe alternative**: {}", prose(help))?,
        (None, None) => {}
    }
    writeln!(out)?;
    writeln!(
        out,
        "<sub>Rule: `migrate-safe rules {}`. Accept it with `-- migrate-safe-ignore: {} <why>` on the line before the statement.</sub>",
        d.rule, d.rule
    )?;
    writeln!(out)
}

/// A code fence longer than any run of backticks in the code.
fn fence_for(lines: &[String]) -> String {
    let longest = lines
        .iter()
        .flat_map(|l| l.split(|c| c != '`'))
        .map(str::len)
        .max()
        .unwrap_or(0);
    "`".repeat(longest.max(2) + 1)
}

/// Text that reads as written: `<` would start an HTML tag.
fn prose(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;")
}

/// A table cell: one line, no column break.
fn cell(text: &str) -> String {
    prose(text).replace('|', "\\|").replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fences_outgrow_backticks_and_prose_keeps_angle_brackets() {
        assert_eq!(fence_for(&["SELECT 1".into()]), "```");
        assert_eq!(fence_for(&["a ```` b".into()]), "`````");
        assert_eq!(
            prose("Prisma <= 7.3 & <name>"),
            "Prisma &lt;= 7.3 &amp; &lt;name>"
        );
        assert_eq!(cell("a | b\nc"), "a \\| b c");
    }
}
