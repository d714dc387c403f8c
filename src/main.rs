use std::process::ExitCode;

use clap::Parser;
use migrate_safe::cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Rewrite(args) => migrate_safe::rewrite::run(&args, &mut std::io::stdout().lock()),
        Command::Check(args) => migrate_safe::check::run(&args, &mut std::io::stdout().lock()),
        Command::Status(args) => migrate_safe::status::run(&args, &mut std::io::stdout().lock()),
        Command::Baseline(args) => {
            migrate_safe::baseline::run(&args, &mut std::io::stdout().lock())
        }
    };
    // After Ctrl-C, whatever the command made of its broken connection is moot: the handler exits 130.
    migrate_safe::db::cleanup::wait_if_interrupted();
    match result {
        Ok(outcome) => ExitCode::from(outcome.exit_code()),
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}
