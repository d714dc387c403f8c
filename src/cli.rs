//! Command-line interface (clap derive).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::rules::{ForeignKeyMode, Severity};

#[derive(Debug, Parser)]
#[command(
    name = "migrate-safe",
    version,
    about = "Make Prisma migrations safe to apply to a live PostgreSQL database",
    long_about = "Make Prisma migrations safe to apply to a live PostgreSQL database.\n\n\
Run `migrate-safe rewrite prisma/migrations` right after `prisma migrate dev --create-only`: index builds \
and drops on existing tables move into CONCURRENTLY migrations of their own, foreign keys and checks are \
added NOT VALID and validated later, SET NOT NULL goes through a validated check, and everything else stays \
byte-for-byte. In CI, \
`migrate-safe lint` reports every lock hazard with its fix or safe alternative (text, JSON, GitHub \
annotations, SARIF); `check` proves migrations on a live PostgreSQL; `deploy` applies them to production \
with Prisma's bookkeeping, bounded lock waits and retries; `status` and `baseline` serve release engineers.",
    after_help = "Exit codes: 0 success (nothing found, or nothing to rewrite), 1 findings (lint, check, status, rewrite --check), 2 error (bad input, no server)."
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
migrate-safe rewrite prisma/migrations               rewrite the newest migration, proven first when a scratch server can be had\n  \
migrate-safe rewrite prisma/migrations --require-proof   the same, and an error (nothing written) when it cannot be proven\n  \
migrate-safe rewrite . --check                       CI gate: exit 1 when a rewrite is needed\n  \
migrate-safe rewrite prisma/migrations --all --dry-run --format json\n\n\
Where the proof's server comes from, in this order:\n  \
1. --scratch-url URL, MIGRATE_SAFE_SCRATCH_URL, or scratch-url in migrate-safe.toml\n  \
2. the server of the Prisma shadow database the project uses (shadowDatabaseUrl in schema.prisma or prisma.config.ts, or SHADOW_DATABASE_URL)\n  \
3. a postgres:<--pg-version> container via testcontainers, when a Docker engine answers within 2 seconds\n  \
4. a throwaway server from installed PostgreSQL binaries (initdb, pg_ctl), a copy of a cluster template initdb made once in ~/.cache/migrate-safe (MIGRATE_SAFE_CLUSTER_CACHE=DIR: another directory; empty: initdb every time)\n\
Only databases migrate_safe_<random> it creates are written to, and dropped afterwards. With none, the rewrite is written and reported NOT proven.\n\n\
Exit codes: 0 written or nothing to rewrite, 1 a rewrite is needed (with --check) or a failed proof (nothing written), 2 error (also: no proof with --require-proof).")]
    Rewrite(RewriteArgs),

    /// Prove migrations on a live PostgreSQL: apply them the way Prisma does, report locks and hazards.
    #[command(after_help = "Where the server comes from, in this order:\n  \
1. --scratch-url URL, MIGRATE_SAFE_SCRATCH_URL or scratch-url in migrate-safe.toml (only scratch databases migrate_safe_<random> are used, then dropped)\n  \
2. a postgres:<--pg-version> container via testcontainers, when a Docker engine answers within 2 seconds\n  \
3. a throwaway server from installed PostgreSQL binaries (initdb, pg_ctl) in a temporary directory, a copy of a cluster template initdb made once in ~/.cache/migrate-safe (MIGRATE_SAFE_CLUSTER_CACHE=DIR: another directory; empty: initdb every time)\n\n\
Exit codes: 0 proven and no finding, 1 findings or a failed proof, 2 error (bad input, no server, bad URL).")]
    Check(CheckArgs),

    /// What a database has applied and what is pending, failed, rolled back, modified or missing; its
    /// INVALID indexes and NOT VALID constraints with the commands that recover them. Read-only.
    #[command(
        after_help = "Exit codes: 0 clean, 1 something needs attention (failed, modified or missing migrations, hazards, pending migrations that still block writes), 2 error."
    )]
    Status(StatusArgs),

    /// Baseline a database whose schema predates the migrations: write 0_init/migration.sql that
    /// recreates it (proven on a scratch database first) and record it as applied, as
    /// `prisma migrate resolve --applied` does.
    #[command(after_help = "Examples:\n  \
migrate-safe baseline prisma/migrations --database-url $DATABASE_URL --dry-run\n  \
migrate-safe baseline prisma/migrations --database-url $DATABASE_URL\n  \
migrate-safe baseline prisma/migrations --database-url $DATABASE_URL --mark-applied 0_init\n\n\
Exit codes: 0 done, 2 error (refused, not proven, no server) with nothing written.")]
    Baseline(BaselineArgs),

    /// Report every lock hazard and breaking change in pending migrations, with the fix `rewrite`
    /// applies or the safe alternative: the CI gate for migration pull requests.
    #[command(after_help = "Examples:\n  \
migrate-safe lint prisma/migrations                        the newest migration\n  \
migrate-safe lint prisma/migrations --all                  every migration except baselines\n  \
migrate-safe lint prisma/migrations/2024_x/migration.sql   one file, against the history before it\n  \
migrate-safe lint . --format github                        annotations in a GitHub Actions log\n  \
migrate-safe lint . --format sarif > migrate-safe.sarif    for code scanning\n\n\
Suppress one finding with a comment on the line before the statement:\n  \
-- migrate-safe-ignore: breaking-change the old column is unused since v2.3\n\n\
Exit codes: 0 no finding at or above --fail-on, 1 findings, 2 usage or input error.")]
    Lint(LintArgs),

    /// Apply pending migrations to a live database like `prisma migrate deploy` (same bookkeeping,
    /// same advisory lock), but each in one transaction with a short lock_timeout, retried with backoff
    /// while something else holds the lock; CONCURRENTLY builds alone, with INVALID-index recovery; a
    /// read-only pre-flight first that predicts data failures.
    #[command(after_help = "Examples:\n  \
migrate-safe deploy prisma/migrations --dry-run            the plan, the locks, the pre-flight; nothing applied\n  \
migrate-safe deploy prisma/migrations                      apply what is pending (DATABASE_URL)\n  \
migrate-safe deploy . --lock-timeout 500ms --deadline 10m  shorter waits for writers, longer patience\n\n\
Defaults also come from the [deploy] table of migrate-safe.toml (lock-timeout, statement-timeout, \
max-attempts, deadline).\n\n\
Exit codes: 0 everything applied (or nothing pending), 1 stopped safely with nothing half-applied \
(a predicted or real failure, a lock never granted, another deploy running, a failed migration to \
resolve), 2 error (bad input, no server, a migration left half-applied).")]
    Deploy(DeployArgs),

    /// List the rules with their id, default severity, fix and summary; with a rule id, explain it.
    Rules {
        /// A rule to explain: what it catches, why, and the fix or safe alternative.
        rule: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct LintArgs {
    /// Migrations directories (or project roots), or migration.sql / other .sql files [default: .].
    pub paths: Vec<PathBuf>,

    /// Migration folder to lint (repeatable). Default: the newest migration, or with --database-url
    /// every migration pending in that database.
    #[arg(long = "migration", value_name = "NAME")]
    pub migrations: Vec<String>,

    /// Lint every migration except baselines and folders migrate-safe wrote.
    #[arg(long, conflicts_with = "migrations")]
    pub all: bool,

    /// The deployed database (read only): lint every migration pending there.
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = LintFormat::Text)]
    pub format: LintFormat,

    /// Only these rules (comma-separated or repeated).
    #[arg(long, value_name = "RULE", value_delimiter = ',')]
    pub select: Vec<String>,

    /// Not these rules (comma-separated or repeated).
    #[arg(long, value_name = "RULE", value_delimiter = ',')]
    pub ignore: Vec<String>,

    /// Exit 1 when a finding is at or above this severity [default: warning, or `fail-on` in
    /// migrate-safe.toml].
    #[arg(long, value_enum)]
    pub fail_on: Option<FailOn>,

    /// Describe fixes as `rewrite --unsafe-fixes` would apply them.
    #[arg(long)]
    pub unsafe_fixes: bool,

    #[command(flatten)]
    pub prisma: PrismaArgs,

    /// Configuration file [default: the nearest migrate-safe.toml from the migrations directory up to
    /// the repository root].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// `--fail-on`: the command line's names for [`Severity`] (the rules know nothing of clap).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Worth knowing; never fails the gate by default.
    Note,
    /// A lock hazard or a breaking change: fails the gate by default.
    Warning,
    /// Will fail or stall the deploy.
    Error,
}

impl From<FailOn> for Severity {
    fn from(level: FailOn) -> Self {
        match level {
            FailOn::Note => Severity::Note,
            FailOn::Warning => Severity::Warning,
            FailOn::Error => Severity::Error,
        }
    }
}

/// `--foreign-keys`: the command line's names for [`ForeignKeyMode`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ForeignKeys {
    /// Only foreign keys added to tables that existed before the migration (the ones that scan data).
    ExistingTables,
    /// Also foreign keys on tables created in the same migration.
    All,
}

impl From<ForeignKeys> for ForeignKeyMode {
    fn from(mode: ForeignKeys) -> Self {
        match mode {
            ForeignKeys::ExistingTables => ForeignKeyMode::ExistingTables,
            ForeignKeys::All => ForeignKeyMode::All,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LintFormat {
    /// Like a compiler: file:line:col, the code, the rule, the fix.
    Text,
    /// One JSON document.
    Json,
    /// GitHub Actions workflow commands (annotations on the pull request).
    Github,
    /// SARIF 2.1.0, for code scanning.
    Sarif,
    /// Markdown for a pull-request comment: a summary table, then each finding with its fix.
    Markdown,
}

#[derive(Debug, Args)]
pub struct BaselineArgs {
    /// Prisma migrations directory (may be empty, or not exist yet: the baseline creates it, with
    /// Prisma's migration_lock.toml).
    pub dir: PathBuf,

    /// The database to baseline. Default: DATABASE_URL, as Prisma.
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,

    /// Folder name of the baseline; must sort before every other migration.
    #[arg(long, value_name = "NAME", default_value = "0_init")]
    pub name: String,

    /// Only record this existing folder as applied (`prisma migrate resolve --applied NAME`).
    #[arg(long, value_name = "NAME", conflicts_with = "name")]
    pub mark_applied: Option<String>,

    /// Show the SQL and the row; write nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// A scratch server for the proof (else MIGRATE_SAFE_SCRATCH_URL, a testcontainers container, or a
    /// throwaway local server): migrate-safe creates and drops its own databases there.
    #[arg(long, value_name = "URL")]
    pub scratch_url: Option<String>,

    /// Old name of --scratch-url.
    #[arg(long, value_name = "URL", hide = true)]
    pub verify_url: Option<String>,

    /// PostgreSQL version of the testcontainers image.
    #[arg(long, value_name = "VERSION", default_value = "16")]
    pub pg_version: String,

    #[command(flatten)]
    pub prisma: PrismaArgs,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct DeployArgs {
    /// Prisma migrations directory (or a project root / prisma/ folder holding prisma/migrations).
    #[arg(default_value = ".")]
    pub dir: PathBuf,

    /// The database to deploy to. Default: DATABASE_URL, as Prisma.
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,

    /// Show the plan, the locks each migration takes and the pre-flight's findings; apply nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Skip the read-only pre-flight (data checks that predict failures) before applying.
    #[arg(long, conflicts_with = "dry_run")]
    pub skip_preflight: bool,

    /// The longest one lock wait of an attempt may last before the attempt is rolled back and
    /// retried: writers queue behind an attempt at most about this long. Attempts are made only when
    /// no long transaction holds a conflicting lock [default: 50ms, or lock-timeout in [deploy] of
    /// migrate-safe.toml].
    #[arg(long, value_name = "DURATION")]
    pub lock_timeout: Option<String>,

    /// Refuse, before anything is applied, a migration the pre-flight estimates would hold a
    /// write-blocking lock on an existing table longer than this (a scan, a rewrite, an index build
    /// or a bulk UPDATE under the lock) [default: 1s, or max-lock-hold in [deploy]].
    #[arg(long, value_name = "DURATION")]
    pub max_lock_hold: Option<String>,

    /// Apply a migration even when its write-blocking locks are estimated to be held longer than
    /// --max-lock-hold.
    #[arg(long)]
    pub allow_long_locks: bool,

    /// statement_timeout for each migration's statements (off unless given or configured).
    #[arg(long, value_name = "DURATION")]
    pub statement_timeout: Option<String>,

    /// Attempts per migration when its locks are not granted in time [default: 30]. Waiting for the
    /// way to clear is not an attempt.
    #[arg(long, value_name = "N")]
    pub max_attempts: Option<u32>,

    /// Give up on a migration after this long in all, waiting for the way to clear included: nothing
    /// of it is applied, and the sessions in the way are named [default: 3min].
    #[arg(long, value_name = "DURATION")]
    pub deadline: Option<String>,

    /// Before a CONCURRENTLY build, wait at most this long for older transactions (which the build
    /// would wait for) to end, then stop [default: 1min].
    #[arg(long, value_name = "DURATION")]
    pub old_transaction_wait: Option<String>,

    /// How long to wait for Prisma's advisory lock when another deploy holds it [default: 10s, as
    /// Prisma].
    #[arg(long, value_name = "DURATION")]
    pub advisory_lock_wait: Option<String>,

    /// statement_timeout of each pre-flight data check [default: 30s].
    #[arg(long, value_name = "DURATION")]
    pub preflight_timeout: Option<String>,

    /// Rows per batch of a batched backfill (a folder `rewrite` wrote) [default: 1000: each batch
    /// holds its rows' locks for milliseconds].
    #[arg(long, value_name = "N")]
    pub batch_size: Option<u64>,

    /// Pause between the batches of a backfill, to let a replica or autovacuum keep up [default: 0:
    /// the batches already commit every few milliseconds and give way to writers].
    #[arg(long, value_name = "DURATION")]
    pub batch_pause: Option<String>,

    /// Output format: text lines as it goes, or one JSON document at the end.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    #[arg(long, value_name = "FILE")]
    /// A migrate-safe.toml to use instead of the nearest one.
    pub config: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Prisma migrations directory (or a project root / prisma/ folder holding prisma/migrations).
    #[arg(default_value = ".")]
    pub dir: PathBuf,

    /// The database to read (never written to). Default: DATABASE_URL, as Prisma.
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,

    #[command(flatten)]
    pub prisma: PrismaArgs,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// Which Prisma applies the migrations, and so how each file is run.
#[derive(Debug, Args)]
pub struct PrismaArgs {
    /// The Prisma version that applies these migrations: up to 7.3 a file runs as one query (one
    /// transaction), from 7.4 statement by statement [default: `prisma-version` in migrate-safe.toml,
    /// else node_modules/prisma, else the range in package.json, else both models].
    #[arg(long, value_name = "X.Y.Z")]
    pub prisma_version: Option<String>,
}

#[derive(Debug, Args)]
pub struct ServerArgs {
    /// A scratch server: any PostgreSQL where you may create databases (also MIGRATE_SAFE_SCRATCH_URL).
    /// Never your application's database.
    #[arg(long, value_name = "URL")]
    pub scratch_url: Option<String>,

    /// Old name of --scratch-url for check.
    #[arg(long, value_name = "URL", hide = true)]
    pub database_url: Option<String>,

    /// PostgreSQL version of the testcontainers image.
    #[arg(long, value_name = "VERSION", default_value = "16")]
    pub pg_version: String,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Prisma migrations directory (or a project root / prisma/ folder holding prisma/migrations).
    #[arg(default_value = ".")]
    pub dir: PathBuf,

    /// Migration whose locks to report (repeatable). Default: the newest migration and the folders
    /// migrate-safe generated after it.
    #[arg(long = "migration", value_name = "NAME")]
    pub migrations: Vec<String>,

    /// Report the locks of every migration except baselines.
    #[arg(long, conflicts_with = "migrations")]
    pub all: bool,

    #[command(flatten)]
    pub server: ServerArgs,

    #[command(flatten)]
    pub prisma: PrismaArgs,

    /// Seed each existing table with N rows before each reported migration, so durations are real.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub rows: u64,

    /// A statement that runs longer than this while a lock blocking writes is held on an existing table
    /// is a finding, whatever it is [default: 50 with --rows, else only known table-sized work counts].
    #[arg(long, value_name = "MS")]
    pub lock_threshold_ms: Option<f64>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct RewriteArgs {
    /// Prisma migrations directory (or a project root / prisma/ folder holding prisma/migrations).
    #[arg(default_value = ".")]
    pub dir: PathBuf,

    /// Migration folder to rewrite (repeatable). Default: the newest migration, or with --database-url
    /// every migration pending in that database.
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

    /// Write nothing that is not proven (a rewrite is proven by default whenever a scratch server can be
    /// had; with this flag "no server" is an error), and prove a --dry-run too. Also
    /// MIGRATE_SAFE_REQUIRE_PROOF=1 or `require-proof = true` in migrate-safe.toml.
    #[arg(long, visible_alias = "verify", conflicts_with = "check")]
    pub require_proof: bool,

    /// Do not prove the rewrite (also MIGRATE_SAFE_NO_VERIFY=1).
    #[arg(long, conflicts_with = "require_proof")]
    pub no_verify: bool,

    /// A scratch server for the proof (else MIGRATE_SAFE_SCRATCH_URL, `scratch-url` in
    /// migrate-safe.toml, the project's Prisma shadow database server, a testcontainers container, or a
    /// throwaway local server): migrate-safe creates and drops its own databases there.
    #[arg(long, value_name = "URL")]
    pub scratch_url: Option<String>,

    /// Old name of --scratch-url.
    #[arg(long, value_name = "URL", hide = true)]
    pub verify_url: Option<String>,

    /// PostgreSQL version of the testcontainers image for the proof.
    #[arg(long, value_name = "VERSION", default_value = "16")]
    pub pg_version: String,

    /// The deployed database (read only): target every migration pending there, and refuse to rewrite
    /// one it has applied.
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,

    /// Which foreign keys are split into NOT VALID + VALIDATE [default: existing-tables, or
    /// `foreign-keys` in migrate-safe.toml].
    #[arg(long, value_enum)]
    pub foreign_keys: Option<ForeignKeys>,

    /// Also apply fixes that change how the deploy behaves (lock-timeout: fail fast instead of waiting).
    #[arg(long)]
    pub unsafe_fixes: bool,

    #[command(flatten)]
    pub prisma: PrismaArgs,

    /// Configuration file [default: the nearest migrate-safe.toml from the migrations directory up to
    /// the repository root].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

/// An old flag spelling: the error that names the new one.
pub fn renamed(old: &str, new: &str, why: &str) -> crate::error::Error {
    crate::error::Error::Usage(format!("{old} is now {new}: {why}"))
}

/// Scratch servers are `--scratch-url`; the deployed database is `--database-url`, in every command.
pub const SCRATCH_WHY: &str = "it names a scratch server, where migrate-safe creates and drops databases of its own; --database-url always means your application's deployed database";
