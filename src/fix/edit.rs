//! Edits as byte ranges on the original text.

use std::ops::Range;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub range: Range<usize>,
    pub replacement: String,
}

impl Edit {
    pub fn insert(at: usize, text: impl Into<String>) -> Self {
        Edit {
            range: at..at,
            replacement: text.into(),
        }
    }

    pub fn replace(range: Range<usize>, text: impl Into<String>) -> Self {
        Edit {
            range,
            replacement: text.into(),
        }
    }

    pub fn delete(range: Range<usize>) -> Self {
        Edit {
            range,
            replacement: String::new(),
        }
    }
}

/// Apply non-overlapping edits to `text`. Edits are sorted here; an overlap is a bug in the caller.
pub fn apply(text: &str, edits: &[Edit]) -> String {
    let mut sorted: Vec<&Edit> = edits.iter().collect();
    sorted.sort_by_key(|e| (e.range.start, e.range.end));
    let mut out = String::with_capacity(text.len() + 64);
    let mut cursor = 0;
    for edit in sorted {
        assert!(
            edit.range.start >= cursor,
            "overlapping edits at byte {}",
            edit.range.start
        );
        out.push_str(&text[cursor..edit.range.start]);
        out.push_str(&edit.replacement);
        cursor = edit.range.end;
    }
    out.push_str(&text[cursor..]);
    out
}

/// Apply the edits that fall inside `range` to that slice of `text` only.
pub fn apply_within(text: &str, range: Range<usize>, edits: &[Edit]) -> String {
    let local: Vec<Edit> = edits
        .iter()
        .filter(|e| e.range.start >= range.start && e.range.end <= range.end)
        .map(|e| Edit {
            range: e.range.start - range.start..e.range.end - range.start,
            replacement: e.replacement.clone(),
        })
        .collect();
    apply(&text[range], &local)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn applies_in_any_order() {
        let edits = [
            Edit::insert(5, "!"),
            Edit::delete(0..1),
            Edit::insert(3, "-"),
        ];
        assert_eq!(apply("abcdef", &edits), "bc-de!f");
    }

    #[test]
    fn within_rebases_edits() {
        let edits = [Edit::insert(4, " X"), Edit::insert(1, "never")];
        assert_eq!(apply_within("ab cd ef", 3..5, &edits), "c Xd");
    }
}
