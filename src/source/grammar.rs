//! PostgreSQL's grammar as the gate: does PostgreSQL's own parser (libpg_query's extract of
//! PostgreSQL 18, vendored and compiled by build.rs) accept a statement? A statement it rejects can
//! never be applied; one it accepts is valid SQL whether or not migrate-safe's readers model it.
//!
//! Checked per statement, and each distinct statement *shape* once (names, strings and numbers
//! blanked: `CREATE INDEX "a" ON "t"("c")` and `CREATE INDEX "b" ON "u"("d")` are one shape), so a
//! long history of Prisma's repetitive DDL costs a few parses. Blanking never changes the verdict:
//! a quoted name stays a quoted name, a string a string, a number a number.

use std::collections::HashMap;
use std::ffi::{CString, c_char, c_int};
use std::sync::Mutex;

unsafe extern "C" {
    /// `vendor/libpg_query/shim/grammar_check.c`: 0 when accepted; else 1 with the message and the
    /// 1-based character position PostgreSQL reports.
    fn migrate_safe_grammar_check(
        input: *const c_char,
        message: *mut c_char,
        message_len: c_int,
        cursorpos: *mut c_int,
    ) -> c_int;
}

/// What PostgreSQL's parser said of a statement it rejects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// Byte offset in the statement where the parser stopped (its start when unknown).
    pub offset: usize,
    /// PostgreSQL's message, e.g. `syntax error at or near "CREAT"`.
    pub message: String,
}

/// Parse `statement` with PostgreSQL's grammar.
pub fn check(statement: &str) -> Result<(), Rejected> {
    let Ok(input) = CString::new(statement) else {
        return Err(Rejected {
            offset: statement.find('\0').unwrap_or(0),
            message: "a NUL byte".into(),
        });
    };
    let mut message = vec![0u8; 512];
    let mut cursor: c_int = 0;
    // SAFETY: `input` is NUL-terminated and outlives the call; `message` has the length given; the
    // C side writes at most that many bytes, NUL-terminated, and keeps no pointer after returning.
    let rejected = unsafe {
        migrate_safe_grammar_check(
            input.as_ptr(),
            message.as_mut_ptr().cast(),
            message.len() as c_int,
            &mut cursor,
        )
    };
    if rejected == 0 {
        return Ok(());
    }
    let end = message
        .iter()
        .position(|&b| b == 0)
        .unwrap_or(message.len());
    let offset = usize::try_from(cursor)
        .ok()
        .filter(|&c| c > 0)
        .and_then(|c| statement.char_indices().nth(c - 1).map(|(i, _)| i))
        .unwrap_or(if cursor > 0 { statement.len() } else { 0 });
    Err(Rejected {
        offset,
        message: String::from_utf8_lossy(&message[..end]).into_owned(),
    })
}

/// The process's gate: shapes accepted once are not parsed again.
pub fn gate() -> &'static Gate {
    static GATE: std::sync::OnceLock<Gate> = std::sync::OnceLock::new();
    GATE.get_or_init(Gate::default)
}

/// `statement` with its quoted names and plain strings blanked (`"q"`, `'s'`), as a 64-bit hash:
/// statements of one shape get one verdict. `None` where blanking could change it (comments, escape or
/// dollar-quoted strings, backslashes, an empty quoted name, an unterminated quote): such a statement
/// is remembered by its whole text instead. (Two different shapes sharing a hash within one run is a
/// chance of about 10^-12 for a history of thousands of shapes.)
pub fn shape(statement: &str) -> Option<u64> {
    use std::hash::Hasher;
    let bytes = statement.as_bytes();
    let mut hasher = rustc_hash::FxHasher::default();
    let mut i = 0;
    let mut run_start = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'-' if bytes.get(i + 1) == Some(&b'-') => return None,
            b'/' if bytes.get(i + 1) == Some(&b'*') => return None,
            b'$' | b'\\' => return None,
            quote @ (b'"' | b'\'') => {
                // E'..', U&'..', B'..', X'..' and U&".." change how the quoted text is read.
                if i > 0 && (bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'&') {
                    return None;
                }
                hasher.write(&bytes[run_start..i]);
                let mut j = i + 1;
                loop {
                    match bytes.get(j) {
                        Some(&q) if q == quote && bytes.get(j + 1) == Some(&quote) => j += 2,
                        Some(&q) if q == quote => break,
                        Some(_) => j += 1,
                        None => return None,
                    }
                }
                if j == i + 1 {
                    return None; // "" or '': not blanked
                }
                hasher.write_u8(quote);
                hasher.write_u8(0);
                i = j + 1;
                run_start = i;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    hasher.write(&bytes[run_start..]);
    Some(hasher.finish())
}

/// The key of a statement without a shape: its whole text, hashed apart from shapes.
fn text_key(statement: &str) -> u64 {
    use std::hash::Hasher;
    let mut hasher = rustc_hash::FxHasher::default();
    hasher.write_u8(0xff);
    hasher.write(statement.as_bytes());
    hasher.finish()
}

/// [`check`] remembered by shape, for a run over many statements.
#[derive(Default)]
pub struct Gate {
    /// Shapes (or, without one, whole texts) accepted, by hash.
    accepted: Mutex<rustc_hash::FxHashSet<u64>>,
    /// Whole texts rejected, with the verdict.
    rejected: Mutex<HashMap<String, Rejected>>,
}

impl Gate {
    /// [`check`] of `statement`, remembered by its [`shape`] (or, without one, its whole text): a
    /// shape once accepted is not parsed again; a rejection is remembered by the statement's own text
    /// (its message and position are the statement's).
    pub fn check(&self, statement: &str) -> Result<(), Rejected> {
        let key = shape(statement).unwrap_or_else(|| text_key(statement));
        if self.accepted.lock().is_ok_and(|seen| seen.contains(&key)) {
            return Ok(());
        }
        if let Some(rejected) = self
            .rejected
            .lock()
            .ok()
            .and_then(|seen| seen.get(statement).cloned())
        {
            return Err(rejected);
        }
        match check(statement) {
            Ok(()) => {
                if let Ok(mut seen) = self.accepted.lock() {
                    seen.insert(key);
                }
                Ok(())
            }
            Err(rejected) => {
                if let Ok(mut seen) = self.rejected.lock() {
                    seen.insert(statement.to_string(), rejected.clone());
                }
                Err(rejected)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgresqls_grammar_accepts_prismas_sql_and_rejects_typos_with_their_place() {
        for ok in [
            "CREATE INDEX \"Post_title_idx\" ON \"Post\"(\"title\")",
            "ALTER TABLE \"Post\" ADD CONSTRAINT \"f\" FOREIGN KEY (\"a\") REFERENCES \"User\"(\"id\") ON DELETE SET NULL ON UPDATE CASCADE",
            "DROP INDEX CONCURRENTLY \"x\"",
            "DO $$ BEGIN UPDATE \"t\" SET a = 1; END $$",
            "ALTER INDEX IF EXISTS \"a\" RENAME TO \"b\"",
        ] {
            assert_eq!(check(ok), Ok(()), "{ok}");
        }
        let rejected = check("CREAT INDEX \"i\" ON \"t\"(\"c\")").unwrap_err();
        assert_eq!(rejected.message, "syntax error at or near \"CREAT\"");
        assert_eq!(rejected.offset, 0);
        let rejected = check("ALTER TABLE \"t\" ADD COLUMM \"c\" INT").unwrap_err();
        assert_eq!(
            rejected.message, "syntax error at or near \"INT\"",
            "as PostgreSQL: COLUMM is read as the column name"
        );
        assert!(rejected.offset > 10, "{rejected:?}");
        assert!(check("ALTER TABLE \"t\"").is_err(), "cut short");
    }
}
