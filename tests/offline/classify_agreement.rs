//! The `ALTER TABLE` token reader agrees with sqlparser's parser: on every `ALTER TABLE` of the fixtures
//! (and of the documenso corpus when it is there) that the parser reads whole, both see the same
//! operations — kind, constraint and column names, referenced table and columns, NOT VALID. The token
//! reader replaced the parser on this hot path; this keeps it honest.

use crate::common;

use common::*;
use migrate_safe::source::classify::{Fact, TableChange, classify};
use migrate_safe::source::names::{QualifiedName, fold};
use migrate_safe::source::split::split;
use sqlparser::ast::{
    AlterColumnOperation, AlterTableOperation, RenameTableNameKind, Statement as Ast,
    TableConstraint,
};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

/// What both readers must agree on, per operation.
#[derive(Debug, PartialEq)]
enum Op {
    ForeignKey {
        name: Option<String>,
        columns: Vec<String>,
        referenced: QualifiedName,
        referenced_columns: Vec<String>,
        not_valid: bool,
    },
    Check {
        name: Option<String>,
        not_valid: bool,
    },
    Key {
        name: Option<String>,
        primary: bool,
    },
    AddColumn(String),
    DropColumn(String),
    RenameColumn(String, String),
    RenameTo(String),
    SetNotNull(String),
    SetType(String),
    Validate(String),
    DropConstraint(String),
    Other,
}

fn from_tokens(change: &TableChange) -> Op {
    match change {
        TableChange::AddForeignKey(fk) => Op::ForeignKey {
            name: fk.name.clone(),
            columns: fk.columns.clone(),
            referenced: fk.referenced_table.clone(),
            referenced_columns: fk.referenced_columns.clone(),
            not_valid: fk.not_valid,
        },
        TableChange::AddCheck {
            name, not_valid, ..
        } => Op::Check {
            name: name.clone(),
            not_valid: *not_valid,
        },
        TableChange::AddKey { name, primary, .. } => Op::Key {
            name: name.clone(),
            primary: *primary,
        },
        TableChange::AddColumn(column) => Op::AddColumn(column.column.clone()),
        TableChange::DropColumn { column } => Op::DropColumn(column.clone()),
        TableChange::RenameColumn { from, to } => Op::RenameColumn(from.clone(), to.clone()),
        TableChange::RenameTo { table } => Op::RenameTo(table.name.clone()),
        TableChange::SetNotNull { column } => Op::SetNotNull(column.clone()),
        TableChange::AlterColumnType { column, .. } => Op::SetType(column.clone()),
        TableChange::ValidateConstraint { name } => Op::Validate(name.clone()),
        TableChange::DropConstraint { name } => Op::DropConstraint(name.clone()),
        TableChange::Other => Op::Other,
    }
}

fn from_ast(operation: &AlterTableOperation) -> Op {
    match operation {
        AlterTableOperation::AddConstraint {
            constraint,
            not_valid,
        } => match constraint {
            TableConstraint::ForeignKey(fk) => Op::ForeignKey {
                name: fk.name.as_ref().map(fold),
                columns: fk.columns.iter().map(fold).collect(),
                referenced: QualifiedName::from_object_name(&fk.foreign_table).unwrap(),
                referenced_columns: fk.referred_columns.iter().map(fold).collect(),
                not_valid: *not_valid,
            },
            TableConstraint::Check(check) => Op::Check {
                name: check.name.as_ref().map(fold),
                not_valid: *not_valid,
            },
            TableConstraint::PrimaryKey(key) => Op::Key {
                name: key.name.as_ref().map(fold),
                primary: true,
            },
            TableConstraint::Unique(key) => Op::Key {
                name: key.name.as_ref().map(fold),
                primary: false,
            },
            _ => Op::Other,
        },
        AlterTableOperation::AddColumn { column_def, .. } => Op::AddColumn(fold(&column_def.name)),
        AlterTableOperation::DropColumn { column_names, .. } if column_names.len() == 1 => {
            Op::DropColumn(fold(&column_names[0]))
        }
        AlterTableOperation::RenameColumn {
            old_column_name,
            new_column_name,
        } => Op::RenameColumn(fold(old_column_name), fold(new_column_name)),
        AlterTableOperation::RenameTable { table_name } => {
            let (RenameTableNameKind::To(name) | RenameTableNameKind::As(name)) = table_name;
            Op::RenameTo(QualifiedName::from_object_name(name).unwrap().name)
        }
        AlterTableOperation::AlterColumn { column_name, op } => match op {
            AlterColumnOperation::SetNotNull => Op::SetNotNull(fold(column_name)),
            AlterColumnOperation::SetDataType { .. } => Op::SetType(fold(column_name)),
            _ => Op::Other,
        },
        AlterTableOperation::ValidateConstraint { name } => Op::Validate(fold(name)),
        AlterTableOperation::DropConstraint { name, .. } => Op::DropConstraint(fold(name)),
        _ => Op::Other,
    }
}

#[test]
fn the_alter_table_token_reader_agrees_with_the_parser() {
    let mut files = Vec::new();
    sql_files(&project_root().join("migrations-fixtures"), &mut files);
    let corpus = project_root().join("../shared/corpus/documenso/migrations");
    let with_corpus = corpus.is_dir();
    if with_corpus {
        sql_files(&corpus, &mut files);
    } else {
        eprintln!("corpus not present (it comes with ../shared): fixtures only");
    }
    let (mut compared, mut operations) = (0, 0);
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let split = split(&text).unwrap();
        for statement in classify(&split, &text) {
            let Fact::AlterTable { changes, .. } = &statement.fact else {
                continue;
            };
            let range = split.pieces[statement.piece].statement.clone().unwrap();
            let sql = &text[range];
            let Ok(parsed) = Parser::parse_sql(&PostgreSqlDialect {}, sql) else {
                continue; // a shape only the token reader knows (checked by the unit tests)
            };
            let [Ast::AlterTable(alter)] = parsed.as_slice() else {
                panic!("{}: not one ALTER TABLE: {sql}", file.display());
            };
            let ours: Vec<Op> = changes.iter().map(|c| from_tokens(&c.kind)).collect();
            let theirs: Vec<Op> = alter.operations.iter().map(from_ast).collect();
            assert_eq!(ours, theirs, "{}: {sql}", file.display());
            compared += 1;
            operations += ours.len();
        }
    }
    eprintln!("{compared} ALTER TABLE statements ({operations} operations) agree");
    // The fixtures alone hold a few dozen; documenso adds hundreds.
    let expected = if with_corpus { 400 } else { 30 };
    assert!(compared > expected, "only {compared} statements compared");
}
