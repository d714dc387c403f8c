//! Small readers over a statement's significant tokens (no whitespace, no comments).

use sqlparser::tokenizer::Token;

use crate::source::names::{DEFAULT_SCHEMA, QualifiedName, fold_word};
use crate::source::split::Tok;

/// An identifier as PostgreSQL resolves it: unquoted words fold to lower case.
pub fn ident(token: &Tok) -> Option<String> {
    match &token.token {
        Token::Word(w) => Some(fold_word(w)),
        _ => None,
    }
}

/// How many tokens a possibly-qualified name takes: `a`, `a.b`.
pub fn qualified_name_len(tokens: &[&Tok]) -> Option<usize> {
    if !matches!(tokens.first()?.token, Token::Word(_)) {
        return None;
    }
    if tokens.get(1).is_some_and(|t| t.token == Token::Period)
        && matches!(tokens.get(2)?.token, Token::Word(_))
    {
        Some(3)
    } else {
        Some(1)
    }
}

/// The (possibly schema-qualified) name at the start of `tokens`, and how many tokens it took.
pub fn name_at(tokens: &[&Tok]) -> Option<(QualifiedName, usize)> {
    let len = qualified_name_len(tokens)?;
    let name = if len == 3 {
        QualifiedName::new(ident(tokens[0])?, ident(tokens[2])?)
    } else {
        QualifiedName::new(DEFAULT_SCHEMA, ident(tokens[0])?)
    };
    Some((name, len))
}

/// Skip any of `keywords` at the start; returns the rest and the keywords seen (upper-cased).
pub fn skip_keywords<'a, 'b>(
    mut tokens: &'a [&'b Tok],
    keywords: &[&str],
) -> (&'a [&'b Tok], Vec<String>) {
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
pub fn starts_with(tokens: &[&Tok], keywords: &[&str]) -> bool {
    tokens.len() >= keywords.len()
        && keywords
            .iter()
            .zip(tokens)
            .all(|(keyword, token)| token.is_keyword(keyword))
}

/// A parenthesised list of plain identifiers at the start: `("a", b)`; `None` for anything else.
pub fn column_list(tokens: &[&Tok]) -> Option<(Vec<String>, usize)> {
    if tokens.first()?.token != Token::LParen {
        return None;
    }
    let mut columns = Vec::new();
    let mut i = 1;
    loop {
        columns.push(ident(tokens.get(i)?)?);
        match tokens.get(i + 1)?.token {
            Token::Comma => i += 2,
            Token::RParen => return Some((columns, i + 2)),
            _ => return None,
        }
    }
}

/// Length of a balanced parenthesised group at the start (`None` if it does not start with `(` or
/// never closes).
pub fn group_len(tokens: &[&Tok]) -> Option<usize> {
    if tokens.first()?.token != Token::LParen {
        return None;
    }
    let mut depth = 0usize;
    for (i, token) in tokens.iter().enumerate() {
        match token.token {
            Token::LParen => depth += 1,
            Token::RParen => {
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
pub fn normal_text(tokens: &[&Tok]) -> String {
    let mut text = String::new();
    let mut last_was_word = false;
    for token in tokens {
        let is_word = matches!(token.token, Token::Word(_) | Token::Number(..));
        // `TIMESTAMP(3) WITHOUT TIME ZONE`: a word after a closing parenthesis is spaced too.
        if is_word && (last_was_word || text.ends_with(')')) {
            text.push(' ');
        }
        match &token.token {
            Token::Word(w) if w.quote_style.is_none() => text.push_str(&w.value.to_uppercase()),
            other => text.push_str(&other.to_string()),
        }
        last_was_word = is_word;
    }
    text
}

/// Split at top-level commas (outside parentheses and brackets).
pub fn split_top_level<'a, 'b>(tokens: &'a [&'b Tok]) -> Vec<&'a [&'b Tok]> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, token) in tokens.iter().enumerate() {
        match token.token {
            Token::LParen | Token::LBracket => depth += 1,
            Token::RParen | Token::RBracket => depth -= 1,
            Token::Comma if depth == 0 => {
                parts.push(&tokens[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&tokens[start..]);
    parts
}
