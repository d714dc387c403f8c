//! A normalised view of a database's schema, to prove two migration sequences build the same thing.
//!
//! Each object becomes one line (`kind name: definition`) holding every property a rewrite could alter:
//! relations (kind, persistence, options, tablespace, replica identity, row security, partition key
//! and bound, inheritance, privileges), columns (type, nullability, default, identity, generated
//! expression, collation, storage, compression, statistics target), constraints (the whole definition:
//! deferrability, FK actions and MATCH type, check expressions, NULLS NOT DISTINCT ...), indexes (the
//! whole definition: uniqueness, method, opclasses, collations, INCLUDE, predicate, WITH (...), and
//! tablespace), enums, domains, sequences (with their owner), views, functions, aggregates,
//! triggers (and whether enabled), policies, rules, statistics, collations, event triggers, extensions,
//! and comments on anything. `tests/live/catalog.rs` proves each one is seen. States that are not
//! shapes are left out:
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
        "SELECT 'extension ' || extname || ' ' || extversion FROM pg_extension".to_string(),
        // A relation's kind and every property of its own: persistence (UNLOGGED), storage options,
        // tablespace, replica identity, row-level security, partitioning (key, bound, parent),
        // inheritance, privileges.
        format!(
            "SELECT 'relation ' || quote_ident(n.nspname) || '.' || quote_ident(c.relname) || ': kind ' || c.relkind::text
                || ' persistence ' || c.relpersistence::text
                || coalesce(' options ' || array_to_string(c.reloptions, ','), '')
                || coalesce(' tablespace ' || ts.spcname, '')
                || CASE WHEN c.relkind IN ('r', 'p', 'm') THEN ' replica identity ' || c.relreplident::text ELSE '' END
                || CASE WHEN c.relrowsecurity THEN ' row security' ELSE '' END
                || CASE WHEN c.relforcerowsecurity THEN ' forced' ELSE '' END
                || CASE WHEN c.relkind = 'p' THEN ' partition by ' || pg_get_partkeydef(c.oid) ELSE '' END
                || coalesce(' ' || pg_get_expr(c.relpartbound, c.oid), '')
                || coalesce(' inherits ' || (SELECT string_agg(quote_ident(pn.nspname) || '.' || quote_ident(p.relname), ', ' ORDER BY i.inhseqno)
                     FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent JOIN pg_namespace pn ON pn.oid = p.relnamespace
                     WHERE i.inhrelid = c.oid), '')
                || coalesce(' acl ' || c.relacl::text, '')
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             LEFT JOIN pg_tablespace ts ON ts.oid = c.reltablespace
             WHERE {USER_SCHEMAS} AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f', 'c') AND c.relname <> '_prisma_migrations'"
        ),
        format!(
            "SELECT 'column ' || quote_ident(n.nspname) || '.' || quote_ident(c.relname) || '.' || quote_ident(a.attname)
                || ': #' || a.attnum || ' ' || format_type(a.atttypid, a.atttypmod)
                || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
                || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '')
                || CASE a.attidentity WHEN '' THEN '' ELSE ' identity ' || a.attidentity::text END
                || CASE a.attgenerated WHEN '' THEN '' ELSE ' generated ' || a.attgenerated::text END
                || coalesce(' collate ' || co.collname, '')
                || CASE WHEN a.attstorage <> t.typstorage THEN ' storage ' || a.attstorage::text ELSE '' END
                || CASE WHEN a.attcompression <> '' THEN ' compression ' || a.attcompression::text ELSE '' END
                || CASE WHEN a.attstattarget >= 0 THEN ' statistics ' || a.attstattarget ELSE '' END
                || coalesce(' acl ' || a.attacl::text, '')
             FROM pg_attribute a
             JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
             JOIN pg_type t ON t.oid = a.atttypid
             LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
             LEFT JOIN pg_collation co ON co.oid = a.attcollation AND a.attcollation <> 100
             WHERE {USER_SCHEMAS} AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'c') AND a.attnum > 0 AND NOT a.attisdropped
               AND c.relname <> '_prisma_migrations'"
        ),
        // pg_get_constraintdef carries the kind, columns, expression, referenced table and columns,
        // ON DELETE / ON UPDATE actions, MATCH type, DEFERRABLE / INITIALLY, NULLS NOT DISTINCT, NO
        // INHERIT, INCLUDE, WITH (...) and USING INDEX TABLESPACE; condeferrable and condeferred are
        // named again so that no rendering can hide them.
        format!(
            "SELECT 'constraint ' || quote_ident(n.nspname) || '.' || quote_ident(c.relname) || '.' || quote_ident(k.conname)
                || ': ' || replace(pg_get_constraintdef(k.oid), ' NOT VALID', '')
                || CASE WHEN k.condeferrable THEN ' [deferrable' || CASE WHEN k.condeferred THEN ', deferred]' ELSE ']' END ELSE '' END
                || coalesce(' index ' || quote_ident(ki.relname), '')
             FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
             LEFT JOIN pg_class ki ON ki.oid = k.conindid AND k.contype IN ('u', 'p', 'x')
             WHERE {USER_SCHEMAS} AND c.relname <> '_prisma_migrations'"
        ),
        // pg_get_indexdef carries uniqueness, method, columns and expressions, opclasses, collations,
        // ordering, INCLUDE, WITH (...), NULLS NOT DISTINCT and the predicate; not the tablespace.
        format!(
            "SELECT 'index ' || quote_ident(n.nspname) || '.' || quote_ident(i.relname) || ': ' || pg_get_indexdef(x.indexrelid)
                || coalesce(' tablespace ' || ts.spcname, '')
                || CASE WHEN x.indisclustered THEN ' clustered' ELSE '' END
                || CASE WHEN x.indisreplident THEN ' replica identity' ELSE '' END
             FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class c ON c.oid = x.indrelid
             JOIN pg_namespace n ON n.oid = i.relnamespace
             LEFT JOIN pg_tablespace ts ON ts.oid = i.reltablespace
             WHERE {USER_SCHEMAS} AND c.relname <> '_prisma_migrations'"
        ),
        format!(
            "SELECT 'enum ' || quote_ident(n.nspname) || '.' || quote_ident(t.typname) || ': '
                || string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder)
             FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace JOIN pg_enum e ON e.enumtypid = t.oid
             WHERE {USER_SCHEMAS} GROUP BY n.nspname, t.typname"
        ),
        format!(
            "SELECT 'domain ' || quote_ident(n.nspname) || '.' || quote_ident(t.typname) || ': ' || format_type(t.typbasetype, t.typtypmod)
                || CASE WHEN t.typnotnull THEN ' not null' ELSE '' END
                || coalesce(' default ' || t.typdefault, '')
                || coalesce(' collate ' || co.collname, '')
             FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
             LEFT JOIN pg_collation co ON co.oid = t.typcollation AND t.typcollation <> 100
             WHERE {USER_SCHEMAS} AND t.typtype = 'd'"
        ),
        format!(
            "SELECT 'domain constraint ' || quote_ident(n.nspname) || '.' || quote_ident(t.typname) || '.' || quote_ident(k.conname)
                || ': ' || replace(pg_get_constraintdef(k.oid), ' NOT VALID', '')
             FROM pg_constraint k JOIN pg_type t ON t.oid = k.contypid JOIN pg_namespace n ON n.oid = t.typnamespace
             WHERE {USER_SCHEMAS}"
        ),
        format!(
            "SELECT 'sequence ' || quote_ident(n.nspname) || '.' || quote_ident(c.relname) || ': ' || format_type(s.seqtypid, NULL)
                || ' start ' || s.seqstart || ' increment ' || s.seqincrement || ' min ' || s.seqmin || ' max ' || s.seqmax
                || ' cache ' || s.seqcache || ' cycle ' || s.seqcycle
                || coalesce(' owned by ' || (SELECT string_agg(quote_ident(rn.nspname) || '.' || quote_ident(r.relname) || '.' || quote_ident(a.attname)
                        || CASE d.deptype WHEN 'i' THEN ' (identity)' ELSE '' END, ', ')
                     FROM pg_depend d JOIN pg_class r ON r.oid = d.refobjid JOIN pg_namespace rn ON rn.oid = r.relnamespace
                     JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
                     WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.refclassid = 'pg_class'::regclass
                       AND d.refobjsubid > 0 AND d.deptype IN ('a', 'i')), '')
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
            "SELECT 'aggregate ' || quote_ident(n.nspname) || '.' || quote_ident(p.proname) || '(' || pg_get_function_identity_arguments(p.oid) || ')'
                || ': ' || a.aggtransfn::regproc::text || ' ' || format_type(a.aggtranstype, NULL)
                || coalesce(' init ' || a.agginitval, '') || CASE WHEN a.aggfinalfn <> 0 THEN ' final ' || a.aggfinalfn::regproc::text ELSE '' END
             FROM pg_proc p JOIN pg_aggregate a ON a.aggfnoid = p.oid JOIN pg_namespace n ON n.oid = p.pronamespace
             WHERE {USER_SCHEMAS} AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')"
        ),
        // pg_get_triggerdef does not say whether the trigger is enabled (ALTER TABLE .. DISABLE TRIGGER).
        format!(
            "SELECT 'trigger ' || quote_ident(n.nspname) || '.' || quote_ident(c.relname) || '.' || quote_ident(t.tgname)
                || ': ' || pg_get_triggerdef(t.oid) || ' enabled ' || t.tgenabled::text
             FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE {USER_SCHEMAS} AND NOT t.tgisinternal"
        ),
        "SELECT 'policy ' || quote_ident(schemaname) || '.' || quote_ident(tablename) || '.' || quote_ident(policyname)
            || ': ' || permissive || ' ' || cmd || ' to ' || array_to_string(roles, ',')
            || coalesce(' using ' || qual, '') || coalesce(' with check ' || with_check, '')
         FROM pg_policies"
            .to_string(),
        "SELECT 'rule ' || quote_ident(schemaname) || '.' || quote_ident(tablename) || '.' || quote_ident(rulename)
            || ': ' || definition
         FROM pg_rules WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
            .to_string(),
        format!(
            "SELECT 'statistics ' || quote_ident(n.nspname) || '.' || quote_ident(s.stxname) || ': ' || pg_get_statisticsobjdef(s.oid)
             FROM pg_statistic_ext s JOIN pg_namespace n ON n.oid = s.stxnamespace WHERE {USER_SCHEMAS}"
        ),
        format!(
            // Every column but identity (their names change between versions: colliculocale, colllocale).
            "SELECT 'collation ' || quote_ident(n.nspname) || '.' || quote_ident(co.collname) || ': '
                || (to_jsonb(co) - 'oid' - 'collname' - 'collnamespace' - 'collowner' - 'collversion')::text
             FROM pg_collation co JOIN pg_namespace n ON n.oid = co.collnamespace WHERE {USER_SCHEMAS}"
        ),
        "SELECT 'event trigger ' || quote_ident(evtname) || ': ' || evtevent || ' ' || evtfoid::regproc::text
            || ' enabled ' || evtenabled::text || coalesce(' tags ' || array_to_string(evttags, ','), '')
         FROM pg_event_trigger"
            .to_string(),
        // Comments on anything made after initdb (tables, columns, constraints, indexes, types,
        // functions, triggers, policies, schemas ...), named the way PostgreSQL names the object.
        "SELECT 'comment ' || pg_describe_object(d.classoid, d.objoid, d.objsubid) || ': ' || quote_literal(d.description)
         FROM pg_description d
         WHERE d.objoid >= 16384
           AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = d.classoid AND e.objid = d.objoid AND e.deptype = 'e')
           AND pg_describe_object(d.classoid, d.objoid, d.objsubid) NOT LIKE '%_prisma_migrations%'"
            .to_string(),
    ];
    // One round trip: every part returns one text column.
    let sql = queries
        .iter()
        .map(|q| format!("({q})"))
        .collect::<Vec<_>>()
        .join("\nUNION ALL\n");
    let mut lines = BTreeSet::new();
    for row in query(&sql)? {
        // A part yielding NULL would be a bug here, not a reason to panic.
        let line: Option<String> = row.get(0);
        lines.insert(line.ok_or_else(|| {
            DbError::Query("a catalog query returned NULL: please report it".into())
        })?);
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

impl std::fmt::Display for Hazard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use crate::source::names::QualifiedName;
        match self {
            Hazard::InvalidIndex {
                schema,
                index,
                table,
            } => write!(
                f,
                "INVALID index {} on {} (a concurrent build that failed)",
                QualifiedName::new(schema.clone(), index.clone()),
                QualifiedName::new(schema.clone(), table.clone())
            ),
            Hazard::NotValidConstraint {
                schema,
                table,
                constraint,
            } => write!(
                f,
                "constraint {} on {} is NOT VALID (never validated)",
                crate::source::names::quote(constraint),
                QualifiedName::new(schema.clone(), table.clone())
            ),
        }
    }
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
