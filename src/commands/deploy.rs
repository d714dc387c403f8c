//! `migrate-safe deploy`: apply the pending migrations without failing or stalling the application's
//! writes (see docs/deploy.md).

use std::io::Write;

use crate::Outcome;
use crate::cli::{DeployArgs, Format};
use crate::deploy::settings::Flags;
use crate::deploy::{Options, deploy};
use crate::error::Result;

pub fn run(args: &DeployArgs, out: &mut dyn Write) -> Result<Outcome> {
    let options = Options {
        dir: args.dir.clone(),
        database_url: args.database_url.clone(),
        config: args.config.clone(),
        json: args.format == Format::Json,
        dry_run: args.dry_run,
        skip_preflight: args.skip_preflight,
        flags: Flags {
            lock_timeout: args.lock_timeout.clone(),
            max_lock_hold: args.max_lock_hold.clone(),
            allow_long_locks: args.allow_long_locks,
            statement_timeout: args.statement_timeout.clone(),
            batch_size: args.batch_size,
            batch_pause: args.batch_pause.clone(),
            max_attempts: args.max_attempts,
            deadline: args.deadline.clone(),
            old_transaction_wait: args.old_transaction_wait.clone(),
            advisory_lock_wait: args.advisory_lock_wait.clone(),
            preflight_timeout: args.preflight_timeout.clone(),
        },
    };
    deploy(&options, out)
}
