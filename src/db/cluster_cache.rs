//! A cluster template for the throwaway local server, kept per machine: `initdb` costs most of a local
//! server's start (0.6–1.2 s on a 2-core machine), copying a cluster it made earlier a fraction of it.
//!
//! The template of one PostgreSQL installation and one user the server runs as is
//! `<cache>/<user>-<hash of the bin directory>/`: `data/` (what `initdb` made, never started) and
//! `complete`, written last, naming the binaries it was made with (path, size and modification time
//! of `initdb`, `postgres`, `pg_ctl`), the user and the `initdb` options. A template whose `complete`
//! is missing (a run stopped while saving it) or names anything else (PostgreSQL was upgraded in place)
//! is not used: the next run makes a new one. A template is built beside it (`.tmp-*`) and renamed into
//! place, so a concurrent run sees either no template or a whole one; runs only ever copy it (a plain
//! copy, never hard links: PostgreSQL writes its files in place).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Where templates are kept instead of `$XDG_CACHE_HOME/migrate-safe` (else
/// `~/.cache/migrate-safe`); empty: none kept, `initdb` on every run.
pub const CACHE_ENV: &str = "MIGRATE_SAFE_CLUSTER_CACHE";

/// The options `initdb` is run with; part of what a template is.
pub const INITDB_OPTIONS: [&str; 8] = [
    "-U",
    "postgres",
    "-A",
    "trust",
    "-E",
    "UTF8",
    "--locale=C",
    "--no-sync",
];

/// The file that makes a template whole, written last.
const MARKER: &str = "complete";

/// The template of one installation and user: where it is (or will be) and what it must have been
/// made with.
#[derive(Debug, Clone)]
pub struct Template {
    pub dir: PathBuf,
    key: String,
}

/// The template for the binaries in `bin`, run as `user` (`None`: as ourselves, `uid`). `Err` says why
/// none is kept.
pub fn template(bin: &Path, user: Option<&str>, uid: u32) -> Result<Template, String> {
    template_in(&cache_root()?, bin, user, uid)
}

/// The template in the cache `root`.
fn template_in(root: &Path, bin: &Path, user: Option<&str>, uid: u32) -> Result<Template, String> {
    let bin = bin.canonicalize().unwrap_or_else(|_| bin.to_path_buf());
    let user = user.map_or_else(|| format!("uid{uid}"), str::to_string);
    let mut key = format!(
        "migrate-safe cluster template 1\nuser {user}\nuid {uid}\ninitdb {}\nbin {}\n",
        INITDB_OPTIONS.join(" "),
        bin.display()
    );
    for program in ["initdb", "postgres", "pg_ctl"] {
        let path = bin.join(program);
        let meta = std::fs::metadata(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let modified = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .unwrap_or_default();
        key.push_str(&format!(
            "{program} {} bytes, modified {}.{:09}\n",
            meta.len(),
            modified.as_secs(),
            modified.subsec_nanos()
        ));
    }
    use sha2::Digest;
    let digest = sha2::Sha256::digest(bin.as_os_str().as_encoded_bytes());
    let hash: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    Ok(Template {
        dir: root.join(format!("{user}-{hash}")),
        key,
    })
}

fn cache_root() -> Result<PathBuf, String> {
    let var = |name| std::env::var_os(name);
    cache_root_of(var(CACHE_ENV), var("XDG_CACHE_HOME"), var("HOME"))
}

/// Where templates are kept, given `MIGRATE_SAFE_CLUSTER_CACHE`, `XDG_CACHE_HOME` and `HOME`.
fn cache_root_of(
    named: Option<OsString>,
    xdg: Option<OsString>,
    home: Option<OsString>,
) -> Result<PathBuf, String> {
    if let Some(dir) = named {
        return if dir.is_empty() {
            Err(format!("{CACHE_ENV} is empty"))
        } else {
            Ok(PathBuf::from(dir))
        };
    }
    let base = xdg
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            home.filter(|d| !d.is_empty())
                .map(|home| PathBuf::from(home).join(".cache"))
        })
        .ok_or_else(|| format!("no XDG_CACHE_HOME or HOME for a cache ({CACHE_ENV} names one)"))?;
    Ok(base.join("migrate-safe"))
}

impl Template {
    /// Whole and made with these binaries, for this user.
    pub fn is_usable(&self) -> bool {
        std::fs::read_to_string(self.dir.join(MARKER)).is_ok_and(|k| k == self.key)
            && self.dir.join("data/PG_VERSION").is_file()
    }

    /// Copy the template's cluster to `to` (which must not exist), every file owned by `owner` when
    /// given, `to` itself mode 0700 as PostgreSQL demands.
    pub fn copy_to(&self, to: &Path, owner: Option<(u32, u32)>) -> Result<(), String> {
        copy_tree(&self.dir.join("data"), to, owner)
            .map_err(|e| format!("copying the cluster template {}: {e}", self.dir.display()))?;
        set_mode(to, 0o700).map_err(|e| format!("{}: {e}", to.display()))?;
        // Replaced while we copied (by a run that found it unusable): the copy may be of two.
        if self.is_usable() {
            Ok(())
        } else {
            Err(format!(
                "the cluster template {} changed while it was copied",
                self.dir.display()
            ))
        }
    }

    /// Keep a copy of `data` (a cluster `initdb` just made, not yet started) as the template, unless a
    /// whole one appeared meanwhile. A template that is there but not usable is replaced.
    pub fn save(&self, data: &Path) -> Result<(), String> {
        let root = self.dir.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(root).map_err(|e| format!("{}: {e}", root.display()))?;
        remove_stale_staging(root);
        let name = self.dir.file_name().unwrap_or_default().to_string_lossy();
        let staging = tempfile::Builder::new()
            .prefix(&format!(".tmp-{name}-"))
            .tempdir_in(root)
            .map_err(|e| format!("{}: {e}", root.display()))?;
        let built = copy_tree(data, &staging.path().join("data"), None)
            .and_then(|()| std::fs::write(staging.path().join(MARKER), &self.key));
        built.map_err(|e| format!("{}: {e}", staging.path().display()))?;
        let staging = staging.keep();
        let placed = std::fs::rename(&staging, &self.dir).is_ok() || {
            // Taken: by a whole template of another run (keep it), or by one to replace.
            if !self.is_usable() {
                self.discard();
            }
            std::fs::rename(&staging, &self.dir).is_ok()
        };
        if !placed {
            let _ = std::fs::remove_dir_all(&staging);
            if !self.is_usable() {
                return Err(format!("could not rename it to {}", self.dir.display()));
            }
        }
        Ok(())
    }

    /// Move the template out of the way (a concurrent run that has started copying it notices) and
    /// remove it.
    pub fn discard(&self) {
        let Some(root) = self.dir.parent() else {
            return;
        };
        let aside = root.join(format!(
            ".tmp-stale-{}-{}",
            std::process::id(),
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        ));
        if std::fs::rename(&self.dir, &aside).is_ok() {
            let _ = std::fs::remove_dir_all(&aside);
        }
    }
}

/// Staging directories of runs that stopped while saving a template (older than an hour: a save takes
/// well under a second).
fn remove_stale_staging(root: &Path) {
    for entry in std::fs::read_dir(root).into_iter().flatten().flatten() {
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > Duration::from_secs(3600));
        if old && entry.file_name().to_string_lossy().starts_with(".tmp-") {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

/// A recursive copy of directories and regular files with their modes (anything else in a cluster
/// is an error), owned by `owner` when given.
fn copy_tree(from: &Path, to: &Path, owner: Option<(u32, u32)>) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir(to)?;
    let chown = |path: &Path| match owner {
        Some((uid, gid)) => std::os::unix::fs::chown(path, Some(uid), Some(gid)),
        None => Ok(()),
    };
    chown(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let (source, target) = (entry.path(), to.join(entry.file_name()));
        let kind = entry.file_type()?;
        if kind.is_dir() {
            copy_tree(&source, &target, owner)?;
        } else if kind.is_file() {
            std::fs::copy(&source, &target)?;
            chown(&target)?;
        } else {
            return Err(std::io::Error::other(format!(
                "{} is neither a file nor a directory",
                source.display()
            )));
        }
    }
    set_mode(to, std::fs::metadata(from)?.permissions().mode())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake_bin(dir: &Path) -> PathBuf {
        let bin = dir.join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        for program in ["initdb", "postgres", "pg_ctl"] {
            std::fs::write(bin.join(program), program).unwrap();
        }
        bin
    }

    fn fake_cluster(dir: &Path) -> PathBuf {
        let data = dir.join("made");
        std::fs::create_dir_all(data.join("base/1")).unwrap();
        std::fs::write(data.join("PG_VERSION"), "15\n").unwrap();
        std::fs::write(data.join("base/1/1259"), [7u8; 8192]).unwrap();
        set_mode(&data, 0o700).unwrap();
        data
    }

    fn at(cache: &Path, bin: &Path) -> Template {
        template_in(cache, bin, Some("postgres"), 42).unwrap()
    }

    #[test]
    fn a_saved_template_is_usable_and_copied_whole_with_mode_0700() {
        let temp = tempfile::tempdir().unwrap();
        let bin = fake_bin(temp.path());
        let template = at(&temp.path().join("cache"), &bin);
        assert!(!template.is_usable());
        template.save(&fake_cluster(temp.path())).unwrap();
        assert!(template.is_usable());
        let run = temp.path().join("run");
        template.copy_to(&run, None).unwrap();
        assert_eq!(std::fs::read(run.join("base/1/1259")).unwrap(), [7u8; 8192]);
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&run).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        // Nothing of the build is left beside it.
        let names: Vec<_> = std::fs::read_dir(temp.path().join("cache"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, [template.dir.file_name().unwrap()]);
    }

    #[test]
    fn a_template_without_its_marker_or_of_other_binaries_is_not_used_and_is_replaced() {
        let temp = tempfile::tempdir().unwrap();
        let bin = fake_bin(temp.path());
        let template = at(&temp.path().join("cache"), &bin);
        // Partial: the data without the marker.
        std::fs::create_dir_all(template.dir.join("data")).unwrap();
        std::fs::write(template.dir.join("data/PG_VERSION"), "15\n").unwrap();
        assert!(!template.is_usable());
        template.save(&fake_cluster(temp.path())).unwrap();
        assert!(template.is_usable());
        assert!(template.dir.join("data/base/1/1259").is_file());
        // The binaries change (an upgrade in place): the same directory no longer fits.
        std::fs::write(bin.join("postgres"), "postgres 15.99").unwrap();
        let upgraded = at(&temp.path().join("cache"), &bin);
        assert_eq!(upgraded.dir, template.dir);
        assert!(!upgraded.is_usable());
        upgraded.save(&fake_cluster(temp.path())).unwrap();
        assert!(upgraded.is_usable() && !template.is_usable());
    }

    #[test]
    fn the_cache_is_the_named_one_else_xdg_else_home() {
        let os = |s: &str| Some(OsString::from(s));
        assert_eq!(
            cache_root_of(os("/c"), os("/x"), os("/h")),
            Ok(PathBuf::from("/c"))
        );
        assert_eq!(
            cache_root_of(os(""), os("/x"), os("/h")),
            Err(format!("{CACHE_ENV} is empty"))
        );
        assert_eq!(
            cache_root_of(None, os("/x"), os("/h")),
            Ok(PathBuf::from("/x/migrate-safe"))
        );
        assert_eq!(
            cache_root_of(None, os(""), os("/h")),
            Ok(PathBuf::from("/h/.cache/migrate-safe"))
        );
        assert!(cache_root_of(None, None, None).is_err());
    }
}
