//! `rewrite`'s steps after the plans: whether and where to prove them, the proof, the atomic write,
//! and a courtesy warning about a developer database that already applied a target.

use crate::config::Loaded;
use crate::db::provision::{ProvisionError, Wanted, provision_from};
use crate::error::{Error, Result};
use crate::fix::plan::MigrationPlan;
use crate::prisma::PrismaTarget;
use crate::prisma::history::{State, read_history};
use crate::prove::{Verification, verify};
use crate::report::Proof;
use crate::source::discover::MigrationsDir;
use crate::store::{FileChange, NewFolder, write_atomically};

/// The scratch server's description and each plan's verification on it.
pub type Verified = (String, Vec<Verification>);

/// Where a proof may find its scratch server.
pub struct ProofServer<'a> {
    /// `--scratch-url`.
    pub scratch_url: Option<&'a str>,
    /// The container's PostgreSQL version, when one is started.
    pub pg_version: &'a str,
}

/// Prove `plans` (the changed ones) on a scratch server, as `policy` demands: the proof, and with it
/// each plan's verification and the server's description when one ran.
pub fn prove(
    dir: &MigrationsDir,
    plans: &[MigrationPlan],
    prisma: &PrismaTarget,
    policy: ProofPolicy,
    server: &ProofServer,
    config: &Loaded,
) -> Result<(Proof, Option<Verified>)> {
    let shadow = crate::source::shadow::find(&dir.path);
    let wanted = Wanted {
        url: server.scratch_url,
        configured: config.scratch_url(),
        shadow: Some(shadow),
    };
    let demanded = match policy {
        ProofPolicy::Require(by) => Some(by),
        _ => None,
    };
    // No proof could be made: said and written, unless one was demanded.
    let unavailable = |why: String| match demanded {
        None => Ok((
            Proof::NotProven {
                why,
                how: HOW_TO_PROVE.into(),
            },
            None,
        )),
        Some(by) => Err(Error::Database(format!(
            "{by} demands a proof, and none can be made, so nothing was written: {why}"
        ))),
    };
    match provision_from(&wanted, server.pg_version) {
        Ok(scratch) => match verify(dir, plans, &scratch, &prisma.models) {
            Ok(results) => {
                let description = scratch.description.clone();
                let proof = if results.iter().all(|v| v.proven()) {
                    Proof::Proven {
                        server: description.clone(),
                    }
                } else {
                    Proof::Failed {
                        server: description.clone(),
                    }
                };
                Ok((proof, Some((description, results))))
            }
            Err(Error::ProofUnavailable(why)) => unavailable(why),
            Err(e) => Err(e),
        },
        Err(ProvisionError::NothingAvailable { tried }) => unavailable(format!(
            "no scratch server could be had:\n{}",
            tried
                .iter()
                .enumerate()
                .map(|(i, t)| format!("  {}. {t}", i + 1))
                .collect::<Vec<_>>()
                .join("\n")
        )),
        Err(e) => Err(Error::Database(e.to_string())),
    }
}

/// Write every plan's edits and new folders at once (all or nothing, see [`crate::store`]).
pub fn write(dir: &MigrationsDir, plans: &[MigrationPlan]) -> Result<()> {
    let edits: Vec<FileChange> = plans
        .iter()
        .filter(|p| p.edits_original)
        .map(|p| FileChange {
            path: dir
                .get(&p.migration)
                .expect("planned migration exists")
                .sql_path(),
            original: p.original_sql.clone(),
            rewritten: p.rewritten_sql.clone(),
        })
        .collect();
    let folders: Vec<NewFolder> = plans
        .iter()
        .flat_map(|p| &p.new_migrations)
        .map(|m| NewFolder {
            name: m.name.clone(),
            sql: m.sql.clone(),
        })
        .collect();
    write_atomically(&dir.path, &edits, &folders)
}

/// What to do about the proof, and who decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProofPolicy {
    /// Prove when a scratch server can be had; otherwise write and say it is not proven.
    Auto,
    /// Prove, or write nothing (the flag, variable or setting that demands it).
    Require(&'static str),
    /// Do not prove (the flag or variable that said so).
    Skip(&'static str),
}

/// Demands a proof in CI (or anywhere): `rewrite` then writes nothing it could not prove.
pub const REQUIRE_PROOF_ENV: &str = "MIGRATE_SAFE_REQUIRE_PROOF";
/// Skips the proof, as `--no-verify`.
pub const NO_VERIFY_ENV: &str = "MIGRATE_SAFE_NO_VERIFY";

pub const HOW_TO_PROVE: &str = "To prove a rewrite before it is written, give migrate-safe a scratch server: --scratch-url URL, MIGRATE_SAFE_SCRATCH_URL or `scratch-url` in migrate-safe.toml (any PostgreSQL where the role may create databases; `docker compose up -d` with this project's docker-compose.yml gives one), a Prisma shadowDatabaseUrl, a running Docker engine, or PostgreSQL's initdb and pg_ctl; then rewrite from the original again (undo this one with git). `--require-proof` or MIGRATE_SAFE_REQUIRE_PROOF=1 makes this an error with nothing written; `migrate-safe check` proves what was written applies and leaves no INVALID index or NOT VALID constraint.";

impl ProofPolicy {
    /// Flags first, then the environment, then migrate-safe.toml; a demand for a proof and a refusal
    /// of it from different places is an error, not a choice.
    pub fn resolve(require_proof: bool, no_verify: bool, config: &Loaded) -> Result<Self> {
        let set = |name: &str| {
            std::env::var(name).is_ok_and(|v| !v.is_empty() && v != "0" && v != "false")
        };
        let demanded = if require_proof {
            Some("--require-proof")
        } else if set(REQUIRE_PROOF_ENV) {
            Some("MIGRATE_SAFE_REQUIRE_PROOF")
        } else if config.config.require_proof == Some(true) {
            Some("require-proof in migrate-safe.toml")
        } else {
            None
        };
        let refused = if no_verify {
            Some("--no-verify")
        } else if set(NO_VERIFY_ENV) && !require_proof {
            Some("MIGRATE_SAFE_NO_VERIFY")
        } else {
            None
        };
        match (demanded, refused) {
            (Some(demand), Some(refusal)) => Err(Error::Usage(format!(
                "{refusal} skips the proof that {demand} demands: drop one of them"
            ))),
            (Some(demand), None) => Ok(ProofPolicy::Require(demand)),
            (None, Some(refusal)) => Ok(ProofPolicy::Skip(refusal)),
            (None, None) => Ok(ProofPolicy::Auto),
        }
    }
}

/// Without `--database-url`: a target that the developer's own database (Prisma's `DATABASE_URL`) has
/// already applied is about to be changed under it — `prisma migrate dev` will then call it modified.
/// Said on stderr; an unreachable database says nothing (it is only a courtesy check).
pub fn warn_if_applied_locally(dir: &MigrationsDir, url: &str, targets: &[String]) {
    if targets.is_empty() || crate::db::provision::check_url(url).is_err() {
        return;
    }
    let quick = if url.contains('?') {
        format!("{url}&connect_timeout=2")
    } else {
        format!("{url}?connect_timeout=2")
    };
    let Ok(mut client) = crate::db::connect(&quick) else {
        return;
    };
    let Ok(history) = read_history(&mut client, dir) else {
        return;
    };
    for status in history.iter().filter(|s| targets.contains(&s.migration)) {
        if matches!(status.state, State::Applied | State::Modified) {
            eprintln!(
                "warning: {} is already applied in {} (DATABASE_URL): after this rewrite `prisma migrate dev` reports it as modified. Rewrite right after `prisma migrate dev --create-only`; to start over here: `prisma migrate reset`, then `prisma migrate dev --create-only` and `migrate-safe rewrite`",
                status.migration,
                crate::db::redact(url)
            );
        }
    }
}
