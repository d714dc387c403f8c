//! Turn each statement into a small typed fact.
//!
//! Prisma's common shapes are read from tokens (`alter_table`, `create`, and the dispatch below): cheap
//! on a long history. Anything else goes to sqlparser's parser (`ast`), whose result counts only when it
//! consumed every token (`parse_statement` can stop early); shapes it rejects (`DROP INDEX
//! CONCURRENTLY`, `CREATE INDEX .. ON ONLY`) have token patterns too. What none of them reads is
//! `Unanalysed`, never guessed.

mod alter_table;
mod ast;
pub mod backfill;
mod create;
mod tokens;

use std::ops::Range;

use serde::Serialize;

use super::names::QualifiedName;
use super::split::{Lexeme, Piece, SplitFile, TokenKind};
use ast::{from_ast, parse};
use create::{create_index_from_tokens, create_table_from_tokens, from_tokens};
use tokens::{name_at, skip_keywords};

/// What a statement does, as far as lock safety is concerned.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fact {
    CreateTable {
        table: QualifiedName,
        /// (column, normalised type), when the column list could be read from tokens.
        #[serde(skip)]
        columns: Vec<(String, String)>,
        /// The primary key's columns, when the reader saw one.
        #[serde(skip)]
        primary_key: Vec<String>,
    },
    DropTables {
        tables: Vec<QualifiedName>,
    },
    AlterTable {
        table: QualifiedName,
        changes: Vec<Change>,
    },
    CreateIndex(CreateIndex),
    DropIndexes {
        indexes: Vec<QualifiedName>,
        concurrently: bool,
        /// Byte offset right after the `INDEX` keyword, where ` CONCURRENTLY` belongs.
        #[serde(skip)]
        concurrently_at: usize,
        /// `CASCADE` (which DROP INDEX CONCURRENTLY does not allow).
        cascade: bool,
    },
    /// `CREATE TYPE name AS ENUM (...)`.
    CreateEnum {
        name: QualifiedName,
    },
    Truncate {
        tables: Vec<QualifiedName>,
    },
    /// `VACUUM FULL`, `CLUSTER`, `REINDEX`: maintenance that may lock a whole table.
    Maintenance(Maintenance),
    /// `SET [LOCAL] lock_timeout ...` or `RESET lock_timeout`.
    SetLockTimeout {
        scope: LockTimeoutScope,
    },
    RenameIndex {
        from: QualifiedName,
        to: QualifiedName,
    },
    /// `UPDATE t`, `DELETE FROM t`, `INSERT INTO t .. SELECT`: rows changed in bulk (a backfill).
    DataChange {
        table: QualifiedName,
        change: DataChangeKind,
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

/// Which bulk data change a statement is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DataChangeKind {
    Update,
    Delete,
    InsertSelect,
}

impl DataChangeKind {
    pub fn keyword(self) -> &'static str {
        match self {
            DataChangeKind::Update => "UPDATE",
            DataChangeKind::Delete => "DELETE",
            DataChangeKind::InsertSelect => "INSERT .. SELECT",
        }
    }
}

/// How a statement sets lock_timeout: what it lasts for differs between Prisma's apply models.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LockTimeoutScope {
    /// `SET LOCAL`: until the transaction ends (nothing, in autocommit).
    Local,
    /// `SET`: for the rest of the session, once committed.
    Session,
    /// `RESET` / `SET .. TO DEFAULT`: back to the session's default.
    Reset,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Maintenance {
    VacuumFull,
    Cluster,
    Reindex { concurrently: bool },
}

/// One operation of an `ALTER TABLE`, with where it is.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    /// Bytes of the operation (from its first token to its last, no trailing comma).
    #[serde(skip)]
    pub bytes: Range<usize>,
    #[serde(skip)]
    pub line: usize,
    #[serde(skip)]
    pub column: usize,
    #[serde(flatten)]
    pub kind: TableChange,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum TableChange {
    RenameTo {
        table: QualifiedName,
    },
    AddForeignKey(ForeignKey),
    ValidateConstraint {
        name: String,
    },
    AddColumn(AddColumn),
    DropColumn {
        column: String,
    },
    RenameColumn {
        from: String,
        to: String,
    },
    AlterColumnType {
        column: String,
        /// The new type, normalised (`VARCHAR(100)`, `BIGINT`, `"Role_new"`).
        data_type: String,
        using: bool,
    },
    SetNotNull {
        column: String,
    },
    AddCheck {
        name: Option<String>,
        not_valid: bool,
        #[serde(skip)]
        not_valid_at: usize,
    },
    /// `ADD [CONSTRAINT c] UNIQUE|PRIMARY KEY (columns)` or `.. USING INDEX i`.
    AddKey {
        name: Option<String>,
        primary: bool,
        columns: Option<Vec<String>>,
        using_index: Option<String>,
    },
    DropConstraint {
        name: String,
    },
    Other,
}

/// `ADD COLUMN` (and the columns of `CREATE TABLE`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AddColumn {
    pub column: String,
    /// Normalised type text.
    pub data_type: String,
    pub default: Option<String>,
    pub not_null: bool,
    /// Why adding it rewrites the table (a volatile default, a serial or identity column, ...).
    pub rewrites: Option<String>,
    /// Where the type ends and the constraints start (byte offset in the file).
    #[serde(skip)]
    pub type_end: usize,
    /// The default expression's bytes, as written.
    #[serde(skip)]
    pub default_bytes: Option<std::ops::Range<usize>>,
    /// Constraints other than `DEFAULT ..`, `NOT NULL` and `NULL` (a key, a check, a reference, ..).
    #[serde(skip)]
    pub other_constraints: bool,
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
    /// The statement's bytes in the file, its `;` included when it has one (the piece's statement).
    pub bytes: std::ops::Range<usize>,
    pub line: usize,
    /// Column (in characters) of the statement's first token.
    pub column: usize,
    pub fact: Fact,
    /// A `DO` block: the statements of its PL/pgSQL (`None` for any other statement).
    pub procedure: Option<Box<Procedure>>,
}

/// What a `DO` block's PL/pgSQL runs, read with PostgreSQL's own PL/pgSQL grammar
/// ([`crate::source::plpgsql`]). The block's own fact stays [`Fact::Unanalysed`]: whatever depends on
/// what a statement does to the schema treats the block as unknown, while the rules judge each
/// statement inside it.
#[derive(Debug, Clone, Default)]
pub struct Procedure {
    /// Every SQL statement of the body, in source order.
    pub statements: Vec<Embedded>,
    /// The body PostgreSQL would refuse to compile: its message and byte offset in the file.
    pub rejected: Option<(String, usize)>,
}

/// One SQL statement inside a `DO` block.
#[derive(Debug, Clone)]
pub struct Embedded {
    /// Where it is in the file.
    pub line: usize,
    pub column: usize,
    pub text: String,
    /// What it does; `Unanalysed` for an `EXECUTE` of a string built at run time.
    pub fact: Fact,
}

/// Classify every statement of a split file.
pub fn classify(split: &SplitFile, text: &str) -> Vec<Statement> {
    split
        .pieces
        .iter()
        .enumerate()
        .filter(|(_, piece)| piece.statement.is_some())
        .map(|(index, piece)| {
            let tokens: Vec<Lexeme<'_>> = split.significant_tokens(text, piece).collect();
            let bytes = piece.statement.clone().unwrap_or_default();
            let mut fact = classify_statement(text, split, piece, &tokens);
            let procedure = tokens
                .first()
                .filter(|t| t.is_keyword("DO"))
                .and_then(|_| read_procedure(text, bytes.clone(), &mut fact));
            Statement {
                piece: index,
                line: tokens.first().map_or(0, |t| t.line()),
                column: tokens.first().map_or(0, |t| t.column()),
                bytes,
                fact,
                procedure,
            }
        })
        .collect()
}

/// The statements of a `DO` block's PL/pgSQL, each classified like a statement of its own; the
/// block's `fact` says what was read. `None` when the block is not PL/pgSQL (its fact says why).
fn read_procedure(
    text: &str,
    bytes: std::ops::Range<usize>,
    fact: &mut Fact,
) -> Option<Box<Procedure>> {
    use crate::source::plpgsql::{EmbeddedKind, do_body, embedded_statements};
    let body = match do_body(&text[bytes.clone()]) {
        Ok(body) => body,
        Err(not) => {
            *fact = Fact::Unanalysed {
                reason: not.to_string(),
            };
            return None;
        }
    };
    let body_start = bytes.start + body.offset;
    // Line starts once per block: each statement's line is then found without rescanning the file.
    let starts = crate::source::line_starts(text);
    let body_line = starts.partition_point(|&start| start <= body_start);
    let statements = match embedded_statements(&body.body) {
        Ok(statements) => statements,
        Err(rejected) => {
            *fact = Fact::Unanalysed {
                reason: "a DO block PostgreSQL's PL/pgSQL grammar rejects".into(),
            };
            return Some(Box::new(Procedure {
                statements: Vec::new(),
                rejected: Some((rejected.message, body_start + rejected.offset)),
            }));
        }
    };
    let statements: Vec<Embedded> = statements
        .into_iter()
        .map(|embedded| {
            let line = body_line + embedded.line.saturating_sub(1);
            let fact = match embedded.kind {
                EmbeddedKind::Dynamic => Fact::Unanalysed {
                    reason: "EXECUTE of a statement built at run time, which cannot be read before it runs".into(),
                },
                _ => standalone_fact(&embedded.text),
            };
            Embedded {
                line,
                column: column_on_line(line_text(text, &starts, line), &embedded.text),
                text: embedded.text,
                fact,
            }
        })
        .collect();
    *fact = Fact::Unanalysed {
        reason: format!(
            "a DO block: the {} of its PL/pgSQL {} judged one by one, the block passed through untouched",
            crate::out::count(statements.len(), "SQL statement"),
            if statements.len() == 1 { "is" } else { "are" },
        ),
    };
    Some(Box::new(Procedure {
        statements,
        rejected: None,
    }))
}

/// The fact of one SQL statement on its own (a statement inside a DO block).
fn standalone_fact(sql: &str) -> Fact {
    let Ok(split) = crate::source::split::split(sql) else {
        return Fact::Unanalysed {
            reason: "its tokens could not be read".into(),
        };
    };
    let mut statements = classify(&split, sql);
    match statements.len() {
        1 => statements.remove(0).fact,
        _ => Fact::Unanalysed {
            reason: "not one statement".into(),
        },
    }
}

/// Line `line` (1-based) of `text`, given its line starts, without the newline.
fn line_text<'t>(text: &'t str, starts: &[usize], line: usize) -> &'t str {
    let Some(&start) = starts.get(line.saturating_sub(1)) else {
        return "";
    };
    let end = starts.get(line).map_or(text.len(), |&next| next - 1);
    &text[start..end]
}

/// The column where `statement` starts on `line_text` (PL/pgSQL keeps only the line): where its first
/// word is, else 1.
fn column_on_line(line_text: &str, statement: &str) -> usize {
    let first_word: String = statement
        .trim_start()
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != '(')
        .collect();
    let lower = line_text.to_ascii_lowercase();
    lower
        .find(&first_word.to_ascii_lowercase())
        .filter(|_| !first_word.is_empty())
        .map_or(1, |at| line_text[..at].chars().count() + 1)
}

/// `UPDATE [ONLY] t`, `DELETE FROM [ONLY] t`, `INSERT INTO t [(cols)] SELECT|WITH ..`; `None` for
/// anything else (an INSERT of VALUES is not a backfill).
fn data_change(tokens: &[Lexeme<'_>]) -> Option<Fact> {
    let (kind, rest) = match tokens.first()?.keyword()?.as_str() {
        "UPDATE" => (DataChangeKind::Update, &tokens[1..]),
        "DELETE" if tokens.get(1)?.is_keyword("FROM") => (DataChangeKind::Delete, &tokens[2..]),
        "INSERT" if tokens.get(1)?.is_keyword("INTO") => {
            (DataChangeKind::InsertSelect, &tokens[2..])
        }
        _ => return None,
    };
    let (rest, _) = skip_keywords(rest, &["ONLY"]);
    let (table, len) = name_at(rest)?;
    if kind == DataChangeKind::InsertSelect {
        let mut after = &rest[len..];
        // An optional column list.
        if after.first().is_some_and(|t| t.text == "(") {
            let close = after.iter().position(|t| t.text == ")")?;
            after = &after[close + 1..];
        }
        let next = after.first()?;
        if !(next.is_keyword("SELECT") || next.is_keyword("WITH")) {
            return None;
        }
    }
    Some(Fact::DataChange {
        table,
        change: kind,
    })
}

fn classify_statement(text: &str, split: &SplitFile, piece: &Piece, tokens: &[Lexeme<'_>]) -> Fact {
    let keyword = |i: usize| tokens.get(i).and_then(|t| t.keyword());
    match (keyword(0).as_deref(), keyword(1).as_deref()) {
        // Data and session statements: nothing here acts on them, and they pass through untouched, so
        // the full parse is not worth its time on a long history.
        (Some("SET"), _) if tokens.iter().take(3).any(|t| t.is_keyword("lock_timeout")) => {
            let scope = if tokens.iter().any(|t| t.is_keyword("DEFAULT")) {
                LockTimeoutScope::Reset
            } else if tokens.get(1).is_some_and(|t| t.is_keyword("LOCAL")) {
                LockTimeoutScope::Local
            } else {
                LockTimeoutScope::Session
            };
            return Fact::SetLockTimeout { scope };
        }
        (Some("RESET"), _) if tokens.get(1).is_some_and(|t| t.is_keyword("lock_timeout")) => {
            return Fact::SetLockTimeout {
                scope: LockTimeoutScope::Reset,
            };
        }
        (Some("UPDATE" | "DELETE" | "INSERT"), _) if let Some(fact) = data_change(tokens) => {
            return fact;
        }
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
        (Some("CREATE"), Some("TYPE")) => {
            let name = name_at(&tokens[2..]);
            return match name {
                Some((name, len))
                    if tokens.get(2 + len).is_some_and(|t| t.is_keyword("AS"))
                        && tokens.get(3 + len).is_some_and(|t| t.is_keyword("ENUM")) =>
                {
                    Fact::CreateEnum { name }
                }
                _ => Fact::Other,
            };
        }
        // Prisma's schemas and extensions: nothing to act on.
        (Some("CREATE"), Some("SCHEMA" | "EXTENSION")) => return Fact::Other,
        // Prisma's most common statement: the operations are read from tokens.
        (Some("ALTER"), Some("TABLE")) => {
            if let Some(fact) = alter_table::read(tokens) {
                return fact;
            }
        }
        (Some("TRUNCATE"), _) => {
            let (mut rest, _) = skip_keywords(&tokens[1..], &["TABLE", "ONLY"]);
            let mut tables = Vec::new();
            while let Some((name, len)) = name_at(rest) {
                tables.push(name);
                rest = &rest[len..];
                if rest.first().is_some_and(|t| t.kind == TokenKind::Mul) {
                    rest = &rest[1..];
                }
                match rest.first() {
                    Some(t) if t.kind == TokenKind::Comma => {
                        rest = skip_keywords(&rest[1..], &["ONLY"]).0;
                    }
                    _ => break,
                }
            }
            if !tables.is_empty() {
                return Fact::Truncate { tables };
            }
        }
        (Some("VACUUM"), _) => {
            // `VACUUM FULL` or `VACUUM (FULL, ...)`; a plain VACUUM takes no blocking lock.
            let full = tokens.iter().take(8).any(|t| t.is_keyword("FULL"));
            return if full {
                Fact::Maintenance(Maintenance::VacuumFull)
            } else {
                Fact::Other
            };
        }
        (Some("CLUSTER"), _) => return Fact::Maintenance(Maintenance::Cluster),
        (Some("REINDEX"), _) => {
            let concurrently = tokens.iter().take(8).any(|t| t.is_keyword("CONCURRENTLY"));
            return Fact::Maintenance(Maintenance::Reindex { concurrently });
        }
        _ => {}
    }
    match parse(text, split, piece) {
        Ok(ast) => {
            from_ast(&ast, tokens).unwrap_or_else(|| from_tokens(tokens).unwrap_or(Fact::Other))
        }
        Err(reason) => from_tokens(tokens).unwrap_or(Fact::Unanalysed { reason }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::split::split;

    fn facts(sql: &str) -> Vec<Fact> {
        classify(&split(sql).unwrap(), sql)
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
        let TableChange::AddForeignKey(fk) = &changes[0].kind else {
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
        let Fact::DropIndexes {
            indexes,
            concurrently,
            ..
        } = one(r#"DROP INDEX CONCURRENTLY IF EXISTS "a", b;"#)
        else {
            panic!()
        };
        assert_eq!(
            indexes,
            vec![
                QualifiedName::new("public", "a"),
                QualifiedName::new("public", "b")
            ]
        );
        assert!(concurrently);
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

    fn changes(sql: &str) -> Vec<TableChange> {
        match one(sql) {
            Fact::AlterTable { changes, .. } => changes.into_iter().map(|c| c.kind).collect(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn alter_table_operations_from_tokens_with_their_bytes() {
        let sql = r#"ALTER TABLE "app"."Team" ADD COLUMN "plan" TEXT, ADD COLUMN "seats" INTEGER NOT NULL DEFAULT 1;"#;
        let Fact::AlterTable { table, changes } = one(sql) else {
            panic!()
        };
        assert_eq!(table, QualifiedName::new("app", "Team"));
        assert_eq!(&sql[changes[0].bytes.clone()], r#"ADD COLUMN "plan" TEXT"#);
        assert_eq!(
            &sql[changes[1].bytes.clone()],
            r#"ADD COLUMN "seats" INTEGER NOT NULL DEFAULT 1"#
        );
        let TableChange::AddColumn(seats) = &changes[1].kind else {
            panic!()
        };
        assert_eq!(seats.data_type, "INTEGER");
        assert_eq!(seats.default.as_deref(), Some("1"));
        assert!(seats.not_null && seats.rewrites.is_none());
    }

    #[test]
    fn prisma_alter_table_shapes() {
        assert_eq!(
            changes(
                "ALTER TABLE \"User\" DROP COLUMN \"legacyCode\",\nALTER COLUMN \"name\" SET NOT NULL;"
            ),
            vec![
                TableChange::DropColumn {
                    column: "legacyCode".into()
                },
                TableChange::SetNotNull {
                    column: "name".into()
                }
            ]
        );
        assert_eq!(
            changes(
                r#"ALTER TABLE "Invoice" ALTER COLUMN "reference" SET DATA TYPE VARCHAR(100);"#
            ),
            vec![TableChange::AlterColumnType {
                column: "reference".into(),
                data_type: "VARCHAR(100)".into(),
                using: false
            }]
        );
        assert_eq!(
            changes(
                r#"ALTER TABLE "Team" ALTER COLUMN "plan" TYPE "Plan_new" USING ("plan"::text::"Plan_new");"#
            ),
            vec![TableChange::AlterColumnType {
                column: "plan".into(),
                data_type: "\"Plan_new\"".into(),
                using: true
            }]
        );
        assert_eq!(
            changes(r#"ALTER TABLE "User" RENAME COLUMN "name" TO "fullName";"#),
            vec![TableChange::RenameColumn {
                from: "name".into(),
                to: "fullName".into()
            }]
        );
        let added = changes(
            r#"ALTER TABLE "Project" ADD COLUMN     "publicId" UUID NOT NULL DEFAULT gen_random_uuid();"#,
        );
        let TableChange::AddColumn(column) = &added[0] else {
            panic!()
        };
        assert!(
            column
                .rewrites
                .as_deref()
                .unwrap()
                .contains("gen_random_uuid()")
        );
        let added = changes(
            r#"ALTER TABLE "T" ADD COLUMN "n" SERIAL NOT NULL, ADD COLUMN "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP;"#,
        );
        let [TableChange::AddColumn(serial), TableChange::AddColumn(at)] = added.as_slice() else {
            panic!()
        };
        assert!(serial.rewrites.is_some() && at.rewrites.is_none());
    }

    #[test]
    fn constraints_from_tokens() {
        let sql = r#"ALTER TABLE "T" ADD CONSTRAINT "c" CHECK ("n" > 0), ADD CONSTRAINT "T_pkey" PRIMARY KEY ("id"), ADD CONSTRAINT "u" UNIQUE USING INDEX "u_idx", ADD CONSTRAINT "f" FOREIGN KEY ("a") REFERENCES "U"("id") NOT VALID;"#;
        let Fact::AlterTable { changes, .. } = one(sql) else {
            panic!()
        };
        let TableChange::AddCheck {
            name,
            not_valid,
            not_valid_at,
        } = &changes[0].kind
        else {
            panic!()
        };
        assert_eq!((name.as_deref(), *not_valid), (Some("c"), false));
        assert_eq!(
            &sql[..*not_valid_at],
            r#"ALTER TABLE "T" ADD CONSTRAINT "c" CHECK ("n" > 0)"#
        );
        assert_eq!(
            changes[1].kind,
            TableChange::AddKey {
                name: Some("T_pkey".into()),
                primary: true,
                columns: Some(vec!["id".into()]),
                using_index: None
            }
        );
        assert_eq!(
            changes[2].kind,
            TableChange::AddKey {
                name: Some("u".into()),
                primary: false,
                columns: None,
                using_index: Some("u_idx".into())
            }
        );
        let TableChange::AddForeignKey(fk) = &changes[3].kind else {
            panic!()
        };
        assert!(fk.not_valid);
        assert_eq!(&sql[fk.not_valid_at..fk.not_valid_at + 11], " NOT VALID;");
    }

    #[test]
    fn truncate_maintenance_and_enums() {
        assert_eq!(
            one(r#"TRUNCATE TABLE "A", ONLY b CASCADE;"#),
            Fact::Truncate {
                tables: vec![
                    QualifiedName::new("public", "A"),
                    QualifiedName::new("public", "b")
                ]
            }
        );
        assert_eq!(
            one("VACUUM (FULL, ANALYZE) t;"),
            Fact::Maintenance(Maintenance::VacuumFull)
        );
        assert_eq!(one("VACUUM t;"), Fact::Other);
        assert_eq!(
            one("CLUSTER t USING i;"),
            Fact::Maintenance(Maintenance::Cluster)
        );
        assert_eq!(
            one("REINDEX INDEX CONCURRENTLY i;"),
            Fact::Maintenance(Maintenance::Reindex { concurrently: true })
        );
        assert_eq!(
            one(r#"CREATE TYPE "app"."Plan_new" AS ENUM ('FREE', 'PRO');"#),
            Fact::CreateEnum {
                name: QualifiedName::new("app", "Plan_new")
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
            changes[0].kind,
            TableChange::RenameTo {
                table: QualifiedName::new("public", "People")
            }
        );
    }

    /// Forms PostgreSQL accepts and sqlparser does not read are still classified.
    #[test]
    fn alter_index_if_exists_rename_sequences_and_databases_are_classified() {
        assert_eq!(
            one("ALTER INDEX IF EXISTS app.\"User_email_idx\" RENAME TO \"User_mail_idx\";"),
            Fact::RenameIndex {
                from: QualifiedName::new("app", "User_email_idx"),
                to: QualifiedName::new("app", "User_mail_idx"),
            }
        );
        assert_eq!(
            one("ALTER SEQUENCE s OWNED BY \"User\".\"id\";"),
            Fact::Other
        );
        assert_eq!(one("ALTER SEQUENCE s RESTART WITH 10;"), Fact::Other);
        assert_eq!(
            one("ALTER DATABASE postgres SET timezone TO 'UTC';"),
            Fact::Other
        );
        // Anything after the new name is not a plain rename: not guessed.
        assert!(matches!(
            one("ALTER INDEX IF EXISTS a RENAME TO b CASCADE;"),
            Fact::Unanalysed { .. }
        ));
    }
}
