//! A normalised view of a database's schema, to prove two migration sequences build the same thing.
//!
//! Each object becomes one line (`kind name: definition`). States that are not shapes are left out:
//! `NOT VALID` on a constraint, and whether an index was built CONCURRENTLY (which the catalog does not
//! record). They are checked separately by [`hazards`].

use std::collections::BTreeSet;

use postgres::Client;

use super::DbError;

const USER_SCHEMAS: &str = "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'";

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Catalog {
    pub lines: BTreeSet<String>,
}

/// What differs between two catalogs: lines only in `a` (`-`), only in `b` (`+`).
pub fn diff(a: &Catalog, b: &Catalog) -> Vec<String> {
    let mut out: Vec<String> = a
        .lines
        .difference(&b.lines)
        .map(|l| format!("- {l}"))
        .collect();
    out.extend(b.lines.difference(&a.lines).map(|l| format!("+ {l}")));
    out
}

pub fn snapshot(client: &mut Client) -> Result<Catalog, DbError> {
    snapshot_with(|query| client.query(query, &[]))
}

/// The same, through any way of running a query (a client, a read-only transaction).
pub fn snapshot_with(
    mut query: impl FnMut(&str) -> Result<Vec<postgres::Row>, postgres::Error>,
) -> Result<Catalog, DbError> {
    let queries = [
        format!(
            "SELECT 'schema ' || quote_ident(n.nspname) FROM pg_namespace n WHERE {USER_SCHEMAS}"
        ),
        "SELECT 'extension ' || extname FROM pg_extension".to_string(),
        format!(
            "SELECT 'relation ' || quote_ident(n.nspname) || '.' || quote_ident(c.relname) || ': kind ' || c.relkind::text
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE {USER_SCHEMAS} AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND c.relname <> '_prisma_migrations'"
        ),
        format!(
            "SELECT 'column ' || quote_ident(n.nspname) || '.' || quote_ident(c.relname) || '.' || quote_ident(a.attname)
                || ': #' || a.attnum || ' ' || format_type(a.atttypid, a.atttypmod)
                || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
                || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '')
                || CASE a.attidentity WHEN '' THEN '' ELSE ' identity ' || a.attidentity::text END
                || CASE a.attgenerated WHEN '' THEN '' ELSE ' generated ' || a.attgenerated::text END
                || coalesce(' collate ' || co.collname, '')
             FROM pg_attribute a
             JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
             LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
             LEFT JOIN pg_collation co ON co.oid = a.attcollation AND a.attcollation <> 100
             WHERE {USER_SCHEMAS} AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND a.attnum > 0 AND NOT a.attisdropped
               AND c.relname <> '_prisma_migrations'"
        ),
        format!(
            "SELECT 'constraint ' || quote_ident(n.nspname) || '.' || quote_ident(c.relname) || '.' || quote_ident(k.conname)
                || ': ' || replace(pg_get_constraintdef(k.oid), ' NOT VALID', '')
             FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE {USER_SCHEMAS} AND c.relname <> '_prisma_migrations'"
        ),
        format!(
            "SELECT 'index ' || quote_ident(n.nspname) || '.' || quote_ident(i.relname) || ': ' || pg_get_indexdef(x.indexrelid)
             FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class c ON c.oid = x.indrelid
             JOIN pg_namespace n ON n.oid = i.relnamespace
             WHERE {USER_SCHEMAS} AND c.relname <> '_prisma_migrations'"
        ),
        format!(
            "SELECT 'enum ' || quote_ident(n.nspname) || '.' || quote_ident(t.typname) || ': '
                || string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder)
             FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace JOIN pg_enum e ON e.enumtypid = t.oid
             WHERE {USER_SCHEMAS} GROUP BY n.nspname, t.typname"
        ),
        format!(
            "SELECT 'sequence ' || quote_ident(n.nspname) || '.' || quote_ident(c.relname) || ': ' || format_type(s.seqtypid, NULL)
                || ' start ' || s.seqstart || ' increment ' || s.seqincrement || ' min ' || s.seqmin || ' max ' || s.seqmax
                || ' cycle ' || s.seqcycle
             FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE {USER_SCHEMAS}"
        ),
        format!(
            "SELECT 'view ' || quote_ident(n.nspname) || '.' || quote_ident(c.relname) || ': ' || pg_get_viewdef(c.oid)
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE {USER_SCHEMAS} AND c.relkind IN ('v', 'm')"
        ),
        format!(
            "SELECT 'function ' || quote_ident(n.nspname) || '.' || quote_ident(p.proname) || ': ' || pg_get_functiondef(p.oid)
             FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
             WHERE {USER_SCHEMAS} AND p.prokind IN ('f', 'p')
               AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')"
        ),
        format!(
            "SELECT 'trigger ' || quote_ident(n.nspname) || '.' || quote_ident(c.relname) || '.' || quote_ident(t.tgname)
                || ': ' || pg_get_triggerdef(t.oid)
             FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE {USER_SCHEMAS} AND NOT t.tgisinternal"
        ),
    ];
    let mut lines = BTreeSet::new();
    for sql in queries {
        for row in query(sql.as_str())? {
            lines.insert(row.get::<_, String>(0));
        }
    }
    Ok(Catalog { lines })
}

/// A state left behind that Prisma does not see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hazard {
    /// `pg_index.indisvalid = false`: a failed CONCURRENTLY build.
    InvalidIndex {
        schema: String,
        index: String,
        table: String,
    },
    /// `pg_constraint.convalidated = false`: NOT VALID without its VALIDATE.
    NotValidConstraint {
        schema: String,
        table: String,
        constraint: String,
    },
}

pub fn hazards(client: &mut Client) -> Result<Vec<Hazard>, DbError> {
    let mut found = Vec::new();
    for row in client.query(
        format!(
            "SELECT n.nspname::text, i.relname::text, c.relname::text FROM pg_index x
             JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class c ON c.oid = x.indrelid
             JOIN pg_namespace n ON n.oid = i.relnamespace WHERE NOT x.indisvalid AND {USER_SCHEMAS} ORDER BY 1, 2"
        )
        .as_str(),
        &[],
    )? {
        found.push(Hazard::InvalidIndex { schema: row.get(0), index: row.get(1), table: row.get(2) });
    }
    for row in client.query(
        format!(
            "SELECT n.nspname::text, c.relname::text, k.conname::text FROM pg_constraint k
             JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE NOT k.convalidated AND {USER_SCHEMAS} ORDER BY 1, 2, 3"
        )
        .as_str(),
        &[],
    )? {
        found.push(Hazard::NotValidConstraint {
            schema: row.get(0),
            table: row.get(1),
            constraint: row.get(2),
        });
    }
    Ok(found)
}
