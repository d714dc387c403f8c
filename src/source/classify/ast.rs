//! The parser's view, for the statements the token readers leave: sqlparser's AST, used only when it
//! consumed every token (`parse_statement` can stop early).

use sqlparser::ast::{
    AlterIndexOperation, AlterTableOperation, Expr, ObjectType, RenameTableNameKind,
    Statement as Ast,
};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Token, Tokenizer};

use super::create::index_keyword_end;
use super::{Change, CreateIndex, Fact, TableChange};
use crate::source::names::{QualifiedName, fold};
use crate::source::split::{Lexeme, Piece, SplitFile};

pub(super) fn parse(text: &str, split: &SplitFile, piece: &Piece) -> Result<Ast, String> {
    let tokens = &split.tokens[piece.tokens.clone()];
    let (Some(first), Some(last)) = (tokens.first(), tokens.last()) else {
        return Err("an empty statement".into());
    };
    // Tokenized again by sqlparser (the fast path keeps no token values), at its place in the file.
    let mut raw = Tokenizer::new(
        &PostgreSqlDialect {},
        &text[first.bytes.start..last.bytes.end],
    )
    .tokenize_with_location()
    .map_err(|e| e.to_string())?;
    for token in &mut raw {
        for location in [&mut token.span.start, &mut token.span.end] {
            if location.line == 1 {
                location.column += u64::from(first.column) - 1;
            }
            location.line += u64::from(first.line) - 1;
        }
    }
    let mut parser = Parser::new(&PostgreSqlDialect {}).with_tokens_with_locations(raw);
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
pub(super) fn from_ast(ast: &Ast, tokens: &[Lexeme<'_>]) -> Option<Fact> {
    Some(match ast {
        Ast::CreateTable(create) => Fact::CreateTable {
            table: QualifiedName::from_object_name(&create.name)?,
            columns: Vec::new(),
            primary_key: Vec::new(),
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
            cascade,
            ..
        } => Fact::DropIndexes {
            indexes: names
                .iter()
                .map(QualifiedName::from_object_name)
                .collect::<Option<_>>()?,
            concurrently: false,
            concurrently_at: index_keyword_end(tokens)?,
            cascade: *cascade,
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
        // Operations the token reader does not know: only renames matter here, the rest is `Other`.
        Ast::AlterTable(alter) => {
            let table = QualifiedName::from_object_name(&alter.name)?;
            let first = tokens.first()?;
            let last = tokens.last()?;
            let changes = alter
                .operations
                .iter()
                .map(|operation| {
                    let kind = match operation {
                        AlterTableOperation::RenameTable { table_name } => {
                            let (RenameTableNameKind::To(name) | RenameTableNameKind::As(name)) =
                                table_name;
                            TableChange::RenameTo {
                                table: table.sibling(QualifiedName::from_object_name(name)?.name),
                            }
                        }
                        _ => TableChange::Other,
                    };
                    Some(Change {
                        bytes: first.bytes.start..last.bytes.end,
                        line: first.line(),
                        column: first.column(),
                        kind,
                    })
                })
                .collect::<Option<_>>()?;
            Fact::AlterTable { table, changes }
        }
        Ast::StartTransaction { .. } => Fact::Begin,
        Ast::Commit { .. } | Ast::Rollback { .. } => Fact::Commit,
        _ => Fact::Other,
    })
}
