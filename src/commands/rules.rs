//! `migrate-safe rules [<id>]`: the table of rules, or one rule's documentation.

use std::io::Write;

use crate::Outcome;
use crate::config::known_rules;
use crate::error::{Error, Result};
use crate::out::stdout;
use crate::rules::{self, rule};

/// `migrate-safe rules [<id>]`: the table of rules, or one rule's documentation.
pub fn run(id: Option<&str>, out: &mut dyn Write) -> Result<Outcome> {
    let text = match id {
        None => rules::table(),
        Some(id) => rule(id).map(rules::page).ok_or_else(|| {
            Error::Usage(format!("unknown rule \"{id}\" (known: {})", known_rules()))
        })?,
    };
    stdout(out.write_all(text.as_bytes()))?;
    Ok(Outcome::Clean)
}
