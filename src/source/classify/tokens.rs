//! Small readers over a statement's significant tokens (no whitespace, no comments).

use crate::source::lex::Keyword;
use crate::source::names::{DEFAULT_SCHEMA, QualifiedName};
use crate::source::split::{Lexeme, TokenKind};

/// How many tokens a possibly-qualified name takes: `a`, `a.b`.
pub fn qualified_name_len(tokens: &[Lexeme<'_>]) -> Option<usize> {
    if !tokens.first()?.is_word() {
        return None;
    }
    if tokens.get(1).is_some_and(|t| t.kind == TokenKind::Period) && tokens.get(2)?.is_word() {
        Some(3)
    } else {
        Some(1)
    }
}

/// The (possibly schema-qualified) name at the start of `tokens`, and how many tokens it took.
pub fn name_at(tokens: &[Lexeme<'_>]) -> Option<(QualifiedName, usize)> {
    let len = qualified_name_len(tokens)?;
    let name = if len == 3 {
        QualifiedName::new(tokens[0].ident()?, tokens[2].ident()?)
    } else {
        QualifiedName::new(DEFAULT_SCHEMA, tokens[0].ident()?)
    };
    Some((name, len))
}

/// Skip any of `keywords` at the start; returns the rest and the keywords seen (upper-cased).
pub fn skip_keywords<'a, 'b>(
    mut tokens: &'a [Lexeme<'b>],
    keywords: &[&str],
) -> (&'a [Lexeme<'b>], Vec<Keyword>) {
    let mut seen = Vec::new();
    while let Some(keyword) = tokens.first().and_then(|t| t.keyword()) {
        if !keywords.contains(&keyword.as_str()) {
            break;
        }
        seen.push(keyword);
        tokens = &tokens[1..];
    }
    (tokens, seen)
}

/// Whether `tokens` starts with these keywords, in order.
pub fn starts_with(tokens: &[Lexeme<'_>], keywords: &[&str]) -> bool {
    tokens.len() >= keywords.len()
        && keywords
            .iter()
            .zip(tokens)
            .all(|(keyword, token)| token.is_keyword(keyword))
}

/// A parenthesised list of plain identifiers at the start: `("a", b)`; `None` for anything else.
pub fn column_list(tokens: &[Lexeme<'_>]) -> Option<(Vec<String>, usize)> {
    if tokens.first()?.kind != TokenKind::LParen {
        return None;
    }
    let mut columns = Vec::new();
    let mut i = 1;
    loop {
        columns.push(tokens.get(i)?.ident()?);
        match tokens.get(i + 1)?.kind {
            TokenKind::Comma => i += 2,
            TokenKind::RParen => return Some((columns, i + 2)),
            _ => return None,
        }
    }
}

/// Length of a balanced parenthesised group at the start (`None` if it does not start with `(` or
/// never closes).
pub fn group_len(tokens: &[Lexeme<'_>]) -> Option<usize> {
    if tokens.first()?.kind != TokenKind::LParen {
        return None;
    }
    let mut depth = 0usize;
    for (i, token) in tokens.iter().enumerate() {
        match token.kind {
            TokenKind::LParen => depth += 1,
            TokenKind::RParen => {
                depth -= 1;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
    }
    None
}

/// SQL text of tokens in a normal form for comparing types: unquoted words upper-cased, a space only
/// between two words (`DOUBLE PRECISION`, `VARCHAR(50)`, `"Plan"[]`).
pub fn normal_text(tokens: &[Lexeme<'_>]) -> String {
    let mut text = String::new();
    let mut last_was_word = false;
    for token in tokens {
        let is_word = matches!(
            token.kind,
            TokenKind::Word | TokenKind::QuotedIdent | TokenKind::Number
        );
        // `TIMESTAMP(3) WITHOUT TIME ZONE`: a word after a closing parenthesis is spaced too.
        if is_word && (last_was_word || text.ends_with(')')) {
            text.push(' ');
        }
        if token.kind == TokenKind::Word {
            text.push_str(&token.text.to_uppercase());
        } else {
            text.push_str(token.text);
        }
        last_was_word = is_word;
    }
    text
}

/// Split at top-level commas (outside parentheses and brackets).
pub fn split_top_level<'a, 'b>(tokens: &'a [Lexeme<'b>]) -> Vec<&'a [Lexeme<'b>]> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, token) in tokens.iter().enumerate() {
        match token.kind {
            TokenKind::LParen | TokenKind::LBracket => depth += 1,
            TokenKind::RParen | TokenKind::RBracket => depth -= 1,
            TokenKind::Comma if depth == 0 => {
                parts.push(&tokens[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&tokens[start..]);
    parts
}
