//! The commands: each file turns its flags into plain options, calls the library and chooses the
//! output. Nothing below this layer knows about the command line (see ARCHITECTURE.md).

pub mod baseline;
pub mod check;
pub mod deploy;
pub mod lint;
pub mod rewrite;
pub mod rules;
pub mod status;

use std::io::Write;

use crate::Outcome;
use crate::cli::Command;
use crate::error::Result;

/// Run one command, writing its report to `out`.
pub fn run(command: Command, out: &mut dyn Write) -> Result<Outcome> {
    match command {
        Command::Rewrite(args) => rewrite::run(&args, out),
        Command::Check(args) => check::run(&args, out),
        Command::Status(args) => status::run(&args, out),
        Command::Baseline(args) => baseline::run(&args, out),
        Command::Deploy(args) => deploy::run(&args, out),
        Command::Lint(args) => lint::run(&args, out),
        Command::Rules { rule } => rules::run(rule.as_deref(), out),
    }
}
