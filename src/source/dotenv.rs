//! `.env` files as Prisma reads them: Prisma 6 loads the project root's and the schema folder's,
//! Prisma 7's `prisma.config.ts` imports dotenv (the working directory's). Only plain `NAME=value`
//! lines (`export` allowed, quotes stripped, `#` comments after a space); no expansion.

use std::path::{Path, PathBuf};

/// `name`'s value in the `.env` file at `path`.
pub fn value_in(path: &Path, name: &str) -> Option<String> {
    let text = crate::store::file::read_optional_text(path)?;
    text.lines().find_map(|line| {
        let line = line.trim();
        let line = line.strip_prefix("export ").unwrap_or(line);
        let (key, value) = line.split_once('=')?;
        if key.trim() != name {
            return None;
        }
        let value = value.trim();
        let value = match value.chars().next() {
            Some(q @ ('"' | '\'')) if value.len() >= 2 && value.ends_with(q) => {
                &value[1..value.len() - 1]
            }
            _ => value.split(" #").next().unwrap_or(value).trim(),
        };
        (!value.is_empty()).then(|| value.to_string())
    })
}

/// `name` from the first `.env` of `dirs` that sets it, and that file.
pub fn find(name: &str, dirs: &[PathBuf]) -> Option<(String, PathBuf)> {
    dirs.iter().find_map(|dir| {
        let path = dir.join(".env");
        value_in(&path, name).map(|value| (value, path))
    })
}

/// Where Prisma looks for `.env` for the migrations directory `migrations_dir`: the working directory,
/// the schema folder (the directory's parent, `prisma/`) and the project root above it.
pub fn places(migrations_dir: &Path) -> Vec<PathBuf> {
    let mut dirs = vec![std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."))];
    let absolute = migrations_dir
        .canonicalize()
        .unwrap_or_else(|_| migrations_dir.to_path_buf());
    if let Some(schema_dir) = absolute.parent() {
        dirs.push(schema_dir.to_path_buf());
        if let Some(root) = schema_dir.parent() {
            dirs.push(root.to_path_buf());
        }
    }
    dirs.dedup();
    dirs
}
