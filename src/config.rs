//! `migrate-safe.toml`: rule selection and severities, the lock_timeout value, the foreign-key mode and
//! folder naming. Found in the migrations directory or a folder above it (up to the repository root),
//! or given with `--config`. Unknown keys and bad values are errors naming the file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};
pub use crate::fix::plan::FolderNaming;
use crate::prisma::PrismaTarget;
use crate::rules::{self, ForeignKeyMode, RuleOptions, Severity};

pub const FILE_NAME: &str = "migrate-safe.toml";

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    /// Only these rules (default: all).
    pub select: Option<Vec<String>>,
    /// Never these rules.
    #[serde(default)]
    pub ignore: Vec<String>,
    /// Per-rule severity overrides: `rule-id = "error" | "warning" | "note"`.
    #[serde(default)]
    pub severity: BTreeMap<String, Severity>,
    /// `lint` exits 1 when a finding is at or above this severity (default: warning).
    pub fail_on: Option<Severity>,
    /// The value the `lock-timeout` fix sets (default 5s).
    pub lock_timeout: Option<String>,
    /// Which foreign keys `rewrite` splits (default: existing-tables).
    pub foreign_keys: Option<ForeignKeyMode>,
    /// Apply unsafe fixes in `rewrite` without `--unsafe-fixes`.
    pub unsafe_fixes: Option<bool>,
    /// How new folders are named after their number: descriptive (`_01_create_index_x`) or numbered
    /// (`_01`).
    pub folder_naming: Option<FolderNaming>,
    /// The Prisma version that applies the migrations (`7.10.1`), when detection should not decide.
    pub prisma_version: Option<String>,
    /// A scratch server for proofs (`rewrite`'s, `check`'s): where migrate-safe creates and drops
    /// databases of its own. After `--scratch-url` and `MIGRATE_SAFE_SCRATCH_URL`.
    pub scratch_url: Option<String>,
    /// `rewrite` writes nothing it could not prove (as `--require-proof`).
    pub require_proof: Option<bool>,
    /// Who applies the migrations in production: `prisma` (`prisma migrate deploy`, the default) or
    /// `migrate-safe` (`migrate-safe deploy`: each file in one transaction with a bounded lock wait).
    pub deployed_by: Option<Deployer>,
    /// `migrate-safe deploy`'s defaults.
    #[serde(default)]
    pub deploy: DeployConfig,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Deployer {
    #[default]
    Prisma,
    MigrateSafe,
}

/// `[deploy]`: durations as `500ms`, `1s`, `3min`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct DeployConfig {
    pub lock_timeout: Option<String>,
    pub max_lock_hold: Option<String>,
    pub statement_timeout: Option<String>,
    pub max_attempts: Option<u32>,
    pub deadline: Option<String>,
}

/// A loaded configuration and where it came from.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    pub config: Config,
    pub path: Option<PathBuf>,
}

impl Loaded {
    /// `--config PATH`, else the nearest migrate-safe.toml from `start` upwards, else defaults.
    pub fn find(explicit: Option<&Path>, start: &Path) -> Result<Self> {
        let path = match explicit {
            Some(path) => {
                if !path.is_file() {
                    return Err(Error::Missing {
                        path: path.to_path_buf(),
                    });
                }
                Some(path.to_path_buf())
            }
            None => search(start),
        };
        match path {
            Some(path) => Ok(Loaded {
                config: load(&path)?,
                path: Some(path),
            }),
            None => Ok(Loaded::default()),
        }
    }

    pub fn rule_options(&self) -> RuleOptions {
        let config = &self.config;
        RuleOptions {
            foreign_keys: config.foreign_keys.unwrap_or_default(),
            unsafe_fixes: config.unsafe_fixes.unwrap_or(false),
            lock_timeout: config
                .lock_timeout
                .clone()
                .unwrap_or_else(|| rules::DEFAULT_LOCK_TIMEOUT.to_string()),
            apply_models: crate::prisma::ApplyModel::ALL.to_vec(),
            deployed_by_migrate_safe: self.deployed_by_migrate_safe(),
        }
    }

    /// How the planner names the folders it adds.
    pub fn folder_naming(&self) -> FolderNaming {
        self.config.folder_naming.unwrap_or_default()
    }

    pub fn deployed_by_migrate_safe(&self) -> bool {
        self.config.deployed_by == Some(Deployer::MigrateSafe)
    }

    /// Which Prisma applies the migrations in `dir`: `flag` (`--prisma-version`), else this file's
    /// `prisma-version`, else what is installed or declared above `dir`.
    pub fn prisma_target(&self, flag: Option<&str>, dir: &Path) -> Result<PrismaTarget> {
        let configured = self
            .config
            .prisma_version
            .as_deref()
            .zip(self.path.as_deref());
        let mut target = PrismaTarget::resolve(flag, configured, dir).map_err(Error::Usage)?;
        if self.deployed_by_migrate_safe() {
            // migrate-safe deploy runs every file in one transaction (or a lone CONCURRENTLY
            // statement alone), whatever Prisma's version: the one-query model.
            target.models = vec![crate::prisma::ApplyModel::OneQuery];
            target.deployed_by = self.path.clone();
        }
        Ok(target)
    }

    /// `scratch-url` and the file that sets it.
    pub fn scratch_url(&self) -> Option<(&str, &Path)> {
        self.config.scratch_url.as_deref().zip(self.path.as_deref())
    }

    /// [`Loaded::rule_options`] judged under `target`'s apply models.
    pub fn rule_options_for(&self, target: &PrismaTarget) -> RuleOptions {
        RuleOptions {
            apply_models: target.models.clone(),
            ..self.rule_options()
        }
    }
}

fn search(start: &Path) -> Option<PathBuf> {
    let start = start.canonicalize().ok()?;
    for dir in start.ancestors() {
        let candidate = dir.join(FILE_NAME);
        if candidate.is_file() {
            return Some(candidate);
        }
        if dir.join(".git").exists() {
            break; // the repository root: a config above it belongs to something else
        }
    }
    None
}

pub fn load(path: &Path) -> Result<Config> {
    let bytes = crate::store::file::read_regular(path).map_err(|e| Error::io(path, e))?;
    let text = String::from_utf8(bytes).map_err(|_| Error::Config {
        path: path.to_path_buf(),
        message: "not valid UTF-8; save it as UTF-8".into(),
    })?;
    parse(&text).map_err(|message| Error::Config {
        path: path.to_path_buf(),
        message,
    })
}

/// Parse and validate; the error is one line (toml's own message is several).
pub fn parse(text: &str) -> std::result::Result<Config, String> {
    let config: Config = toml::from_str(text).map_err(|e| {
        let line = e
            .span()
            .map(|span| text[..span.start].matches('\n').count() + 1);
        let message = e.message().trim().replace('\n', " ");
        match line {
            Some(line) => format!("line {line}: {message}"),
            None => message,
        }
    })?;
    let ids = config
        .select
        .iter()
        .flatten()
        .map(|id| ("select", id))
        .chain(config.ignore.iter().map(|id| ("ignore", id)))
        .chain(config.severity.keys().map(|id| ("severity", id)));
    for (key, id) in ids {
        if rules::rule(id).is_none() {
            return Err(format!(
                "{key}: unknown rule \"{id}\" (known: {})",
                known_rules()
            ));
        }
    }
    if let Some(url) = &config.scratch_url {
        crate::secret::remember(url);
    }
    if let Some(url) = &config.scratch_url
        && !url.starts_with("postgres://")
        && !url.starts_with("postgresql://")
    {
        return Err(format!(
            "scratch-url: \"{}\" is not a postgres:// or postgresql:// URL",
            crate::db::redact(url)
        ));
    }
    if let Some(value) = &config.lock_timeout
        && !valid_duration(value)
    {
        return Err(format!(
            "lock-timeout: \"{value}\" is not a PostgreSQL duration like \"5s\", \"500ms\" or \"1min\""
        ));
    }
    let deploy = &config.deploy;
    for (key, value) in [
        ("deploy.lock-timeout", &deploy.lock_timeout),
        ("deploy.max-lock-hold", &deploy.max_lock_hold),
        ("deploy.statement-timeout", &deploy.statement_timeout),
        ("deploy.deadline", &deploy.deadline),
    ] {
        if let Some(value) = value {
            parse_duration(value).map_err(|e| format!("{key}: {e}"))?;
        }
    }
    Ok(config)
}

/// A duration as `500ms`, `1s`, `2min`, `1h` (humantime's syntax); zero is refused.
pub fn parse_duration(value: &str) -> std::result::Result<std::time::Duration, String> {
    match humantime::parse_duration(value.trim()) {
        Ok(d) if d.is_zero() => Err(format!("\"{value}\" is zero; give a positive duration")),
        Ok(d) => Ok(d),
        Err(e) => Err(format!(
            "\"{value}\" is not a duration like \"500ms\", \"1s\" or \"2min\" ({e})"
        )),
    }
}

pub fn known_rules() -> String {
    rules::RULES
        .iter()
        .map(|r| r.id)
        .collect::<Vec<_>>()
        .join(", ")
}

/// `500`, `500ms`, `5s`, `1min`, `1h` (what `SET lock_timeout` accepts, without a zero that disables it).
pub fn valid_duration(value: &str) -> bool {
    let digits = value.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit = &value[digits.len()..];
    !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && digits.parse::<u64>().is_ok_and(|n| n > 0)
        && matches!(unit, "" | "us" | "ms" | "s" | "min" | "h" | "d")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_config_parses() {
        let config = parse(
            r#"
select = ["index-concurrently", "lock-timeout"]
ignore = ["breaking-change"]
fail-on = "error"
lock-timeout = "2s"
foreign-keys = "all"
unsafe-fixes = true
folder-naming = "numbered"
scratch-url = "postgresql://postgres@127.0.0.1:5432/postgres"
require-proof = true

[severity]
lock-timeout = "note"
"#,
        )
        .unwrap();
        assert_eq!(config.severity["lock-timeout"], Severity::Note);
        assert_eq!(config.fail_on, Some(Severity::Error));
        assert_eq!(config.foreign_keys, Some(ForeignKeyMode::All));
        assert_eq!(config.folder_naming, Some(FolderNaming::Numbered));
        assert_eq!(
            config.scratch_url.as_deref(),
            Some("postgresql://postgres@127.0.0.1:5432/postgres")
        );
        assert_eq!(config.require_proof, Some(true));
    }

    #[test]
    fn unknown_keys_rules_and_bad_values_are_errors_with_a_line() {
        let error = parse("selct = []\n").unwrap_err();
        assert!(
            error.starts_with("line 1:") && error.contains("selct"),
            "{error}"
        );
        let error = parse("ignore = [\"no-such-rule\"]").unwrap_err();
        assert!(error.contains("unknown rule \"no-such-rule\""), "{error}");
        let error = parse("\n[severity]\nlock-timeout = \"fatal\"\n").unwrap_err();
        assert!(error.starts_with("line 3:"), "{error}");
        assert!(
            parse("lock-timeout = \"soon\"")
                .unwrap_err()
                .contains("duration")
        );
        assert!(parse("lock-timeout = \"0\"").is_err());
        assert!(parse("fail-on = \"warning\"").is_ok());
    }

    #[test]
    fn the_deploy_table_is_read_and_its_durations_checked() {
        let config =
            parse("[deploy]\nlock-timeout = \"500ms\"\nmax-attempts = 5\ndeadline = \"10min\"\n")
                .unwrap();
        assert_eq!(config.deploy.lock_timeout.as_deref(), Some("500ms"));
        assert_eq!(config.deploy.max_attempts, Some(5));
        let error = parse("[deploy]\nlock-timeout = \"soon\"\n").unwrap_err();
        assert!(
            error.contains("deploy.lock-timeout") && error.contains("soon"),
            "{error}"
        );
        assert!(
            parse("[deploy]\ndeadline = \"0s\"\n")
                .unwrap_err()
                .contains("zero")
        );
        assert!(parse("[deploy]\nlock-timout = \"1s\"\n").is_err());
        assert_eq!(
            parse("deployed-by = \"migrate-safe\"\n")
                .unwrap()
                .deployed_by,
            Some(Deployer::MigrateSafe)
        );
        assert!(parse("deployed-by = \"kubectl\"\n").is_err());
    }

    #[test]
    fn durations() {
        for good in ["5s", "500ms", "1min", "100"] {
            assert!(valid_duration(good), "{good}");
        }
        for bad in ["", "s", "5 s", "-1s", "5sec", "0s"] {
            assert!(!valid_duration(bad), "{bad}");
        }
    }
}
