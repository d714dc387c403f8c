//! The Prisma shadow database URL a project already uses, as a place to prove rewrites: only its
//! server is used, to `CREATE DATABASE migrate_safe_<random>` and drop it afterwards — never the
//! shadow database itself (which `prisma migrate dev` resets as it pleases anyway).
//!
//! Read conservatively, in this order:
//! 1. `shadowDatabaseUrl = "..."` or `= env("NAME")` in the `datasource` block of a `.prisma` file beside
//!    the migrations directory (`prisma/schema.prisma`, or the folder of a multi-file schema);
//! 2. `shadowDatabaseUrl: "..."`, `env("NAME")` or `process.env.NAME` in a `prisma.config.ts` (Prisma
//!    7 keeps the datasource there) from the migrations directory up to the repository root;
//! 3. the `SHADOW_DATABASE_URL` environment variable.
//!
//! `env("NAME")` is read from the environment, else from a `.env` file beside the schema or config,
//! or in the folder above (where Prisma 6 and `dotenv` look). Anything else (an expression, a
//! variable that is not set) is skipped with a note saying what was not understood.

use std::path::{Path, PathBuf};

use crate::source::prisma_project::CONFIG_FILES;

/// The conventional name, used when the project declares nothing.
pub const ENV: &str = "SHADOW_DATABASE_URL";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShadowUrl {
    pub url: String,
    /// Where it was found, for people: `shadowDatabaseUrl in prisma/schema.prisma (env SHADOW_URL)`.
    pub from: String,
}

/// The shadow database URL of the project around `migrations_dir`, and notes on what was found but
/// not used.
pub fn find(migrations_dir: &Path) -> (Option<ShadowUrl>, Vec<String>) {
    let found = find_in_project(migrations_dir);
    if let Some(shadow) = &found.0 {
        crate::secret::remember(&shadow.url);
    }
    found
}

fn find_in_project(migrations_dir: &Path) -> (Option<ShadowUrl>, Vec<String>) {
    let mut notes = Vec::new();
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let schema_dir = migrations_dir
        .canonicalize()
        .ok()
        .and_then(|d| d.parent().map(Path::to_path_buf));
    if let Some(schema_dir) = &schema_dir {
        for file in prisma_files(schema_dir) {
            let Some(text) = crate::store::file::read_optional_text(&file) else {
                continue;
            };
            match from_schema(&text)
                .map(|v| resolve(v, &file, "shadowDatabaseUrl", Written::Schema))
            {
                Some(Ok(shadow)) => return (Some(shadow), notes),
                Some(Err(note)) => notes.push(note),
                None => {}
            }
        }
    }
    if let Some(config) = prisma_config(migrations_dir) {
        let text = crate::store::file::read_optional_text(&config).unwrap_or_default();
        match from_config(&text)
            .map(|v| resolve(v, &config, "datasource.shadowDatabaseUrl", Written::Config))
        {
            Some(Ok(shadow)) => return (Some(shadow), notes),
            Some(Err(note)) => notes.push(note),
            None => {}
        }
    }
    if let Some(url) = env(ENV) {
        return (
            Some(ShadowUrl {
                url,
                from: ENV.to_string(),
            }),
            notes,
        );
    }
    (None, notes)
}

/// The project's direct database URL — `directUrl` in the `datasource` block of its Prisma schema
/// (Prisma 5/6: the URL its CLI migrates through when `url` goes through a connection pooler), else
/// the datasource URL of its `prisma.config.ts` (Prisma 7) — with where it was found, or why none was
/// usable.
pub fn find_direct_url(migrations_dir: &Path) -> Result<ShadowUrl, String> {
    let schema_dir = migrations_dir
        .canonicalize()
        .ok()
        .and_then(|d| d.parent().map(Path::to_path_buf));
    let mut why = "no directUrl in the datasource block of the project's Prisma schema, and no datasource url in a prisma.config.ts".to_string();
    let mut found = None;
    for file in schema_dir.map(|d| prisma_files(&d)).unwrap_or_default() {
        let Some(text) = crate::store::file::read_optional_text(&file) else {
            continue;
        };
        found = datasource_field(&text, "directUrl")
            .map(|v| resolve(v, &file, "directUrl", Written::Schema));
        if found.as_ref().is_some_and(Result::is_ok) {
            break;
        }
        if let Some(Err(note)) = found.take() {
            why = note;
        }
    }
    // Prisma 7 keeps no directUrl: its config's datasource URL is the one its CLI migrates through.
    if found.is_none()
        && let Some(config) = prisma_config(migrations_dir)
    {
        let text = crate::store::file::read_optional_text(&config).unwrap_or_default();
        found = config_datasource_url(&text)
            .map(|v| resolve(v, &config, "datasource.url", Written::Config));
    }
    let direct = found.unwrap_or(Err(why))?;
    crate::secret::remember(&direct.url);
    Ok(direct)
}

/// Which kind of file a URL setting is written in: it decides how the setting is named to people.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Written {
    /// A `.prisma` schema: `key = env("NAME")`.
    Schema,
    /// A `prisma.config.ts`: `key: env("NAME")` or `process.env.NAME`.
    Config,
}

/// A URL setting found in `file` (`key` as people know it: `shadowDatabaseUrl`, `datasource.url`):
/// the URL with where it came from (`env("NAME")` read from the environment, else from a `.env` file
/// beside `file` or above it), or why it cannot be used.
fn resolve(value: Value, file: &Path, key: &str, written: Written) -> Result<ShadowUrl, String> {
    let place = file.display();
    match value {
        Value::Literal(url) => Ok(ShadowUrl {
            url,
            from: format!("{key} in {place}"),
        }),
        Value::Env(name) => {
            let url = std::env::var(&name)
                .ok()
                .filter(|v| !v.is_empty())
                .or_else(|| dotenv(file, &name));
            match (url, written) {
                (Some(url), Written::Schema) => Ok(ShadowUrl {
                    url,
                    from: format!("{key} = env(\"{name}\") in {place}"),
                }),
                (Some(url), Written::Config) => Ok(ShadowUrl {
                    url,
                    from: format!("{key} (env {name}) in {place}"),
                }),
                (None, Written::Schema) => Err(format!(
                    "{place} names {key} = env(\"{name}\"), which is not set"
                )),
                (None, Written::Config) => {
                    Err(format!("{place} takes {key} from {name}, which is not set"))
                }
            }
        }
        Value::NotUnderstood(what) => Err(match written {
            Written::Schema => {
                format!("{place}: {key} = {what} is neither a string nor env(\"NAME\"): not used")
            }
            Written::Config => format!(
                "{place}: {key} is `{what}`, which migrate-safe does not evaluate (a string, env(\"NAME\") or process.env.NAME): not used"
            ),
        }),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Literal(String),
    Env(String),
    NotUnderstood(String),
}

/// The `.prisma` files directly in `dir`, `schema.prisma` first.
fn prisma_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "prisma") && p.is_file())
        .collect();
    files.sort_by_key(|p| {
        (
            p.file_name().is_none_or(|n| n != "schema.prisma"),
            p.clone(),
        )
    });
    files
}

/// The nearest Prisma config file (the names discovery looks for, `.config/prisma.*` too) from
/// `start` up to the repository root.
fn prisma_config(start: &Path) -> Option<PathBuf> {
    let start = start.canonicalize().ok()?;
    for dir in start.ancestors() {
        for name in CONFIG_FILES {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Some(candidate);
            }
        }
        if dir.join(".git").exists() {
            break;
        }
    }
    None
}

/// `text` with `//` and `/* */` comments blanked out (not inside strings), positions kept.
fn without_comments(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let mut quote: Option<u8> = None;
    while i < bytes.len() {
        let c = bytes[i];
        if let Some(q) = quote {
            if c == b'\\' && i + 1 < bytes.len() {
                out.push_str(&text[i..i + 2]);
                i += 2;
                continue;
            }
            if c == q {
                quote = None;
            }
        } else if c == b'"' || c == b'\'' || c == b'`' {
            quote = Some(c);
        } else if text[i..].starts_with("//") {
            let end = text[i..].find('\n').map_or(text.len(), |n| i + n);
            out.extend(std::iter::repeat_n(' ', end - i));
            i = end;
            continue;
        } else if text[i..].starts_with("/*") {
            let end = text[i + 2..]
                .find("*/")
                .map_or(text.len(), |n| i + 2 + n + 2);
            out.extend(
                text[i..end]
                    .chars()
                    .map(|c| if c == '\n' { '\n' } else { ' ' }),
            );
            i = end;
            continue;
        }
        let len = text[i..].chars().next().map_or(1, char::len_utf8);
        out.push_str(&text[i..i + len]);
        i += len;
    }
    out
}

/// `shadowDatabaseUrl` in the `datasource` block of a Prisma schema.
pub fn from_schema(text: &str) -> Option<Value> {
    datasource_field(text, "shadowDatabaseUrl")
}

/// A field (`shadowDatabaseUrl`, `directUrl`) of the `datasource` block of a Prisma schema.
pub fn datasource_field(text: &str, field: &str) -> Option<Value> {
    let text = without_comments(text);
    let mut rest = text.as_str();
    while let Some(at) = find_word(rest, "datasource") {
        let after = &rest[at + "datasource".len()..];
        let open = after.find('{')?;
        let body = &after[open + 1..];
        let close = body.find('}').unwrap_or(body.len());
        for line in body[..close].lines() {
            let Some((key, value)) = line.split_once('=') else {
                continue;
            };
            if key.trim() != field {
                continue;
            }
            return Some(value_of(value.trim()));
        }
        rest = &body[close..];
    }
    None
}

/// `shadowDatabaseUrl:` in a `prisma.config.ts`.
pub fn from_config(text: &str) -> Option<Value> {
    config_value(&without_comments(text), "shadowDatabaseUrl")
}

/// `url:` of the `datasource` in a `prisma.config.ts` (Prisma 7: the URL its CLI migrates through).
pub fn config_datasource_url(text: &str) -> Option<Value> {
    let text = without_comments(text);
    let at = find_word(&text, "datasource")?;
    let body = &text[at + "datasource".len()..];
    let body = &body[body.find('{')? + 1..];
    // Only this block: up to its closing brace.
    let mut depth = 0i32;
    let end = body
        .char_indices()
        .find(|&(_, c)| {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                _ => {}
            }
            depth < 0
        })
        .map_or(body.len(), |(i, _)| i);
    config_value(&body[..end], "url")
}

/// The value after `key:` in (comment-free) TypeScript.
fn config_value(text: &str, key: &str) -> Option<Value> {
    let at = find_word(text, key)?;
    let after = text[at + key.len()..].trim_start();
    let value = after.strip_prefix(':')?.trim_start();
    // The value ends at the next `,` or `}` or line end outside parentheses.
    let mut depth = 0i32;
    let mut end = value.len();
    let mut quote: Option<char> = None;
    for (i, c) in value.char_indices() {
        if let Some(q) = quote {
            if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '"' | '\'' | '`' => quote = Some(c),
            '(' | '[' => depth += 1,
            ')' | ']' => depth -= 1,
            ',' | '}' | '\n' if depth <= 0 => {
                end = i;
                break;
            }
            _ => {}
        }
    }
    Some(value_of(value[..end].trim()))
}

/// A string literal, `env("NAME")`, `process.env.NAME` / `process.env["NAME"]` (an `!` after it is
/// TypeScript's, not an expression); anything else is not evaluated.
fn value_of(value: &str) -> Value {
    let value = value.trim().trim_end_matches(';').trim();
    let unquote = |v: &str| -> Option<String> {
        let q = v.chars().next()?;
        if !matches!(q, '"' | '\'' | '`') || v.len() < 2 || !v.ends_with(q) {
            return None;
        }
        let inner = &v[1..v.len() - 1];
        let plain =
            !(inner.contains(q) || inner.contains('\\') || q == '`' && inner.contains("${"));
        plain.then(|| inner.to_string())
    };
    let identifier = |v: &str| {
        !v.is_empty()
            && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !v.starts_with(|c: char| c.is_ascii_digit())
    };
    if let Some(literal) = unquote(value) {
        return Value::Literal(literal);
    }
    if let Some(inner) = value
        .strip_prefix("env(")
        .and_then(|v| v.strip_suffix(')'))
        .and_then(|v| unquote(v.trim()))
        && identifier(&inner)
    {
        return Value::Env(inner);
    }
    let bare = value.trim_end_matches('!');
    if let Some(name) = bare.strip_prefix("process.env.")
        && identifier(name)
    {
        return Value::Env(name.to_string());
    }
    if let Some(name) = bare
        .strip_prefix("process.env[")
        .and_then(|v| v.strip_suffix(']'))
        .and_then(|v| unquote(v.trim()))
        && identifier(&name)
    {
        return Value::Env(name);
    }
    Value::NotUnderstood(value.to_string())
}

fn find_word(text: &str, word: &str) -> Option<usize> {
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut from = 0;
    while let Some(at) = text[from..].find(word).map(|i| from + i) {
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        if !before.is_some_and(is_ident) && !after.is_some_and(is_ident) {
            return Some(at);
        }
        from = at + word.len();
    }
    None
}

/// `NAME` from a `.env` file beside `file` or in the folder above it.
fn dotenv(file: &Path, name: &str) -> Option<String> {
    let dir = file.parent()?;
    [dir.join(".env"), dir.parent()?.join(".env")]
        .iter()
        .find_map(|path| super::dotenv::value_in(path, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_literals_and_env_are_read_from_the_datasource_only() {
        let schema = r#"
// shadowDatabaseUrl = "postgresql://commented/out"
generator client {
  provider = "prisma-client-js"
}

datasource db {
  provider          = "postgresql"
  url               = env("DATABASE_URL") // the app
  shadowDatabaseUrl = env("MY_SHADOW") // for migrate dev
}
"#;
        assert_eq!(from_schema(schema), Some(Value::Env("MY_SHADOW".into())));
        let literal = "datasource db {\n  provider = \"postgresql\"\n  url = env(\"DATABASE_URL\")\n  shadowDatabaseUrl = \"postgresql://u@h:5432/shadow\"\n}\n";
        assert_eq!(
            from_schema(literal),
            Some(Value::Literal("postgresql://u@h:5432/shadow".into()))
        );
        assert_eq!(
            from_schema("datasource db {\n  url = env(\"DATABASE_URL\")\n}\n"),
            None
        );
        assert_eq!(
            from_schema("model A {\n  shadowDatabaseUrl String\n}\n"),
            None,
            "a field named so in a model is not the datasource's"
        );
        assert!(matches!(
            from_schema("datasource db {\n  shadowDatabaseUrl = env(NAME)\n}\n"),
            Some(Value::NotUnderstood(_))
        ));
    }

    #[test]
    fn prisma_config_values() {
        let config = r#"import "dotenv/config";
import { defineConfig, env } from "prisma/config";

export default defineConfig({
  schema: "prisma/schema.prisma",
  // shadowDatabaseUrl: "postgresql://not/this",
  datasource: {
    url: env("DATABASE_URL"),
    shadowDatabaseUrl: env("SHADOW_DATABASE_URL"),
  },
});
"#;
        assert_eq!(
            from_config(config),
            Some(Value::Env("SHADOW_DATABASE_URL".into()))
        );
        assert_eq!(
            config_datasource_url(config),
            Some(Value::Env("DATABASE_URL".into()))
        );
        // Only the datasource's own `url`, not another block's.
        assert_eq!(
            config_datasource_url(
                "export default { views: { url: \"x\" }, datasource: { url: process.env.DIRECT } }"
            ),
            Some(Value::Env("DIRECT".into()))
        );
        for (text, expected) in [
            (
                "datasource: { shadowDatabaseUrl: process.env.SHADOW! }",
                Value::Env("SHADOW".into()),
            ),
            (
                "datasource: { shadowDatabaseUrl: process.env['SHADOW'], url: x }",
                Value::Env("SHADOW".into()),
            ),
            (
                "datasource: { shadowDatabaseUrl: 'postgresql://u@h/s' }",
                Value::Literal("postgresql://u@h/s".into()),
            ),
            (
                "datasource: { shadowDatabaseUrl: `postgresql://${host}/s` }",
                Value::NotUnderstood("`postgresql://${host}/s`".into()),
            ),
            (
                "datasource: { shadowDatabaseUrl: process.env.A ?? 'x' }",
                Value::NotUnderstood("process.env.A ?? 'x'".into()),
            ),
        ] {
            assert_eq!(from_config(text), Some(expected), "{text}");
        }
        assert_eq!(
            from_config("datasource: { url: env(\"DATABASE_URL\") }"),
            None
        );
    }

    #[test]
    fn the_config_file_is_found_under_every_name_discovery_knows() {
        let temp = tempfile::tempdir().unwrap();
        let migrations = temp.path().join("prisma/migrations");
        std::fs::create_dir_all(&migrations).unwrap();
        std::fs::create_dir_all(temp.path().join(".config")).unwrap();
        let config = temp.path().join(".config/prisma.ts");
        std::fs::write(&config, "export default {}\n").unwrap();
        assert_eq!(
            prisma_config(&migrations),
            Some(config.canonicalize().unwrap())
        );
    }

    #[test]
    fn dotenv_beside_the_schema() {
        let temp = tempfile::tempdir().unwrap();
        let prisma = temp.path().join("prisma");
        std::fs::create_dir_all(&prisma).unwrap();
        std::fs::write(
            temp.path().join(".env"),
            "# local\nDATABASE_URL=postgresql://app\nexport SHADOW_X=\"postgresql://u@h/shadow\"\n",
        )
        .unwrap();
        let schema = prisma.join("schema.prisma");
        assert_eq!(
            dotenv(&schema, "SHADOW_X").as_deref(),
            Some("postgresql://u@h/shadow")
        );
        assert_eq!(dotenv(&schema, "MISSING"), None);
    }
}
