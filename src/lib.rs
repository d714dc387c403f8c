//! migrate-safe: make Prisma migrations safe to apply to a live PostgreSQL database.
//!
//! The pipeline: `source` (discover, split, classify) → `model` (schema before a migration) → `rules`
//! (findings) → `fix` (edits, plan, atomic write) → `report`. `main` only parses arguments and maps the
//! result to an exit code.

pub mod analyse;
#[cfg(test)]
mod architecture;
pub mod baseline;
pub mod check;
pub mod cli;
pub mod commands;
pub mod config;
pub mod db;
pub mod deploy;
pub mod error;
pub mod escape;
pub mod fix;
pub mod lint;
pub mod model;
pub mod out;
pub mod prisma;
pub mod progress;
pub mod prove;
pub mod report;
pub mod rewrite;
pub mod rules;
pub mod secret;
pub mod source;
pub mod status;
pub mod store;

/// How a command ended when it did not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Done; nothing needs attention.
    Clean,
    /// Findings (e.g. `--check` found migrations that need a rewrite).
    Findings,
}

impl Outcome {
    pub fn exit_code(self) -> u8 {
        match self {
            Outcome::Clean => 0,
            Outcome::Findings => 1,
        }
    }
}
