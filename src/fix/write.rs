//! All-or-nothing writes: new folders are prepared in a staging directory beside the migrations
//! directory, then moved in; edited files replace the originals by rename. On any error everything done
//! so far is undone, so the directory is exactly as before.

use std::fs;
use std::path::{Path, PathBuf};

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

pub fn write_atomically(
    migrations_dir: &Path,
    edits: &[FileChange],
    folders: &[NewFolder],
) -> Result<()> {
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
    // inside it, where a leftover folder would look like a broken migration to Prisma.
    let parent = migrations_dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let staging = tempfile::Builder::new()
        .prefix(".migrate-safe-staging-")
        .tempdir_in(parent)
        .map_err(|e| Error::io(parent, e))?;
    for folder in folders {
        let dir = staging.path().join(&folder.name);
        fs::create_dir(&dir).map_err(|e| Error::io(&dir, e))?;
        let file = dir.join("migration.sql");
        fs::write(&file, &folder.sql).map_err(|e| Error::io(&file, e))?;
    }
    let mut staged_edits = Vec::new();
    for (i, edit) in edits.iter().enumerate() {
        let file = staging.path().join(format!("edit-{i}.sql"));
        fs::write(&file, &edit.rewritten).map_err(|e| Error::io(&file, e))?;
        if let Ok(metadata) = fs::metadata(&edit.path) {
            let _ = fs::set_permissions(&file, metadata.permissions());
        }
        staged_edits.push(file);
    }

    let mut moved_in: Vec<PathBuf> = Vec::new();
    let mut replaced: Vec<&FileChange> = Vec::new();
    let result = (|| -> Result<()> {
        for folder in folders {
            let target = migrations_dir.join(&folder.name);
            fs::rename(staging.path().join(&folder.name), &target)
                .map_err(|e| Error::io(&target, e))?;
            moved_in.push(target);
        }
        for (edit, staged) in edits.iter().zip(&staged_edits) {
            fs::rename(staged, &edit.path).map_err(|e| Error::io(&edit.path, e))?;
            replaced.push(edit);
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
    result
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
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers, vec!["migrations"], "staging directory removed");
    }
}
