//! The layers of ARCHITECTURE.md, kept: every `crate::` path in `src/` must name a module of a lower
//! layer (or its own), and the files of one module must not import each other in a circle.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The modules in ARCHITECTURE.md's `layers` block, lowest first (reading order), with their place.
fn layers() -> BTreeMap<String, usize> {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("ARCHITECTURE.md"))
            .expect("ARCHITECTURE.md");
    let block = text
        .split("```layers\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("ARCHITECTURE.md has a ```layers block");
    let mut ranks = BTreeMap::new();
    let modules = block
        .lines()
        .flat_map(|line| line.split_whitespace().skip(1));
    for (rank, module) in modules.enumerate() {
        assert!(
            ranks.insert(module.to_string(), rank).is_none(),
            "{module} listed twice"
        );
    }
    ranks
}

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// The code of a file without its comments (a doc link is not an import).
fn code(text: &str) -> String {
    text.lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The paths after `crate::` in `code`: `crate::a::b` gives `[a, b]`; `crate::{a::b, c}` gives both.
fn crate_paths(code: &str) -> Vec<Vec<String>> {
    let mut paths = Vec::new();
    for (at, _) in code.match_indices("crate::") {
        let preceded = code[..at].chars().next_back();
        if preceded.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue; // `migrate_safe::`... or another identifier ending in `crate`
        }
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let inner = &group[..group.find('}').unwrap_or(group.len())];
            paths.extend(inner.split(',').map(path_of));
        } else {
            paths.push(path_of(rest));
        }
    }
    paths.retain(|p| !p.is_empty());
    paths
}

fn path_of(text: &str) -> Vec<String> {
    let text = text.trim_start();
    let end = text
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
        .unwrap_or(text.len());
    text[..end]
        .split("::")
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// `src/db/provision.rs` → (`db`, `provision`); `src/db/mod.rs` → (`db`, ``); `src/out.rs` → (`out`, ``);
/// `src/fix/plan/text.rs` → (`fix`, `plan`).
fn module_of(src: &Path, file: &Path) -> (String, String) {
    let rel: Vec<String> = file
        .strip_prefix(src)
        .unwrap()
        .with_extension("")
        .iter()
        .map(|c| c.to_string_lossy().into_owned())
        .collect();
    let sub = rel
        .get(1)
        .filter(|s| *s != "mod")
        .cloned()
        .unwrap_or_default();
    (rel[0].clone(), sub)
}

#[test]
fn every_import_goes_down_a_layer() {
    let ranks = layers();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut upward = BTreeSet::new();
    let mut unlisted = BTreeSet::new();
    for file in &files {
        let (module, _) = module_of(&src, file);
        if matches!(module.as_str(), "lib" | "main" | "architecture") {
            continue;
        }
        let Some(&rank) = ranks.get(&module) else {
            unlisted.insert(module);
            continue;
        };
        let text = std::fs::read_to_string(file).unwrap();
        for path in crate_paths(&code(&text)) {
            let target = &path[0];
            // Items of the crate root (`crate::Outcome`) sit below everything.
            if target == &module || target.starts_with(char::is_uppercase) || target == "self" {
                continue;
            }
            match ranks.get(target) {
                Some(&to) if to < rank => {}
                _ => {
                    upward.insert(format!(
                        "{} imports crate::{}",
                        file.strip_prefix(&src).unwrap().display(),
                        path.join("::")
                    ));
                }
            }
        }
    }
    assert!(
        unlisted.is_empty(),
        "modules missing from ARCHITECTURE.md: {unlisted:?}"
    );
    assert!(
        upward.is_empty(),
        "imports of a module in the same or a higher layer (ARCHITECTURE.md):\n{}",
        upward.into_iter().collect::<Vec<_>>().join("\n")
    );
}

#[test]
fn the_files_of_a_module_import_no_circle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    // module → file → the files of the same module it names.
    let mut graph: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let (module, sub) = module_of(&src, file);
        let text = code(&std::fs::read_to_string(file).unwrap());
        let mut named: BTreeSet<String> = crate_paths(&text)
            .into_iter()
            .filter(|p| p[0] == module && p.len() > 1)
            .map(|p| p[1].clone())
            .collect();
        // `super::` names a sibling file only in `src/<module>/<file>.rs` (or `<file>/mod.rs`).
        let depth = file.strip_prefix(&src).unwrap().iter().count();
        let is_mod = file.file_name().is_some_and(|n| n == "mod.rs");
        let sibling_super = (depth == 2 && !is_mod) || (depth == 3 && is_mod);
        for (at, _) in text.match_indices("super::").filter(|_| sibling_super) {
            let rest = &text[at + "super::".len()..];
            if let Some(group) = rest.strip_prefix('{') {
                let inner = &group[..group.find('}').unwrap_or(group.len())];
                named.extend(inner.split(',').filter_map(|p| path_of(p).first().cloned()));
            } else if let Some(first) = path_of(rest).first() {
                named.insert(first.clone());
            }
        }
        named.remove(&sub);
        graph.entry((module, sub)).or_default().extend(named);
    }
    // A file that reaches itself through the files it names is in a circle.
    let mut circles = Vec::new();
    for (module, sub) in graph.keys().filter(|(_, sub)| !sub.is_empty()) {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<&String> = graph[&(module.clone(), sub.clone())].iter().collect();
        while let Some(next) = stack.pop() {
            if next == sub {
                circles.push(format!("{module}/{sub}"));
                break;
            }
            if seen.insert(next.clone())
                && let Some(named) = graph.get(&(module.clone(), next.clone()))
            {
                stack.extend(named.iter());
            }
        }
    }
    assert!(circles.is_empty(), "files in an import circle: {circles:?}");
}
