//! What `deploy` will do with each pending migration, read from its file alone: run it in one
//! transaction of deploy's own, or alone outside any (a CONCURRENTLY statement), or refuse it before
//! anything is applied; which locks each statement asks for; which data each statement needs to hold.

use std::ops::Range;

use serde::Serialize;

use crate::prisma::apply::{StatementAt, statement_at};
use crate::source::classify::{Fact, Maintenance, Statement, TableChange, classify};
use crate::source::discover::Migration;
use crate::source::names::QualifiedName;
use crate::source::split::split;

/// How a migration runs.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Shape {
    /// Every statement in one transaction deploy opens, bounded by lock_timeout: all or nothing,
    /// under every Prisma version.
    Transaction {
        #[serde(skip)]
        statements: Vec<Range<usize>>,
        /// Statements deploy does not send, with why (the file's own BEGIN/COMMIT and lock_timeout).
        skipped: Vec<Skipped>,
    },
    /// One statement that PostgreSQL refuses inside a transaction block, sent alone.
    Alone {
        #[serde(skip)]
        statement: Range<usize>,
        /// The index a `CREATE INDEX CONCURRENTLY` builds: what a failed build leaves INVALID.
        builds_index: Option<QualifiedName>,
        /// A `DO` block committing inside: a batched backfill (its progress is shown; it waits for no
        /// older transaction).
        backfill: bool,
    },
}

#[derive(Debug, Clone, Serialize)]
pub struct Skipped {
    pub at: StatementAt,
    pub why: &'static str,
}

/// A lock a statement asks for on a table, as PostgreSQL's documentation gives it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct LockTaken {
    /// The table, or `the table of index X` when only the index is named.
    pub on: String,
    pub mode: &'static str,
    pub line: usize,
    /// The table, or the index whose table it is.
    #[serde(skip)]
    pub target: LockTarget,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockTarget {
    Table(QualifiedName),
    TableOfIndex(QualifiedName),
}

/// Something the data must satisfy for a statement to succeed, checked read-only by the pre-flight.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(tag = "check", rename_all = "snake_case")]
pub enum Requirement {
    /// No two rows with the same non-NULL key (a new UNIQUE index or constraint, a primary key).
    Unique {
        table: QualifiedName,
        columns: Vec<String>,
        /// A primary key also needs every key column non-NULL.
        primary: bool,
    },
    /// No NULL in the column (SET NOT NULL).
    NotNull {
        table: QualifiedName,
        column: String,
    },
    /// Every non-NULL key has its referenced row (a validated foreign key).
    References {
        table: QualifiedName,
        columns: Vec<String>,
        referenced_table: QualifiedName,
        referenced_columns: Vec<String>,
    },
    /// No row for which the expression is false (a validated CHECK).
    Check {
        table: QualifiedName,
        expression: String,
    },
    /// `VALIDATE CONSTRAINT name` of a constraint that no pending migration adds: its definition is
    /// read from the database.
    ExistingConstraint { table: QualifiedName, name: String },
    /// A unique index the pre-flight does not check (expression keys, a partial index), and why.
    NotCheckable { table: QualifiedName, why: String },
}

#[derive(Debug, Clone, Serialize)]
pub struct Needed {
    pub line: usize,
    #[serde(flatten)]
    pub requirement: Requirement,
}

#[derive(Debug, Clone, Serialize)]
pub struct Planned {
    pub migration: String,
    #[serde(skip)]
    pub sql: String,
    pub shape: Shape,
    pub locks: Vec<LockTaken>,
    pub needs: Vec<Needed>,
    /// Tables whose rows this migration changes in bulk (UPDATE, DELETE, INSERT .. SELECT) or that
    /// code migrate-safe does not read (a DO block) may change: data checks of later statements on
    /// them are not predictions.
    #[serde(skip)]
    pub changes_rows_of: Vec<Option<QualifiedName>>,
    /// Named foreign keys and checks the file adds (validated or not), for a later VALIDATE.
    #[serde(skip)]
    pub adds: Vec<(QualifiedName, String, Requirement)>,
    /// The foreign keys the file adds, as (referencing, referenced) tables: the order deploy takes
    /// their locks in.
    #[serde(skip)]
    pub references: Vec<(QualifiedName, QualifiedName)>,
    /// The work its statements do in proportion to a table's rows (for the hold estimate).
    #[serde(skip)]
    pub work: Vec<super::work::Work>,
}

/// A migration deploy will not run, and why; nothing is applied when one is found.
#[derive(Debug, Clone, Serialize)]
pub struct Refusal {
    pub migration: String,
    pub line: usize,
    pub reason: String,
}

pub fn plan(migration: &Migration) -> Result<Planned, Refusal> {
    let sql = &migration.sql;
    let refuse = |line: usize, reason: String| Refusal {
        migration: migration.name.clone(),
        line,
        reason,
    };
    let file = split(sql).map_err(|e| refuse(e.line, format!("cannot tokenize: {}", e.message)))?;
    let statements = classify(&file, sql);
    // PostgreSQL's grammar first: a statement it rejects can never be applied, and under Prisma 7.4+
    // everything before it would stay committed.
    for statement in &statements {
        let text = &sql[statement.bytes.clone()];
        let gate = crate::source::grammar::gate();
        if let Err(rejected) = gate.check(text) {
            let (line, column) =
                crate::source::line_column(sql, statement.bytes.start + rejected.offset);
            return Err(refuse(
                line,
                format!(
                    "PostgreSQL rejects this statement: {} (column {column}); it can never be applied: correct it",
                    rejected.message
                ),
            ));
        }
    }
    let lines = crate::source::line_starts(sql);
    let range_of = |s: &Statement| -> Range<usize> {
        file.pieces[s.piece].statement.clone().unwrap_or_default()
    };
    let keywords = |s: &Statement| -> Vec<String> {
        file.significant_tokens(sql, &file.pieces[s.piece])
            .take(3)
            .map(|t| t.text.to_ascii_uppercase())
            .collect()
    };

    let outside: Vec<&Statement> = statements
        .iter()
        .filter(|s| {
            needs_no_transaction(&s.fact, &keywords(s))
                || commits_inside(&keywords(s), &sql[range_of(s)])
        })
        .collect();
    let shape = match (outside.as_slice(), statements.len()) {
        ([], _) => {
            let mut sent = Vec::new();
            let mut skipped = Vec::new();
            for s in &statements {
                let range = range_of(s);
                let at = statement_at(sql, &lines, &range);
                let words = keywords(s);
                match &s.fact {
                    Fact::Begin => skipped.push(Skipped {
                        at,
                        why: "deploy runs the whole file in one transaction of its own",
                    }),
                    Fact::Commit if words.first().is_some_and(|w| w == "ROLLBACK") => {
                        return Err(refuse(
                            at.line,
                            "the file rolls back its own transaction: deploy cannot keep it atomic; apply it with `prisma migrate deploy`".into(),
                        ));
                    }
                    Fact::Commit => skipped.push(Skipped {
                        at,
                        why: "deploy commits once, after the last statement",
                    }),
                    Fact::SetLockTimeout { .. } => skipped.push(Skipped {
                        at,
                        why: "deploy sets lock_timeout itself (--lock-timeout) and retries",
                    }),
                    _ if matches!(
                        words.first().map(String::as_str),
                        Some("SAVEPOINT" | "RELEASE" | "PREPARE")
                    ) =>
                    {
                        return Err(refuse(
                            at.line,
                            "transaction control inside the file: deploy cannot keep it atomic; apply it with `prisma migrate deploy`".into(),
                        ));
                    }
                    _ => sent.push(range),
                }
            }
            Shape::Transaction {
                statements: sent,
                skipped,
            }
        }
        ([alone], 1) => Shape::Alone {
            statement: range_of(alone),
            builds_index: match &alone.fact {
                Fact::CreateIndex(index) => index.name.clone(),
                _ => None,
            },
            backfill: commits_inside(&keywords(alone), &sql[range_of(alone)]),
        },
        ([first, ..], _) => {
            return Err(refuse(
                first.line,
                "the file mixes a statement that cannot run inside a transaction (CONCURRENTLY, VACUUM) with others: it can be neither atomic nor alone; give it a folder of its own (`migrate-safe rewrite` does: concurrently-alone)".into(),
            ));
        }
    };

    let mut locks = Vec::new();
    let mut needs = Vec::new();
    let mut changes_rows_of = Vec::new();
    let mut adds = Vec::new();
    for s in &statements {
        if let Fact::AlterTable { table, changes } = &s.fact {
            for change in changes {
                let name = match &change.kind {
                    TableChange::AddForeignKey(fk) => fk.name.clone(),
                    TableChange::AddCheck { name, .. } => name.clone(),
                    _ => None,
                };
                if let Some(name) = name
                    && let Some(requirement) = added_in_file(&statements, sql, table, &name)
                {
                    adds.push((table.clone(), name, requirement));
                }
            }
        }
        locks.extend(locks_of(&s.fact, s.line));
        needs.extend(needs_of(&s.fact, sql, s.line, &statements));
        match &s.fact {
            Fact::DataChange { table, .. } => changes_rows_of.push(Some(table.clone())),
            Fact::Unanalysed { .. } => changes_rows_of.push(None),
            _ => {}
        }
    }
    Ok(Planned {
        migration: migration.name.clone(),
        sql: sql.clone(),
        shape,
        locks,
        needs,
        changes_rows_of,
        adds,
        references: added_references(&statements),
        work: super::work::work_of(
            &statements,
            &statements.iter().map(range_of).collect::<Vec<_>>(),
        ),
    })
}

/// Statements PostgreSQL refuses inside a transaction block (SQLSTATE 25001).
fn needs_no_transaction(fact: &Fact, words: &[String]) -> bool {
    match fact {
        Fact::CreateIndex(index) => index.concurrently,
        Fact::DropIndexes { concurrently, .. } => *concurrently,
        Fact::Maintenance(Maintenance::Reindex { concurrently }) => *concurrently,
        Fact::Maintenance(Maintenance::VacuumFull) => true,
        _ => {
            let w: Vec<&str> = words.iter().map(String::as_str).collect();
            matches!(
                w.as_slice(),
                ["VACUUM", ..]
                    | ["CREATE", "DATABASE", ..]
                    | ["DROP", "DATABASE", ..]
                    | ["ALTER", "SYSTEM", ..]
                    | ["CREATE", "TABLESPACE", ..]
                    | ["DROP", "TABLESPACE", ..]
            ) || (w.first() == Some(&"REINDEX") && words.iter().any(|x| x == "CONCURRENTLY"))
        }
    }
}

/// A `DO` block that commits inside (a batched backfill): it runs only outside a transaction block,
/// sent alone.
fn commits_inside(words: &[String], text: &str) -> bool {
    words.first().is_some_and(|w| w == "DO")
        && text.split(';').any(|part| {
            part.trim_end()
                .rsplit(char::is_whitespace)
                .next()
                .is_some_and(|w| w.eq_ignore_ascii_case("COMMIT"))
        })
}

const ACCESS_EXCLUSIVE: &str = "ACCESS EXCLUSIVE";
const SHARE_ROW_EXCLUSIVE: &str = "SHARE ROW EXCLUSIVE";
const SHARE_UPDATE_EXCLUSIVE: &str = "SHARE UPDATE EXCLUSIVE";

fn locks_of(fact: &Fact, line: usize) -> Vec<LockTaken> {
    let lock = |target: LockTarget, mode: &'static str| LockTaken {
        on: match &target {
            LockTarget::Table(t) => t.to_string(),
            LockTarget::TableOfIndex(i) => format!("the table of index {i}"),
        },
        mode,
        line,
        target,
    };
    let table = |t: &QualifiedName| LockTarget::Table(t.clone());
    match fact {
        Fact::CreateIndex(index) => vec![lock(
            table(&index.table),
            if index.concurrently {
                SHARE_UPDATE_EXCLUSIVE
            } else {
                "SHARE"
            },
        )],
        Fact::DropIndexes {
            indexes,
            concurrently,
            ..
        } => indexes
            .iter()
            .map(|i| {
                lock(
                    LockTarget::TableOfIndex(i.clone()),
                    if *concurrently {
                        SHARE_UPDATE_EXCLUSIVE
                    } else {
                        ACCESS_EXCLUSIVE
                    },
                )
            })
            .collect(),
        Fact::AlterTable { table: on, changes } => {
            let mut out = Vec::new();
            let only = |f: fn(&TableChange) -> bool| changes.iter().all(|c| f(&c.kind));
            let mode = if only(|k| matches!(k, TableChange::ValidateConstraint { .. })) {
                SHARE_UPDATE_EXCLUSIVE
            } else if only(|k| matches!(k, TableChange::AddForeignKey(_))) {
                SHARE_ROW_EXCLUSIVE
            } else {
                ACCESS_EXCLUSIVE
            };
            out.push(lock(LockTarget::Table(on.clone()), mode));
            for change in changes {
                if let TableChange::AddForeignKey(fk) = &change.kind
                    && fk.referenced_table != *on
                {
                    out.push(lock(table(&fk.referenced_table), SHARE_ROW_EXCLUSIVE));
                }
            }
            out
        }
        Fact::DataChange { table: t, .. } => vec![lock(table(t), "ROW EXCLUSIVE")],
        Fact::Truncate { tables } | Fact::DropTables { tables } => tables
            .iter()
            .map(|t| lock(table(t), ACCESS_EXCLUSIVE))
            .collect(),
        Fact::RenameIndex { from, .. } => vec![lock(
            LockTarget::TableOfIndex(from.clone()),
            SHARE_UPDATE_EXCLUSIVE,
        )],
        _ => Vec::new(),
    }
}

fn needs_of(fact: &Fact, sql: &str, line: usize, all: &[Statement]) -> Vec<Needed> {
    let need = |requirement: Requirement| Needed { line, requirement };
    match fact {
        Fact::CreateIndex(index) if index.unique => match (&index.columns, index.partial) {
            (Some(columns), false) => vec![need(Requirement::Unique {
                table: index.table.clone(),
                columns: columns.clone(),
                primary: false,
            })],
            (_, partial) => vec![need(Requirement::NotCheckable {
                table: index.table.clone(),
                why: if partial {
                    "a partial unique index: its duplicates are not checked".into()
                } else {
                    "a unique index on expressions: its duplicates are not checked".into()
                },
            })],
        },
        Fact::AlterTable { table, changes } => changes
            .iter()
            .filter_map(|change| match &change.kind {
                TableChange::AddKey {
                    columns: Some(columns),
                    using_index: None,
                    primary,
                    ..
                } => Some(need(Requirement::Unique {
                    table: table.clone(),
                    columns: columns.clone(),
                    primary: *primary,
                })),
                TableChange::SetNotNull { column } => Some(need(Requirement::NotNull {
                    table: table.clone(),
                    column: column.clone(),
                })),
                TableChange::AddForeignKey(fk) if !fk.not_valid => {
                    Some(need(Requirement::References {
                        table: table.clone(),
                        columns: fk.columns.clone(),
                        referenced_table: fk.referenced_table.clone(),
                        referenced_columns: fk.referenced_columns.clone(),
                    }))
                }
                TableChange::AddCheck {
                    not_valid: false, ..
                } => check_expression(&sql[change.bytes.clone()]).map(|expression| {
                    need(Requirement::Check {
                        table: table.clone(),
                        expression,
                    })
                }),
                TableChange::ValidateConstraint { name } => {
                    Some(need(added_in_file(all, sql, table, name).unwrap_or(
                        Requirement::ExistingConstraint {
                            table: table.clone(),
                            name: name.clone(),
                        },
                    )))
                }
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The definition of constraint `name` on `table` when an ALTER TABLE of the same file adds it.
fn added_in_file(
    all: &[Statement],
    sql: &str,
    table: &QualifiedName,
    name: &str,
) -> Option<Requirement> {
    all.iter().find_map(|s| match &s.fact {
        Fact::AlterTable { table: t, changes } if t == table => {
            changes.iter().find_map(|change| match &change.kind {
                TableChange::AddForeignKey(fk) if fk.name.as_deref() == Some(name) => {
                    Some(Requirement::References {
                        table: table.clone(),
                        columns: fk.columns.clone(),
                        referenced_table: fk.referenced_table.clone(),
                        referenced_columns: fk.referenced_columns.clone(),
                    })
                }
                TableChange::AddCheck { name: Some(n), .. } if n == name => {
                    check_expression(&sql[change.bytes.clone()]).map(|expression| {
                        Requirement::Check {
                            table: table.clone(),
                            expression,
                        }
                    })
                }
                _ => None,
            })
        }
        _ => None,
    })
}

/// The expression inside `CHECK ( ... )` of an `ADD [CONSTRAINT c] CHECK (...)` operation; quotes
/// and nested parentheses respected.
pub fn check_expression(operation: &str) -> Option<String> {
    let upper = operation.to_ascii_uppercase();
    let start = upper.find("CHECK")? + "CHECK".len();
    let open = start + operation[start..].find('(')?;
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    for (i, c) in operation[open..].char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => {
                depth -= 1;
                if depth == 0 {
                    return Some(operation[open + 1..open + i].trim().to_string());
                }
            }
            _ => {}
        }
    }
    None
}

/// The foreign keys a migration adds, as (referencing, referenced) tables.
fn added_references(
    statements: &[crate::source::classify::Statement],
) -> Vec<(QualifiedName, QualifiedName)> {
    use crate::source::classify::{Fact, TableChange};
    let mut out = Vec::new();
    for statement in statements {
        if let Fact::AlterTable { table, changes } = &statement.fact {
            for change in changes {
                if let TableChange::AddForeignKey(fk) = &change.kind {
                    out.push((table.clone(), fk.referenced_table.clone()));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn planned(sql: &str) -> Result<Planned, Refusal> {
        plan(&Migration::loose(
            std::path::Path::new("m/migration.sql"),
            sql.to_string(),
        ))
    }

    #[test]
    fn check_expressions_keep_nested_parentheses_and_quotes() {
        assert_eq!(
            check_expression(r#"ADD CONSTRAINT "c" CHECK ((a > 0) AND b <> ')') NOT VALID"#)
                .as_deref(),
            Some("(a > 0) AND b <> ')'")
        );
        assert_eq!(
            check_expression("ADD CHECK (\"x\" IS NOT NULL)").as_deref(),
            Some("\"x\" IS NOT NULL")
        );
    }

    #[test]
    fn shapes() {
        let p = planned(
            "BEGIN;\nALTER TABLE \"T\" ADD COLUMN \"c\" INT;\nSET lock_timeout = '5s';\nCOMMIT;\n",
        )
        .unwrap();
        let Shape::Transaction {
            statements,
            skipped,
        } = &p.shape
        else {
            panic!("{:?}", p.shape)
        };
        assert_eq!(statements.len(), 1);
        let lines: Vec<usize> = skipped.iter().map(|s| s.at.line).collect();
        assert_eq!(lines, [1, 3, 4]);
        assert_eq!(
            p.locks,
            [LockTaken {
                on: "\"T\"".into(),
                mode: ACCESS_EXCLUSIVE,
                line: 2,
                target: LockTarget::Table(QualifiedName::new("public", "T")),
            }]
        );

        let p = planned(
            "-- CreateIndex\nCREATE UNIQUE INDEX CONCURRENTLY \"T_c_key\" ON \"T\"(\"c\");\n",
        )
        .unwrap();
        assert!(
            matches!(&p.shape, Shape::Alone { builds_index: Some(i), .. } if i.name == "T_c_key")
        );
        assert_eq!(
            p.needs[0].requirement,
            Requirement::Unique {
                table: QualifiedName::new("public", "T"),
                columns: vec!["c".into()],
                primary: false
            }
        );

        let refused = planned("CREATE INDEX CONCURRENTLY \"i\" ON \"T\"(\"c\");\nALTER TABLE \"T\" ADD COLUMN \"d\" INT;\n").unwrap_err();
        assert_eq!(refused.line, 1);
        assert!(planned("BEGIN;\nSELECT 1;\nROLLBACK;\n").is_err());
    }

    #[test]
    fn a_validate_finds_the_definition_added_in_the_same_file() {
        let p = planned("ALTER TABLE \"A\" ADD CONSTRAINT \"A_b_fkey\" FOREIGN KEY (\"bId\") REFERENCES \"B\"(\"id\") NOT VALID;\nALTER TABLE \"A\" VALIDATE CONSTRAINT \"A_b_fkey\";\nALTER TABLE \"A\" ADD CONSTRAINT \"pos\" CHECK (\"n\" > 0);\nALTER TABLE \"A\" ALTER COLUMN \"n\" SET NOT NULL;\nALTER TABLE \"A\" VALIDATE CONSTRAINT \"elsewhere\";\n").unwrap();
        let kinds: Vec<String> = p
            .needs
            .iter()
            .map(|n| {
                format!(
                    "{}:{}",
                    n.line,
                    serde_json::to_value(&n.requirement).unwrap()["check"]
                )
            })
            .collect();
        assert_eq!(
            kinds,
            [
                "2:\"references\"",
                "3:\"check\"",
                "4:\"not_null\"",
                "5:\"existing_constraint\""
            ]
        );
    }
}
