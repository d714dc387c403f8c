//! Where a Prisma project keeps its migrations, found the way Prisma finds them when no directory is
//! given: `migrations.path` (or `schema`) in `prisma.config.ts`, `"prisma": {"schema": ...}` in
//! package.json, then `prisma/migrations` (beside Prisma's default `prisma/schema.prisma`).
//!
//! The config file is TypeScript and is never executed: it is read token by token, and only a plain
//! string literal counts (`path: "db/migrations"`). A value built at run time (`path.join(...)`,
//! `env("X")`, a template with `${}`) is an error naming the file and line, asking for the directory.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Prisma's config file names, in the order Prisma looks for them.
pub const CONFIG_FILES: &[&str] = &[
    "prisma.config.ts",
    "prisma.config.mts",
    "prisma.config.cts",
    "prisma.config.js",
    "prisma.config.mjs",
    "prisma.config.cjs",
    ".config/prisma.ts",
    ".config/prisma.mts",
    ".config/prisma.cts",
    ".config/prisma.js",
    ".config/prisma.mjs",
    ".config/prisma.cjs",
];

/// How the migrations directory was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// `migrations: { path: "..." }` in a Prisma config file.
    ConfigMigrations { file: PathBuf },
    /// Beside the schema named by `schema: "..."` in a Prisma config file.
    ConfigSchema { file: PathBuf, schema: PathBuf },
    /// Beside the schema named by `"prisma": {"schema": "..."}` in package.json.
    PackageJson { file: PathBuf, schema: PathBuf },
}

impl Found {
    /// For the reports' header line: where the directory came from.
    pub fn describe(&self) -> String {
        match self {
            Found::ConfigMigrations { file } => {
                format!("from migrations.path in {}", file.display())
            }
            Found::ConfigSchema { file, schema } => format!(
                "beside the schema {}, from schema in {}",
                schema.display(),
                file.display()
            ),
            Found::PackageJson { file, schema } => format!(
                "beside the schema {}, from \"prisma\".\"schema\" in {}",
                schema.display(),
                file.display()
            ),
        }
    }
}

/// The migrations directory a project's Prisma config or package.json names in `dir`, if any.
pub fn configured(dir: &Path) -> Result<Option<(PathBuf, Found)>> {
    for name in CONFIG_FILES {
        let file = tidy(&dir.join(name));
        let Some(text) = crate::store::file::read_optional_text(&file) else {
            continue;
        };
        let base = file.parent().unwrap_or(dir);
        let config = read_config(&file, &text)?;
        if let Some(path) = config.migrations_path {
            return Ok(Some((base.join(path), Found::ConfigMigrations { file })));
        }
        if let Some(schema) = config.schema {
            let schema = tidy(&base.join(schema));
            return Ok(Some((
                beside(&schema),
                Found::ConfigSchema { file, schema },
            )));
        }
        // A config without either: Prisma goes on to its defaults, and so does this.
        break;
    }
    let file = tidy(&dir.join("package.json"));
    let Some(text) = crate::store::file::read_optional_text(&file) else {
        return Ok(None);
    };
    let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| Error::Config {
        path: file.clone(),
        message: format!("not valid JSON (line {}): {e}", e.line()),
    })?;
    match json.get("prisma").and_then(|p| p.get("schema")) {
        None => Ok(None),
        Some(serde_json::Value::String(schema)) => {
            let schema = tidy(&dir.join(schema));
            Ok(Some((beside(&schema), Found::PackageJson { file, schema })))
        }
        Some(_) => Err(Error::Config {
            path: file,
            message: "\"prisma\".\"schema\" is not a string; Prisma expects the schema's path"
                .into(),
        }),
    }
}

/// Prisma keeps migrations in `migrations/` beside the schema file (inside a schema folder).
fn beside(schema: &Path) -> PathBuf {
    if schema.is_dir() {
        schema.join("migrations")
    } else {
        schema
            .parent()
            .map_or_else(|| PathBuf::from("migrations"), |p| p.join("migrations"))
    }
}

/// `./a/../b` as `b`, without touching the filesystem (the paths stay as a user would type them).
pub fn tidy(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out: Vec<Component> = Vec::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir if matches!(out.last(), Some(Component::Normal(_))) => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    if out.is_empty() {
        return PathBuf::from(".");
    }
    out.iter().collect()
}

#[derive(Debug, Default, PartialEq, Eq)]
struct Config {
    migrations_path: Option<String>,
    schema: Option<String>,
}

fn read_config(file: &Path, text: &str) -> Result<Config> {
    let tokens = tokenize(text);
    let mut config = Config::default();
    let is = |i: usize, want: &Tok| tokens.get(i).is_some_and(|(t, _)| t == want);
    let mut i = 0;
    while i < tokens.len() {
        match &tokens[i].0 {
            Tok::Ident(key) if key == "migrations" && is(i + 1, &Tok::Punct(':')) => {
                if !is(i + 2, &Tok::Punct('{')) {
                    return Err(not_literal(file, tokens[i].1, "migrations"));
                }
                // The keys of this object only (not of objects nested in it).
                let mut depth = 0usize;
                let mut j = i + 3;
                while j < tokens.len() {
                    match &tokens[j].0 {
                        Tok::Punct('{' | '(' | '[') => depth += 1,
                        Tok::Punct('}' | ')' | ']') if depth == 0 => break,
                        Tok::Punct('}' | ')' | ']') => depth -= 1,
                        Tok::Ident(key)
                            if depth == 0 && key == "path" && is(j + 1, &Tok::Punct(':')) =>
                        {
                            let value = literal(&tokens, j + 2)
                                .ok_or_else(|| not_literal(file, tokens[j].1, "migrations.path"))?;
                            config.migrations_path.get_or_insert(value);
                        }
                        _ => {}
                    }
                    j += 1;
                }
                i = j;
            }
            Tok::Ident(key) if key == "schema" && is(i + 1, &Tok::Punct(':')) => {
                let value = literal(&tokens, i + 2)
                    .ok_or_else(|| not_literal(file, tokens[i].1, "schema"))?;
                config.schema.get_or_insert(value);
                i += 3;
            }
            _ => i += 1,
        }
    }
    Ok(config)
}

/// A plain string literal at `i`, ending its property.
fn literal(tokens: &[(Tok, usize)], i: usize) -> Option<String> {
    match (tokens.get(i), tokens.get(i + 1)) {
        (Some((Tok::Str(Some(value)), _)), None | Some((Tok::Punct(',' | '}'), _))) => {
            Some(value.clone())
        }
        _ => None,
    }
}

fn not_literal(file: &Path, line: usize, key: &str) -> Error {
    Error::Config {
        path: PathBuf::from(format!("{}:{line}", file.display())),
        message: format!(
            "{key} is not a plain string literal, and migrate-safe reads this file without running it; pass the migrations directory (e.g. `migrate-safe lint prisma/migrations`)"
        ),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Ident(String),
    /// A string literal's value; `None` for a template literal with `${...}` in it.
    Str(Option<String>),
    Punct(char),
}

/// Identifiers, string literals and punctuation with their lines; comments and whitespace dropped.
fn tokenize(text: &str) -> Vec<(Tok, usize)> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut line = 1;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\n' => {
                line += 1;
                i += 1;
            }
            c if c.is_whitespace() => i += 1,
            '/' if chars.get(i + 1) == Some(&'/') => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '/' if chars.get(i + 1) == Some(&'*') => {
                i += 2;
                while i < chars.len() && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/')) {
                    line += usize::from(chars[i] == '\n');
                    i += 1;
                }
                i += 2;
            }
            '"' | '\'' | '`' => {
                let start_line = line;
                let mut value = String::new();
                let mut interpolated = false;
                i += 1;
                while i < chars.len() && chars[i] != c {
                    match chars[i] {
                        '\\' if i + 1 < chars.len() => {
                            i += 1;
                            value.push(match chars[i] {
                                'n' => '\n',
                                't' => '\t',
                                other => other,
                            });
                        }
                        '$' if c == '`' && chars.get(i + 1) == Some(&'{') => {
                            interpolated = true;
                            value.push('$');
                        }
                        ch => {
                            line += usize::from(ch == '\n');
                            value.push(ch);
                        }
                    }
                    i += 1;
                }
                i += 1;
                tokens.push((Tok::Str((!interpolated).then_some(value)), start_line));
            }
            c if c.is_alphabetic() || c == '_' || c == '$' => {
                let start = i;
                while i < chars.len()
                    && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '$')
                {
                    i += 1;
                }
                tokens.push((Tok::Ident(chars[start..i].iter().collect()), line));
            }
            c => {
                tokens.push((Tok::Punct(c), line));
                i += 1;
            }
        }
    }
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Config> {
        read_config(Path::new("prisma.config.ts"), text)
    }

    #[test]
    fn reads_plain_literals_only() {
        let config = read(
            r#"import { defineConfig, env } from "prisma/config";
// migrations: { path: "commented/out" }
export default defineConfig({
  schema: 'db/schema.prisma',
  migrations: { seed: `tsx db/seed.ts`, path: "db/migrations" },
  datasource: { url: env("DATABASE_URL") },
});"#,
        )
        .unwrap();
        assert_eq!(
            config,
            Config {
                migrations_path: Some("db/migrations".into()),
                schema: Some("db/schema.prisma".into()),
            }
        );
        let error =
            read("export default {\n  migrations: {\n    path: path.join(dir, 'm'),\n  },\n}")
                .unwrap_err()
                .to_string();
        assert!(
            error.starts_with("prisma.config.ts:3: migrations.path is not a plain string literal"),
            "{error}"
        );
        let error = read("export default { schema: `${root}/schema.prisma` }")
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with("prisma.config.ts:1: schema is not"),
            "{error}"
        );
        // A nested `path` is not the migrations path; a config naming neither is empty.
        assert_eq!(
            read("export default { migrations: { seed: { path: 'x' } } }").unwrap(),
            Config::default()
        );
        assert_eq!(
            read("export default defineConfig({})").unwrap(),
            Config::default()
        );
    }
}
