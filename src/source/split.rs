//! Lossless statement splitting.
//!
//! The file is tokenized (src/source/lex.rs: a fast path for Prisma's subset of SQL, sqlparser's
//! PostgreSQL tokenizer for everything else); whitespace and comments are tokens too, so the tokens tile
//! the whole input. Statements end at a top-level `;`. Every byte of the input belongs to exactly one
//! [`Piece`]; concatenating the pieces gives the input back.

use std::ops::Range;

use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::tokenizer::{TokenWithSpan, Tokenizer};

pub use super::lex::{Lexeme, Tok, TokenKind};
use super::lex::{from_sqlparser, lex_common};

/// One statement of a file, with the comments and whitespace around it.
///
/// `bytes` = leading trivia + `statement` + trailing trivia up to the end of the statement's last line.
#[derive(Debug, Clone)]
pub struct Piece {
    pub bytes: Range<usize>,
    /// The statement itself, from its first token to its `;` (inclusive); `None` for trailing trivia.
    pub statement: Option<Range<usize>>,
    /// Comment lines directly above the statement (no blank line between): Prisma's `-- StepName` header.
    pub header: Option<Range<usize>>,
    /// Indexes into [`SplitFile::tokens`] of the statement's tokens, `;` excluded.
    pub tokens: Range<usize>,
}

impl Piece {
    /// Where the statement's removable block starts: its header when it has one.
    pub fn block_start(&self) -> Option<usize> {
        let statement = self.statement.as_ref()?;
        Some(self.header.as_ref().map_or(statement.start, |h| h.start))
    }
}

#[derive(Debug, Clone)]
pub struct SplitFile {
    pub tokens: Vec<Tok>,
    pub pieces: Vec<Piece>,
    /// The tokens come from the fast path (`lex_common`), not from sqlparser's tokenizer.
    pub fast: bool,
}

impl SplitFile {
    /// The statement pieces (those with a statement), in order.
    pub fn statements(&self) -> impl Iterator<Item = &Piece> {
        self.pieces.iter().filter(|p| p.statement.is_some())
    }

    /// The significant (non-trivia) tokens of a piece's statement, with their text (`text` is the file
    /// this was split from).
    pub fn significant_tokens<'a>(
        &'a self,
        text: &'a str,
        piece: &Piece,
    ) -> impl Iterator<Item = Lexeme<'a>> + 'a {
        self.tokens[piece.tokens.clone()]
            .iter()
            .filter(|t| !t.is_trivia())
            .map(move |t| Lexeme::new(text, t))
    }
}

/// A tokenizer error with its 1-based position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitError {
    pub message: String,
    pub line: usize,
    pub column: usize,
}

/// Split `text` into statements without losing a byte.
pub fn split(text: &str) -> Result<SplitFile, SplitError> {
    let (tokens, fast) = match lex_common(text) {
        Some(tokens) => (tokens, true),
        None => (tokenize_with_sqlparser(text)?, false),
    };
    let pieces = cut_pieces(text, &tokens);
    Ok(SplitFile {
        tokens,
        pieces,
        fast,
    })
}

/// The reference path, for text outside the fast path's subset: sqlparser's tokenizer.
pub fn tokenize_with_sqlparser(text: &str) -> Result<Vec<Tok>, SplitError> {
    let mut raw = Vec::with_capacity(text.len() / 4 + 16);
    Tokenizer::new(&PostgreSqlDialect {}, text)
        .with_unescape(false)
        .tokenize_with_location_into_buf(&mut raw)
        .map_err(|e| SplitError {
            message: e.message,
            line: e.location.line as usize,
            column: e.location.column as usize,
        })?;
    let starts = byte_starts(text, &raw);
    Ok(from_sqlparser(text, &raw, &starts))
}

/// Turn the tokenizer's (line, character column) locations into byte offsets. Each token ends where the
/// next one starts, because the tokenizer emits every character as part of some token. Token starts only
/// move forward, so one cursor walks the text once.
fn byte_starts(text: &str, raw: &[TokenWithSpan]) -> Vec<usize> {
    let mut starts = Vec::with_capacity(raw.len());
    if text.is_ascii() {
        // Columns count characters: in ASCII they are bytes, so a line table answers directly.
        let line_starts = super::line_starts(text);
        for token in raw {
            let line = (token.span.start.line as usize).clamp(1, line_starts.len());
            let at = line_starts[line - 1] + (token.span.start.column as usize).saturating_sub(1);
            starts.push(at.min(text.len()));
        }
        return starts;
    }
    let (mut byte, mut line, mut column) = (0usize, 1u64, 1u64);
    let mut chars = text.char_indices().peekable();
    for token in raw {
        let (want_line, want_column) = (token.span.start.line, token.span.start.column);
        while (line, column) < (want_line, want_column) {
            let Some((_, c)) = chars.next() else { break };
            byte += c.len_utf8();
            if c == '\n' {
                line += 1;
                column = 1;
            } else {
                column += 1;
            }
        }
        if let Some(&(at, _)) = chars.peek() {
            byte = at;
        }
        starts.push(byte.min(text.len()));
    }
    starts
}

fn cut_pieces(text: &str, tokens: &[Tok]) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut piece_start_byte = 0;
    let mut i = 0;
    while i < tokens.len() {
        // Leading trivia.
        let first = i;
        while i < tokens.len() && tokens[i].is_trivia() {
            i += 1;
        }
        if i == tokens.len() {
            pieces.push(Piece {
                bytes: piece_start_byte..text.len(),
                statement: None,
                header: None,
                tokens: first..first,
            });
            break;
        }
        let statement_first = i;
        let mut atomic_body = false;
        // The statement runs to the next top-level `;` (SQL-standard function bodies, `BEGIN ATOMIC ... END`,
        // hold semicolons of their own).
        while i < tokens.len() {
            let token = &tokens[i];
            let word = Lexeme::new(text, token);
            if word.is_keyword("ATOMIC") && previous_is(text, tokens, i, "BEGIN") {
                atomic_body = true;
            } else if atomic_body && word.is_keyword("END") {
                atomic_body = false;
            } else if token.kind == TokenKind::SemiColon && !atomic_body {
                break;
            }
            i += 1;
        }
        let last_significant = (statement_first..i).rev().find(|&k| !tokens[k].is_trivia());
        let statement_end = if i < tokens.len() {
            let end = tokens[i].bytes.end; // include `;`
            i += 1;
            end
        } else {
            last_significant.map_or(tokens[statement_first].bytes.end, |k| tokens[k].bytes.end)
        };
        // Trailing trivia on the same line (spaces, a `--` comment), up to and including the newline.
        while i < tokens.len() {
            let token = &tokens[i];
            match token.kind {
                TokenKind::Space | TokenKind::LineComment => i += 1,
                TokenKind::BlockComment if !text[token.bytes.clone()].contains('\n') => i += 1,
                TokenKind::Newline => {
                    i += 1;
                    break;
                }
                _ => break,
            }
        }
        // Without a `;`, the trailing whitespace tokens belong to the statement's tokens range; trim them.
        let piece_end = if i < tokens.len() {
            tokens[i].bytes.start
        } else {
            text.len()
        };
        let statement_start = tokens[statement_first].bytes.start;
        let tokens_range = statement_first..last_significant.map_or(statement_first, |k| k + 1);
        pieces.push(Piece {
            bytes: piece_start_byte..piece_end,
            statement: Some(statement_start..statement_end),
            header: attached_header(text, piece_start_byte..statement_start),
            tokens: tokens_range,
        });
        piece_start_byte = piece_end;
    }
    pieces
}

fn previous_is(text: &str, tokens: &[Tok], i: usize, keyword: &str) -> bool {
    tokens[..i]
        .iter()
        .rev()
        .find(|t| !t.is_trivia())
        .is_some_and(|t| Lexeme::new(text, t).is_keyword(keyword))
}

/// The `--` comment lines directly above a statement, with no blank line in between.
fn attached_header(text: &str, trivia: Range<usize>) -> Option<Range<usize>> {
    let region = &text[trivia.clone()];
    // The statement must start its own line for a header to be attached.
    let last_newline = region.rfind('\n')?;
    if !region[last_newline + 1..].trim().is_empty() {
        return None;
    }
    let mut start = last_newline + 1;
    let mut cursor = last_newline; // position of the newline ending the line above
    loop {
        let line_start = region[..cursor].rfind('\n').map_or(0, |p| p + 1);
        let line = &region[line_start..cursor];
        if line.trim_start().starts_with("--") {
            start = line_start;
            if line_start == 0 {
                break;
            }
            cursor = line_start - 1;
        } else {
            break;
        }
    }
    (start <= last_newline).then(|| trivia.start + start..trivia.start + last_newline + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn statements(text: &str) -> Vec<&str> {
        let split = split(text).unwrap();
        split
            .statements()
            .map(|p| &text[p.statement.clone().unwrap()])
            .collect()
    }

    #[test]
    fn splits_prisma_steps_with_headers() {
        let text = "-- CreateTable\nCREATE TABLE \"a\" (\"id\" INT);\n\n-- CreateIndex\nCREATE INDEX \"i\" ON \"a\"(\"id\");\n";
        let split = split(text).unwrap();
        assert_eq!(split.pieces.len(), 2);
        let second = &split.pieces[1];
        assert_eq!(&text[second.header.clone().unwrap()], "-- CreateIndex\n");
        assert_eq!(
            &text[second.bytes.clone()],
            "\n-- CreateIndex\nCREATE INDEX \"i\" ON \"a\"(\"id\");\n"
        );
    }

    #[test]
    fn semicolons_inside_literals_do_not_split() {
        let text =
            "SELECT ';', \"a;b\", E'\\';', $x$ ; $x$, $$;$$ /* ; /* nested ; */ */ -- ;\n;SELECT 2";
        assert_eq!(statements(text).len(), 2);
    }

    #[test]
    fn begin_atomic_bodies_keep_their_semicolons() {
        let text = "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END;\nSELECT 3;";
        assert_eq!(
            statements(text),
            vec![
                "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END;",
                "SELECT 3;"
            ]
        );
    }

    #[test]
    fn blank_line_detaches_a_comment() {
        let text = "-- note\n\nCREATE TABLE a (id int);\n";
        assert!(split(text).unwrap().pieces[0].header.is_none());
    }

    #[test]
    fn trailing_comment_stays_with_its_statement() {
        let text = "SELECT 1; -- one\nSELECT 2;\n-- end\n";
        let split = split(text).unwrap();
        assert_eq!(&text[split.pieces[0].bytes.clone()], "SELECT 1; -- one\n");
        assert_eq!(split.pieces.len(), 3);
        assert!(split.pieces[2].statement.is_none());
    }

    #[test]
    fn unterminated_string_is_an_error_with_position() {
        let err = split("SELECT 1;\nSELECT 'abc").unwrap_err();
        assert_eq!(err.line, 2);
    }
}
