//! The migrations directory on disk: reading a file of it safely ([`file`]), and the crash-safe,
//! all-or-nothing writes of a rewrite (below). Everything that reads or writes the directory goes
//! through here, below both the readers (`source`) and the writers (`rewrite`, `baseline`).
//!
//! Writes: new folders and edited files are prepared in a
//! staging directory beside the migrations directory, a journal naming every step is written and synced,
//! then everything is renamed in, and the journal removed.
//!
//! A write killed at any point (SIGKILL, power loss, a CI timeout) leaves either no journal — the
//! directory untouched, at most a staging directory that the next run removes — or a journal whose
//! staged files are all on disk, from which the next migrate-safe command (whichever: every command
//! discovers the directory through [`recover`]) finishes the write before anything else, and says so.
//! No SQL is lost: until the journal is gone, every edited file is either in place or in the staging
//! directory, and the journal holds the original text of each. An error while writing (not a crash)
//! undoes what was done, so the directory is exactly as before.
//!
//! One writer at a time per directory: the writer holds an exclusive lock (`File::lock`, released by the
//! kernel when the process dies) on the migrations directory itself; recovery takes the same lock, so it
//! never touches a write still in progress. Nothing is left beside the directory after a write.
//!
//! Several migrations directories may share a parent (two Prisma schemas side by side): a staging
//! directory's name says whose it is (`.migrate-safe-staging-<dir>.<random>`), and a recovery only ever
//! touches its own directory's journal and staging, never a sibling's. A roll-forward that cannot
//! produce every step of its journal changes nothing and says what is missing.

pub mod file;

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

pub struct FileChange {
    pub path: PathBuf,
    pub original: String,
    pub rewritten: String,
}

pub struct NewFolder {
    pub name: String,
    pub sql: String,
}

/// What a write is about to do, synced to disk before the first rename.
#[derive(Debug, Serialize, Deserialize)]
struct Journal {
    /// The staging directory holding every new folder and every edited file.
    staging: PathBuf,
    /// New folders, by name, each `<staging>/<name>` until moved in.
    folders: Vec<String>,
    /// Each new folder's migration.sql, so that a roll-forward never depends on staging alone
    /// (absent in journals written before it was kept).
    #[serde(default)]
    folder_sql: Vec<String>,
    edits: Vec<JournalEdit>,
}

#[derive(Debug, Serialize, Deserialize)]
struct JournalEdit {
    path: PathBuf,
    /// `<staging>/edit-N.sql` until renamed over `path`.
    staged: PathBuf,
    original: String,
    rewritten: String,
}

/// Test hook: `MIGRATE_SAFE_FAULT_AT=<step>` aborts the process (as a SIGKILL would) when the write
/// reaches that step, so the tests can stop it at every step of the commit.
fn fault_point(step: &str) {
    if std::env::var("MIGRATE_SAFE_FAULT_AT").is_ok_and(|at| at == step) {
        std::process::abort();
    }
}

fn parent_of(migrations_dir: &Path) -> &Path {
    migrations_dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

fn dir_name(migrations_dir: &Path) -> String {
    migrations_dir.file_name().map_or_else(
        || "migrations".to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// The prefix of every staging directory; what follows is `<dir>.<random>` (or, before the owner was
/// named, only `<random>`).
const STAGING_PREFIX: &str = ".migrate-safe-staging-";

/// Whose staging directory `name` is: `Some(dir)` for `.migrate-safe-staging-<dir>.<random>`,
/// `None` for one that does not say (an older migrate-safe's `.migrate-safe-staging-<random>`).
fn staging_owner(name: &str) -> Option<&str> {
    let rest = name.strip_prefix(STAGING_PREFIX)?;
    // The random part has no dot; a directory name may.
    rest.rsplit_once('.').map(|(owner, _)| owner)
}

fn journal_path(migrations_dir: &Path) -> PathBuf {
    parent_of(migrations_dir).join(format!(
        ".migrate-safe-journal-{}.json",
        dir_name(migrations_dir)
    ))
}

/// The writer's lock on `migrations_dir`, held until dropped.
fn lock(migrations_dir: &Path, wait: bool) -> Result<Option<File>> {
    let path = migrations_dir;
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    if wait {
        file.lock().map_err(|e| Error::io(path, e))?;
        return Ok(Some(file));
    }
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(fs::TryLockError::WouldBlock) => Ok(None),
        Err(fs::TryLockError::Error(e)) => Err(Error::io(path, e)),
    }
}

fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io(dir, e))
}

fn write_synced(path: &Path, text: &str) -> Result<()> {
    let mut file = File::create(path).map_err(|e| Error::io(path, e))?;
    std::io::Write::write_all(&mut file, text.as_bytes()).map_err(|e| Error::io(path, e))?;
    file.sync_all().map_err(|e| Error::io(path, e))
}

pub fn write_atomically(
    migrations_dir: &Path,
    edits: &[FileChange],
    folders: &[NewFolder],
) -> Result<()> {
    let _lock = lock(migrations_dir, true)?;
    // An interrupted earlier write is finished first (the caller's discovery normally did it).
    recover_locked(migrations_dir)?;
    for folder in folders {
        let target = migrations_dir.join(&folder.name);
        if target.exists() {
            return Err(Error::Usage(format!(
                "{}: already exists; remove it or re-run on a clean checkout",
                target.display()
            )));
        }
    }
    // Staging lives beside the migrations directory (same filesystem, so renames are atomic) and not
    // inside it, where a leftover folder would look like a broken migration to Prisma. It is kept (not
    // a self-deleting temp dir) because after a crash the journal still needs it.
    let parent = parent_of(migrations_dir);
    let staging = tempfile::Builder::new()
        .prefix(&format!("{STAGING_PREFIX}{}.", dir_name(migrations_dir)))
        .tempdir_in(parent)
        .map_err(|e| Error::io(parent, e))?
        .keep();
    let staged = stage(&staging, edits, folders);
    let journal = match staged {
        Ok(journal) => journal,
        Err(error) => {
            let _ = fs::remove_dir_all(&staging);
            return Err(error);
        }
    };
    fault_point("staged");
    let journal_file = journal_path(migrations_dir);
    let text = serde_json::to_string(&journal)
        .map_err(|e| Error::io(&journal_file, std::io::Error::other(e)))?;
    let temp = journal_file.with_extension("json.tmp");
    if let Err(error) = write_synced(&temp, &text)
        .inspect(|()| fault_point("journal-written"))
        .and_then(|()| fs::rename(&temp, &journal_file).map_err(|e| Error::io(&journal_file, e)))
        .and_then(|()| sync_dir(parent))
    {
        let _ = fs::remove_file(&temp);
        let _ = fs::remove_dir_all(&staging);
        return Err(error);
    }
    fault_point("journal");
    // From here a crash is finished by the next run; an error is undone now.
    let mut moved_in: Vec<PathBuf> = Vec::new();
    let mut replaced: Vec<&FileChange> = Vec::new();
    let result = (|| -> Result<()> {
        for folder in folders {
            let target = migrations_dir.join(&folder.name);
            fs::rename(staging.join(&folder.name), &target).map_err(|e| Error::io(&target, e))?;
            moved_in.push(target);
            fault_point(&format!("folder:{}", folder.name));
        }
        for (edit, staged) in edits.iter().zip(&journal.edits) {
            fs::rename(&staged.staged, &edit.path).map_err(|e| Error::io(&edit.path, e))?;
            replaced.push(edit);
            fault_point(&format!("edit:{}", edit.path.display()));
        }
        sync_dir(migrations_dir)?;
        for edit in edits {
            if let Some(folder) = edit.path.parent() {
                sync_dir(folder)?;
            }
        }
        Ok(())
    })();
    if result.is_err() {
        for dir in moved_in {
            let _ = fs::remove_dir_all(dir);
        }
        for edit in replaced {
            let _ = fs::write(&edit.path, &edit.original);
        }
    }
    fault_point("renamed");
    let _ = fs::remove_file(&journal_file);
    let _ = sync_dir(parent);
    fault_point("journal-removed");
    let _ = fs::remove_dir_all(&staging);
    result
}

/// Every new folder and edited file written (and synced) into `staging`.
fn stage(staging: &Path, edits: &[FileChange], folders: &[NewFolder]) -> Result<Journal> {
    for folder in folders {
        let dir = staging.join(&folder.name);
        fs::create_dir(&dir).map_err(|e| Error::io(&dir, e))?;
        write_synced(&dir.join("migration.sql"), &folder.sql)?;
        sync_dir(&dir)?;
    }
    let mut journal_edits = Vec::new();
    for (i, edit) in edits.iter().enumerate() {
        let file = staging.join(format!("edit-{i}.sql"));
        write_synced(&file, &edit.rewritten)?;
        if let Ok(metadata) = fs::metadata(&edit.path) {
            let _ = fs::set_permissions(&file, metadata.permissions());
        }
        journal_edits.push(JournalEdit {
            path: edit.path.clone(),
            staged: file,
            original: edit.original.clone(),
            rewritten: edit.rewritten.clone(),
        });
    }
    sync_dir(staging)?;
    Ok(Journal {
        staging: staging.to_path_buf(),
        folders: folders.iter().map(|f| f.name.clone()).collect(),
        folder_sql: folders.iter().map(|f| f.sql.clone()).collect(),
        edits: journal_edits,
    })
}

/// Finish a write that was interrupted in `migrations_dir` (a journal beside it), and remove staging
/// directories no journal needs. Says what it did on stderr. Does nothing while another migrate-safe
/// holds the directory's write lock.
pub fn recover(migrations_dir: &Path) -> Result<()> {
    let journal = journal_path(migrations_dir);
    let has_staging = || !stale_staging(migrations_dir).is_empty();
    // The common case costs a few metadata reads and takes no lock.
    if !journal.exists() && !journal.with_extension("json.tmp").exists() && !has_staging() {
        return Ok(());
    }
    // Recovery needs to write beside the directory; a read-only checkout cannot have been written to.
    let Ok(Some(_lock)) = lock(migrations_dir, false) else {
        return Ok(());
    };
    recover_locked(migrations_dir)
}

fn recover_locked(migrations_dir: &Path) -> Result<()> {
    let parent = parent_of(migrations_dir);
    let journal_file = journal_path(migrations_dir);
    // The staging directory the journal used (by name: the journal holds it absolute).
    let mut used: Option<std::ffi::OsString> = None;
    if journal_file.exists() {
        let text = fs::read_to_string(&journal_file).map_err(|e| Error::io(&journal_file, e))?;
        let journal: Journal = serde_json::from_str(&text).map_err(|e| Error::Config {
            path: journal_file.clone(),
            message: format!(
                "an interrupted rewrite's journal cannot be read ({e}); the staged files are in {}",
                parent.display()
            ),
        })?;
        let (folders, edits) = roll_forward(migrations_dir, &journal)?;
        fs::remove_file(&journal_file).map_err(|e| Error::io(&journal_file, e))?;
        sync_dir(parent)?;
        eprintln!(
            "migrate-safe: finished an interrupted rewrite of {} from its journal: {folders} new folder{} moved in, {edits} edited file{} put in place",
            migrations_dir.display(),
            if folders == 1 { "" } else { "s" },
            if edits == 1 { "" } else { "s" },
        );
        used = journal.staging.file_name().map(|n| n.to_os_string());
    }
    // A journal killed while it was being written never took effect: the directory was not touched.
    let unfinished_journal = journal_file.with_extension("json.tmp");
    if unfinished_journal.exists() {
        fs::remove_file(&unfinished_journal).map_err(|e| Error::io(&unfinished_journal, e))?;
        eprintln!(
            "migrate-safe: removed {}, the journal of a rewrite killed before it started writing (the directory was untouched)",
            unfinished_journal.display()
        );
    }
    // Staging no journal needs any more: left by a run of ours killed before its journal was written,
    // or done.
    for path in stale_staging(migrations_dir) {
        let _ = fs::remove_dir_all(&path);
        if used.as_deref() != path.file_name() {
            eprintln!(
                "migrate-safe: removed {}, left by an interrupted rewrite (no journal refers to it: that write had not started, or had finished)",
                path.display()
            );
        }
    }
    Ok(())
}

/// The staging directories beside `migrations_dir` that its recovery may remove: those named for it,
/// and those of an older migrate-safe that do not say whose they are, when no journal beside it
/// refers to them. A sibling directory's staging is never among them.
fn stale_staging(migrations_dir: &Path) -> Vec<PathBuf> {
    let parent = parent_of(migrations_dir);
    let own = dir_name(migrations_dir);
    let Ok(entries) = fs::read_dir(parent) else {
        return Vec::new();
    };
    let mut unnamed = Vec::new();
    let mut stale = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if !name.starts_with(STAGING_PREFIX) || !entry.path().is_dir() {
            continue;
        }
        match staging_owner(&name) {
            Some(owner) if owner == own => stale.push(entry.path()),
            Some(_) => {}
            None => unnamed.push(entry.path()),
        }
    }
    if !unnamed.is_empty() {
        // An unreadable journal may refer to any of them: then none is removed.
        if let Some(referenced) = journals_beside(parent) {
            unnamed.retain(|path| !referenced.iter().any(|r| r.file_name() == path.file_name()));
            stale.extend(unnamed);
        }
    }
    stale
}

/// The staging directories the journals in `parent` refer to (every migrations directory's); `None`
/// when a journal cannot be read.
fn journals_beside(parent: &Path) -> Option<Vec<PathBuf>> {
    let mut referenced = Vec::new();
    for entry in fs::read_dir(parent).ok()?.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if !name.starts_with(".migrate-safe-journal-") {
            continue;
        }
        let text = fs::read_to_string(entry.path()).ok()?;
        let journal: Journal = serde_json::from_str(&text).ok()?;
        referenced.push(journal.staging);
    }
    Some(referenced)
}

/// Every step of the journal done: returns how many folders and files it had to move. Nothing is
/// moved unless every step can be done: a new folder whose staged copy is gone is written from the
/// journal's text; with neither (an older journal), the roll-forward stops before touching anything.
fn roll_forward(migrations_dir: &Path, journal: &Journal) -> Result<(usize, usize)> {
    let missing: Vec<&String> = journal
        .folders
        .iter()
        .enumerate()
        .filter(|(i, name)| {
            !migrations_dir.join(name).exists()
                && !journal.staging.join(name).join("migration.sql").is_file()
                && journal.folder_sql.get(*i).is_none()
        })
        .map(|(_, name)| name)
        .collect();
    if !missing.is_empty() {
        return Err(Error::Config {
            path: journal_path(migrations_dir),
            message: format!(
                "an interrupted rewrite of {} cannot be finished: the staged new folder{} {} {} gone from {} and the journal does not hold {}; nothing was changed. Restore the directory from version control (or re-run the rewrite there), then remove this journal",
                migrations_dir.display(),
                if missing.len() == 1 { "" } else { "s" },
                missing
                    .iter()
                    .map(|n| format!("\"{n}\""))
                    .collect::<Vec<_>>()
                    .join(", "),
                if missing.len() == 1 { "is" } else { "are" },
                journal.staging.display(),
                if missing.len() == 1 {
                    "its text"
                } else {
                    "their text"
                },
            ),
        });
    }
    let mut folders = 0;
    for (i, name) in journal.folders.iter().enumerate() {
        let target = migrations_dir.join(name);
        if target.exists() {
            continue;
        }
        let staged = journal.staging.join(name);
        if !staged.join("migration.sql").is_file() {
            // The journal holds the text: nothing is lost whatever happened to staging.
            fs::create_dir_all(&staged).map_err(|e| Error::io(&staged, e))?;
            write_synced(&staged.join("migration.sql"), &journal.folder_sql[i])?;
            sync_dir(&staged)?;
        }
        fs::rename(&staged, &target).map_err(|e| Error::io(&target, e))?;
        folders += 1;
    }
    let mut edits = 0;
    for edit in &journal.edits {
        let current = fs::read_to_string(&edit.path).ok();
        if current.as_deref() == Some(edit.rewritten.as_str()) {
            continue;
        }
        if edit.staged.exists() {
            fs::rename(&edit.staged, &edit.path).map_err(|e| Error::io(&edit.path, e))?;
        } else {
            // The journal holds the text too: nothing is lost whatever happened to staging.
            write_synced(&edit.path, &edit.rewritten)?;
        }
        edits += 1;
    }
    sync_dir(migrations_dir)?;
    Ok((folders, edits))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_midway_leaves_the_directory_as_it_was() {
        let temp = tempfile::tempdir().unwrap();
        let dir = temp.path().join("migrations");
        fs::create_dir_all(dir.join("1_a")).unwrap();
        fs::write(dir.join("1_a/migration.sql"), "original").unwrap();
        let edits = [
            FileChange {
                path: dir.join("1_a/migration.sql"),
                original: "original".into(),
                rewritten: "edited".into(),
            },
            // Its folder does not exist: the rename fails after the first edit and the folder went in.
            FileChange {
                path: dir.join("missing/migration.sql"),
                original: String::new(),
                rewritten: "x".into(),
            },
        ];
        let folders = [NewFolder {
            name: "1_a_01_x".into(),
            sql: "new".into(),
        }];
        assert!(write_atomically(&dir, &edits, &folders).is_err());
        assert_eq!(
            fs::read_to_string(dir.join("1_a/migration.sql")).unwrap(),
            "original"
        );
        assert!(!dir.join("1_a_01_x").exists());
        let leftovers: Vec<_> = fs::read_dir(temp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(leftovers, vec!["migrations"], "staging and journal removed");
    }
}
