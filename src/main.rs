use std::io::{BufWriter, Write};
use std::process::ExitCode;

use clap::Parser;
use migrate_safe::cli::Cli;

fn main() -> ExitCode {
    // Every password given (argument or environment) is kept out of what is printed.
    migrate_safe::secret::remember_from_environment(std::env::args().skip(1));
    let cli = Cli::parse();
    // Reports can be long (a whole history): one buffered writer, not a write per line.
    let mut out = migrate_safe::secret::ScrubWriter::new(BufWriter::new(std::io::stdout().lock()));
    let result = migrate_safe::commands::run(cli.command, &mut out);
    let _ = out.flush();
    // After Ctrl-C, whatever the command made of its broken connection is moot: the handler exits 130.
    migrate_safe::db::cleanup::wait_if_interrupted();
    match result {
        Ok(outcome) => ExitCode::from(outcome.exit_code()),
        Err(error) => {
            eprintln!(
                "error: {}",
                migrate_safe::secret::scrub(&format!("{error:#}"))
            );
            ExitCode::from(2)
        }
    }
}
