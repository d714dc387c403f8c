//! Turn each statement into a small typed fact.
//!
//! sqlparser parses the statement when it can (and must consume every token: `parse_statement` can stop
//! early); a few shapes it rejects (`DROP INDEX CONCURRENTLY`, `CREATE INDEX .. ON ONLY`, `ALTER TABLE ..
//! SET SCHEMA`) are recognised from tokens. Anything else is `Unanalysed`, never guessed.

use serde::Serialize;
use sqlparser::ast::{
    AlterIndexOperation, AlterTableOperation, Expr, ObjectType, RenameTableNameKind,
    Statement as Ast, TableConstraint,
};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Token, TokenWithSpan};

use super::names::{QualifiedName, fold};
use super::split::{Piece, SplitFile, Tok};

/// What a statement does, as far as lock safety is concerned.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fact {
    CreateTable {
        table: QualifiedName,
    },
    DropTables {
        tables: Vec<QualifiedName>,
    },
    AlterTable {
        table: QualifiedName,
        changes: Vec<TableChange>,
    },
    CreateIndex(CreateIndex),
    DropIndexes {
        indexes: Vec<QualifiedName>,
        concurrently: bool,
    },
    RenameIndex {
        from: QualifiedName,
        to: QualifiedName,
    },
    /// `BEGIN` / `START TRANSACTION`.
    Begin,
    /// `COMMIT` / `END` / `ROLLBACK`.
    Commit,
    /// Parsed, and nothing this tool acts on (INSERT, CREATE TYPE, ...).
    Other,
    /// The parser could not read it: passed through untouched and reported.
    Unanalysed {
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum TableChange {
    RenameTo { table: QualifiedName },
    AddForeignKey(ForeignKey),
    ValidateConstraint { name: String },
    Other,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ForeignKey {
    pub name: Option<String>,
    pub columns: Vec<String>,
    pub referenced_table: QualifiedName,
    pub referenced_columns: Vec<String>,
    pub not_valid: bool,
    /// Byte offset (in the file) where ` NOT VALID` belongs: right after the constraint's last token.
    #[serde(skip)]
    pub not_valid_at: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CreateIndex {
    pub name: Option<QualifiedName>,
    pub table: QualifiedName,
    pub unique: bool,
    pub concurrently: bool,
    pub if_not_exists: bool,
    /// Plain column names, when every key is a plain column (used to match foreign keys).
    pub columns: Option<Vec<String>>,
    pub partial: bool,
    /// Byte offset (in the file) right after the `INDEX` keyword, where ` CONCURRENTLY` belongs.
    #[serde(skip)]
    pub concurrently_at: usize,
}

/// A statement of a file with its fact.
#[derive(Debug, Clone)]
pub struct Statement {
    /// Index into [`SplitFile::pieces`].
    pub piece: usize,
    pub line: usize,
    pub fact: Fact,
}

/// Classify every statement of a split file.
pub fn classify(split: &SplitFile) -> Vec<Statement> {
    split
        .pieces
        .iter()
        .enumerate()
        .filter(|(_, piece)| piece.statement.is_some())
        .map(|(index, piece)| {
            let tokens: Vec<&Tok> = split.significant_tokens(piece).collect();
            Statement {
                piece: index,
                line: tokens.first().map_or(0, |t| t.line()),
                fact: classify_statement(split, piece, &tokens),
            }
        })
        .collect()
}

fn classify_statement(split: &SplitFile, piece: &Piece, tokens: &[&Tok]) -> Fact {
    let keyword = |i: usize| tokens.get(i).and_then(|t| t.keyword());
    match (keyword(0).as_deref(), keyword(1).as_deref()) {
        // Data and session statements: nothing here acts on them, and they pass through untouched, so
        // the full parse is not worth its time on a long history.
        (
            Some(
                "INSERT" | "UPDATE" | "DELETE" | "SELECT" | "WITH" | "COPY" | "SET" | "RESET"
                | "COMMENT" | "GRANT" | "REVOKE" | "ANALYZE" | "NOTIFY",
            ),
            _,
        ) => return Fact::Other,
        (Some("DO"), _) => {
            return Fact::Unanalysed {
                reason: "a DO block runs procedural code, which migrate-safe does not read".into(),
            };
        }
        // Only the name matters: the column list is not worth parsing.
        (Some("CREATE"), Some("TABLE" | "UNLOGGED" | "TEMP" | "TEMPORARY")) => {
            if let Some(fact) = create_table_from_tokens(tokens) {
                return fact;
            }
        }
        // Index builds: everything the rules need is in the tokens.
        (Some("CREATE"), Some("INDEX" | "UNIQUE")) => {
            if let Some(fact) = create_index_from_tokens(tokens) {
                return fact;
            }
        }
        // Prisma's enums, schemas and extensions: nothing to act on.
        (Some("CREATE"), Some("TYPE" | "SCHEMA" | "EXTENSION")) => return Fact::Other,
        // Prisma's most common statement, `ALTER TABLE .. ADD COLUMN ..`: only foreign keys, renames,
        // schema moves and validations matter, and only those need the parser.
        (Some("ALTER"), Some("TABLE"))
            if !tokens.iter().any(|t| {
                t.is_keyword("FOREIGN")
                    || t.is_keyword("REFERENCES")
                    || t.is_keyword("RENAME")
                    || t.is_keyword("SCHEMA")
                    || t.is_keyword("VALIDATE")
            }) =>
        {
            let (rest, _) = skip_keywords(&tokens[2..], &["IF", "EXISTS", "ONLY"]);
            if let Some((table, _)) = name_at(rest) {
                return Fact::AlterTable {
                    table,
                    changes: vec![TableChange::Other],
                };
            }
        }
        _ => {}
    }
    match parse(split, piece) {
        Ok(ast) => {
            from_ast(&ast, tokens).unwrap_or_else(|| from_tokens(tokens).unwrap_or(Fact::Other))
        }
        Err(reason) => from_tokens(tokens).unwrap_or(Fact::Unanalysed { reason }),
    }
}

fn parse(split: &SplitFile, piece: &Piece) -> Result<Ast, String> {
    let tokens: Vec<TokenWithSpan> = split.tokens[piece.tokens.clone()]
        .iter()
        .map(|t| TokenWithSpan::new(t.token.clone(), t.span))
        .collect();
    let mut parser = Parser::new(&PostgreSqlDialect {}).with_tokens_with_locations(tokens);
    let statement = parser.parse_statement().map_err(|e| e.to_string())?;
    let next = parser.peek_token();
    if next.token != Token::EOF {
        return Err(format!(
            "the parser stopped early at `{}` (line {}, column {})",
            next.token, next.span.start.line, next.span.start.column
        ));
    }
    Ok(statement)
}

/// `None` when the AST does not say enough and the token patterns should decide.
fn from_ast(ast: &Ast, tokens: &[&Tok]) -> Option<Fact> {
    Some(match ast {
        Ast::CreateTable(create) => Fact::CreateTable {
            table: QualifiedName::from_object_name(&create.name)?,
        },
        Ast::Drop {
            object_type: ObjectType::Table,
            names,
            ..
        } => Fact::DropTables {
            tables: names
                .iter()
                .map(QualifiedName::from_object_name)
                .collect::<Option<_>>()?,
        },
        Ast::Drop {
            object_type: ObjectType::Index,
            names,
            ..
        } => Fact::DropIndexes {
            indexes: names
                .iter()
                .map(QualifiedName::from_object_name)
                .collect::<Option<_>>()?,
            concurrently: false,
        },
        Ast::CreateIndex(create) => {
            let table = QualifiedName::from_object_name(&create.table_name)?;
            let name = match &create.name {
                Some(name) => Some(table.sibling(QualifiedName::from_object_name(name)?.name)),
                None => None,
            };
            let columns = create
                .columns
                .iter()
                .map(|c| match &c.column.expr {
                    Expr::Identifier(ident) => Some(fold(ident)),
                    _ => None,
                })
                .collect();
            Fact::CreateIndex(CreateIndex {
                name,
                table,
                unique: create.unique,
                concurrently: create.concurrently,
                if_not_exists: create.if_not_exists,
                columns,
                partial: create.predicate.is_some(),
                concurrently_at: index_keyword_end(tokens)?,
            })
        }
        Ast::AlterIndex {
            name,
            operation: AlterIndexOperation::RenameIndex { index_name },
        } => {
            let from = QualifiedName::from_object_name(name)?;
            let to = from.sibling(QualifiedName::from_object_name(index_name)?.name);
            Fact::RenameIndex { from, to }
        }
        Ast::AlterTable(alter) => {
            let table = QualifiedName::from_object_name(&alter.name)?;
            let segments = operation_segments(tokens)?;
            if segments.len() != alter.operations.len() {
                return None;
            }
            let changes = alter
                .operations
                .iter()
                .zip(&segments)
                .map(|(operation, segment)| table_change(&table, operation, segment))
                .collect::<Option<_>>()?;
            Fact::AlterTable { table, changes }
        }
        Ast::StartTransaction { .. } => Fact::Begin,
        Ast::Commit { .. } | Ast::Rollback { .. } => Fact::Commit,
        _ => Fact::Other,
    })
}

fn table_change(
    table: &QualifiedName,
    operation: &AlterTableOperation,
    segment: &[&Tok],
) -> Option<TableChange> {
    Some(match operation {
        AlterTableOperation::RenameTable { table_name } => {
            let (RenameTableNameKind::To(name) | RenameTableNameKind::As(name)) = table_name;
            TableChange::RenameTo {
                table: table.sibling(QualifiedName::from_object_name(name)?.name),
            }
        }
        AlterTableOperation::AddConstraint {
            constraint: TableConstraint::ForeignKey(fk),
            not_valid,
        } => {
            // ` NOT VALID` goes after the constraint itself, before a `NOT VALID` the parser saw.
            let last = segment.last()?;
            TableChange::AddForeignKey(ForeignKey {
                name: fk.name.as_ref().map(fold),
                columns: fk.columns.iter().map(fold).collect(),
                referenced_table: QualifiedName::from_object_name(&fk.foreign_table)?,
                referenced_columns: fk.referred_columns.iter().map(fold).collect(),
                not_valid: *not_valid,
                not_valid_at: last.bytes.end,
            })
        }
        AlterTableOperation::ValidateConstraint { name } => {
            TableChange::ValidateConstraint { name: fold(name) }
        }
        _ => TableChange::Other,
    })
}

/// The tokens of each comma-separated operation of `ALTER TABLE [IF EXISTS] [ONLY] name [*] op, op, ...`.
fn operation_segments<'a>(tokens: &[&'a Tok]) -> Option<Vec<Vec<&'a Tok>>> {
    let mut rest = tokens.get(2..)?; // ALTER TABLE
    while rest
        .first()
        .is_some_and(|t| t.is_keyword("IF") || t.is_keyword("EXISTS") || t.is_keyword("ONLY"))
    {
        rest = &rest[1..];
    }
    let name_len = qualified_name_len(rest)?;
    rest = &rest[name_len..];
    if rest.first().is_some_and(|t| t.token == Token::Mul) {
        rest = &rest[1..];
    }
    let mut segments = vec![Vec::new()];
    let mut depth = 0i32;
    for token in rest {
        match token.token {
            Token::LParen => depth += 1,
            Token::RParen => depth -= 1,
            Token::Comma if depth == 0 => {
                segments.push(Vec::new());
                continue;
            }
            _ => {}
        }
        segments.last_mut()?.push(*token);
    }
    Some(segments)
}

/// How many tokens a possibly-qualified name takes: `a`, `a.b`.
fn qualified_name_len(tokens: &[&Tok]) -> Option<usize> {
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

fn name_at(tokens: &[&Tok]) -> Option<(QualifiedName, usize)> {
    let len = qualified_name_len(tokens)?;
    let ident = |t: &Tok| match &t.token {
        Token::Word(w) => Some(fold(&sqlparser::ast::Ident {
            value: w.value.clone(),
            quote_style: w.quote_style,
            span: t.span,
        })),
        _ => None,
    };
    let name = if len == 3 {
        QualifiedName::new(ident(tokens[0])?, ident(tokens[2])?)
    } else {
        QualifiedName::new(super::names::DEFAULT_SCHEMA, ident(tokens[0])?)
    };
    Some((name, len))
}

/// Byte offset right after the first `INDEX` keyword.
fn index_keyword_end(tokens: &[&Tok]) -> Option<usize> {
    tokens
        .iter()
        .find(|t| t.is_keyword("INDEX"))
        .map(|t| t.bytes.end)
}

fn skip_keywords<'a, 'b>(
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

/// Token patterns for statements sqlparser rejects or under-describes.
fn from_tokens(tokens: &[&Tok]) -> Option<Fact> {
    let keywords: Vec<String> = tokens.iter().take(2).filter_map(|t| t.keyword()).collect();
    match keywords
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["CREATE", _] => {
            create_index_from_tokens(tokens).or_else(|| create_table_from_tokens(tokens))
        }
        ["DROP", "INDEX"] => {
            let (mut rest, flags) = skip_keywords(&tokens[2..], &["CONCURRENTLY", "IF", "EXISTS"]);
            let mut indexes = Vec::new();
            while let Some((name, len)) = name_at(rest) {
                indexes.push(name);
                rest = &rest[len..];
                match rest.first() {
                    Some(t) if t.token == Token::Comma => rest = &rest[1..],
                    _ => break,
                }
            }
            (!indexes.is_empty()).then(|| Fact::DropIndexes {
                indexes,
                concurrently: flags.iter().any(|f| f == "CONCURRENTLY"),
            })
        }
        ["ALTER", "TABLE"] => {
            let (rest, _) = skip_keywords(&tokens[2..], &["IF", "EXISTS", "ONLY"]);
            let (table, len) = name_at(rest)?;
            let rest = &rest[len..];
            let set_schema =
                rest.len() == 3 && rest[0].is_keyword("SET") && rest[1].is_keyword("SCHEMA");
            set_schema.then(|| {
                let (schema, _) = name_at(&rest[2..])?;
                Some(Fact::AlterTable {
                    changes: vec![TableChange::RenameTo {
                        table: QualifiedName::new(schema.name, table.name.clone()),
                    }],
                    table,
                })
            })?
        }
        _ => None,
    }
}

fn create_index_from_tokens(tokens: &[&Tok]) -> Option<Fact> {
    let (rest, flags) = skip_keywords(&tokens[1..], &["UNIQUE"]);
    if !rest.first()?.is_keyword("INDEX") {
        return None;
    }
    let (mut rest, more) = skip_keywords(&rest[1..], &["CONCURRENTLY", "IF", "NOT", "EXISTS"]);
    let mut name = None;
    if !rest.first()?.is_keyword("ON") {
        let (index, len) = name_at(rest)?;
        name = Some(index.name);
        rest = &rest[len..];
    }
    let (rest, _) = skip_keywords(rest.get(1..)?, &["ONLY"]);
    let (table, len) = name_at(rest)?;
    Some(Fact::CreateIndex(CreateIndex {
        name: name.map(|n| table.sibling(n)),
        unique: flags.iter().any(|f| f == "UNIQUE"),
        concurrently: more.iter().any(|f| f == "CONCURRENTLY"),
        if_not_exists: more.iter().any(|f| f == "EXISTS"),
        columns: key_columns(&rest[len..]),
        partial: tokens.iter().any(|t| t.is_keyword("WHERE")),
        concurrently_at: index_keyword_end(tokens)?,
        table,
    }))
}

/// The key list `[USING method] (key, ...)` of an index, when every key is a plain column (optionally
/// with an operator class and ASC/DESC/NULLS ...); `None` for expressions.
fn key_columns(tokens: &[&Tok]) -> Option<Vec<String>> {
    let mut rest = tokens;
    if rest.first()?.is_keyword("USING") {
        rest = rest.get(2..)?;
    }
    if rest.first()?.token != Token::LParen {
        return None;
    }
    let mut columns = Vec::new();
    let mut key: Vec<&Tok> = Vec::new();
    for token in &rest[1..] {
        match token.token {
            Token::Comma | Token::RParen => {
                let (first, modifiers) = key.split_first()?;
                let plain = modifiers.iter().all(|t| matches!(t.token, Token::Word(_)));
                let Token::Word(word) = &first.token else {
                    return None;
                };
                if !plain {
                    return None;
                }
                columns.push(if word.quote_style.is_some() {
                    word.value.clone()
                } else {
                    word.value.to_lowercase()
                });
                if token.token == Token::RParen {
                    return Some(columns);
                }
                key.clear();
            }
            Token::LParen => return None, // an expression key
            _ => key.push(token),
        }
    }
    None
}

fn create_table_from_tokens(tokens: &[&Tok]) -> Option<Fact> {
    let (rest, _) = skip_keywords(
        &tokens[1..],
        &[
            "GLOBAL",
            "LOCAL",
            "TEMP",
            "TEMPORARY",
            "UNLOGGED",
            "UNLOGGED",
        ],
    );
    if !rest.first()?.is_keyword("TABLE") {
        return None;
    }
    let (rest, _) = skip_keywords(&rest[1..], &["IF", "NOT", "EXISTS"]);
    let (table, _) = name_at(rest)?;
    Some(Fact::CreateTable { table })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::split::split;

    fn facts(sql: &str) -> Vec<Fact> {
        classify(&split(sql).unwrap())
            .into_iter()
            .map(|s| s.fact)
            .collect()
    }

    fn one(sql: &str) -> Fact {
        let mut facts = facts(sql);
        assert_eq!(facts.len(), 1, "{facts:?}");
        facts.remove(0)
    }

    #[test]
    fn prisma_foreign_key() {
        let sql = r#"ALTER TABLE "Sub" ADD CONSTRAINT "Sub_memberId_fkey" FOREIGN KEY ("memberId") REFERENCES "Member"("id") ON DELETE CASCADE ON UPDATE CASCADE;"#;
        let Fact::AlterTable { table, changes } = one(sql) else {
            panic!()
        };
        assert_eq!(table, QualifiedName::new("public", "Sub"));
        let TableChange::AddForeignKey(fk) = &changes[0] else {
            panic!()
        };
        assert_eq!(fk.name.as_deref(), Some("Sub_memberId_fkey"));
        assert_eq!(fk.referenced_table, QualifiedName::new("public", "Member"));
        assert_eq!(&sql[fk.not_valid_at..], ";");
    }

    #[test]
    fn schema_qualified_index() {
        let sql = r#"CREATE UNIQUE INDEX "Team_slug_key" ON "app"."Team"("slug");"#;
        let Fact::CreateIndex(index) = one(sql) else {
            panic!()
        };
        assert_eq!(index.table, QualifiedName::new("app", "Team"));
        assert_eq!(index.name, Some(QualifiedName::new("app", "Team_slug_key")));
        assert!(index.unique && !index.concurrently);
        assert_eq!(index.columns, Some(vec!["slug".to_string()]));
        assert_eq!(&sql[..index.concurrently_at], "CREATE UNIQUE INDEX");
    }

    #[test]
    fn token_patterns_cover_what_the_parser_rejects() {
        assert_eq!(
            facts(r#"DROP INDEX CONCURRENTLY IF EXISTS "a", b;"#),
            vec![Fact::DropIndexes {
                indexes: vec![
                    QualifiedName::new("public", "a"),
                    QualifiedName::new("public", "b")
                ],
                concurrently: true
            }]
        );
        let Fact::CreateIndex(index) = one(r#"CREATE INDEX "i" ON ONLY "t" ("x");"#) else {
            panic!()
        };
        assert_eq!(index.table, QualifiedName::new("public", "t"));
    }

    #[test]
    fn index_keys_from_tokens() {
        let columns = |sql: &str| match one(sql) {
            Fact::CreateIndex(index) => index.columns,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            columns(r#"CREATE INDEX "i" ON "T"("a" DESC, b NULLS LAST);"#),
            Some(vec!["a".into(), "b".into()])
        );
        assert_eq!(
            columns(r#"CREATE INDEX "i" ON "T" USING GIN ("data" jsonb_path_ops);"#),
            Some(vec!["data".into()])
        );
        assert_eq!(
            columns(r#"CREATE UNIQUE INDEX "i" ON "T"(lower("email"));"#),
            None
        );
    }

    #[test]
    fn add_column_is_read_from_tokens_and_still_names_its_table() {
        assert_eq!(
            one(r#"ALTER TABLE "app"."Team" ADD COLUMN "plan" TEXT, ADD COLUMN "seats" INTEGER;"#),
            Fact::AlterTable {
                table: QualifiedName::new("app", "Team"),
                changes: vec![TableChange::Other]
            }
        );
    }

    #[test]
    fn unknown_statements_are_reported_not_dropped() {
        let Fact::Unanalysed { reason } = one("FROBNICATE the table;") else {
            panic!()
        };
        assert!(!reason.is_empty());
    }

    #[test]
    fn rename_table_and_unquoted_folding() {
        let Fact::AlterTable { table, changes } = one("ALTER TABLE Users RENAME TO \"People\";")
        else {
            panic!()
        };
        assert_eq!(table.name, "users");
        assert_eq!(
            changes,
            vec![TableChange::RenameTo {
                table: QualifiedName::new("public", "People")
            }]
        );
    }
}
