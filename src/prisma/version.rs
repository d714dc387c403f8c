//! Which Prisma applies the project's migrations, and so which [`ApplyModel`]s to judge under.
//!
//! In order: `--prisma-version`, `prisma-version` in migrate-safe.toml, the `prisma` package installed
//! in the nearest `node_modules` above the migrations directory, the `prisma` range in the nearest
//! `package.json` (dependencies or devDependencies). A range that spans 7.4.0 (e.g. `^7.0.0`), an
//! unreadable one (`latest`, `workspace:*`) or nothing found means both models.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::model::ApplyModel;

/// The first version that applies a file statement by statement (prisma-engines PR #5767).
pub const PER_STATEMENT_SINCE: Version = Version {
    major: 7,
    minor: 4,
    patch: 0,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Version {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

impl Version {
    /// `7`, `7.10`, `7.10.1`, `7.10.1-dev.3` (a pre-release counts as its version).
    pub fn parse(text: &str) -> Option<Version> {
        let core = text.trim().trim_start_matches('v');
        let core = core.split(['-', '+']).next()?;
        let mut parts = core.split('.');
        let mut next = || -> Option<Option<u64>> {
            match parts.next() {
                None => Some(None),
                Some(p) => p.parse().ok().map(Some),
            }
        };
        let major = next()??;
        let minor = next()?.unwrap_or(0);
        let patch = next()?.unwrap_or(0);
        if parts.next().is_some() {
            return None;
        }
        Some(Version {
            major,
            minor,
            patch,
        })
    }

    pub fn model(self) -> ApplyModel {
        if self >= PER_STATEMENT_SINCE {
            ApplyModel::PerStatement
        } else {
            ApplyModel::OneQuery
        }
    }
}

/// The models an npm range allows: `7.10.1`, `^7.4.0`, `~7.3.1`, `>=6`, `7.x`; `None` when unreadable.
pub fn range_models(range: &str) -> Option<Vec<ApplyModel>> {
    let range = range.trim();
    let (operator, rest) = match range.find(|c: char| c.is_ascii_digit()) {
        Some(i) => range.split_at(i),
        None => return None,
    };
    if rest.contains([' ', '|', '<']) {
        return None; // compound ranges: judge under both
    }
    let wildcard = rest.trim_end_matches(".x").trim_end_matches(".*");
    let given = wildcard.split(['-', '+']).next()?.split('.').count();
    let low = Version::parse(wildcard)?;
    // The highest version the range admits, as a model boundary needs it.
    let high = match (operator.trim(), given) {
        (">=" | ">", _) => None,
        ("^", _) if low.major > 0 => Some(Version {
            major: low.major,
            minor: u64::MAX,
            patch: 0,
        }),
        ("~" | "^", _) | ("" | "=", 2) => Some(Version {
            patch: u64::MAX,
            ..low
        }),
        ("" | "=", 1) => Some(Version {
            minor: u64::MAX,
            patch: 0,
            ..low
        }),
        ("" | "=" | "v", _) => Some(low),
        _ => return None,
    };
    let mut models = vec![low.model()];
    let high_model = high.map_or(ApplyModel::PerStatement, Version::model);
    if high_model != models[0] {
        models.push(high_model);
    }
    Some(models)
}

/// Where the version came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "path", rename_all = "kebab-case")]
pub enum VersionSource {
    Flag,
    Config(PathBuf),
    Installed(PathBuf),
    PackageJson(PathBuf),
    NotFound,
}

/// The Prisma a run judges for, and the apply models that follow.
#[derive(Debug, Clone, Serialize)]
pub struct PrismaTarget {
    /// The version or range as found (`7.10.1`, `^7.0.0`).
    pub version: Option<String>,
    pub source: VersionSource,
    /// One model, or both when the version is unknown or the range spans 7.4.0.
    pub models: Vec<ApplyModel>,
    /// The migrate-safe.toml saying `deployed-by = "migrate-safe"`: `migrate-safe deploy` applies
    /// each file in one transaction, whatever the version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deployed_by: Option<PathBuf>,
}

impl PrismaTarget {
    /// A target fixed to one model (tests, and callers that already know).
    pub fn model(model: ApplyModel) -> Self {
        PrismaTarget {
            version: None,
            source: VersionSource::Flag,
            models: vec![model],
            deployed_by: None,
        }
    }

    /// `flag` (`--prisma-version`), else `config` (value and file), else what is installed or declared
    /// above `migrations_dir`.
    pub fn resolve(
        flag: Option<&str>,
        config: Option<(&str, &Path)>,
        migrations_dir: &Path,
    ) -> Result<Self, String> {
        if let Some(version) = flag {
            return exact(version, VersionSource::Flag).ok_or_else(|| {
                format!("--prisma-version: expected a version like 7.10.1, got \"{version}\"")
            });
        }
        if let Some((version, path)) = config {
            return exact(version, VersionSource::Config(path.to_path_buf())).ok_or_else(|| {
                format!(
                    "{}: prisma-version: expected a version like 7.10.1, got \"{version}\"",
                    path.display()
                )
            });
        }
        Ok(detect(migrations_dir))
    }

    /// One line for reports: the version, where it was found, and how files are applied.
    pub fn describe(&self) -> String {
        if let Some(path) = &self.deployed_by {
            return format!(
                "Deployed by migrate-safe deploy (deployed-by in {}): each file runs in one transaction of its own, whatever the Prisma version",
                path.display()
            );
        }
        let models: Vec<&str> = self.models.iter().map(|m| m.label()).collect();
        let applies = if self.models.len() > 1 {
            format!("judged under both apply models: {}", models.join(" and "))
        } else {
            format!("applies {}", models.join(""))
        };
        let found = match &self.source {
            VersionSource::Flag => "--prisma-version".to_string(),
            VersionSource::Config(path)
            | VersionSource::Installed(path)
            | VersionSource::PackageJson(path) => path.display().to_string(),
            VersionSource::NotFound => {
                return format!(
                    "Prisma version unknown (no node_modules/prisma or package.json naming prisma above the migrations; set --prisma-version): {applies}"
                );
            }
        };
        match &self.version {
            Some(version) => format!("Prisma {version} (from {found}): {applies}"),
            None => format!("Prisma (from {found}): {applies}"),
        }
    }
}

fn exact(version: &str, source: VersionSource) -> Option<PrismaTarget> {
    let parsed = Version::parse(version)?;
    Some(PrismaTarget {
        version: Some(version.trim().to_string()),
        source,
        models: vec![parsed.model()],
        deployed_by: None,
    })
}

/// The installed package first (what really runs), then a declared range.
fn detect(migrations_dir: &Path) -> PrismaTarget {
    let start = migrations_dir
        .canonicalize()
        .unwrap_or_else(|_| migrations_dir.to_path_buf());
    let ancestors = project_ancestors(&start);
    for dir in &ancestors {
        let manifest = dir.join("node_modules/prisma/package.json");
        if let Some(version) =
            read_json(&manifest).and_then(|json| json.get("version")?.as_str().map(str::to_string))
            && let Some(target) = exact(&version, VersionSource::Installed(manifest.clone()))
        {
            return target;
        }
    }
    for dir in &ancestors {
        let manifest = dir.join("package.json");
        let Some(json) = read_json(&manifest) else {
            continue;
        };
        let range = ["dependencies", "devDependencies"]
            .iter()
            .find_map(|key| json.get(key)?.get("prisma")?.as_str().map(str::to_string));
        if let Some(range) = range {
            return PrismaTarget {
                models: range_models(&range).unwrap_or_else(|| ApplyModel::ALL.to_vec()),
                version: Some(range),
                source: VersionSource::PackageJson(manifest),
                deployed_by: None,
            };
        }
    }
    PrismaTarget {
        version: None,
        source: VersionSource::NotFound,
        models: ApplyModel::ALL.to_vec(),
        deployed_by: None,
    }
}

/// `start` and the folders above it, up to and including the repository root.
fn project_ancestors(start: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for dir in start.ancestors() {
        found.push(dir.to_path_buf());
        if dir.join(".git").exists() {
            break;
        }
    }
    found
}

fn read_json(path: &Path) -> Option<serde_json::Value> {
    serde_json::from_str(&crate::store::file::read_optional_text(path)?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ApplyModel::{OneQuery, PerStatement};

    #[test]
    fn versions_from_7_4_apply_per_statement() {
        for (version, model) in [
            ("6.19.3", OneQuery),
            ("7.3.9", OneQuery),
            ("7.4.0", PerStatement),
            ("7.10.1", PerStatement),
            ("7.4.0-dev.18", PerStatement),
            ("8", PerStatement),
        ] {
            assert_eq!(Version::parse(version).unwrap().model(), model, "{version}");
        }
        assert_eq!(Version::parse("seven"), None);
        assert_eq!(Version::parse("7.1.2.3"), None);
    }

    #[test]
    fn ranges_that_span_7_4_mean_both_models() {
        for (range, models) in [
            ("7.10.1", Some(vec![PerStatement])),
            ("^7.4.0", Some(vec![PerStatement])),
            ("^7.0.0", Some(vec![OneQuery, PerStatement])),
            ("~7.3.1", Some(vec![OneQuery])),
            ("^6.19.0", Some(vec![OneQuery])),
            (">=6", Some(vec![OneQuery, PerStatement])),
            ("7.x", Some(vec![OneQuery, PerStatement])),
            ("7.3", Some(vec![OneQuery])),
            ("6", Some(vec![OneQuery])),
            ("latest", None),
            ("workspace:*", None),
            (">=6 <7", None),
        ] {
            assert_eq!(range_models(range), models, "{range}");
        }
    }

    #[test]
    fn the_installed_package_wins_over_the_declared_range() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join(".git")).unwrap();
        let migrations = root.path().join("prisma/migrations");
        std::fs::create_dir_all(&migrations).unwrap();
        let detected = PrismaTarget::resolve(None, None, &migrations).unwrap();
        assert_eq!(detected.source, VersionSource::NotFound);
        assert_eq!(detected.models, vec![OneQuery, PerStatement]);

        std::fs::write(
            root.path().join("package.json"),
            r#"{"devDependencies": {"prisma": "^6.19.0"}}"#,
        )
        .unwrap();
        let declared = PrismaTarget::resolve(None, None, &migrations).unwrap();
        assert_eq!(declared.version.as_deref(), Some("^6.19.0"));
        assert_eq!(declared.models, vec![OneQuery]);

        let installed = root.path().join("node_modules/prisma");
        std::fs::create_dir_all(&installed).unwrap();
        std::fs::write(installed.join("package.json"), r#"{"version": "7.10.1"}"#).unwrap();
        let found = PrismaTarget::resolve(None, None, &migrations).unwrap();
        assert_eq!(found.version.as_deref(), Some("7.10.1"));
        assert_eq!(found.models, vec![PerStatement]);
        assert!(
            found.describe().starts_with("Prisma 7.10.1 (from "),
            "{}",
            found.describe()
        );

        let flagged = PrismaTarget::resolve(Some("6.19.3"), None, &migrations).unwrap();
        assert_eq!(flagged.models, vec![OneQuery]);
        assert!(PrismaTarget::resolve(Some("new"), None, &migrations).is_err());
    }
}
