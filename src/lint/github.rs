//! GitHub Actions workflow commands: each finding becomes an annotation on the pull request's diff.
//! https://docs.github.com/actions/reference/workflow-commands-for-github-actions

use std::io::{self, Write};

use super::LintReport;
use crate::rules::Severity;

pub fn write(report: &LintReport, out: &mut dyn Write) -> io::Result<()> {
    for d in &report.diagnostics {
        let command = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "notice",
        };
        let mut message = d.message.clone();
        if let Some(fix) = &d.fix {
            message.push_str(&format!(
                "\nfix: `migrate-safe rewrite` {}",
                fix.description
            ));
        } else if let Some(help) = &d.help {
            message.push_str(&format!("\nhelp: {help}"));
        }
        writeln!(
            out,
            "::{command} file={},line={},col={},endLine={},title={}::{}",
            property(&d.file.display().to_string()),
            d.line,
            d.column,
            d.end_line.max(d.line),
            property(&format!("migrate-safe {}", d.rule)),
            data(&message)
        )?;
    }
    for target in &report.prisma {
        writeln!(out, "{}", target.describe())?;
    }
    writeln!(
        out,
        "{} finding(s) in {} migration(s); failing: {}",
        report.diagnostics.len(),
        report.migrations_linted,
        report.failed()
    )
}

/// Escaping of a command's message.
fn data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escaping of a command's property values (also `:` and `,`).
fn property(text: &str) -> String {
    data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(data("50%\nnext"), "50%25%0Anext");
        assert_eq!(property("a:b,c"), "a%3Ab%2Cc");
    }
}
