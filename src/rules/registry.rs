//! The rules' registry: ids, default severities, fix applicability, and `migrate-safe rules`.

use serde::Serialize;

use super::{
    blocking_maintenance, breaking_change, check_not_valid, column_type_rewrite,
    concurrently_alone, concurrently_if_not_exists, data_backfill, drop_index_concurrently,
    enum_recreation, existing_tables_last, foreign_key_not_valid, index_concurrently, invalid_sql,
    lock_timeout, non_atomic_file, not_null_via_check, unanalysed, unique_using_index,
    volatile_default,
};

/// How bad a finding is. A finding without a severity only explains what `rewrite` left alone.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    serde::Deserialize,
    clap::ValueEnum,
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

/// Every rule, in the order their findings are explained.
pub const RULES: &[Rule] = &[
    index_concurrently::RULE,
    foreign_key_not_valid::RULE,
    unique_using_index::RULE,
    drop_index_concurrently::RULE,
    not_null_via_check::RULE,
    check_not_valid::RULE,
    concurrently_alone::RULE,
    concurrently_if_not_exists::RULE,
    lock_timeout::RULE,
    existing_tables_last::RULE,
    non_atomic_file::RULE,
    column_type_rewrite::RULE,
    volatile_default::RULE,
    breaking_change::RULE,
    data_backfill::RULE,
    enum_recreation::RULE,
    blocking_maintenance::RULE,
    unanalysed::RULE,
    invalid_sql::RULE,
];

/// `migrate-safe rules`: the table of rules.
/// Each rule's source file, whose `//!` comment is its documentation (what, why, fix or safe
/// alternative): one text for the code, `migrate-safe rules <id>` and SARIF's rule help.
const SOURCES: &[(&str, &str)] = &[
    (
        index_concurrently::RULE.id,
        include_str!("index_concurrently.rs"),
    ),
    (
        foreign_key_not_valid::RULE.id,
        include_str!("foreign_key_not_valid.rs"),
    ),
    (
        unique_using_index::RULE.id,
        include_str!("unique_using_index.rs"),
    ),
    (
        drop_index_concurrently::RULE.id,
        include_str!("drop_index_concurrently.rs"),
    ),
    (
        not_null_via_check::RULE.id,
        include_str!("not_null_via_check.rs"),
    ),
    (check_not_valid::RULE.id, include_str!("check_not_valid.rs")),
    (
        concurrently_alone::RULE.id,
        include_str!("concurrently_alone.rs"),
    ),
    (
        concurrently_if_not_exists::RULE.id,
        include_str!("concurrently_if_not_exists.rs"),
    ),
    (lock_timeout::RULE.id, include_str!("lock_timeout.rs")),
    (
        existing_tables_last::RULE.id,
        include_str!("existing_tables_last.rs"),
    ),
    (non_atomic_file::RULE.id, include_str!("non_atomic_file.rs")),
    (
        column_type_rewrite::RULE.id,
        include_str!("column_type_rewrite.rs"),
    ),
    (
        volatile_default::RULE.id,
        include_str!("volatile_default.rs"),
    ),
    (breaking_change::RULE.id, include_str!("breaking_change.rs")),
    (data_backfill::RULE.id, include_str!("data_backfill.rs")),
    (enum_recreation::RULE.id, include_str!("enum_recreation.rs")),
    (
        blocking_maintenance::RULE.id,
        include_str!("blocking_maintenance.rs"),
    ),
    (unanalysed::RULE.id, include_str!("unanalysed.rs")),
    (invalid_sql::RULE.id, include_str!("invalid_sql.rs")),
];

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

/// `migrate-safe rules [<id>]`: the table of rules, or one rule's documentation.
pub fn explain(
    id: Option<&str>,
    out: &mut dyn std::io::Write,
) -> crate::error::Result<crate::Outcome> {
    let Some(id) = id else {
        return list(out);
    };
    let text = documentation(id).ok_or_else(|| {
        crate::error::Error::Usage(format!(
            "unknown rule \"{id}\" (known: {})",
            crate::config::known_rules()
        ))
    })?;
    let rule = rule(id).expect("documented rules are registered");
    let fix = match rule.fix {
        Some(Applicability::Safe) => "fixed by `migrate-safe rewrite`",
        Some(Applicability::Unsafe) => "fixed by `migrate-safe rewrite --unsafe-fixes`",
        None => "no automatic fix",
    };
    let text = format!(
        "{text}\n\nDefault severity: {}; {fix}.\n",
        rule.severity.as_str()
    );
    crate::report::stdout(out.write_all(text.as_bytes()))?;
    Ok(crate::Outcome::Clean)
}

pub fn list(out: &mut dyn std::io::Write) -> crate::error::Result<crate::Outcome> {
    let mut text = String::new();
    for rule in RULES {
        let fix = match rule.fix {
            Some(Applicability::Safe) => "fix",
            Some(Applicability::Unsafe) => "fix (unsafe)",
            None => "-",
        };
        text.push_str(&format!(
            "{:<28} {:<8} {:<13} {}\n",
            rule.id,
            rule.severity.as_str(),
            fix,
            rule.summary
        ));
    }
    text.push_str("\n`migrate-safe rules <id>` explains one: what it catches, why, and the fix.\n");
    crate::report::stdout(out.write_all(text.as_bytes()))?;
    Ok(crate::Outcome::Clean)
}

pub fn rule(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

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
