//! The rules' registry: ids, default severities, fix applicability, and `migrate-safe rules`.

use serde::Serialize;

use super::{
    blocking_maintenance, breaking_change, check_not_valid, column_type_rewrite,
    concurrently_alone, concurrently_if_not_exists, drop_index_concurrently, enum_recreation,
    foreign_key_not_valid, index_concurrently, lock_timeout, not_null_via_check, unanalysed,
    unique_using_index, volatile_default,
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
    column_type_rewrite::RULE,
    volatile_default::RULE,
    breaking_change::RULE,
    enum_recreation::RULE,
    blocking_maintenance::RULE,
    unanalysed::RULE,
];

/// `migrate-safe rules`: the table of rules.
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
    crate::report::stdout(out.write_all(text.as_bytes()))?;
    Ok(crate::Outcome::Clean)
}

pub fn rule(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.id == id)
}
