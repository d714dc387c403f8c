//! `ALTER TABLE` read from tokens: every operation that matters for locks, with its byte range.
//!
//! Prisma writes a few shapes (ADD COLUMN, DROP COLUMN, ALTER COLUMN .. SET DATA TYPE / SET NOT NULL,
//! ADD CONSTRAINT .. FOREIGN KEY / PRIMARY KEY, RENAME COLUMN, ...), thousands of times over a long
//! history: reading them from tokens is much cheaper than a full parse. An operation this reader does
//! not know makes it give up (`None`), and the parser decides.

use super::tokens::{
    column_list, group_len, name_at, normal_text, skip_keywords, split_top_level, starts_with,
};
use super::{AddColumn, Change, Fact, ForeignKey, TableChange};
use crate::source::names::QualifiedName;
use crate::source::split::{Lexeme, TokenKind};

/// Keywords that end a column's type in a column definition.
const COLUMN_CONSTRAINT_KEYWORDS: &[&str] = &[
    "NOT",
    "NULL",
    "DEFAULT",
    "CONSTRAINT",
    "PRIMARY",
    "UNIQUE",
    "CHECK",
    "REFERENCES",
    "GENERATED",
    "COLLATE",
    "STORAGE",
    "COMPRESSION",
];

/// Functions whose value differs per row: a default calling one is evaluated for every existing row,
/// so `ADD COLUMN` rewrites the table.
pub(super) const VOLATILE_FUNCTIONS: &[&str] = &[
    "gen_random_uuid",
    "uuid_generate_v1",
    "uuid_generate_v1mc",
    "uuid_generate_v4",
    "random",
    "clock_timestamp",
    "timeofday",
    "nextval",
    "gen_random_bytes",
    "txid_current",
];

pub fn read(tokens: &[Lexeme<'_>]) -> Option<Fact> {
    let (rest, _) = skip_keywords(tokens.get(2..)?, &["IF", "EXISTS", "ONLY"]);
    let (table, len) = name_at(rest)?;
    let mut rest = &rest[len..];
    if rest.first().is_some_and(|t| t.kind == TokenKind::Mul) {
        rest = &rest[1..];
    }
    if rest.is_empty() {
        return None;
    }
    let changes = split_top_level(rest)
        .into_iter()
        .map(|operation| {
            let first = operation.first()?;
            let last = operation.last()?;
            Some(Change {
                bytes: first.bytes.start..last.bytes.end,
                line: first.line(),
                column: first.column(),
                kind: operation_kind(&table, operation)?,
            })
        })
        .collect::<Option<Vec<_>>>()?;
    Some(Fact::AlterTable { table, changes })
}

fn operation_kind(table: &QualifiedName, op: &[Lexeme<'_>]) -> Option<TableChange> {
    let keyword = |i: usize| op.get(i).and_then(|t| t.keyword());
    match keyword(0)?.as_str() {
        "ADD" => {
            if op.get(1)?.is_keyword("CONSTRAINT") {
                let name = op.get(2)?.ident()?;
                table_constraint(Some(name), &op[3..])
            } else if matches!(
                keyword(1).as_deref(),
                Some("FOREIGN" | "CHECK" | "UNIQUE" | "PRIMARY")
            ) {
                table_constraint(None, &op[1..])
            } else if matches!(keyword(1).as_deref(), Some("EXCLUDE")) {
                None
            } else {
                let (rest, _) = skip_keywords(&op[1..], &["COLUMN"]);
                let (rest, _) = skip_keywords(rest, &["IF", "NOT", "EXISTS"]);
                Some(TableChange::AddColumn(column_definition(rest)?))
            }
        }
        "DROP" => {
            if op.get(1)?.is_keyword("CONSTRAINT") {
                let (rest, _) = skip_keywords(&op[2..], &["IF", "EXISTS"]);
                Some(TableChange::DropConstraint {
                    name: rest.first()?.ident()?,
                })
            } else {
                let (rest, _) = skip_keywords(&op[1..], &["COLUMN"]);
                let (rest, _) = skip_keywords(rest, &["IF", "EXISTS"]);
                let column = rest.first()?.ident()?;
                let (rest, _) = skip_keywords(&rest[1..], &["CASCADE", "RESTRICT"]);
                rest.is_empty()
                    .then_some(TableChange::DropColumn { column })
            }
        }
        "ALTER" => {
            let (rest, _) = skip_keywords(&op[1..], &["COLUMN"]);
            let column = rest.first()?.ident()?;
            let rest = &rest[1..];
            if starts_with(rest, &["SET", "NOT", "NULL"]) && rest.len() == 3 {
                Some(TableChange::SetNotNull { column })
            } else if starts_with(rest, &["TYPE"]) || starts_with(rest, &["SET", "DATA", "TYPE"]) {
                let rest = if rest[0].is_keyword("TYPE") {
                    &rest[1..]
                } else {
                    &rest[3..]
                };
                let end = rest
                    .iter()
                    .position(|t| t.is_keyword("USING") || t.is_keyword("COLLATE"))
                    .unwrap_or(rest.len());
                Some(TableChange::AlterColumnType {
                    column,
                    data_type: normal_text(&rest[..end]),
                    using: rest.iter().any(|t| t.is_keyword("USING")),
                })
            } else if starts_with(rest, &["DROP", "NOT", "NULL"])
                || starts_with(rest, &["SET", "DEFAULT"])
                || starts_with(rest, &["DROP", "DEFAULT"])
                || starts_with(rest, &["SET", "STATISTICS"])
            {
                Some(TableChange::Other)
            } else {
                None
            }
        }
        "RENAME" => {
            if op.get(1)?.is_keyword("TO") && op.len() == 3 {
                let (renamed, _) = name_at(&op[2..])?;
                Some(TableChange::RenameTo {
                    table: table.sibling(renamed.name),
                })
            } else if op.get(1)?.is_keyword("CONSTRAINT") {
                Some(TableChange::Other)
            } else {
                let (rest, _) = skip_keywords(&op[1..], &["COLUMN"]);
                (rest.len() == 3 && rest[1].is_keyword("TO")).then(|| {
                    Some(TableChange::RenameColumn {
                        from: rest[0].ident()?,
                        to: rest[2].ident()?,
                    })
                })?
            }
        }
        "VALIDATE" if op.len() == 3 && op[1].is_keyword("CONSTRAINT") => {
            Some(TableChange::ValidateConstraint {
                name: op[2].ident()?,
            })
        }
        "SET" if op.len() == 3 && op[1].is_keyword("SCHEMA") => Some(TableChange::RenameTo {
            table: QualifiedName::new(op[2].ident()?, table.name.clone()),
        }),
        "OWNER" | "ENABLE" | "DISABLE" | "FORCE" | "NO" | "REPLICA" => Some(TableChange::Other),
        _ => None,
    }
}

/// A table constraint after its optional `CONSTRAINT name`.
fn table_constraint(name: Option<String>, op: &[Lexeme<'_>]) -> Option<TableChange> {
    // `NOT VALID` (and the deferrability clauses) come last; the constraint proper ends before them.
    let not_valid = op.len() >= 2
        && op[op.len() - 2..]
            .iter()
            .zip(["NOT", "VALID"])
            .all(|(t, k)| t.is_keyword(k));
    let body = if not_valid { &op[..op.len() - 2] } else { op };
    let not_valid_at = body.last()?.bytes.end;
    match op.first()?.keyword()?.as_str() {
        "FOREIGN" => {
            if !op.get(1)?.is_keyword("KEY") {
                return None;
            }
            let (columns, len) = column_list(&op[2..])?;
            let rest = &op[2 + len..];
            if !rest.first()?.is_keyword("REFERENCES") {
                return None;
            }
            let (referenced_table, len) = name_at(&rest[1..])?;
            let referenced_columns = column_list(&rest[1 + len..])
                .map(|(columns, _)| columns)
                .unwrap_or_default();
            Some(TableChange::AddForeignKey(ForeignKey {
                name,
                columns,
                referenced_table,
                referenced_columns,
                not_valid,
                not_valid_at,
            }))
        }
        "CHECK" => {
            group_len(&op[1..])?;
            Some(TableChange::AddCheck {
                name,
                not_valid,
                not_valid_at,
            })
        }
        "UNIQUE" | "PRIMARY" => {
            let primary = op[0].is_keyword("PRIMARY");
            let rest = if primary {
                op.get(1)?.is_keyword("KEY").then(|| &op[2..])?
            } else {
                &op[1..]
            };
            let (rest, _) = skip_keywords(rest, &["NULLS", "NOT", "DISTINCT"]);
            if starts_with(rest, &["USING", "INDEX"]) {
                return Some(TableChange::AddKey {
                    name,
                    primary,
                    columns: None,
                    using_index: Some(rest.get(2)?.ident()?),
                });
            }
            let (columns, _) = column_list(rest)?;
            Some(TableChange::AddKey {
                name,
                primary,
                columns: Some(columns),
                using_index: None,
            })
        }
        _ => None,
    }
}

/// `name type [constraints...]` of a column definition.
pub fn column_definition(tokens: &[Lexeme<'_>]) -> Option<AddColumn> {
    let column = tokens.first()?.ident()?;
    let rest = &tokens[1..];
    let type_end = type_end(rest);
    if type_end == 0 {
        return None;
    }
    let data_type = normal_text(&rest[..type_end]);
    let constraints = &rest[type_end..];
    let default = constraints
        .iter()
        .position(|t| t.is_keyword("DEFAULT"))
        .map(|at| {
            let expression = &constraints[at + 1..];
            let end = expression
                .iter()
                .position(|t| {
                    COLUMN_CONSTRAINT_KEYWORDS
                        .iter()
                        .any(|k| *k != "NULL" && t.is_keyword(k))
                })
                .unwrap_or(expression.len());
            &expression[..end]
        });
    let rewrites = rewrite_reason(&data_type, default, constraints);
    let default_bytes = default.and_then(|d| Some(d.first()?.bytes.start..d.last()?.bytes.end));
    // What is left once the default's expression is taken out: NOT NULL / NULL only, or more.
    let other_constraints = constraints.iter().enumerate().any(|(i, t)| {
        let in_default = default_bytes
            .as_ref()
            .is_some_and(|d| t.bytes.start >= d.start && t.bytes.end <= d.end);
        !(in_default
            || t.is_keyword("DEFAULT")
            || t.is_keyword("NULL")
            || (t.is_keyword("NOT")
                && constraints.get(i + 1).is_some_and(|n| n.is_keyword("NULL"))))
    });
    Some(AddColumn {
        column,
        type_end: rest[type_end - 1].bytes.end,
        default_bytes,
        other_constraints,
        data_type,
        default: default.map(normal_text),
        not_null: constraints
            .windows(2)
            .any(|w| w[0].is_keyword("NOT") && w[1].is_keyword("NULL")),
        rewrites,
    })
}

/// Where a column's type ends: at the first column-constraint keyword outside parentheses.
fn type_end(tokens: &[Lexeme<'_>]) -> usize {
    let mut depth = 0i32;
    for (i, token) in tokens.iter().enumerate() {
        match token.kind {
            TokenKind::LParen | TokenKind::LBracket => depth += 1,
            TokenKind::RParen | TokenKind::RBracket => depth -= 1,
            _ if depth == 0
                && COLUMN_CONSTRAINT_KEYWORDS
                    .iter()
                    .any(|k| token.is_keyword(k)) =>
            {
                return i;
            }
            _ => {}
        }
    }
    tokens.len()
}

/// Why adding this column rewrites the whole table, if it does.
fn rewrite_reason(
    data_type: &str,
    default: Option<&[Lexeme<'_>]>,
    constraints: &[Lexeme<'_>],
) -> Option<String> {
    if matches!(
        data_type,
        "SERIAL" | "BIGSERIAL" | "SMALLSERIAL" | "SERIAL4" | "SERIAL8" | "SERIAL2"
    ) {
        return Some(format!(
            "a {data_type} column fills every existing row from a sequence"
        ));
    }
    if let Some(position) = constraints.iter().position(|t| t.is_keyword("GENERATED")) {
        let rest = &constraints[position..];
        if rest.iter().any(|t| t.is_keyword("IDENTITY")) {
            return Some("an identity column fills every existing row from a sequence".into());
        }
        if rest.iter().any(|t| t.is_keyword("STORED")) {
            return Some("a stored generated column is computed for every existing row".into());
        }
    }
    let default = default?;
    default.windows(2).find_map(|w| {
        let function = w[0].ident()?.to_lowercase();
        (w[1].kind == TokenKind::LParen && VOLATILE_FUNCTIONS.contains(&function.as_str()))
            .then(|| format!("the default calls {function}(), a volatile function evaluated for every existing row"))
    })
}
