//! The read-only pre-flight: for the pending migrations, in order, the tables they lock (with their
//! size and row estimate), who holds locks on those tables now, and data checks that predict a
//! failure — duplicates for a new UNIQUE key, NULLs for SET NOT NULL, orphan rows for a validated
//! foreign key, rows a CHECK rejects. Every query runs in a READ ONLY transaction under a
//! statement_timeout, and reports counts, never data.

use std::time::{Duration, Instant};

use postgres::Client;
use serde::Serialize;

use super::plan::{LockTarget, Planned, Requirement};
use super::settings::pg_duration;
use super::watch::{Blocker, SESSION_COLUMNS};
use crate::db::describe;
use crate::source::names::{QualifiedName, quote};

#[derive(Debug, Clone, Serialize)]
pub struct TableFacts {
    pub table: String,
    pub mode: &'static str,
    pub line: usize,
    /// `pg_class.reltuples` (-1 before the first ANALYZE); `None` for a table that does not exist yet.
    pub rows_estimate: Option<i64>,
    pub total_bytes: Option<i64>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum CheckResult {
    Passes,
    /// The statement would fail on the data as it is now.
    Fails {
        detail: String,
        /// A read-only query that lists the offending rows or keys, to run by hand.
        list: String,
    },
    /// Violations now, but an earlier pending statement changes these rows first.
    NotPredictive {
        detail: String,
        because: String,
    },
    NotChecked {
        why: String,
    },
    /// The table or column does not exist yet: there are no rows to check.
    NoRowsYet {
        why: String,
    },
}

#[derive(Debug, Clone, Serialize)]
pub struct DataCheck {
    pub migration: String,
    pub line: usize,
    /// What was checked, in words: `no duplicate ("email") in "User"`.
    pub what: String,
    #[serde(flatten)]
    pub result: CheckResult,
    pub elapsed_ms: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct MigrationFacts {
    pub migration: String,
    pub tables: Vec<TableFacts>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Preflight {
    pub migrations: Vec<MigrationFacts>,
    pub checks: Vec<DataCheck>,
    /// Sessions holding locks on the tables the migrations lock, in transactions open for over 1 s.
    pub lock_holders: Vec<Blocker>,
    /// For each migration that takes a write-blocking lock on an existing table: how long it is
    /// estimated to hold it.
    pub holds: Vec<super::hold::HoldEstimate>,
    pub elapsed_ms: f64,
}

impl Preflight {
    pub fn predicted_failures(&self) -> impl Iterator<Item = &DataCheck> {
        self.checks
            .iter()
            .filter(|c| matches!(c.result, CheckResult::Fails { .. }))
    }
}

pub fn run(
    client: &mut Client,
    planned: &[Planned],
    timeout: Duration,
) -> Result<Preflight, postgres::Error> {
    let started = Instant::now();
    let mut migrations = Vec::new();
    let mut checks = Vec::new();
    let mut oids: Vec<u32> = Vec::new();
    // Tables whose rows an earlier pending statement changes, with the migration that does it
    // (`None`: code migrate-safe does not read, which may change any table).
    let mut rows_changed: Vec<(Option<QualifiedName>, String)> = Vec::new();
    for (position, migration) in planned.iter().enumerate() {
        let mut tables = Vec::new();
        for lock in &migration.locks {
            let (oid, facts) = table_facts(client, &lock.target)?;
            oids.extend(oid);
            tables.push(TableFacts {
                table: lock.on.clone(),
                mode: lock.mode,
                line: lock.line,
                rows_estimate: facts.map(|f| f.0),
                total_bytes: facts.map(|f| f.1),
            });
        }
        migrations.push(MigrationFacts {
            migration: migration.migration.clone(),
            tables,
        });
        for table in &migration.changes_rows_of {
            rows_changed.push((table.clone(), migration.migration.clone()));
        }
        for needed in &migration.needs {
            let requirement = resolve(client, &needed.requirement, &planned[..=position])?;
            let what = describe_requirement(&needed.requirement);
            let check_started = Instant::now();
            let mut result = match requirement {
                Ok(requirement) => evaluate(client, &requirement, timeout)?,
                Err(why) => CheckResult::NotChecked { why },
            };
            if let CheckResult::Fails { detail, .. } = &result
                && let Some(because) = changed_before(&rows_changed, &needed.requirement)
            {
                result = CheckResult::NotPredictive {
                    detail: detail.clone(),
                    because,
                };
            }
            checks.push(DataCheck {
                migration: migration.migration.clone(),
                line: needed.line,
                what,
                result,
                elapsed_ms: check_started.elapsed().as_secs_f64() * 1000.0,
            });
        }
    }
    oids.sort_unstable();
    oids.dedup();
    let lock_holders = holders(client, &oids)?;
    let holds = super::hold::estimate(client, planned)?;
    Ok(Preflight {
        migrations,
        checks,
        lock_holders,
        holds,
        elapsed_ms: started.elapsed().as_secs_f64() * 1000.0,
    })
}

fn table_of(requirement: &Requirement) -> &QualifiedName {
    match requirement {
        Requirement::Unique { table, .. }
        | Requirement::NotNull { table, .. }
        | Requirement::References { table, .. }
        | Requirement::Check { table, .. }
        | Requirement::ExistingConstraint { table, .. }
        | Requirement::NotCheckable { table, .. } => table,
    }
}

fn changed_before(
    changed: &[(Option<QualifiedName>, String)],
    requirement: &Requirement,
) -> Option<String> {
    let table = table_of(requirement);
    changed.iter().find_map(|(t, migration)| match t {
        Some(t) if t == table => Some(format!("{migration} changes rows of {table} first")),
        None => Some(format!(
            "{migration} runs code migrate-safe does not read (a DO block, ...) first"
        )),
        _ => None,
    })
}

/// `"a", "b"`: quoted column names for SQL and messages.
fn list(columns: &[String]) -> String {
    columns
        .iter()
        .map(|c| quote(c))
        .collect::<Vec<_>>()
        .join(", ")
}

fn describe_requirement(requirement: &Requirement) -> String {
    match requirement {
        Requirement::Unique {
            table,
            columns,
            primary,
        } => format!(
            "no duplicate ({}) in {table}{}",
            list(columns),
            if *primary { " and no NULL" } else { "" }
        ),
        Requirement::NotNull { table, column } => {
            format!("no NULL in {table}.{}", quote(column))
        }
        Requirement::References {
            table,
            columns,
            referenced_table,
            referenced_columns,
        } => format!(
            "every {table}({}) found in {referenced_table}({})",
            list(columns),
            list(referenced_columns)
        ),
        Requirement::Check { table, expression } => {
            format!("every row of {table} satisfies CHECK ({expression})")
        }
        Requirement::ExistingConstraint { table, name } => {
            format!("every row of {table} satisfies constraint {}", quote(name))
        }
        Requirement::NotCheckable { table, .. } => format!("no duplicate in {table}"),
    }
}

/// `VALIDATE CONSTRAINT c`: its definition from an earlier pending migration, else the database.
fn resolve(
    client: &mut Client,
    requirement: &Requirement,
    planned: &[Planned],
) -> Result<Result<Requirement, String>, postgres::Error> {
    let Requirement::ExistingConstraint { table, name } = requirement else {
        return Ok(Ok(requirement.clone()));
    };
    if let Some(found) = planned.iter().rev().find_map(|p| {
        p.adds
            .iter()
            .find(|(t, n, _)| t == table && n == name)
            .map(|(_, _, r)| r.clone())
    }) {
        return Ok(Ok(found));
    }
    let row = client.query_opt(
        "SELECT c.contype::text, pg_get_expr(c.conbin, c.conrelid),
                array(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY k(n, o)
                      JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.o),
                array(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY k(n, o)
                      JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.o),
                rn.nspname::text, r.relname::text
         FROM pg_constraint c
         LEFT JOIN pg_class r ON r.oid = c.confrelid
         LEFT JOIN pg_namespace rn ON rn.oid = r.relnamespace
         WHERE c.conrelid = to_regclass($1) AND c.conname = $2",
        &[&table.to_string(), &name],
    )?;
    let Some(row) = row else {
        return Ok(Err(format!(
            "constraint {} is not on {table} in the database, and no pending migration before adds it",
            quote(name)
        )));
    };
    let kind: String = row.get(0);
    Ok(match kind.as_str() {
        "c" => Ok(Requirement::Check {
            table: table.clone(),
            expression: row.get::<_, Option<String>>(1).unwrap_or_default(),
        }),
        "f" => Ok(Requirement::References {
            table: table.clone(),
            columns: row.get(2),
            referenced_table: QualifiedName::new(
                row.get::<_, Option<String>>(4).unwrap_or_default(),
                row.get::<_, Option<String>>(5).unwrap_or_default(),
            ),
            referenced_columns: row.get(3),
        }),
        other => Err(format!("constraint type {other} is not checked")),
    })
}

/// A table's oid, and its row estimate and total size.
type Sized = (Option<u32>, Option<(i64, i64)>);

/// Row estimate and total size of the locked table; `None` when it does not exist (yet).
fn table_facts(client: &mut Client, target: &LockTarget) -> Result<Sized, postgres::Error> {
    let (query, name) = match target {
        LockTarget::Table(t) => ("SELECT to_regclass($1)::oid", t),
        LockTarget::TableOfIndex(i) => (
            "SELECT indrelid FROM pg_index WHERE indexrelid = to_regclass($1)",
            i,
        ),
    };
    let oid: Option<u32> = client
        .query_opt(query, &[&name.to_string()])?
        .and_then(|row| row.get(0));
    let Some(oid) = oid else {
        return Ok((None, None));
    };
    let row = client.query_one(
        "SELECT reltuples::int8, pg_total_relation_size(oid) FROM pg_class WHERE oid = $1",
        &[&oid],
    )?;
    Ok((Some(oid), Some((row.get(0), row.get(1)))))
}

/// Whether the table and every column exist now; the reason when not.
fn present(
    client: &mut Client,
    table: &QualifiedName,
    columns: &[&String],
) -> Result<Option<String>, postgres::Error> {
    let missing: Option<String> = client
        .query_one(
            "SELECT CASE WHEN to_regclass($1) IS NULL THEN '' ELSE
                    (SELECT string_agg(c, ', ') FROM unnest($2::text[]) c
                     WHERE NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = to_regclass($1)
                                         AND a.attname = c AND NOT a.attisdropped)) END",
            &[&table.to_string(), &columns.iter().map(|c| c.as_str()).collect::<Vec<_>>()],
        )?
        .get(0);
    Ok(match missing.as_deref() {
        None => None,
        Some("") => Some(format!(
            "{table} does not exist yet (a pending migration creates it): no rows to check"
        )),
        Some(columns) => Some(format!(
            "column {columns} of {table} does not exist yet (a pending migration adds it): its values are not there to check"
        )),
    })
}

fn evaluate(
    client: &mut Client,
    requirement: &Requirement,
    timeout: Duration,
) -> Result<CheckResult, postgres::Error> {
    let (table, columns): (&QualifiedName, Vec<&String>) = match requirement {
        Requirement::Unique { table, columns, .. } => (table, columns.iter().collect()),
        Requirement::NotNull { table, column } => (table, vec![column]),
        Requirement::References { table, columns, .. } => (table, columns.iter().collect()),
        Requirement::Check { table, .. } => (table, Vec::new()),
        Requirement::ExistingConstraint { .. } => {
            return Ok(CheckResult::NotChecked {
                why: "definition unknown".into(),
            });
        }
        Requirement::NotCheckable { why, .. } => {
            return Ok(CheckResult::NotChecked { why: why.clone() });
        }
    };
    if let Some(why) = present(client, table, &columns)? {
        return Ok(CheckResult::NoRowsYet { why });
    }
    let not_null = |alias: &str, columns: &[String]| {
        columns
            .iter()
            .map(|c| format!("{alias}.{} IS NOT NULL", quote(c)))
            .collect::<Vec<_>>()
            .join(" AND ")
    };
    type Explain = fn(&[i64]) -> Option<String>;
    let mut list_query = match requirement {
        Requirement::Unique { columns, .. } => format!(
            "SELECT {}, count(*) FROM {table} t WHERE {} GROUP BY {} HAVING count(*) > 1 ORDER BY count(*) DESC LIMIT 100",
            list(columns),
            not_null("t", columns),
            list(columns)
        ),
        Requirement::NotNull { column, .. } => {
            format!(
                "SELECT * FROM {table} WHERE {} IS NULL LIMIT 100",
                quote(column)
            )
        }
        Requirement::Check { expression, .. } => {
            format!("SELECT * FROM {table} WHERE NOT ({expression}) LIMIT 100")
        }
        _ => String::new(),
    };
    let (query, explain): (String, Explain) = match requirement {
        Requirement::Unique {
            columns, primary, ..
        } => (
            format!(
                // One pass over the groups: how many keys repeat, and in how many rows.
                "SELECT count(*)::int8, coalesce(sum(d.n), 0)::int8, {}
                 FROM (SELECT count(*) AS n FROM {table} t WHERE {} GROUP BY {} HAVING count(*) > 1) d",
                if *primary {
                    format!(
                        "(SELECT count(*) FROM {table} t WHERE NOT ({}))::int8",
                        not_null("t", columns)
                    )
                } else {
                    "0::int8".into()
                },
                not_null("t", columns),
                list(columns),
            ),
            |n| {
                let mut parts = Vec::new();
                if n[0] > 0 {
                    parts.push(format!(
                        "{} duplicated key value(s) in {} rows",
                        n[0], n[1]
                    ));
                }
                if n[2] > 0 {
                    parts.push(format!("{} row(s) with a NULL key", n[2]));
                }
                (!parts.is_empty()).then(|| parts.join(", "))
            },
        ),
        Requirement::NotNull { column, .. } => (
            format!(
                "SELECT count(*)::int8 FROM {table} WHERE {} IS NULL",
                quote(column)
            ),
            |n| (n[0] > 0).then(|| format!("{} row(s) hold NULL", n[0])),
        ),
        Requirement::References {
            columns,
            referenced_table,
            referenced_columns,
            ..
        } => {
            let parent_exists: bool = client
                .query_one(
                    "SELECT to_regclass($1) IS NOT NULL",
                    &[&referenced_table.to_string()],
                )?
                .get(0);
            let matches = columns
                .iter()
                .zip(referenced_columns)
                .map(|(c, r)| format!("p.{} = t.{}", quote(r), quote(c)))
                .collect::<Vec<_>>()
                .join(" AND ");
            let orphan = if parent_exists {
                format!("NOT EXISTS (SELECT 1 FROM {referenced_table} p WHERE {matches})")
            } else {
                "true".into()
            };
            list_query = format!(
                "SELECT * FROM {table} t WHERE {} AND {orphan} LIMIT 100",
                not_null("t", columns)
            );
            (
                format!(
                    "SELECT count(*)::int8 FROM {table} t WHERE {} AND {orphan}",
                    not_null("t", columns)
                ),
                |n| {
                    (n[0] > 0).then(|| format!("{} row(s) reference no existing row", n[0]))
                },
            )
        }
        Requirement::Check { expression, .. } => (
            format!("SELECT count(*)::int8 FROM {table} WHERE NOT ({expression})"),
            |n| (n[0] > 0).then(|| format!("{} row(s) violate it", n[0])),
        ),
        Requirement::ExistingConstraint { .. } | Requirement::NotCheckable { .. } => {
            unreachable!("handled above")
        }
    };
    let mut transaction = client.build_transaction().read_only(true).start()?;
    transaction.batch_execute(&format!(
        "SET LOCAL statement_timeout = '{}'",
        pg_duration(timeout)
    ))?;
    let result = transaction.query_one(query.as_str(), &[]);
    let result = match result {
        Ok(row) => {
            let counts: Vec<i64> = (0..row.len()).map(|i| row.get(i)).collect();
            match explain(&counts) {
                Some(detail) => CheckResult::Fails {
                    detail,
                    list: list_query.clone(),
                },
                None => CheckResult::Passes,
            }
        }
        Err(error) => {
            let timed_out = error.code().is_some_and(|c| c.code() == "57014");
            CheckResult::NotChecked {
                why: if timed_out {
                    format!(
                        "gave up after {} (--preflight-timeout)",
                        pg_duration(timeout)
                    )
                } else {
                    describe(&error)
                },
            }
        }
    };
    let _ = transaction.rollback();
    Ok(result)
}

/// Sessions holding locks on these tables in transactions open for more than a second.
fn holders(client: &mut Client, oids: &[u32]) -> Result<Vec<Blocker>, postgres::Error> {
    if oids.is_empty() {
        return Ok(Vec::new());
    }
    let query = format!(
        "SELECT DISTINCT {SESSION_COLUMNS} FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
         WHERE l.granted AND l.relation = ANY ($1::oid[]) AND l.pid <> pg_backend_pid()
           AND a.xact_start < clock_timestamp() - interval '1 second'"
    );
    Ok(client
        .query(&query, &[&oids])?
        .iter()
        .map(Blocker::from_row)
        .collect())
}
