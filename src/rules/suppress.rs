//! Inline suppression: `-- migrate-safe-ignore: <rule-id>[,<rule-id>...] <reason>` in the comment lines
//! directly above a statement (Prisma's `-- StepName` header may sit between). The reason is required:
//! a suppression without one, or naming an unknown rule, is reported instead of obeyed.

use std::collections::HashMap;

use crate::rules;
use crate::source::classify::Statement;
use crate::source::split::SplitFile;

pub const DIRECTIVE: &str = "migrate-safe-ignore:";

pub struct Suppressions {
    /// Statement index → rule ids silenced there.
    silenced: HashMap<usize, Vec<String>>,
    /// (line, column, message) of directives that were not obeyed.
    pub problems: Vec<(usize, usize, String)>,
}

impl Suppressions {
    pub fn read(text: &str, split: &SplitFile, statements: &[Statement]) -> Self {
        let mut silenced: HashMap<usize, Vec<String>> = HashMap::new();
        let mut problems = Vec::new();
        for (index, statement) in statements.iter().enumerate() {
            let piece = &split.pieces[statement.piece];
            let Some(start) = piece.statement.as_ref().map(|s| s.start) else {
                continue;
            };
            let above = &text[piece.bytes.start..start];
            // The contiguous comment lines right above the statement, nearest first.
            // `above` ends at the statement's first token: its last "line" is the statement line's indent.
            let mut lines = above.split('\n').rev();
            lines.next();
            let mut line = statement.line;
            let mut seen_comment = false;
            for comment in lines {
                line -= 1;
                let comment = comment.trim();
                if comment.is_empty() && !seen_comment {
                    continue; // blank lines between the comments and the statement
                }
                if !comment.starts_with("--") {
                    break;
                }
                seen_comment = true;
                let body = comment.trim_start_matches('-').trim();
                let Some(rest) = body.strip_prefix(DIRECTIVE) else {
                    continue;
                };
                let rest = rest.trim();
                let (ids, reason) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
                if reason.trim().is_empty() {
                    problems.push((line, 1, format!("`{DIRECTIVE} {ids}` has no reason, so it is not obeyed: say why the finding is acceptable")));
                    continue;
                }
                for id in ids.split(',').filter(|id| !id.is_empty()) {
                    if rules::rule(id).is_none() {
                        problems.push((
                            line,
                            1,
                            format!("`{DIRECTIVE}` names an unknown rule \"{id}\""),
                        ));
                    } else {
                        silenced.entry(index).or_default().push(id.to_string());
                    }
                }
            }
        }
        Suppressions { silenced, problems }
    }

    /// Whether `text` has any directive at all (most files have none: nothing to read).
    pub fn any_in(text: &str) -> bool {
        text.contains(DIRECTIVE)
    }

    pub fn silences(&self, statement: usize, rule: &str) -> bool {
        self.silenced
            .get(&statement)
            .is_some_and(|ids| ids.iter().any(|id| id == rule))
    }
}
