//! A bulk `UPDATE` / `DELETE` read closely enough to run it in batches (`data-backfill`'s fix): its
//! parts as written, or why it cannot be batched without changing what it does.
//!
//! Read from tokens: the parts are kept as the user wrote them (comments, casts, quoting) and put back
//! into the batches and the trigger unchanged; what is checked is only what batching could change —
//! a value that differs from one batch to the next, a statement that reads rows earlier batches wrote,
//! a value that depends on the column it sets (a rerun would apply it twice), rows returned.

use super::alter_table::VOLATILE_FUNCTIONS;
use super::tokens::{name_at, skip_keywords};
use crate::source::names::QualifiedName;
use crate::source::split::{Lexeme, TokenKind, split};

/// The parts of a batchable `UPDATE` or `DELETE`, each as written.
#[derive(Debug, Clone, PartialEq)]
pub struct BackfillShape {
    pub table: QualifiedName,
    pub delete: bool,
    /// The table as written (`"Post"`, `public."Post"`).
    pub relation: String,
    /// The alias as written (`p` of `UPDATE "Post" p`).
    pub alias: Option<String>,
    pub assignments: Vec<Assignment>,
    /// The other tables: an UPDATE's `FROM ..`, a DELETE's `USING ..`.
    pub from: Option<String>,
    /// The `WHERE` condition.
    pub condition: Option<String>,
    /// Every name the statement mentions (folded): what a later statement must leave alone.
    pub names: Vec<String>,
}

/// `column = value`.
#[derive(Debug, Clone, PartialEq)]
pub struct Assignment {
    /// Folded, as PostgreSQL resolves it.
    pub column: String,
    /// As written.
    pub target: String,
    pub value: String,
}

impl BackfillShape {
    /// What the table's columns are qualified with inside the statement: the alias, else the table.
    pub fn qualifier(&self) -> &str {
        self.alias.as_deref().unwrap_or(&self.relation)
    }
}

/// Functions whose value differs between batches (or between the batches and the trigger), beside
/// the per-row volatile ones a default is judged by ([`VOLATILE_FUNCTIONS`]): the original's single
/// statement saw one value.
const ALSO_VARYING: &[&str] = &[
    "uuidv4",
    "uuidv7",
    "now",
    "statement_timestamp",
    "transaction_timestamp",
    "age",
    "setval",
    "currval",
    "lastval",
    "pg_current_xact_id",
    "pg_backend_pid",
    "set_config",
    "pg_sleep",
];

fn varies(function: &str) -> bool {
    VOLATILE_FUNCTIONS.contains(&function) || ALSO_VARYING.contains(&function)
}

/// Keywords that read the clock without parentheses.
const CLOCK_KEYWORDS: &[&str] = &[
    "CURRENT_TIMESTAMP",
    "CURRENT_DATE",
    "CURRENT_TIME",
    "LOCALTIME",
    "LOCALTIMESTAMP",
];

/// Built-in functions (and keywords written like calls) that give the same value for the same row in
/// every batch. A function not here may be the application's own, whose volatility is not known.
const STEADY: &[&str] = &[
    // Keywords followed by a parenthesis.
    "in",
    "exists",
    "any",
    "all",
    "some",
    "cast",
    "row",
    "array",
    "values",
    "and",
    "or",
    "not",
    "select",
    "where",
    "on",
    "then",
    "else",
    "when",
    "is",
    "as",
    "from",
    "join",
    "using",
    "lateral",
    "filter",
    "over",
    "coalesce",
    "nullif",
    "greatest",
    "least",
    "extract",
    "position",
    "substring",
    "overlay",
    "trim",
    "like",
    "ilike",
    "similar",
    "by",
    "case",
    "distinct",
    "interval",
    "with",
    "between",
    "set",
    "group",
    "having",
    "limit",
    "union",
    "except",
    "intersect",
    "if",
    // Strings.
    "lower",
    "upper",
    "initcap",
    "concat",
    "concat_ws",
    "length",
    "char_length",
    "character_length",
    "octet_length",
    "substr",
    "left",
    "right",
    "replace",
    "translate",
    "btrim",
    "ltrim",
    "rtrim",
    "lpad",
    "rpad",
    "split_part",
    "regexp_replace",
    "regexp_match",
    "regexp_matches",
    "regexp_split_to_array",
    "regexp_substr",
    "strpos",
    "starts_with",
    "md5",
    "sha256",
    "encode",
    "decode",
    "format",
    "reverse",
    "repeat",
    "ascii",
    "chr",
    "quote_ident",
    "quote_literal",
    "quote_nullable",
    "string_to_array",
    "array_to_string",
    "unaccent",
    "normalize",
    // Numbers and dates (from values, not the clock).
    "abs",
    "round",
    "floor",
    "ceil",
    "ceiling",
    "trunc",
    "mod",
    "power",
    "sqrt",
    "sign",
    "div",
    "to_char",
    "to_number",
    "to_date",
    "to_timestamp",
    "date_trunc",
    "date_part",
    "make_date",
    "make_time",
    "make_timestamp",
    "make_timestamptz",
    "make_interval",
    "date_bin",
    "timezone",
    "justify_days",
    "justify_hours",
    "justify_interval",
    "isfinite",
    // JSON and arrays.
    "json_build_object",
    "jsonb_build_object",
    "json_build_array",
    "jsonb_build_array",
    "to_json",
    "to_jsonb",
    "jsonb_set",
    "jsonb_insert",
    "jsonb_strip_nulls",
    "json_strip_nulls",
    "json_agg",
    "jsonb_agg",
    "json_object_agg",
    "jsonb_object_agg",
    "jsonb_array_length",
    "json_array_length",
    "jsonb_extract_path",
    "jsonb_extract_path_text",
    "json_extract_path",
    "json_extract_path_text",
    "jsonb_typeof",
    "json_typeof",
    "jsonb_array_elements",
    "jsonb_array_elements_text",
    "json_array_elements",
    "jsonb_each",
    "jsonb_object_keys",
    "array_agg",
    "array_append",
    "array_prepend",
    "array_cat",
    "array_remove",
    "array_replace",
    "array_length",
    "array_position",
    "array_positions",
    "cardinality",
    "unnest",
    "string_agg",
    "count",
    "sum",
    "min",
    "max",
    "avg",
    "bool_and",
    "bool_or",
    "every",
    "row_number",
    "rank",
    "dense_rank",
];

/// Read `sql` (one statement, with or without its `;`) as a batchable backfill, or say why it is not one.
pub fn read_backfill(sql: &str) -> Result<BackfillShape, String> {
    let split = split(sql).map_err(|e| e.message)?;
    let tokens: Vec<Lexeme<'_>> = split
        .tokens
        .iter()
        .filter(|t| !t.is_trivia() && t.kind != TokenKind::SemiColon)
        .map(|t| Lexeme::new(sql, t))
        .collect();
    let text = |part: &[Lexeme<'_>]| -> Option<String> {
        let (first, last) = (part.first()?, part.last()?);
        Some(sql[first.bytes.start..last.bytes.end].to_string())
    };
    let (delete, rest) = match tokens.first().and_then(|t| t.keyword()).as_deref() {
        Some("UPDATE") => (false, &tokens[1..]),
        Some("DELETE") if tokens.get(1).is_some_and(|t| t.is_keyword("FROM")) => {
            (true, &tokens[2..])
        }
        _ => return Err("not a plain UPDATE or DELETE (a WITH query, an INSERT)".into()),
    };
    let (rest, _) = skip_keywords(rest, &["ONLY"]);
    let (table, len) = name_at(rest).ok_or("its table name could not be read")?;
    let relation = text(&rest[..len]).unwrap_or_default();
    let mut rest = &rest[len..];
    if rest.first().is_some_and(|t| t.kind == TokenKind::Mul) {
        rest = &rest[1..];
    }
    let clause_words: &[&str] = if delete {
        &["USING", "WHERE", "RETURNING"]
    } else {
        &["SET"]
    };
    let mut alias = None;
    if rest.first().is_some_and(|t| t.is_keyword("AS")) {
        rest = &rest[1..];
    }
    if let Some(word) = rest
        .first()
        .filter(|t| t.is_word() && !clause_words.iter().any(|k| t.is_keyword(k)))
    {
        alias = Some(word.text.to_string());
        rest = &rest[1..];
    }
    // The clauses, each up to the next clause word at the top level.
    let clauses = clauses(rest, &["SET", "FROM", "USING", "WHERE", "RETURNING"]);
    let clause = |word: &str| clauses.iter().find(|(w, _)| *w == word).map(|(_, p)| *p);
    if clause("RETURNING").is_some() {
        return Err("it has RETURNING: the rows it returns go to whoever runs the migration, which batches cannot reproduce".into());
    }
    let starts_clause = rest.first().map(|t| {
        ["SET", "FROM", "USING", "WHERE", "RETURNING"]
            .iter()
            .any(|k| t.is_keyword(k))
    });
    if starts_clause == Some(false) || (!delete && clauses.first().map(|c| c.0) != Some("SET")) {
        return Err("its clauses could not be read".into());
    }
    let mut assignments = Vec::new();
    if !delete {
        let set = clause("SET").ok_or("it has no SET")?;
        for part in super::tokens::split_top_level(set) {
            assignments.push(assignment(part, &text)?);
        }
    }
    let from = clause(if delete { "USING" } else { "FROM" });
    let condition = clause("WHERE");
    if condition.is_some_and(|c| c.first().is_some_and(|t| t.is_keyword("CURRENT"))) {
        return Err("it is WHERE CURRENT OF a cursor".into());
    }
    // What is checked: everything after the table and its alias.
    let alias_ident = alias.as_deref().map(folded_alias);
    let checked: Vec<&[Lexeme<'_>]> = clauses.iter().map(|(_, part)| *part).collect();
    for part in &checked {
        steady(part)?;
        reads_own_table(part, &table)?;
    }
    if !delete {
        let set_columns: Vec<&str> = assignments.iter().map(|a| a.column.as_str()).collect();
        let own = [Some(table.name.as_str()), alias_ident.as_deref()];
        for part in super::tokens::split_top_level(clause("SET").unwrap_or_default()) {
            if let Some(column) = reads_set_column(&part[2..], &set_columns, &own) {
                return Err(format!(
                    "the value it sets reads {} (a column it sets): a batch run again after a failure would apply it twice",
                    crate::source::names::quote(column)
                ));
            }
        }
    }
    let mut names: Vec<String> = checked
        .iter()
        .flat_map(|part| part.iter().filter_map(|t| t.ident()))
        .collect();
    names.push(table.name.clone());
    names.sort();
    names.dedup();
    Ok(BackfillShape {
        table,
        delete,
        relation,
        alias,
        assignments,
        from: from.and_then(&text),
        condition: condition.and_then(&text),
        names,
    })
}

/// The alias as PostgreSQL resolves it.
fn folded_alias(alias: &str) -> String {
    match alias.strip_prefix('"').and_then(|a| a.strip_suffix('"')) {
        Some(quoted) => quoted.replace("\"\"", "\""),
        None => alias.to_lowercase(),
    }
}

/// Split `tokens` at each top-level clause word: `(word, its tokens)`. `IS DISTINCT FROM` is not a
/// clause.
fn clauses<'a, 'b>(
    tokens: &'a [Lexeme<'b>],
    words: &[&'static str],
) -> Vec<(&'static str, &'a [Lexeme<'b>])> {
    let mut found: Vec<(&'static str, usize)> = Vec::new();
    let mut depth = 0i32;
    for (i, token) in tokens.iter().enumerate() {
        match token.kind {
            TokenKind::LParen | TokenKind::LBracket => depth += 1,
            TokenKind::RParen | TokenKind::RBracket => depth -= 1,
            TokenKind::Word if depth == 0 => {
                let after_distinct = i > 0 && tokens[i - 1].is_keyword("DISTINCT");
                if let Some(word) = words.iter().find(|w| token.is_keyword(w))
                    && !(after_distinct && *word == "FROM")
                {
                    found.push((word, i));
                }
            }
            _ => {}
        }
    }
    found
        .iter()
        .enumerate()
        .map(|(n, &(word, at))| {
            let end = found.get(n + 1).map_or(tokens.len(), |next| next.1);
            (word, &tokens[at + 1..end])
        })
        .collect()
}

fn assignment(
    part: &[Lexeme<'_>],
    text: &impl Fn(&[Lexeme<'_>]) -> Option<String>,
) -> Result<Assignment, String> {
    let first = part.first().ok_or("an empty SET item")?;
    if first.kind == TokenKind::LParen {
        return Err("it sets several columns at once ((a, b) = ..)".into());
    }
    let column = first.ident().ok_or("a SET item could not be read")?;
    let Some(equals) = part.get(1) else {
        return Err("a SET item could not be read".into());
    };
    if equals.text != "=" {
        return Err(format!(
            "it sets a field or an element of {} rather than the column",
            crate::source::names::quote(&column)
        ));
    }
    let value = &part[2..];
    if value.len() == 1 && value[0].is_keyword("DEFAULT") {
        return Err("it sets a column to DEFAULT".into());
    }
    Ok(Assignment {
        column,
        target: first.text.to_string(),
        value: text(value).ok_or("a SET item has no value")?,
    })
}

/// A value that differs between batches: a clock, a random value, a sequence, or a function whose
/// volatility is not known.
fn steady(part: &[Lexeme<'_>]) -> Result<(), String> {
    for (i, token) in part.iter().enumerate() {
        if token.kind == TokenKind::Word && CLOCK_KEYWORDS.iter().any(|k| token.is_keyword(k)) {
            return Err(format!(
                "it reads the clock ({}): each batch would see its own time where the original saw one",
                token.text
            ));
        }
        if !token.is_word() || part.get(i + 1).is_none_or(|t| t.kind != TokenKind::LParen) {
            continue;
        }
        // A type's modifier (`::varchar(10)`, `AS numeric(10, 2)`) is not a call.
        if i > 0 && (part[i - 1].text == "::" || part[i - 1].is_keyword("AS")) {
            continue;
        }
        let name = token.ident().unwrap_or_default();
        if varies(&name) {
            return Err(format!(
                "it calls {name}(), whose value differs from one batch to the next where the original saw one"
            ));
        }
        if !STEADY.contains(&name.as_str()) {
            return Err(format!(
                "it calls {name}(), which migrate-safe does not know to give the same value in every batch"
            ));
        }
    }
    Ok(())
}

/// The table used as a relation (in a FROM or a subquery), not as a qualifier of a column.
fn reads_own_table(part: &[Lexeme<'_>], table: &QualifiedName) -> Result<(), String> {
    for (i, token) in part.iter().enumerate() {
        let qualifies = part.get(i + 1).is_some_and(|t| t.kind == TokenKind::Period);
        if !qualifies && token.is_word() && token.ident().as_deref() == Some(table.name.as_str()) {
            return Err(format!(
                "it reads other rows of {} (line {} of the statement): a batch would see what earlier batches wrote",
                crate::source::names::quote(&table.name),
                token.line()
            ));
        }
    }
    Ok(())
}

/// A column of `set_columns` read by a value: unqualified, or qualified with the table or its alias.
fn reads_set_column<'c>(
    value: &[Lexeme<'_>],
    set_columns: &[&'c str],
    own: &[Option<&str>],
) -> Option<&'c str> {
    value.iter().enumerate().find_map(|(i, token)| {
        let name = token.ident()?;
        let column = set_columns.iter().find(|c| **c == name)?;
        if value
            .get(i + 1)
            .is_some_and(|t| t.kind == TokenKind::Period)
        {
            return None;
        }
        let qualifier = (i >= 2 && value[i - 1].kind == TokenKind::Period)
            .then(|| value[i - 2].ident())
            .flatten();
        match qualifier {
            None => Some(*column),
            Some(q) if own.contains(&Some(q.as_str())) => Some(*column),
            Some(_) => None,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::read_backfill;

    fn reason(sql: &str) -> String {
        read_backfill(sql).expect_err("not batchable")
    }

    #[test]
    fn reads_the_parts_as_written() {
        let shape = read_backfill(
            "UPDATE \"Post\" AS p SET \"slug\" = lower(p.\"title\") || '-' || p.id, \"n\" = 1 FROM \"User\" u WHERE u.id = p.\"authorId\" AND p.\"slug\" IS DISTINCT FROM NULL",
        )
        .unwrap();
        assert_eq!(shape.relation, "\"Post\"");
        assert_eq!(shape.alias.as_deref(), Some("p"));
        assert_eq!(shape.qualifier(), "p");
        assert_eq!(shape.assignments.len(), 2);
        assert_eq!(shape.assignments[0].column, "slug");
        assert_eq!(
            shape.assignments[0].value,
            "lower(p.\"title\") || '-' || p.id"
        );
        assert_eq!(shape.from.as_deref(), Some("\"User\" u"));
        assert_eq!(
            shape.condition.as_deref(),
            Some("u.id = p.\"authorId\" AND p.\"slug\" IS DISTINCT FROM NULL")
        );
        let delete = read_backfill(
            "DELETE FROM votes v WHERE NOT EXISTS (SELECT 1 FROM polls p WHERE p.id = v.poll_id)",
        )
        .unwrap();
        assert!(delete.delete);
        assert_eq!(delete.alias.as_deref(), Some("v"));
        assert!(delete.names.contains(&"polls".to_string()));
    }

    #[test]
    fn says_why_a_shape_cannot_be_batched() {
        assert!(reason("UPDATE t SET c = now()").contains("now()"));
        assert!(reason("UPDATE t SET c = CURRENT_TIMESTAMP").contains("clock"));
        assert!(reason("UPDATE t SET c = my_fn(d)").contains("my_fn()"));
        assert!(reason("UPDATE t SET n = n + 1").contains("\"n\""));
        assert!(reason("UPDATE t AS x SET n = x.n + 1").contains("\"n\""));
        assert!(reason("UPDATE t SET c = 1 RETURNING id").contains("RETURNING"));
        assert!(reason("UPDATE t SET c = (SELECT max(c) FROM t)").contains("other rows"));
        assert!(reason("UPDATE t SET (a, b) = (1, 2)").contains("several columns"));
        assert!(reason("UPDATE t SET c = DEFAULT").contains("DEFAULT"));
        // Reading another table's column of the same name is fine; a cast's modifier is not a call.
        assert!(
            read_backfill("UPDATE t SET n = o.n::varchar(10) FROM o WHERE o.id = t.id").is_ok()
        );
        assert!(read_backfill("UPDATE t SET c = 'x' WHERE a IS DISTINCT FROM b").is_ok());
    }
}
