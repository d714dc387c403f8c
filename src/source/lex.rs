//! Tokens as byte ranges over the file, and the fast path that produces them.
//!
//! sqlparser's tokenizer is the reference: it knows every PostgreSQL lexical form, and its errors carry
//! a position. It is also the slowest part of reading a long history (an owned `String` per word, a token
//! per space). Prisma's SQL uses a small subset of the language: words, quoted identifiers, plain
//! strings, integers and decimals, punctuation, `--` and `/* */` comments. [`lex_common`] reads that
//! subset without allocating and gives up (`None`) at the first thing outside it — a dollar quote, an
//! `E''` string, a backslash, a non-ASCII letter outside quotes, an unterminated string — and the
//! splitter then tokenizes the whole file with sqlparser instead. tests/offline/lex_agreement.rs checks that
//! both paths give the same tokens on every fixture, on the documenso history and on generated input.

use std::ops::Range;

use sqlparser::tokenizer::{Token, TokenWithSpan, Whitespace};

/// What a token is, as far as migrate-safe reads tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// An unquoted word: keyword or identifier.
    Word,
    /// A `"quoted"` identifier.
    QuotedIdent,
    Number,
    /// Any string literal (`'..'`, `E'..'`, `$$..$$`, ...).
    String,
    /// A run of spaces and tabs.
    Space,
    /// One line break (`\n`, `\r\n` or `\r`).
    Newline,
    /// `-- ...` up to its line break.
    LineComment,
    /// `/* ... */`, nested ones included.
    BlockComment,
    SemiColon,
    Comma,
    Period,
    LParen,
    RParen,
    LBracket,
    RBracket,
    /// `*`.
    Mul,
    /// Operators and everything else.
    Other,
}

/// A token: its kind, its bytes in the file, and where it starts (1-based line, column in characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tok {
    pub kind: TokenKind,
    pub bytes: Range<usize>,
    pub line: u32,
    pub column: u32,
}

impl Tok {
    pub fn is_trivia(&self) -> bool {
        matches!(
            self.kind,
            TokenKind::Space
                | TokenKind::Newline
                | TokenKind::LineComment
                | TokenKind::BlockComment
        )
    }
}

/// Tokenize the common subset without allocating anything but the token vector; `None` when the text
/// holds something outside it (the caller then uses sqlparser's tokenizer).
pub fn lex_common(text: &str) -> Option<Vec<Tok>> {
    let bytes = text.as_bytes();
    let len = bytes.len();
    // About one token per five bytes in Prisma's SQL: sized once instead of grown.
    let mut tokens = Vec::with_capacity(len / 5 + 16);
    let mut i = 0;
    let mut line = 1u32;
    let mut line_start = 0usize;
    // Columns count characters. In ASCII text they are bytes from the line's start; otherwise a cursor
    // counts the characters it passes, so a long line is walked once, not once per token.
    let ascii = text.is_ascii();
    let mut cursor = (0usize, 0usize); // (byte, characters from its line's start to it)
    while i < len {
        let start = i;
        let start_line = line;
        let start_column = if ascii {
            start - line_start + 1
        } else {
            if cursor.0 < line_start {
                cursor = (line_start, 0);
            }
            let passed = bytes[cursor.0..start]
                .iter()
                .filter(|&&b| b & 0xC0 != 0x80)
                .count();
            cursor = (start, cursor.1 + passed);
            cursor.1 + 1
        } as u32;
        let byte = bytes[i];
        let kind = match byte {
            b' ' | b'\t' => {
                while i < len && matches!(bytes[i], b' ' | b'\t') {
                    i += 1;
                }
                TokenKind::Space
            }
            b'\n' | b'\r' => {
                i += 1;
                if byte == b'\r' {
                    // sqlparser counts lines at `\n` only: a lone `\r` is left to it.
                    if bytes.get(i) != Some(&b'\n') {
                        return None;
                    }
                    i += 1;
                }
                line += 1;
                line_start = i;
                TokenKind::Newline
            }
            b'a'..=b'z' | b'A'..=b'Z' | b'_' => {
                while i < len && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                // `E'..'`, `U&'..'`, `$` in identifiers, letters beyond ASCII: sqlparser's to read.
                if i < len
                    && (matches!(bytes[i], b'\'' | b'"' | b'$' | b'&') || !bytes[i].is_ascii())
                {
                    return None;
                }
                TokenKind::Word
            }
            b'0'..=b'9' => {
                while i < len && bytes[i].is_ascii_digit() {
                    i += 1;
                }
                if bytes.get(i) == Some(&b'.') {
                    if !bytes.get(i + 1).is_some_and(u8::is_ascii_digit) {
                        return None;
                    }
                    i += 1;
                    while i < len && bytes[i].is_ascii_digit() {
                        i += 1;
                    }
                }
                // Exponents, `0x..`, `1_000`, a word glued to a number: sqlparser's to read.
                if i < len
                    && (bytes[i].is_ascii_alphanumeric()
                        || matches!(bytes[i], b'_' | b'.' | b'$')
                        || !bytes[i].is_ascii())
                {
                    return None;
                }
                TokenKind::Number
            }
            b'"' | b'\'' => {
                i += 1;
                loop {
                    let at = i + bytes[i..].iter().position(|&b| b == byte)?;
                    if byte == b'\'' && bytes[i..at].contains(&b'\\') {
                        return None;
                    }
                    count_lines(bytes, i..at, &mut line, &mut line_start);
                    i = at + 1;
                    // A doubled quote is an escaped one.
                    if bytes.get(i) == Some(&byte) {
                        i += 1;
                    } else {
                        break;
                    }
                }
                if byte == b'"' {
                    if i - start == 2 {
                        return None; // `""` is an error for PostgreSQL
                    }
                    TokenKind::QuotedIdent
                } else {
                    TokenKind::String
                }
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                // Up to the line break, which is a token of its own (as sqlparser reads it).
                i += bytes[i..]
                    .iter()
                    .position(|&b| b == b'\n' || b == b'\r')
                    .unwrap_or(len - i);
                TokenKind::LineComment
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i += 2;
                let mut depth = 1;
                while depth > 0 {
                    match (bytes.get(i)?, bytes.get(i + 1)) {
                        (b'*', Some(b'/')) => {
                            depth -= 1;
                            i += 2;
                        }
                        (b'/', Some(b'*')) => {
                            depth += 1;
                            i += 2;
                        }
                        (b'\n', _) => {
                            i += 1;
                            line += 1;
                            line_start = i;
                        }
                        _ => i += 1,
                    }
                }
                TokenKind::BlockComment
            }
            b';' | b',' | b'(' | b')' | b'[' | b']' => {
                i += 1;
                match byte {
                    b';' => TokenKind::SemiColon,
                    b',' => TokenKind::Comma,
                    b'(' => TokenKind::LParen,
                    b')' => TokenKind::RParen,
                    b'[' => TokenKind::LBracket,
                    _ => TokenKind::RBracket,
                }
            }
            b'.' => {
                // `.5`, and sqlparser refuses `._`.
                if bytes
                    .get(i + 1)
                    .is_some_and(|&b| b.is_ascii_digit() || b == b'_')
                {
                    return None;
                }
                i += 1;
                TokenKind::Period
            }
            byte if is_operator(byte) => {
                // An operator is a run of these (nothing here reads operators; the agreement test
                // compares runs as one).
                while i < len && is_operator(bytes[i]) {
                    // sqlparser reads some operators on into a comment (`|--`): its to read.
                    if starts_comment(bytes, i) {
                        return None;
                    }
                    i += 1;
                }
                // sqlparser has its own rules for longer runs (some it refuses): the common
                // operators only.
                match &bytes[start..i] {
                    b"*" => TokenKind::Mul,
                    [_] | b"::" | b"<>" | b"<=" | b">=" | b"!=" | b"||" | b"->" | b"->>" => {
                        TokenKind::Other
                    }
                    _ => return None,
                }
            }
            _ => return None,
        };
        tokens.push(Tok {
            kind,
            bytes: start..i,
            line: start_line,
            column: start_column,
        });
    }
    Some(tokens)
}

/// Count the line breaks (`\n`, as sqlparser does) in `bytes[range]`, moving `line_start` past the last.
fn count_lines(bytes: &[u8], range: Range<usize>, line: &mut u32, line_start: &mut usize) {
    let start = range.start;
    for (offset, &b) in bytes[range].iter().enumerate() {
        if b == b'\n' {
            *line += 1;
            *line_start = start + offset + 1;
        }
    }
}

fn is_operator(byte: u8) -> bool {
    matches!(
        byte,
        b'*' | b':'
            | b'='
            | b'<'
            | b'>'
            | b'!'
            | b'+'
            | b'-'
            | b'/'
            | b'%'
            | b'^'
            | b'|'
            | b'~'
            | b'&'
    )
}

/// `--` or `/*` at `i`: for PostgreSQL a comment starts there, even after operator characters.
fn starts_comment(bytes: &[u8], i: usize) -> bool {
    matches!(
        (bytes[i], bytes.get(i + 1)),
        (b'-', Some(b'-')) | (b'/', Some(b'*'))
    )
}

/// The kind of one of sqlparser's tokens.
pub fn kind_of(token: &Token) -> TokenKind {
    match token {
        Token::Word(w) if w.quote_style.is_some() => TokenKind::QuotedIdent,
        Token::Word(_) => TokenKind::Word,
        Token::Number(..) => TokenKind::Number,
        Token::SingleQuotedString(_)
        | Token::DoubleQuotedString(_)
        | Token::TripleSingleQuotedString(_)
        | Token::TripleDoubleQuotedString(_)
        | Token::DollarQuotedString(_)
        | Token::SingleQuotedByteStringLiteral(_)
        | Token::DoubleQuotedByteStringLiteral(_)
        | Token::TripleSingleQuotedByteStringLiteral(_)
        | Token::TripleDoubleQuotedByteStringLiteral(_)
        | Token::SingleQuotedRawStringLiteral(_)
        | Token::DoubleQuotedRawStringLiteral(_)
        | Token::TripleSingleQuotedRawStringLiteral(_)
        | Token::TripleDoubleQuotedRawStringLiteral(_)
        | Token::NationalStringLiteral(_)
        | Token::EscapedStringLiteral(_)
        | Token::UnicodeStringLiteral(_)
        | Token::HexStringLiteral(_) => TokenKind::String,
        Token::Whitespace(Whitespace::Space | Whitespace::Tab) => TokenKind::Space,
        Token::Whitespace(Whitespace::Newline) => TokenKind::Newline,
        Token::Whitespace(Whitespace::SingleLineComment { .. }) => TokenKind::LineComment,
        Token::Whitespace(Whitespace::MultiLineComment(_)) => TokenKind::BlockComment,
        Token::SemiColon => TokenKind::SemiColon,
        Token::Comma => TokenKind::Comma,
        Token::Period => TokenKind::Period,
        Token::LParen => TokenKind::LParen,
        Token::RParen => TokenKind::RParen,
        Token::LBracket => TokenKind::LBracket,
        Token::RBracket => TokenKind::RBracket,
        Token::Mul => TokenKind::Mul,
        _ => TokenKind::Other,
    }
}

/// sqlparser's tokens with their byte starts, as [`Tok`]s; runs of spaces and tabs become one token,
/// as on the fast path.
pub fn from_sqlparser(text: &str, raw: &[TokenWithSpan], starts: &[usize]) -> Vec<Tok> {
    let mut tokens: Vec<Tok> = Vec::with_capacity(raw.len());
    for (i, token) in raw.iter().enumerate() {
        let end = starts.get(i + 1).copied().unwrap_or(text.len());
        let kind = kind_of(&token.token);
        if kind == TokenKind::Space
            && let Some(last) = tokens.last_mut()
            && last.kind == TokenKind::Space
        {
            last.bytes.end = end;
            continue;
        }
        tokens.push(Tok {
            kind,
            bytes: starts[i]..end,
            line: token.span.start.line as u32,
            column: token.span.start.column as u32,
        });
    }
    tokens
}

/// A token with its text: what the statement readers look at.
#[derive(Debug, Clone, Copy)]
pub struct Lexeme<'a> {
    pub tok: &'a Tok,
    pub text: &'a str,
}

impl<'a> Lexeme<'a> {
    pub fn new(file: &'a str, tok: &'a Tok) -> Self {
        Lexeme {
            tok,
            text: &file[tok.bytes.clone()],
        }
    }

    pub fn line(&self) -> usize {
        self.tok.line as usize
    }

    pub fn column(&self) -> usize {
        self.tok.column as usize
    }

    /// Where the token ends: (line, column just past its last character).
    pub fn end(&self) -> (usize, usize) {
        match self.text.rfind('\n') {
            Some(at) => (
                self.line() + self.text.matches('\n').count(),
                self.text[at + 1..].chars().count() + 1,
            ),
            None => (self.line(), self.column() + self.text.chars().count()),
        }
    }

    /// The keyword this token spells, upper-cased, when it is an unquoted word.
    pub fn keyword(&self) -> Option<Keyword> {
        if self.tok.kind != TokenKind::Word {
            return None;
        }
        Keyword::new(self.text)
    }

    pub fn is_keyword(&self, keyword: &str) -> bool {
        self.tok.kind == TokenKind::Word && self.text.eq_ignore_ascii_case(keyword)
    }

    /// The identifier as PostgreSQL resolves it (unquoted words fold to lower case); `None` for
    /// anything but a word.
    pub fn ident(&self) -> Option<String> {
        match self.tok.kind {
            TokenKind::Word if self.text.is_ascii() => Some(self.text.to_ascii_lowercase()),
            TokenKind::Word => Some(self.text.to_lowercase()),
            TokenKind::QuotedIdent => {
                let inner = &self.text[1..self.text.len() - 1];
                Some(if inner.contains('"') {
                    inner.replace("\"\"", "\"")
                } else {
                    inner.to_owned()
                })
            }
            _ => None,
        }
    }

    pub fn is_word(&self) -> bool {
        matches!(self.tok.kind, TokenKind::Word | TokenKind::QuotedIdent)
    }
}

/// An upper-cased keyword held inline (no allocation per token looked at).
#[derive(Clone, Copy)]
pub struct Keyword {
    bytes: [u8; Keyword::MAX],
    len: u8,
}

impl Keyword {
    /// Longer than any SQL keyword: a longer word is an identifier.
    const MAX: usize = 24;

    fn new(word: &str) -> Option<Self> {
        if word.len() > Self::MAX || !word.is_ascii() {
            return None;
        }
        let mut bytes = [0u8; Self::MAX];
        for (to, from) in bytes.iter_mut().zip(word.bytes()) {
            *to = from.to_ascii_uppercase();
        }
        Some(Keyword {
            bytes,
            len: word.len() as u8,
        })
    }

    pub fn as_str(&self) -> &str {
        // Built from ASCII only.
        std::str::from_utf8(&self.bytes[..self.len as usize]).unwrap_or_default()
    }
}

impl std::ops::Deref for Keyword {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl std::fmt::Debug for Keyword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.as_str().fmt(f)
    }
}

impl PartialEq<str> for Keyword {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl std::ops::Deref for Lexeme<'_> {
    type Target = Tok;
    fn deref(&self) -> &Tok {
        self.tok
    }
}
