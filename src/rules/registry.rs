//! The rules' registry: ids, default severities, fix applicability, and `migrate-safe rules`.

use serde::Serialize;

use super::{RULES, SOURCES};

/// How bad a finding is. A finding without a severity only explains what `rewrite` left alone.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; never fails the gate by default.
    Note,
    /// A lock hazard or a breaking change: fails the gate by default.
    Warning,
    /// Will fail or stall the deploy.
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// Whether `rewrite` applies a rule's fix by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Applicability {
    /// Same schema, no behaviour change: applied by default.
    Safe,
    /// Changes how the deploy behaves (it may now fail fast): applied with `--unsafe-fixes`.
    Unsafe,
}

/// A rule's identity, for selection, configuration and documentation.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Rule {
    pub id: &'static str,
    pub severity: Severity,
    /// One line: what it catches.
    pub summary: &'static str,
    /// What `rewrite` does about it, if anything.
    pub fix: Option<Applicability>,
}

/// A rule's documentation: its source file's `//!` comment, as Markdown.
pub fn documentation(id: &str) -> Option<String> {
    let (_, source) = SOURCES.iter().find(|(rule, _)| *rule == id)?;
    let lines: Vec<&str> = source
        .lines()
        .take_while(|l| l.starts_with("//!"))
        .map(|l| l.trim_start_matches("//!").strip_prefix(' ').unwrap_or(""))
        .collect();
    Some(lines.join("\n"))
}

/// `migrate-safe rules <id>`: the rule's documentation and what `rewrite` does about it.
pub fn page(rule: &Rule) -> String {
    let text = documentation(rule.id).expect("every rule has a source file");
    let fix = match rule.fix {
        Some(Applicability::Safe) => "fixed by `migrate-safe rewrite`",
        Some(Applicability::Unsafe) => "fixed by `migrate-safe rewrite --unsafe-fixes`",
        None => "no automatic fix",
    };
    format!(
        "{text}\n\nDefault severity: {}; {fix}.\n",
        rule.severity.as_str()
    )
}

/// How `rewrite` treats a rule's findings, as a table cell.
fn fix_cell(rule: &Rule) -> &'static str {
    match rule.fix {
        Some(Applicability::Safe) => "fix",
        Some(Applicability::Unsafe) => "fix (unsafe)",
        None => "-",
    }
}

/// `migrate-safe rules`: one line per rule.
pub fn table() -> String {
    let mut text = String::new();
    for rule in RULES {
        text.push_str(&format!(
            "{:<28} {:<8} {:<13} {}\n",
            rule.id,
            rule.severity.as_str(),
            fix_cell(rule),
            rule.summary
        ));
    }
    text.push_str("\n`migrate-safe rules <id>` explains one: what it catches, why, and the fix.\n");
    text
}

/// The same table in Markdown for the docs book, each rule linking to its generated page.
pub fn markdown_table() -> String {
    let mut text = String::from("| rule | default | `rewrite` | catches |\n|---|---|---|---|\n");
    for rule in RULES {
        text.push_str(&format!(
            "| [`{id}`](rules/{id}.md) | {} | {} | {} |\n",
            rule.severity.as_str(),
            fix_cell(rule),
            rule.summary.replace('|', "\\|"),
            id = rule.id,
        ));
    }
    text
}

pub fn rule(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// docs/rules/<id>.md is `migrate-safe rules <id>`, and docs/lint.md's table is `migrate-safe
    /// rules`, for every rule and no other. `MIGRATE_SAFE_BLESS=1 cargo test --lib` rewrites them.
    #[test]
    fn the_rule_pages_in_the_docs_are_generated_from_the_rules() {
        let docs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs");
        let bless = std::env::var_os("MIGRATE_SAFE_BLESS").is_some();
        let mut stale = Vec::new();
        let mut expected = std::collections::BTreeMap::new();
        for rule in RULES {
            expected.insert(format!("{}.md", rule.id), page(rule));
        }
        let lint = std::fs::read_to_string(docs.join("lint.md")).unwrap();
        let (start, end) = ("<!-- rules: generated -->\n", "<!-- rules: end -->");
        let from = lint.find(start).expect("docs/lint.md marks the rule table") + start.len();
        let to = lint.find(end).expect("docs/lint.md marks the table's end");
        if lint[from..to] != markdown_table() {
            stale.push("lint.md".to_string());
            if bless {
                let fresh = format!("{}{}{}", &lint[..from], markdown_table(), &lint[to..]);
                std::fs::write(docs.join("lint.md"), fresh).unwrap();
            }
        }
        let pages = docs.join("rules");
        for entry in std::fs::read_dir(&pages).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !expected.contains_key(&name) {
                stale.push(format!("rules/{name} (no such rule)"));
                if bless {
                    std::fs::remove_file(entry.path()).unwrap();
                }
            }
        }
        for (name, text) in &expected {
            if std::fs::read_to_string(pages.join(name)).ok().as_ref() != Some(text) {
                stale.push(format!("rules/{name}"));
                if bless {
                    std::fs::create_dir_all(&pages).unwrap();
                    std::fs::write(pages.join(name), text).unwrap();
                }
            }
        }
        let summary = std::fs::read_to_string(docs.join("SUMMARY.md")).unwrap();
        for rule in RULES {
            let entry = format!("[{id}](rules/{id}.md)", id = rule.id);
            assert!(summary.contains(&entry), "docs/SUMMARY.md lacks {entry}");
        }
        assert!(
            bless || stale.is_empty(),
            "docs out of date with the rules: {stale:?}; run `MIGRATE_SAFE_BLESS=1 cargo test --lib rule_pages`"
        );
    }

    #[test]
    fn every_rule_is_documented_with_what_and_why() {
        assert_eq!(SOURCES.len(), RULES.len());
        for rule in RULES {
            let doc = documentation(rule.id).unwrap_or_else(|| panic!("{} has no source", rule.id));
            assert!(doc.starts_with(&format!("`{}`: ", rule.id)), "{doc}");
            assert!(doc.contains("**What**") && doc.contains("**Why**"), "{doc}");
        }
    }
}
