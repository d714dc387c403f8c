//! Finding the migrations directory and reading its migrations in Prisma's order.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::source::prisma_project::{Found, configured, tidy};

/// The first line of every migration.sql this tool writes; how it recognises its own folders.
pub const GENERATED_MARKER: &str = "-- migrate-safe: from migration ";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// `0_*` folders: a baseline of an existing database, never rewritten.
    Baseline,
    /// Written by migrate-safe; never rewritten.
    Generated,
    /// Anything else (what `prisma migrate dev` writes, or hand-written).
    Prisma,
}

#[derive(Debug, Clone)]
pub struct Migration {
    pub name: String,
    /// Where its file is: `<dir>/<name>/migration.sql`, the directory shared by every migration (a long
    /// history holds thousands), or a file of its own.
    location: Location,
    pub sql: String,
    pub origin: Origin,
}

#[derive(Debug, Clone)]
enum Location {
    InDir(Arc<Path>),
    File(PathBuf),
}

impl Migration {
    /// A .sql file outside any migrations directory, named by its path.
    pub fn loose(path: &Path, sql: String) -> Self {
        Migration {
            name: path.display().to_string(),
            location: Location::File(path.to_path_buf()),
            sql,
            origin: Origin::Prisma,
        }
    }

    /// The migration an earlier rewrite wrote this folder for: the name its first line quotes
    /// (`-- migrate-safe: from migration "NAME": ...`).
    pub fn written_for(&self) -> Option<String> {
        if self.origin != Origin::Generated {
            return None;
        }
        let header = self.sql.strip_prefix(GENERATED_MARKER)?;
        let header = crate::escape::unescape_comment(header.lines().next().unwrap_or(""));
        let quoted = header.strip_prefix('"')?;
        // The name ends at the first lone `"` (`""` is a quote inside it).
        let mut name = String::new();
        let mut chars = quoted.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    name.push('"');
                }
                '"' => return Some(name),
                c => name.push(c),
            }
        }
        None
    }

    pub fn sql_path(&self) -> PathBuf {
        match &self.location {
            Location::InDir(dir) => dir.join(&self.name).join("migration.sql"),
            Location::File(path) => path.clone(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct MigrationsDir {
    pub path: PathBuf,
    /// Set when the path given was a project root or `prisma/` folder.
    pub found_inside: Option<PathBuf>,
    /// Set when a Prisma config file or package.json named the directory.
    pub found_by: Option<Found>,
    pub migrations: Vec<Migration>,
}

impl MigrationsDir {
    pub fn get(&self, name: &str) -> Option<&Migration> {
        self.migrations.iter().find(|m| m.name == name)
    }

    /// Where the directory came from, for a report's header line (`None`: it is the path given).
    pub fn origin(&self) -> Option<String> {
        match (&self.found_by, &self.found_inside) {
            (Some(found), _) => Some(found.describe()),
            (None, Some(root)) => Some(format!("found inside {}", root.display())),
            (None, None) => None,
        }
    }
}

/// Resolve `given` to a migrations directory and read every migration in it.
///
/// `given` is the migrations directory itself, or a project: there, as Prisma looks, `migrations.path`
/// or `schema` in prisma.config.ts, `"prisma": {"schema"}` in package.json, then `prisma/migrations`
/// (Prisma's default, beside `prisma/schema.prisma`) or `migrations`. From `.` (every command's
/// default) the search goes on upwards to the nearest folder holding a package.json, or the repository
/// root: a command run from inside a package of a monorepo finds that package's migrations.
pub fn discover(given: &Path) -> Result<MigrationsDir> {
    let metadata = fs::metadata(given).map_err(|e| Error::io(given, e))?;
    if !metadata.is_dir() {
        return Err(Error::NotMigrationsDir {
            path: given.to_path_buf(),
        });
    }
    let (path, found_inside, found_by) = locate(given)?;
    check_lock_file(&path)?;
    // Before anything reads it: a rewrite that was killed while writing is finished first.
    crate::store::recover(&path)?;
    let migrations = read_migrations(&path)?;
    Ok(MigrationsDir {
        path,
        found_inside,
        found_by,
        migrations,
    })
}

type Located = (PathBuf, Option<PathBuf>, Option<Found>);

fn locate(given: &Path) -> Result<Located> {
    if looks_like_migrations_dir(given)? {
        return Ok((given.to_path_buf(), None, None));
    }
    // Upwards only from the current directory, never from a folder named on the command line.
    let walk_up = given == Path::new(".");
    let mut level = given.to_path_buf();
    loop {
        if let Some(found) = in_project(&level)? {
            return Ok(found);
        }
        let stop = level.join("package.json").is_file() || level.join(".git").exists();
        let parent = if level == Path::new(".") {
            Path::new("..").to_path_buf()
        } else {
            level.join("..")
        };
        if !walk_up {
            return Err(Error::NotMigrationsDir {
                path: given.to_path_buf(),
            });
        }
        if stop || same_dir(&parent, &level) {
            let top = fs::canonicalize(&level).unwrap_or(level);
            return Err(Error::Usage(format!(
                "no Prisma migrations directory here or above, up to {} ({}): looked for migration_lock.toml or <name>/migration.sql folders, migrations.path or schema in prisma.config.ts, \"prisma\".\"schema\" in package.json, prisma/migrations; pass the folder that `prisma migrate dev` writes to, or run from the package that holds the Prisma schema",
                top.display(),
                if stop {
                    "the nearest package.json or repository root"
                } else {
                    "the filesystem root"
                }
            )));
        }
        level = parent;
    }
}

/// Both name the same folder (the filesystem root is its own parent).
fn same_dir(a: &Path, b: &Path) -> bool {
    match (fs::canonicalize(a), fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => true,
    }
}

/// The migrations directory of the project folder `root`, as Prisma finds it.
fn in_project(root: &Path) -> Result<Option<Located>> {
    if let Some((path, found)) = configured(root)? {
        let path = tidy(&path);
        if !path.is_dir() {
            return Err(Error::Config {
                path: found_file(&found).to_path_buf(),
                message: format!(
                    "names the migrations directory {} ({}), which does not exist; create a migration first (`prisma migrate dev --create-only`) or pass the directory",
                    path.display(),
                    found.describe()
                ),
            });
        }
        return Ok(Some((path, None, Some(found))));
    }
    Ok(["prisma/migrations", "migrations"]
        .iter()
        .map(|sub| root.join(sub))
        .find(|p| p.is_dir())
        .map(|inner| (tidy(&inner), Some(root.to_path_buf()), None)))
}

fn found_file(found: &Found) -> &Path {
    match found {
        Found::ConfigMigrations { file }
        | Found::ConfigSchema { file, .. }
        | Found::PackageJson { file, .. } => file,
    }
}

fn looks_like_migrations_dir(path: &Path) -> Result<bool> {
    if path.join("migration_lock.toml").is_file() {
        return Ok(true);
    }
    for entry in fs::read_dir(path).map_err(|e| Error::io(path, e))? {
        let entry = entry.map_err(|e| Error::io(path, e))?;
        if entry.path().join("migration.sql").is_file() {
            return Ok(true);
        }
    }
    Ok(false)
}

fn check_lock_file(dir: &Path) -> Result<()> {
    let path = dir.join("migration_lock.toml");
    let text = match crate::store::file::read_regular(&path) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        // Prisma tolerates a missing lock file.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io(path, e)),
    };
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| Error::LockFile {
        path: path.clone(),
        message: format!("not valid TOML: {}", e.message()),
    })?;
    match table.get("provider").and_then(|p| p.as_str()) {
        Some("postgresql") => Ok(()),
        Some(other) => Err(Error::LockFile {
            path,
            message: format!(
                "provider is \"{other}\"; migrate-safe only rewrites PostgreSQL migrations"
            ),
        }),
        None => Err(Error::LockFile {
            path,
            message: "no `provider` key (Prisma writes provider = \"postgresql\")".into(),
        }),
    }
}

fn read_migrations(dir: &Path) -> Result<Vec<Migration>> {
    let shared: Arc<Path> = Arc::from(dir);
    let mut folders = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let folder = entry.path();
        // The directory listing already says what each entry is; only a symlink needs a stat.
        let is_dir = match entry.file_type() {
            Ok(kind) if kind.is_symlink() => folder.is_dir(),
            Ok(kind) => kind.is_dir(),
            Err(_) => folder.is_dir(),
        };
        if !is_dir {
            continue;
        }
        let name = entry
            .file_name()
            .into_string()
            .map_err(|_| Error::BadFolderName {
                path: folder.clone(),
            })?;
        if name.starts_with('.') {
            continue; // hidden folders (editors, VCS) are not migrations
        }
        folders.push((name, folder));
    }
    // Opening and reading a few hundred small files is mostly waiting on system calls: two threads
    // read half each.
    let (first, second) = folders.split_at(folders.len() / 2);
    let mut migrations = std::thread::scope(|scope| {
        let other = scope.spawn(|| read_folders(second, &shared));
        let mut migrations = read_folders(first, &shared)?;
        migrations.extend(other.join().expect("reading migrations does not panic")?);
        Ok::<_, Error>(migrations)
    })?;
    migrations.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
    migrations.shrink_to_fit(); // held for the whole run: no growth slack
    Ok(migrations)
}

fn read_folders(folders: &[(String, PathBuf)], dir: &Arc<Path>) -> Result<Vec<Migration>> {
    let mut migrations = Vec::with_capacity(folders.len());
    for (name, folder) in folders {
        let sql_path = folder.join("migration.sql");
        let bytes = match crate::store::file::read_regular(&sql_path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::MissingMigrationSql {
                    path: folder.clone(),
                });
            }
            Err(e) => return Err(Error::io(sql_path, e)),
        };
        let sql = decode(&sql_path, bytes)?;
        let origin = if sql.starts_with(GENERATED_MARKER) {
            Origin::Generated
        } else if name.starts_with("0_") {
            Origin::Baseline
        } else {
            Origin::Prisma
        };
        migrations.push(Migration {
            name: name.clone(),
            location: Location::InDir(dir.clone()),
            sql,
            origin,
        });
    }
    Ok(migrations)
}

/// A file's text; invalid UTF-8 and NUL bytes are errors naming the line and column.
pub fn decode(path: &Path, bytes: Vec<u8>) -> Result<String> {
    crate::store::file::decode_sql(path, bytes)
}
