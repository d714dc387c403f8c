//! Text that leaves migrate-safe in another language's context, escaped for that context: shell
//! commands a person pastes, SQL line comments in generated files. (Identifiers in SQL are quoted by
//! [`crate::source::names::quote`]; JSON and SARIF by serde.)

use std::borrow::Cow;

/// `word` as one shell word (POSIX quoting): left as it is when it is plain, else single-quoted, so a
/// folder named `$(rm -rf ~)` is an argument when pasted, never a command.
pub fn shell(word: &str) -> Cow<'_, str> {
    // A NUL cannot be in a file name or an argument: shown escaped so nothing is lost.
    if word.contains('\0') {
        return Cow::Owned(
            shlex::try_quote(&word.replace('\0', "\\0"))
                .map_or_else(|_| String::from("''"), Cow::into_owned),
        );
    }
    shlex::try_quote(word).unwrap_or(Cow::Borrowed("''"))
}

/// `text` made safe for a SQL line comment (`-- ...`): a line break or other control character inside
/// an identifier would end the comment and turn the rest into SQL. Each such character becomes
/// `\u{XXXX}` and a backslash `\\`, which [`unescape_comment`] reverses.
pub fn comment(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            c if needs_escape(c) => out.push_str(&format!("\\u{{{:04X}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Escaped in a comment: control characters (PostgreSQL ends a line comment at `\n` or `\r`; editors
/// also break lines at U+2028/U+2029), and a backslash once anything else is.
fn needs_escape(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}')
}

/// The text [`comment`] escaped. A backslash that starts no escape is kept as it is (comments
/// written before escaping existed).
pub fn unescape_comment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('\\') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(tail) = after.strip_prefix('\\') {
            out.push('\\');
            rest = tail;
        } else if let Some(hex) = after.strip_prefix("u{")
            && let Some(end) = hex.find('}')
            && let Some(c) = u32::from_str_radix(&hex[..end], 16)
                .ok()
                .and_then(char::from_u32)
        {
            out.push(c);
            rest = &hex[end + 1..];
        } else {
            out.push('\\');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_words_are_quoted_only_when_they_must_be() {
        assert_eq!(
            shell("20240101000000_add_users"),
            "20240101000000_add_users"
        );
        assert_eq!(
            shell("20240126184148_new_models copy"),
            "'20240126184148_new_models copy'"
        );
        assert_eq!(shell("x$(touch pwned)"), "'x$(touch pwned)'");
        assert_eq!(shell("it's"), "\"it's\"");
        // Whatever quoting shlex picks, a shell reads the word back unchanged and runs nothing.
        for word in ["it's $(touch pwned)", "a`b`c", "x\"$HOME\"'", "~root", "!x"] {
            let quoted = shell(word);
            let echoed = std::process::Command::new("sh")
                .arg("-c")
                .arg(format!("printf %s {quoted}"))
                .output()
                .unwrap();
            assert_eq!(String::from_utf8_lossy(&echoed.stdout), word, "{quoted}");
        }
    }

    #[test]
    fn comments_cannot_be_broken_out_of_and_round_trip() {
        let name = "evil\nDROP TABLE canary;\r\n--\\x";
        let escaped = comment(name);
        assert!(
            !escaped.contains('\n') && !escaped.contains('\r'),
            "{escaped}"
        );
        assert_eq!(
            escaped,
            "evil\\u{000A}DROP TABLE canary;\\u{000D}\\u{000A}--\\\\x"
        );
        assert_eq!(unescape_comment(&escaped), name);
        assert_eq!(comment("plain \"name\""), "plain \"name\"");
        assert_eq!(unescape_comment("old\\name"), "old\\name");
    }
}
