//! SARIF 2.1.0 (OASIS), the format GitHub code scanning and other tools ingest: one run, the rules as
//! `reportingDescriptor`s, each finding as a `result` with a physical location.

use std::io::{self, Write};

use serde_json::{Value, json};

use super::LintReport;
use crate::rules::{RULES, Severity, documentation};

pub const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

pub fn write(report: &LintReport, out: &mut dyn Write) -> io::Result<()> {
    crate::out::json(out, &document(report))
}

pub fn document(report: &LintReport) -> Value {
    let rules: Vec<Value> = RULES
        .iter()
        .map(|rule| {
            json!({
                "id": rule.id,
                "name": rule.id,
                "shortDescription": { "text": rule.summary },
                "defaultConfiguration": { "level": level(rule.severity) },
                "help": {
                    "text": documentation(rule.id).unwrap_or_default(),
                    "markdown": documentation(rule.id).unwrap_or_default(),
                },
            })
        })
        .collect();
    let results: Vec<Value> = report
        .diagnostics
        .iter()
        .map(|d| {
            let mut text = d.message.clone();
            if let Some(fix) = &d.fix {
                text.push_str(&format!(
                    ". Fix: `migrate-safe rewrite` {}",
                    fix.description
                ));
            } else if let Some(help) = &d.help {
                text.push_str(&format!(". Safe alternative: {help}"));
            }
            let mut result = json!({
                "ruleId": d.rule,
                "level": level(d.severity),
                "message": { "text": text },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": uri(&d.file) },
                        "region": {
                            "startLine": d.line.max(1),
                            "startColumn": d.column.max(1),
                            "endLine": d.end_line.max(d.line).max(1),
                            "endColumn": d.end_column.max(1),
                        }
                    }
                }],
                "properties": { "migration": d.migration },
            });
            if let Some(index) = RULES.iter().position(|r| r.id == d.rule) {
                result["ruleIndex"] = json!(index);
            }
            result
        })
        .collect();
    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "migrate-safe",
                    "version": env!("CARGO_PKG_VERSION"),
                    "rules": rules,
                }
            },
            "columnKind": "unicodeCodePoints",
            "results": results,
            // Which Prisma each directory was judged for (how it applies a file changes the verdicts).
            "properties": { "prisma": report.prisma },
        }]
    })
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

/// A relative URI reference: `/` separators, and everything outside RFC 3986's unreserved set and `/`
/// percent-encoded (folder names may hold spaces).
fn uri(path: &std::path::Path) -> String {
    let text = path.to_string_lossy().replace('\\', "/");
    let text = text.strip_prefix("./").unwrap_or(&text);
    // An absolute path becomes a file: URI; a relative one stays relative to where the tool ran.
    let mut out = String::from(if text.starts_with('/') { "file://" } else { "" });
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::uri;
    use std::path::Path;

    #[test]
    fn uris_are_relative_and_encoded() {
        assert_eq!(
            uri(Path::new("./prisma/migrations/2024 add x/migration.sql")),
            "prisma/migrations/2024%20add%20x/migration.sql"
        );
        assert_eq!(uri(Path::new("/tmp/m/x.sql")), "file:///tmp/m/x.sql");
    }
}
