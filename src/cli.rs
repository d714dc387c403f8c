//! Command-line interface (clap derive).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::rules::ForeignKeyMode;

#[derive(Debug, Parser)]
#[command(
    name = "migrate-safe",
    version,
    about = "Make Prisma migrations safe to apply to a live PostgreSQL database",
    long_about = "Make Prisma migrations safe to apply to a live PostgreSQL database.\n\n\
Run `migrate-safe rewrite prisma/migrations` right after `prisma migrate dev --create-only`: index builds on \
existing tables move into their own CREATE INDEX CONCURRENTLY migrations, foreign keys on existing tables are \
added NOT VALID and validated in a later migration, and everything else stays byte-for-byte.",
    after_help = "Exit codes: 0 success (or nothing to rewrite), 1 a rewrite is needed (--check), 2 error (bad input)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Rewrite pending Prisma migrations so they do not block writes on existing tables.
    #[command(after_help = "Examples:\n  \
migrate-safe rewrite prisma/migrations --dry-run     show the plan and a diff, write nothing\n  \
migrate-safe rewrite prisma/migrations               rewrite the newest migration\n  \
migrate-safe rewrite . --check                       CI gate: exit 1 when a rewrite is needed\n  \
migrate-safe rewrite prisma/migrations --all --dry-run --format json\n\n\
Exit codes: 0 written or nothing to rewrite, 1 a rewrite is needed (with --check), 2 error.")]
    Rewrite(RewriteArgs),
}

#[derive(Debug, Args)]
pub struct RewriteArgs {
    /// Prisma migrations directory (or a project root / prisma/ folder holding prisma/migrations).
    pub dir: PathBuf,

    /// Migration folder to rewrite (repeatable). Default: the newest migration.
    #[arg(long = "migration", value_name = "NAME")]
    pub migrations: Vec<String>,

    /// Analyse every migration except baselines as if it were pending (needs --dry-run or --check).
    #[arg(long, conflicts_with = "migrations")]
    pub all: bool,

    /// Print the plan and a unified diff; write nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Write nothing; exit 1 when a rewrite is needed, 0 when the migrations are already safe.
    #[arg(long, conflicts_with = "dry_run")]
    pub check: bool,

    /// Which foreign keys are split into NOT VALID + VALIDATE.
    #[arg(long, value_enum, default_value_t = ForeignKeyMode::ExistingTables)]
    pub foreign_keys: ForeignKeyMode,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}
