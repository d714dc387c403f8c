//! The SQL inside a `DO` block, read with PostgreSQL's own PL/pgSQL grammar (libpg_query's extract,
//! vendored and compiled by build.rs; `vendor/libpg_query/shim/plpgsql_statements.c`): the body is
//! compiled as `DO` compiles it, and every statement it would run — UPDATEs, DELETEs, DDL, the
//! queries of FOR loops and cursors, the expressions of dynamic `EXECUTE`s — comes back in source
//! order with the line it is on, for the rules to judge like any other statement.
//!
//! Nothing is executed and no catalog is consulted: names are not resolved, so a body that would fail
//! at run time (a missing table, a wrong type) reads fine; one PostgreSQL would refuse to compile (a
//! PL/pgSQL or SQL syntax error) is [`Rejected`] with PostgreSQL's message.
//!
//! Like the grammar gate (`grammar.rs`), the C side keeps its state per thread (libpg_query's
//! thread-local memory contexts), so calls from several threads need no lock.

use std::borrow::Cow;
use std::ffi::{CString, c_char, c_int, c_void};

use super::grammar::Rejected;

/// Called once per embedded statement: `text` (`len` bytes, not NUL-terminated) is valid only during
/// the call.
type Emit =
    extern "C" fn(state: *mut c_void, kind: c_int, lineno: c_int, text: *const c_char, len: usize);

unsafe extern "C" {
    /// `vendor/libpg_query/shim/plpgsql_statements.c`: 0 when the body compiles, having called `emit`
    /// for each embedded statement in source order; else 1 with the message and the 1-based character
    /// position in the body PostgreSQL reports (0 when unknown), and no call of `emit`.
    fn migrate_safe_plpgsql_statements(
        body: *const c_char,
        emit: Emit,
        state: *mut c_void,
        message: *mut c_char,
        message_len: c_int,
        cursorpos: *mut c_int,
    ) -> c_int;
}

/// How the body runs an embedded statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmbeddedKind {
    /// A statement run as written: `UPDATE`, `DELETE`, `INSERT`, DDL, `CALL`, a nested `DO`,
    /// `COMMIT`/`ROLLBACK` (given as their SQL: PL/pgSQL keeps no text for them).
    Sql,
    /// `PERFORM ...`, given as the `SELECT ...` PostgreSQL runs.
    Perform,
    /// A query whose rows the body reads: `FOR ... IN <query> LOOP`, a cursor's query (`DECLARE c
    /// CURSOR FOR ...`, `OPEN c FOR ...`), `RETURN QUERY ...`.
    Query,
    /// `EXECUTE <expression>` (also `FOR ... IN EXECUTE`, `OPEN ... FOR EXECUTE`, `RETURN QUERY
    /// EXECUTE`): the text is the expression that builds the SQL at run time, not SQL itself.
    Dynamic,
}

/// One statement inside a DO block's body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Embedded {
    pub kind: EmbeddedKind,
    /// 1-based line within the body (the body's first line is the one its opening `$$` is on) of the
    /// PL/pgSQL statement holding it: for a FOR loop's query, the `FOR`; for a declared cursor, its
    /// declaration.
    pub line: usize,
    /// The statement as written, without its `;` (PL/pgSQL blanks an `INTO target` clause with
    /// spaces).
    pub text: String,
}

extern "C" fn collect(
    state: *mut c_void,
    kind: c_int,
    lineno: c_int,
    text: *const c_char,
    len: usize,
) {
    // SAFETY: `state` is the `Vec` `embedded_statements` passed, alive and not otherwise borrowed
    // during the C call; `text` points at `len` readable bytes for the duration of this call.
    let (found, bytes) = unsafe {
        (
            &mut *state.cast::<Vec<Embedded>>(),
            std::slice::from_raw_parts(text.cast::<u8>(), len),
        )
    };
    let kind = match kind {
        1 => EmbeddedKind::Perform,
        2 => EmbeddedKind::Query,
        3 => EmbeddedKind::Dynamic,
        _ => EmbeddedKind::Sql,
    };
    found.push(Embedded {
        kind,
        line: usize::try_from(lineno).unwrap_or(0),
        text: String::from_utf8_lossy(bytes).into_owned(),
    });
}

/// The statements a DO block's `body` (the text between its dollar quotes) runs, in source order;
/// [`Rejected`] when PostgreSQL would not compile it, with the byte offset in `body`.
pub fn embedded_statements(body: &str) -> Result<Vec<Embedded>, Rejected> {
    let Ok(input) = CString::new(body) else {
        return Err(Rejected {
            offset: body.find('\0').unwrap_or(0),
            message: "a NUL byte".into(),
        });
    };
    let mut found: Vec<Embedded> = Vec::new();
    let mut message = vec![0u8; 512];
    let mut cursor: c_int = 0;
    // SAFETY: `input` is NUL-terminated and outlives the call; `message` has the length given and the
    // C side writes at most that many bytes, NUL-terminated; `collect` is called only during the call,
    // with `found` as its state, and nothing keeps a pointer afterwards. No PostgreSQL error unwinds
    // through Rust frames: the shim catches them and calls `collect` outside its PG_TRY.
    let rejected = unsafe {
        migrate_safe_plpgsql_statements(
            input.as_ptr(),
            collect,
            (&raw mut found).cast(),
            message.as_mut_ptr().cast(),
            message.len() as c_int,
            &mut cursor,
        )
    };
    if rejected == 0 {
        return Ok(found);
    }
    let end = message
        .iter()
        .position(|&b| b == 0)
        .unwrap_or(message.len());
    let offset = match usize::try_from(cursor) {
        Ok(c) if c > 0 => body
            .char_indices()
            .nth(c - 1)
            .map_or(body.len(), |(i, _)| i),
        _ => 0,
    };
    Err(Rejected {
        offset,
        message: String::from_utf8_lossy(&message[..end]).into_owned(),
    })
}

/// The body of a `DO` statement in PL/pgSQL, and where it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DoBody<'a> {
    /// The code between the quotes: borrowed for a dollar-quoted body, unescaped (`''` → `'`) for a
    /// single-quoted one (whose offsets past a doubled quote are then off by one per `''`).
    pub body: Cow<'a, str>,
    /// Byte offset of the body's first character in the statement text.
    pub offset: usize,
}

/// Why [`do_body`] found no PL/pgSQL body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotPlpgsql {
    #[error("not a DO statement")]
    NotDo,
    /// `DO ... LANGUAGE <other>`: not PL/pgSQL, so not read.
    #[error("the DO block is in LANGUAGE {0}, not PL/pgSQL: its code is not read")]
    Language(String),
    #[error("the DO statement cannot be read: {0}")]
    Unreadable(&'static str),
}

/// The body of `DO [LANGUAGE plpgsql] <string> [LANGUAGE plpgsql]` (a trailing `;` and comments
/// allowed), with its byte offset in `statement`. A DO without LANGUAGE is PL/pgSQL, as in PostgreSQL.
pub fn do_body(statement: &str) -> Result<DoBody<'_>, NotPlpgsql> {
    let mut scan = Scan {
        text: statement,
        at: 0,
    };
    scan.trivia();
    if !scan.word().is_some_and(|w| w.eq_ignore_ascii_case("do")) {
        return Err(NotPlpgsql::NotDo);
    }
    let mut body = None;
    let mut language: Option<String> = None;
    loop {
        scan.trivia();
        if scan.rest().is_empty() || scan.rest() == ";" {
            break;
        }
        if body.is_none()
            && let Some(found) = scan.string()?
        {
            body = Some(found);
            continue;
        }
        match scan.word() {
            Some(w) if w.eq_ignore_ascii_case("language") && language.is_none() => {
                scan.trivia();
                language = Some(scan.language()?);
            }
            _ => {
                return Err(NotPlpgsql::Unreadable(
                    "expected LANGUAGE or the body's string",
                ));
            }
        }
    }
    let body = body.ok_or(NotPlpgsql::Unreadable("no body"))?;
    match language {
        Some(l) if l != "plpgsql" => Err(NotPlpgsql::Language(l)),
        _ => Ok(body),
    }
}

/// A cursor over the few tokens of a DO statement.
struct Scan<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Scan<'a> {
    fn rest(&self) -> &'a str {
        &self.text[self.at..]
    }

    /// Skips whitespace and comments (`--`, nested `/* */`).
    fn trivia(&mut self) {
        loop {
            let rest = self.rest();
            let trimmed = rest.trim_start();
            self.at += rest.len() - trimmed.len();
            if trimmed.starts_with("--") {
                self.at += trimmed.find('\n').unwrap_or(trimmed.len());
            } else if trimmed.starts_with("/*") {
                let mut depth = 0usize;
                let bytes = trimmed.as_bytes();
                let mut i = 0;
                while i < bytes.len() {
                    if bytes[i..].starts_with(b"/*") {
                        depth += 1;
                        i += 2;
                    } else if bytes[i..].starts_with(b"*/") {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
                self.at += i;
            } else {
                return;
            }
        }
    }

    /// An unquoted word (letters, digits, `_`, `$` after the first character).
    fn word(&mut self) -> Option<&'a str> {
        let rest = self.rest();
        let first = rest.chars().next()?;
        if !(first.is_alphabetic() || first == '_') {
            return None;
        }
        let end = rest
            .char_indices()
            .find(|&(_, c)| !(c.is_alphanumeric() || c == '_' || c == '$'))
            .map_or(rest.len(), |(i, _)| i);
        self.at += end;
        Some(&rest[..end])
    }

    /// A string constant: `$tag$...$tag$` or `'...'`; `None` when none starts here.
    fn string(&mut self) -> Result<Option<DoBody<'a>>, NotPlpgsql> {
        let rest = self.rest();
        if let Some(after) = rest.strip_prefix('$') {
            // `$tag$`: a tag is empty or an identifier without `$`.
            let Some(close) = after.find('$') else {
                return Ok(None);
            };
            let name = &after[..close];
            if !name.chars().all(|c| c.is_alphanumeric() || c == '_')
                || name.starts_with(|c: char| c.is_ascii_digit())
            {
                return Ok(None);
            }
            let tag = &rest[..close + 2];
            let start = self.at + tag.len();
            let Some(len) = self.text[start..].find(tag) else {
                return Err(NotPlpgsql::Unreadable(
                    "the body's dollar quote is not closed",
                ));
            };
            self.at = start + len + tag.len();
            return Ok(Some(DoBody {
                body: Cow::Borrowed(&self.text[start..start + len]),
                offset: start,
            }));
        }
        if rest.starts_with(['e', 'E', 'u', 'U', 'b', 'B', 'x', 'X'])
            && rest[1..].starts_with(['\'', '&'])
        {
            return Err(NotPlpgsql::Unreadable(
                "only a dollar-quoted or plain '...' body is read",
            ));
        }
        if let Some(quoted) = rest.strip_prefix('\'') {
            let (unquoted, len) = single_quoted(quoted)
                .ok_or(NotPlpgsql::Unreadable("the body's quote is not closed"))?;
            let start = self.at + 1;
            self.at = start + len + 1;
            return Ok(Some(DoBody {
                body: unquoted,
                offset: start,
            }));
        }
        Ok(None)
    }

    /// The language after LANGUAGE: a word (folded to lower case), a "quoted name" or a 'string'.
    fn language(&mut self) -> Result<String, NotPlpgsql> {
        let rest = self.rest();
        if let Some(word) = self.word() {
            return Ok(word.to_lowercase());
        }
        for quote in ['"', '\''] {
            if let Some(quoted) = rest.strip_prefix(quote)
                && let Some(end) = quoted.find(quote)
            {
                self.at += end + 2;
                return Ok(quoted[..end].to_string());
            }
        }
        Err(NotPlpgsql::Unreadable("no language name after LANGUAGE"))
    }
}

/// The text of a `'...'` string whose opening quote is just before `quoted`, with `''` unescaped, and
/// its length in `quoted` (to the closing quote, excluded); `None` when unterminated.
fn single_quoted(quoted: &str) -> Option<(Cow<'_, str>, usize)> {
    let bytes = quoted.as_bytes();
    let mut i = 0;
    let mut doubled = false;
    loop {
        match bytes.get(i)? {
            b'\'' if bytes.get(i + 1) == Some(&b'\'') => {
                doubled = true;
                i += 2;
            }
            b'\'' => break,
            _ => i += 1,
        }
    }
    let raw = &quoted[..i];
    let text = if doubled {
        Cow::Owned(raw.replace("''", "'"))
    } else {
        Cow::Borrowed(raw)
    };
    Some((text, i))
}

#[cfg(test)]
mod tests {
    use super::EmbeddedKind::*;
    use super::*;

    /// `documenso/migrations/20240205120648_create_delete_account/migration.sql`, lines 2–30.
    const DOCUMENSO: &[&str] = &[
        "DO $$",
        "BEGIN  ",
        "  IF NOT EXISTS (SELECT 1 FROM \"public\".\"User\" WHERE \"email\" = 'deleted-account@documenso.com') THEN  ",
        "    INSERT INTO",
        "      \"public\".\"User\" (",
        "        \"email\",",
        "        \"emailVerified\",",
        "        \"password\",",
        "        \"createdAt\",",
        "        \"updatedAt\",",
        "        \"lastSignedIn\",",
        "        \"roles\",",
        "        \"identityProvider\",",
        "        \"twoFactorEnabled\"",
        "      )",
        "    VALUES",
        "      (",
        "        'deleted-account@documenso.com',",
        "        NOW(),",
        "        NULL,",
        "        NOW(),",
        "        NOW(),",
        "        NOW(),",
        "        ARRAY['USER'::TEXT]::\"public\".\"Role\" [],",
        "        CAST('GOOGLE'::TEXT AS \"public\".\"IdentityProvider\"),",
        "        FALSE",
        "      );",
        "  END IF;  ",
        "END $$",
    ];

    /// `inbox-zero/migrations/20260103000000_migrate_cold_emails_to_group_items/migration.sql`, lines 16–52.
    const INBOX_ZERO: &[&str] = &[
        "DO $$",
        "DECLARE",
        "  rule_record RECORD;",
        "  new_group_id TEXT;",
        "  group_name TEXT;",
        "BEGIN",
        "  FOR rule_record IN ",
        "    SELECT r.id, r.name, r.\"emailAccountId\"",
        "    FROM \"Rule\" r",
        "    WHERE r.\"systemType\" = 'COLD_EMAIL'",
        "      AND r.\"groupId\" IS NULL",
        "  LOOP",
        "    new_group_id := gen_random_uuid()::TEXT;",
        "    group_name := rule_record.name;",
        "    ",
        "    -- Check if a group with this name already exists",
        "    IF EXISTS (",
        "      SELECT 1 FROM \"Group\" g ",
        "      WHERE g.name = group_name AND g.\"emailAccountId\" = rule_record.\"emailAccountId\"",
        "    ) THEN",
        "      -- Use existing group if it exists",
        "      UPDATE \"Rule\" ",
        "      SET \"groupId\" = (",
        "        SELECT id FROM \"Group\" g ",
        "        WHERE g.name = group_name AND g.\"emailAccountId\" = rule_record.\"emailAccountId\"",
        "        LIMIT 1",
        "      )",
        "      WHERE id = rule_record.id;",
        "    ELSE",
        "      -- Create new group",
        "      INSERT INTO \"Group\" (id, \"createdAt\", \"updatedAt\", name, \"emailAccountId\")",
        "      VALUES (new_group_id, NOW(), NOW(), group_name, rule_record.\"emailAccountId\");",
        "      ",
        "      UPDATE \"Rule\" SET \"groupId\" = new_group_id WHERE id = rule_record.id;",
        "    END IF;",
        "  END LOOP;",
        "END $$;",
    ];

    fn e(kind: EmbeddedKind, line: usize, text: &str) -> Embedded {
        Embedded {
            kind,
            line,
            text: text.to_string(),
        }
    }

    /// The statements of a whole DO statement's body.
    fn statements_of(statement: &str) -> Vec<Embedded> {
        let body = do_body(statement).unwrap();
        embedded_statements(&body.body).unwrap()
    }

    #[test]
    fn documensos_do_block_inserts_one_row_under_an_if() {
        let statement = DOCUMENSO.join("\n");
        let body = do_body(&statement).unwrap();
        assert_eq!(body.offset, "DO $$".len());
        assert!(body.body.starts_with("\nBEGIN  \n") && body.body.ends_with("END IF;  \nEND "));
        assert_eq!(
            embedded_statements(&body.body).unwrap(),
            vec![e(
                Sql,
                4,
                &[
                    "INSERT INTO",
                    "      \"public\".\"User\" (",
                    "        \"email\",",
                    "        \"emailVerified\",",
                    "        \"password\",",
                    "        \"createdAt\",",
                    "        \"updatedAt\",",
                    "        \"lastSignedIn\",",
                    "        \"roles\",",
                    "        \"identityProvider\",",
                    "        \"twoFactorEnabled\"",
                    "      )",
                    "    VALUES",
                    "      (",
                    "        'deleted-account@documenso.com',",
                    "        NOW(),",
                    "        NULL,",
                    "        NOW(),",
                    "        NOW(),",
                    "        NOW(),",
                    "        ARRAY['USER'::TEXT]::\"public\".\"Role\" [],",
                    "        CAST('GOOGLE'::TEXT AS \"public\".\"IdentityProvider\"),",
                    "        FALSE",
                    "      )",
                ]
                .join("\n")
            )],
            "the IF's condition is an expression, not a statement"
        );
    }

    #[test]
    fn inbox_zeros_do_block_loops_over_rules_updating_and_inserting() {
        assert_eq!(
            statements_of(&INBOX_ZERO.join("\n")),
            vec![
                e(
                    Query,
                    7,
                    &[
                        "SELECT r.id, r.name, r.\"emailAccountId\"",
                        "    FROM \"Rule\" r",
                        "    WHERE r.\"systemType\" = 'COLD_EMAIL'",
                        "      AND r.\"groupId\" IS NULL",
                    ]
                    .join("\n"),
                ),
                e(
                    Sql,
                    22,
                    &[
                        "UPDATE \"Rule\" ",
                        "      SET \"groupId\" = (",
                        "        SELECT id FROM \"Group\" g ",
                        "        WHERE g.name = group_name AND g.\"emailAccountId\" = rule_record.\"emailAccountId\"",
                        "        LIMIT 1",
                        "      )",
                        "      WHERE id = rule_record.id",
                    ]
                    .join("\n"),
                ),
                e(
                    Sql,
                    31,
                    &[
                        "INSERT INTO \"Group\" (id, \"createdAt\", \"updatedAt\", name, \"emailAccountId\")",
                        "      VALUES (new_group_id, NOW(), NOW(), group_name, rule_record.\"emailAccountId\")",
                    ]
                    .join("\n"),
                ),
                e(
                    Sql,
                    34,
                    &[
                        "UPDATE \"Rule\" SET \"groupId\" = new_group_id WHERE id = rule_record.id",
                    ]
                    .join("\n"),
                ),
            ]
        );
    }

    #[test]
    fn an_update_in_a_for_loop_in_an_if() {
        let body = "
DECLARE
  r record;
BEGIN
  IF (SELECT count(*) FROM \"Post\") > 0 THEN
    FOR r IN SELECT id FROM \"Post\" LOOP
      UPDATE \"Post\" SET \"title\" = upper(\"title\") WHERE id = r.id;
    END LOOP;
  ELSIF now() > '2020-01-01' THEN
    DELETE FROM \"Post\";
  ELSE
    NULL;
  END IF;
END
";
        assert_eq!(
            embedded_statements(body).unwrap(),
            vec![
                e(Query, 6, "SELECT id FROM \"Post\""),
                e(
                    Sql,
                    7,
                    "UPDATE \"Post\" SET \"title\" = upper(\"title\") WHERE id = r.id"
                ),
                e(Sql, 10, "DELETE FROM \"Post\""),
            ]
        );
    }

    #[test]
    fn a_delete_in_an_exception_handlers_block() {
        let body = "
BEGIN
  INSERT INTO \"Log\" (id) VALUES (1);
EXCEPTION
  WHEN unique_violation THEN
    BEGIN
      DELETE FROM \"Log\" WHERE id = 1;
    END;
  WHEN OTHERS THEN
    RAISE;
END
";
        assert_eq!(
            embedded_statements(body).unwrap(),
            vec![
                e(Sql, 3, "INSERT INTO \"Log\" (id) VALUES (1)"),
                e(Sql, 7, "DELETE FROM \"Log\" WHERE id = 1"),
            ]
        );
    }

    #[test]
    fn ddl_guarded_by_a_catalog_lookup() {
        let statement = "DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'Post_authorId_fkey') THEN
    ALTER TABLE \"Post\" ADD CONSTRAINT \"Post_authorId_fkey\" FOREIGN KEY (\"authorId\") REFERENCES \"User\"(\"id\") ON DELETE RESTRICT ON UPDATE CASCADE;
  END IF;
  CREATE INDEX \"Post_authorId_idx\" ON \"Post\"(\"authorId\");
END $$;";
        assert_eq!(
            statements_of(statement),
            vec![
                e(
                    Sql,
                    4,
                    "ALTER TABLE \"Post\" ADD CONSTRAINT \"Post_authorId_fkey\" FOREIGN KEY (\"authorId\") REFERENCES \"User\"(\"id\") ON DELETE RESTRICT ON UPDATE CASCADE"
                ),
                e(
                    Sql,
                    6,
                    "CREATE INDEX \"Post_authorId_idx\" ON \"Post\"(\"authorId\")"
                ),
            ]
        );
    }

    #[test]
    fn execute_is_dynamic_its_text_the_expression() {
        let body = "
DECLARE
  t text := 'Post';
  r record;
BEGIN
  EXECUTE format('ALTER TABLE %I DROP COLUMN %I', t, 'old');
  FOR r IN EXECUTE 'SELECT id FROM ' || quote_ident(t) LOOP
    EXECUTE 'DELETE FROM ' || quote_ident(t) || ' WHERE id = $1' USING r.id;
  END LOOP;
END
";
        assert_eq!(
            embedded_statements(body).unwrap(),
            vec![
                e(
                    Dynamic,
                    6,
                    "format('ALTER TABLE %I DROP COLUMN %I', t, 'old')"
                ),
                e(Dynamic, 7, "'SELECT id FROM ' || quote_ident(t)"),
                e(
                    Dynamic,
                    8,
                    "'DELETE FROM ' || quote_ident(t) || ' WHERE id = $1'"
                ),
            ]
        );
    }

    #[test]
    fn perform_is_the_select_postgresql_runs() {
        let body =
            "BEGIN\n  PERFORM pg_advisory_lock(42);\n  PERFORM 1 FROM \"Post\" WHERE id = 1;\nEND";
        assert_eq!(
            embedded_statements(body).unwrap(),
            vec![
                e(Perform, 2, "SELECT pg_advisory_lock(42)"),
                e(Perform, 3, "SELECT 1 FROM \"Post\" WHERE id = 1"),
            ]
        );
    }

    #[test]
    fn nested_blocks_with_declarations_cursors_and_loops() {
        let body = "
DECLARE
  n integer := 0;
BEGIN
  <<inner>>
  DECLARE
    c CURSOR FOR SELECT id FROM \"User\" WHERE \"deletedAt\" IS NOT NULL;
    u refcursor;
    r record;
    ids integer[] := ARRAY[1, 2];
    i integer;
  BEGIN
    FOR r IN c LOOP
      DELETE FROM \"Session\" WHERE \"userId\" = r.id;
    END LOOP;
    OPEN u FOR SELECT 1;
    CLOSE u;
    FOREACH i IN ARRAY ids LOOP
      UPDATE \"User\" SET n = n + 1 WHERE id = i;
    END LOOP;
    WHILE n < 3 LOOP
      n := n + 1;
      INSERT INTO \"Tick\" VALUES (n);
    END LOOP;
    FOR k IN 1..2 LOOP
      CASE k WHEN 1 THEN TRUNCATE \"A\"; ELSE TRUNCATE \"B\"; END CASE;
    END LOOP;
    SELECT count(*) INTO n FROM \"User\";
  END inner;
  CALL refresh();
  COMMIT;
END
";
        assert_eq!(
            embedded_statements(body).unwrap(),
            vec![
                e(
                    Query,
                    7,
                    "SELECT id FROM \"User\" WHERE \"deletedAt\" IS NOT NULL"
                ),
                e(Sql, 14, "DELETE FROM \"Session\" WHERE \"userId\" = r.id"),
                e(Query, 16, "SELECT 1"),
                e(Sql, 19, "UPDATE \"User\" SET n = n + 1 WHERE id = i"),
                e(Sql, 23, "INSERT INTO \"Tick\" VALUES (n)"),
                e(Sql, 26, "TRUNCATE \"A\""),
                e(Sql, 26, "TRUNCATE \"B\""),
                e(Sql, 28, "SELECT count(*)        FROM \"User\""),
                e(Sql, 30, "CALL refresh()"),
                e(Sql, 31, "COMMIT"),
            ]
        );
    }

    #[test]
    fn a_syntax_error_is_rejected_with_postgresqls_message_and_place() {
        let statement = "DO $$\nBEGIN\n  UPDATE \"Post\" SET WHERE id = 1;\nEND $$";
        let body = do_body(statement).unwrap();
        let rejected = embedded_statements(&body.body).unwrap_err();
        assert_eq!(rejected.message, "syntax error at or near \"WHERE\"");
        assert_eq!(&statement[body.offset + rejected.offset..][..5], "WHERE");

        let no_end_if = "\nBEGIN\n  IF true THEN\n    NULL;\nEND\n";
        let rejected = embedded_statements(no_end_if).unwrap_err();
        assert_eq!(rejected.message, "syntax error at end of input");
        assert_eq!(
            rejected.offset,
            no_end_if.len(),
            "no END IF: the input ran out"
        );
        let rejected = embedded_statements("BEGIN\n  x := 1;\nEND").unwrap_err();
        assert_eq!(rejected.message, "\"x\" is not a known variable");
        assert_eq!(rejected.offset, 8);
        let rejected = embedded_statements("BEGIN\n  -- é\n  x := 1;\nEND").unwrap_err();
        assert_eq!(
            rejected.offset, 16,
            "PostgreSQL counts characters; the offset is in bytes"
        );
        // Nothing left over: the next body reads normally.
        assert_eq!(
            embedded_statements("BEGIN DELETE FROM t; END").unwrap(),
            vec![e(Sql, 1, "DELETE FROM t")]
        );
    }

    #[test]
    fn do_finds_the_body_with_language_before_after_or_absent() {
        let body = "BEGIN UPDATE t SET a = 1; END";
        for (statement, offset) in [
            (format!("DO $$ {body} $$"), 5),
            (format!("DO LANGUAGE plpgsql $$ {body} $$;"), 22),
            (format!("do $$ {body} $$ LANGUAGE PLPGSQL ;"), 5),
            (format!("DO LANGUAGE 'plpgsql' $x$ {body} $x$"), 25),
            (
                format!("-- Step\nDO /* inline */ $body$ {body} $body$;"),
                30,
            ),
        ] {
            let found = do_body(&statement).unwrap();
            assert_eq!(found.body, format!(" {body} "), "{statement}");
            assert_eq!(found.offset, offset, "{statement}");
            assert_eq!(
                embedded_statements(&found.body).unwrap(),
                vec![e(Sql, 1, "UPDATE t SET a = 1")]
            );
        }
        let found = do_body("DO 'BEGIN UPDATE t SET a = ''x''; END'").unwrap();
        assert_eq!(found.body, "BEGIN UPDATE t SET a = 'x'; END");
        assert_eq!(found.offset, 4);
        assert_eq!(
            embedded_statements("BEGIN\n  DO $inner$ BEGIN DELETE FROM t; END $inner$;\nEND")
                .unwrap(),
            vec![e(Sql, 2, "DO $inner$ BEGIN DELETE FROM t; END $inner$")],
            "a nested DO is a statement of its own, read by calling this again"
        );
    }

    #[test]
    fn a_do_in_another_language_or_not_a_do_is_not_read() {
        let err = do_body("DO LANGUAGE plpython3u $$ print(1) $$").unwrap_err();
        assert_eq!(err, NotPlpgsql::Language("plpython3u".into()));
        assert_eq!(
            err.to_string(),
            "the DO block is in LANGUAGE plpython3u, not PL/pgSQL: its code is not read"
        );
        assert_eq!(
            do_body("DO $$ x $$ LANGUAGE \"plv8\""),
            Err(NotPlpgsql::Language("plv8".into()))
        );
        assert_eq!(do_body("UPDATE t SET a = 1"), Err(NotPlpgsql::NotDo));
        assert_eq!(do_body("DOMAIN"), Err(NotPlpgsql::NotDo));
        assert!(matches!(
            do_body("DO $$ BEGIN END"),
            Err(NotPlpgsql::Unreadable(_))
        ));
        assert!(matches!(
            do_body("DO LANGUAGE plpgsql"),
            Err(NotPlpgsql::Unreadable(_))
        ));
        assert!(matches!(
            do_body("DO E'BEGIN END'"),
            Err(NotPlpgsql::Unreadable(_))
        ));
    }

    #[test]
    fn deep_nesting_is_read_or_refused_as_postgresql_does() {
        let nested = |depth: usize| {
            format!(
                "{}DELETE FROM t;{} END",
                "BEGIN ".repeat(depth),
                " END;".repeat(depth - 1)
            )
        };
        assert_eq!(
            embedded_statements(&nested(1_000)).unwrap(),
            vec![e(Sql, 1, "DELETE FROM t")]
        );
        assert_eq!(
            embedded_statements(&nested(5_000)).unwrap_err().message,
            "memory exhausted at or near \"BEGIN\"",
            "PL/pgSQL's parser stack has a limit"
        );
    }

    #[test]
    fn threads_read_bodies_side_by_side() {
        let statement = INBOX_ZERO.join("\n");
        let expected = statements_of(&statement);
        std::thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| {
                    for _ in 0..50 {
                        assert_eq!(statements_of(&statement), expected);
                        assert!(embedded_statements("BEGIN UPDATE t SET; END").is_err());
                    }
                });
            }
        });
    }

    /// A body of `n` UPDATEs, one a line.
    fn updates(n: usize) -> String {
        let mut body = String::from("BEGIN\n");
        for i in 0..n {
            body.push_str(&format!(
                "  UPDATE \"Post\" SET \"views\" = {i} WHERE id = {i};\n"
            ));
        }
        body.push_str("END\n");
        body
    }

    #[test]
    fn a_body_of_ten_thousand_updates() {
        let found = embedded_statements(&updates(10_000)).unwrap();
        assert_eq!(found.len(), 10_000);
        assert_eq!(
            found[9_999],
            e(
                Sql,
                10_001,
                "UPDATE \"Post\" SET \"views\" = 9999 WHERE id = 9999"
            )
        );
    }

    /// Memory stays flat over repeated calls, accepted and rejected alike (run by hand:
    /// `cargo test --lib plpgsql -- --ignored --nocapture`).
    #[test]
    #[ignore = "slow; prints resident memory for a manual check"]
    fn memory_does_not_grow_over_repeated_calls() {
        fn rss_kib() -> usize {
            std::fs::read_to_string("/proc/self/status")
                .ok()
                .and_then(|s| {
                    s.lines()
                        .find_map(|l| l.strip_prefix("VmRSS:"))
                        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
                })
                .unwrap_or(0)
        }
        let body = updates(10_000);
        let broken = format!("{body}BEGIN");
        let start = rss_kib();
        let _ = embedded_statements(&body);
        let _ = embedded_statements(&broken);
        let before = rss_kib();
        eprintln!("before any call: VmRSS {start} KiB; after one call of each: {before} KiB");
        for i in 1..=300 {
            assert_eq!(embedded_statements(&body).unwrap().len(), 10_000);
            assert!(embedded_statements(&broken).is_err());
            if i % 100 == 0 {
                eprintln!(
                    "after {i} calls of each: VmRSS {} KiB (before: {before} KiB)",
                    rss_kib()
                );
            }
        }
        let after = rss_kib();
        assert!(after < before + 64 * 1024, "{before} KiB -> {after} KiB");
    }
}
