//! `--rows N`: fill each existing table with N rows before a migration runs, so lock durations in the
//! report are those of a table with data. Values follow column types; foreign keys point at existing
//! rows; what cannot be filled is skipped with a note, never guessed into an error.

use std::collections::{BTreeMap, HashMap, HashSet};

use postgres::Client;

use crate::db::{DbError, describe};
use crate::source::names::quote;

struct Column {
    name: String,
    type_name: String,
    category: String,
    not_null: bool,
    /// Left to PostgreSQL: a default, identity or generated column.
    automatic: bool,
}

struct Table {
    oid: u32,
    display: String,
    columns: Vec<Column>,
}

/// Seed every user table up to `rows` rows. Returns notes about what was skipped.
pub fn seed(client: &mut Client, rows: u64) -> Result<Vec<String>, DbError> {
    let mut tables: BTreeMap<u32, Table> = BTreeMap::new();
    for row in client.query(
        "SELECT c.oid, quote_ident(n.nspname) || '.' || quote_ident(c.relname), a.attname::text,
                format_type(a.atttypid, a.atttypmod), t.typcategory::text, a.attnotnull,
                (d.adbin IS NOT NULL OR a.attidentity <> '' OR a.attgenerated <> '')
         FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
         JOIN pg_type t ON t.oid = a.atttypid LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
         WHERE c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped AND c.relname <> '_prisma_migrations'
           AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
         ORDER BY c.oid, a.attnum",
        &[],
    )? {
        let oid: u32 = row.get(0);
        let table = tables.entry(oid).or_insert_with(|| Table { oid, display: row.get(1), columns: Vec::new() });
        table.columns.push(Column {
            name: row.get(2),
            type_name: row.get(3),
            category: row.get(4),
            not_null: row.get(5),
            automatic: row.get(6),
        });
    }
    // Single-column foreign keys: (table, column) → (referenced table, referenced column).
    let mut references: HashMap<(u32, String), (u32, String)> = HashMap::new();
    let mut depends_on: HashMap<u32, HashSet<u32>> = HashMap::new();
    for row in client.query(
        "SELECT k.conrelid, a.attname::text, k.confrelid, r.attname::text FROM pg_constraint k
         JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[1]
         JOIN pg_attribute r ON r.attrelid = k.confrelid AND r.attnum = k.confkey[1]
         WHERE k.contype = 'f' AND array_length(k.conkey, 1) = 1",
        &[],
    )? {
        let (table, column, referenced, referenced_column): (u32, String, u32, String) =
            (row.get(0), row.get(1), row.get(2), row.get(3));
        references.insert((table, column), (referenced, referenced_column));
        if table != referenced {
            depends_on.entry(table).or_default().insert(referenced);
        }
    }
    let mut notes = Vec::new();
    client.batch_execute("BEGIN")?;
    for oid in fill_order(&tables, &depends_on) {
        let table = &tables[&oid];
        if let Some(note) = seed_table(client, table, &tables, &references, rows)? {
            notes.push(note);
        }
    }
    client.batch_execute("COMMIT")?;
    Ok(notes)
}

/// Referenced tables first; cycles broken in oid order.
fn fill_order(tables: &BTreeMap<u32, Table>, depends_on: &HashMap<u32, HashSet<u32>>) -> Vec<u32> {
    let mut done: Vec<u32> = Vec::new();
    let mut visiting = HashSet::new();
    fn visit(
        oid: u32,
        depends_on: &HashMap<u32, HashSet<u32>>,
        visiting: &mut HashSet<u32>,
        done: &mut Vec<u32>,
    ) {
        if done.contains(&oid) || !visiting.insert(oid) {
            return;
        }
        let mut needs: Vec<u32> = depends_on
            .get(&oid)
            .into_iter()
            .flatten()
            .copied()
            .collect();
        needs.sort_unstable();
        for need in needs {
            visit(need, depends_on, visiting, done);
        }
        done.push(oid);
    }
    for &oid in tables.keys() {
        visit(oid, depends_on, &mut visiting, &mut done);
    }
    done.retain(|oid| tables.contains_key(oid));
    done
}

/// The value of a column in row `g`, or `None` when its type has no generator here.
fn value(column: &Column) -> Option<String> {
    let cast = &column.type_name;
    Some(match column.category.as_str() {
        "N" if cast == "smallint" => "(g % 32000)::smallint".to_string(),
        "N" => format!("(g)::{cast}"),
        "S" => format!("('v' || g)::{cast}"),
        "B" => "(g % 2 = 0)".to_string(),
        "D" => format!("(now() - g * interval '1 second')::{cast}"),
        "E" => format!(
            "(enum_range(NULL::{cast}))[1 + (g % array_length(enum_range(NULL::{cast}), 1))::int]"
        ),
        "A" => format!("'{{}}'::{cast}"),
        "U" if cast == "uuid" => "md5(g::text)::uuid".to_string(),
        "U" if cast == "jsonb" || cast == "json" => format!("json_build_object('n', g)::{cast}"),
        "U" if cast == "bytea" => "decode(md5(g::text), 'hex')".to_string(),
        _ => return None,
    })
}

fn seed_table(
    client: &mut Client,
    table: &Table,
    tables: &BTreeMap<u32, Table>,
    references: &HashMap<(u32, String), (u32, String)>,
    rows: u64,
) -> Result<Option<String>, DbError> {
    let present: i64 = client
        .query_one(&format!("SELECT count(*) FROM {}", table.display), &[])?
        .get(0);
    let present = present.max(0) as u64;
    if present >= rows {
        return Ok(None);
    }
    let mut columns = Vec::new();
    let mut values = Vec::new();
    // Foreign keys pick existing rows through a numbered join: linear, not a subquery per row.
    let mut joins = Vec::new();
    for column in &table.columns {
        let expression = match references.get(&(table.oid, column.name.clone())) {
            Some((referenced, referenced_column)) => {
                let target = &tables
                    .get(referenced)
                    .map_or("?".to_string(), |t| t.display.clone());
                let count: i64 = client
                    .query_one(&format!("SELECT count(*) FROM {target}"), &[])?
                    .get(0);
                if count == 0 || *referenced == table.oid {
                    if column.not_null {
                        return Ok(Some(format!(
                            "--rows: skipped {}: {} must reference {target}, which has no rows",
                            table.display, column.name
                        )));
                    }
                    continue;
                }
                let alias = format!("r{}", joins.len());
                joins.push(format!(
                    "JOIN (SELECT {col} AS v, row_number() OVER (ORDER BY {col}) - 1 AS n FROM {target}) {alias} ON {alias}.n = (g - 1) % {count}",
                    col = quote(referenced_column)
                ));
                format!("{alias}.v")
            }
            None if column.automatic => continue,
            None => match value(column) {
                Some(expression) => expression,
                None if column.not_null => {
                    return Ok(Some(format!(
                        "--rows: skipped {}: no generator for {} {}",
                        table.display, column.name, column.type_name
                    )));
                }
                None => continue,
            },
        };
        columns.push(quote(&column.name));
        values.push(expression);
    }
    let source = format!(
        "generate_series({}, {rows}) g {}",
        present + 1,
        joins.join(" ")
    );
    let insert = if columns.is_empty() {
        format!("INSERT INTO {} SELECT FROM {source}", table.display)
    } else {
        format!(
            "INSERT INTO {} ({}) SELECT {} FROM {source}",
            table.display,
            columns.join(", "),
            values.join(", ")
        )
    };
    client.batch_execute("SAVEPOINT migrate_safe_seed")?;
    match client.batch_execute(&insert) {
        Ok(()) => {
            client.batch_execute("RELEASE SAVEPOINT migrate_safe_seed")?;
            Ok(None)
        }
        Err(error) => {
            client.batch_execute("ROLLBACK TO SAVEPOINT migrate_safe_seed")?;
            Ok(Some(format!(
                "--rows: skipped {}: {}",
                table.display,
                describe(&error)
            )))
        }
    }
}
