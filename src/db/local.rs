//! What a local (initdb/pg_ctl) server's start and its cleanup share.

use std::path::Path;
use std::process::Command;

/// A PostgreSQL binary, run as `run_as` (through runuser) when given.
pub(crate) fn pg_command(bin: &Path, program: &str, run_as: Option<&str>) -> Command {
    match run_as {
        Some(user) => {
            let mut command = Command::new("runuser");
            command.args(["-u", user, "--"]).arg(bin.join(program));
            command
        }
        None => Command::new(bin.join(program)),
    }
}
