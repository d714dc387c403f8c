//! Passwords never printed. Connection strings reach migrate-safe in every form libpq accepts — a URL
//! with `user:PASSWORD@`, a URL with `?password=` or `?sslpassword=`, a `key=value` string with
//! `password=...` (quoted or not), `PGPASSWORD` — and any of them may end up in a message: a header, a
//! JSON field, an error. Two layers keep them out:
//!
//! 1. [`redact`] rewrites a connection string for display, whatever its form, with every password
//!    value replaced by `***`;
//! 2. every password seen is [`remember`]ed (from the command line, the environment, the files that
//!    hold URLs), and [`scrub`] / [`ScrubWriter`] replace any occurrence left in text about to be
//!    printed: stdout, the final error, deploy's progress lines.

use std::borrow::Cow;
use std::io::{self, Write};
use std::sync::RwLock;

/// What replaces a password.
pub const MASK: &str = "***";

/// The parameter names whose values are secrets (libpq's `password`, and `sslpassword` for an
/// encrypted client key).
const SECRET_KEYS: [&str; 2] = ["password", "sslpassword"];

/// Shorter values are not scrubbed from free text (a one-letter password would mangle every message);
/// [`redact`] still masks them where they stand in a connection string.
const MIN_SCRUBBED_LEN: usize = 3;

static SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());
/// Whether any secret was remembered: output passes through untouched (no line buffering) until one is.
static ANY: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// `conn` for display: the password of a URL's user info, and the value of every `password` /
/// `sslpassword` parameter (URL query or `key=value` string), replaced by `***`; then any remembered
/// secret left in it.
pub fn redact(conn: &str) -> String {
    let mut structural = String::with_capacity(conn.len());
    for (text, is_secret_value) in pieces(conn) {
        structural.push_str(if is_secret_value { MASK } else { text });
    }
    scrub(&structural).into_owned()
}

/// Remember the passwords `conn` holds (every form [`redact`] knows), raw and percent-decoded, so
/// that [`scrub`] removes them from any text.
pub fn remember(conn: &str) {
    let found = secrets_in(conn);
    if found.is_empty() {
        return;
    }
    if let Ok(mut secrets) = SECRETS.write() {
        for secret in found {
            if secret.len() >= MIN_SCRUBBED_LEN && !secrets.contains(&secret) {
                secrets.push(secret);
            }
        }
        // Longest first: a secret that contains another is replaced whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        ANY.store(!secrets.is_empty(), std::sync::atomic::Ordering::Relaxed);
    }
}

/// Remember a bare password (`PGPASSWORD`).
pub fn remember_password(password: &str) {
    if password.len() >= MIN_SCRUBBED_LEN
        && let Ok(mut secrets) = SECRETS.write()
        && !secrets.iter().any(|s| s == password)
    {
        secrets.push(password.to_string());
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        ANY.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Remember the secrets of every value that may hold a connection string: the command line's
/// arguments and the environment variables migrate-safe reads URLs from.
pub fn remember_from_environment(args: impl IntoIterator<Item = String>) {
    for arg in args {
        // `--database-url=postgresql://...` as well as the value on its own.
        let value = arg.split_once('=').map_or(arg.as_str(), |(flag, value)| {
            if flag.starts_with("--") { value } else { &arg }
        });
        remember(value);
        remember(&arg);
    }
    for name in [
        "DATABASE_URL",
        "DIRECT_URL",
        "SHADOW_DATABASE_URL",
        "MIGRATE_SAFE_SCRATCH_URL",
        "MIGRATE_SAFE_DATABASE_URL",
    ] {
        if let Ok(value) = std::env::var(name) {
            remember(&value);
        }
    }
    for name in ["PGPASSWORD", "PGSSLPASSWORD"] {
        if let Ok(value) = std::env::var(name) {
            remember_password(&value);
        }
    }
}

/// `text` with every remembered secret replaced by `***`.
pub fn scrub(text: &str) -> Cow<'_, str> {
    if !ANY.load(std::sync::atomic::Ordering::Relaxed) {
        return Cow::Borrowed(text);
    }
    let Ok(secrets) = SECRETS.read() else {
        return Cow::Borrowed(text);
    };
    let mut out = Cow::Borrowed(text);
    for secret in secrets.iter() {
        if out.contains(secret.as_str()) {
            out = Cow::Owned(out.replace(secret.as_str(), MASK));
        }
    }
    out
}

/// A URL of any scheme (`postgresql://`, but also a `mysql://` given by mistake): `scheme://` before
/// any space or `=`.
fn is_url(conn: &str) -> bool {
    conn.find("://").is_some_and(|at| {
        at > 0
            && conn[..at]
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    })
}

/// `conn` cut into pieces that together are `conn`, each saying whether it is a secret value: a URL's
/// or a `key=value` string's.
fn pieces(conn: &str) -> Vec<(&str, bool)> {
    if is_url(conn) {
        url_pieces(conn)
    } else {
        keyword_pieces(conn)
    }
}

/// A URL's pieces: the password of its user info, and the value of every `password` /
/// `sslpassword` query parameter, are secret.
fn url_pieces(url: &str) -> Vec<(&str, bool)> {
    let scheme_end = url.find("://").map_or(0, |i| i + 3);
    let query_at = url[scheme_end..].find('?').map(|i| scheme_end + i);
    let rest_end = query_at.unwrap_or(url.len());
    let authority_end = url[scheme_end..rest_end]
        .find('/')
        .map_or(rest_end, |i| scheme_end + i);
    let mut pieces = Vec::new();
    let mut emitted = 0;
    // user:password@hosts — the password ends at the last '@' of the authority.
    if let Some(at) = url[scheme_end..authority_end]
        .rfind('@')
        .map(|i| scheme_end + i)
        && let Some(colon) = url[scheme_end..at].find(':').map(|i| scheme_end + i)
    {
        pieces.push((&url[..colon + 1], false));
        pieces.push((&url[colon + 1..at], true));
        emitted = at;
    }
    if let Some(query_at) = query_at {
        let mut start = query_at + 1;
        for pair in url[query_at + 1..].split('&') {
            if let Some((key, _)) = pair.split_once('=')
                && is_secret_key(&percent_decode(key))
            {
                let value = start + key.len() + 1;
                pieces.push((&url[emitted..value], false));
                pieces.push((&url[value..start + pair.len()], true));
                emitted = start + pair.len();
            }
            start += pair.len() + 1;
        }
    }
    pieces.push((&url[emitted..], false));
    pieces
}

fn is_secret_key(key: &str) -> bool {
    SECRET_KEYS.contains(&key.trim())
}

/// `conn` cut into pieces that together are `conn`, each saying whether it is a secret value.
fn keyword_pieces(conn: &str) -> Vec<(&str, bool)> {
    let bytes = conn.as_bytes();
    let mut pieces = Vec::new();
    let mut emitted = 0;
    let mut i = 0;
    while i < bytes.len() {
        // A key: a run of word characters.
        let key_start = i;
        while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
            i += 1;
        }
        if i == key_start {
            i += 1;
            continue;
        }
        let key = &conn[key_start..i];
        let mut j = i;
        while j < bytes.len() && bytes[j].is_ascii_whitespace() {
            j += 1;
        }
        if j >= bytes.len() || bytes[j] != b'=' {
            continue;
        }
        j += 1;
        while j < bytes.len() && bytes[j].is_ascii_whitespace() {
            j += 1;
        }
        let value_start = j;
        if j < bytes.len() && bytes[j] == b'\'' {
            j += 1;
            while j < bytes.len() && bytes[j] != b'\'' {
                j += if bytes[j] == b'\\' { 2 } else { 1 };
            }
            j = (j + 1).min(bytes.len());
        } else {
            while j < bytes.len() && !bytes[j].is_ascii_whitespace() {
                j += if bytes[j] == b'\\' { 2 } else { 1 };
            }
            j = j.min(bytes.len());
        }
        if is_secret_key(&key.to_ascii_lowercase()) && j > value_start {
            pieces.push((&conn[emitted..value_start], false));
            pieces.push((&conn[value_start..j], true));
            emitted = j;
        }
        i = j.max(i + 1);
    }
    pieces.push((&conn[emitted..], false));
    pieces
}

/// The secret values `conn` holds, raw and decoded (percent-decoding for a URL, quotes and escapes
/// for a `key=value` string).
fn secrets_in(conn: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut push = |raw: &str, decoded: String| {
        for value in [raw.to_string(), decoded] {
            if !value.is_empty() && !found.contains(&value) {
                found.push(value);
            }
        }
    };
    let url = is_url(conn);
    for (text, secret) in pieces(conn) {
        if secret {
            push(
                text,
                if url {
                    percent_decode(text)
                } else {
                    unquote(text)
                },
            );
        }
    }
    found
}

/// A libpq value without its quotes and backslash escapes.
fn unquote(value: &str) -> String {
    let inner = value
        .strip_prefix('\'')
        .map(|v| v.strip_suffix('\'').unwrap_or(v))
        .unwrap_or(value);
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.extend(chars.next()),
            c => out.push(c),
        }
    }
    out
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && bytes[i + 1].is_ascii_hexdigit()
            && bytes[i + 2].is_ascii_hexdigit()
        {
            let hex = |b: u8| (b as char).to_digit(16).unwrap_or(0) as u8;
            out.push(hex(bytes[i + 1]) * 16 + hex(bytes[i + 2]));
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A writer that scrubs remembered secrets from every line before passing it on. Lines are held until
/// their end (a secret never spans a line), the rest on flush.
pub struct ScrubWriter<W: Write> {
    inner: W,
    line: Vec<u8>,
}

impl<W: Write> ScrubWriter<W> {
    pub fn new(inner: W) -> Self {
        ScrubWriter {
            inner,
            line: Vec::new(),
        }
    }

    fn pass_on(&mut self, upto: usize) -> io::Result<()> {
        let held: Vec<u8> = self.line.drain(..upto).collect();
        match std::str::from_utf8(&held) {
            Ok(text) => self.inner.write_all(scrub(text).as_bytes()),
            Err(_) => self.inner.write_all(&held),
        }
    }
}

impl<W: Write> Write for ScrubWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if !ANY.load(std::sync::atomic::Ordering::Relaxed) && self.line.is_empty() {
            return self.inner.write(buf);
        }
        self.line.extend_from_slice(buf);
        if let Some(last) = self.line.iter().rposition(|&b| b == b'\n') {
            self.pass_on(last + 1)?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        let all = self.line.len();
        self.pass_on(all)?;
        self.inner.flush()
    }
}

impl<W: Write> Drop for ScrubWriter<W> {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_password_form_is_masked() {
        let cases = [
            (
                "postgresql://u:secret@h:5432/db",
                "postgresql://u:***@h:5432/db",
            ),
            ("postgresql://u@h/db", "postgresql://u@h/db"),
            (
                "postgres://u:p%40ss@h1,h2/db?sslmode=require",
                "postgres://u:***@h1,h2/db?sslmode=require",
            ),
            (
                "postgresql://u@h/db?password=secret&sslmode=disable",
                "postgresql://u@h/db?password=***&sslmode=disable",
            ),
            (
                "postgresql://h/db?sslpassword=keypass&pass%77ord=x",
                "postgresql://h/db?sslpassword=***&pass%77ord=***",
            ),
            (
                "host=h password=secret dbname=x",
                "host=h password=*** dbname=x",
            ),
            (
                "host=h password = 'se cr\\'et' dbname=x",
                "host=h password = *** dbname=x",
            ),
            ("host=h PASSWORD=secret", "host=h PASSWORD=***"),
            ("not a url at all", "not a url at all"),
            ("mysql://root:secret@h/db", "mysql://root:***@h/db"),
        ];
        for (given, expected) in cases {
            assert_eq!(redact(given), expected, "{given}");
        }
    }

    #[test]
    fn remembered_secrets_are_scrubbed_from_any_text_raw_and_decoded() {
        remember("postgresql://u:p%40ssw0rd-scrub@h/db?password=other-scrub");
        remember("host=h password='quoted scrub\\'s'");
        let text = "a p@ssw0rd-scrub b p%40ssw0rd-scrub c other-scrub d quoted scrub's";
        assert_eq!(scrub(text), "a *** b *** c *** d ***");
        let mut out = Vec::new();
        {
            let mut writer = ScrubWriter::new(&mut out);
            write!(writer, "x other-").unwrap();
            write!(writer, "scrub y\nno newline other-scrub").unwrap();
        }
        assert_eq!(String::from_utf8(out).unwrap(), "x *** y\nno newline ***");
    }
}
