//! Tests that need no server: the binary on fixtures, the readers against sqlparser and PostgreSQL's
//! grammar, properties of the pipeline, crash-safe writes. One binary (each test binary links the
//! whole crate).

#[path = "../common/mod.rs"]
mod common;

mod bad_input;
mod classify_agreement;
mod crash_safe_writes;
mod discovery;
mod lex_agreement;
mod lint_formats;
mod lint_rules;
mod options;
mod pipeline_properties;
mod rewrite_fixtures;
mod rule_cases;
mod split7_shapes;
mod split_properties;
