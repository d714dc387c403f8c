//! The catalog comparison behind every proof misses nothing a fix could alter: for each property, two
//! databases built the same way except for it must compare different, naming the object; built the
//! same way, they must compare equal (no noise from oids, names of internal objects, order).
//!
//! Two scratch databases are made once; each row runs in a transaction in each (rolled back after its
//! catalogs are read), so a row costs milliseconds, not two CREATE DATABASE.

use crate::common;

use migrate_safe::db::ScratchDatabase;
use migrate_safe::db::catalog::{diff, snapshot};

use common::live::server_url;

/// Tables every row starts from.
const BASE: &str = r#"
CREATE TABLE p (id INTEGER PRIMARY KEY, code TEXT UNIQUE, UNIQUE (id, code));
CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER NOT NULL, a INTEGER, b TEXT, c TEXT, pid INTEGER);
CREATE TABLE m (k INTEGER NOT NULL, v INTEGER) PARTITION BY RANGE (k);
CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TYPE e AS ENUM ('x', 'y');
"#;

struct Row {
    property: &'static str,
    a: &'static str,
    b: &'static str,
    /// Every differing line names this object (and at least one does).
    object: &'static str,
}

#[rustfmt::skip]
const ROWS: &[Row] = &[
    // Constraints.
    Row { property: "deferrability", a: "ALTER TABLE t ADD CONSTRAINT u UNIQUE (a);", b: "ALTER TABLE t ADD CONSTRAINT u UNIQUE (a) DEFERRABLE;", object: "constraint public.t.u:" },
    Row { property: "initially deferred", a: "ALTER TABLE t ADD CONSTRAINT u UNIQUE (a) DEFERRABLE;", b: "ALTER TABLE t ADD CONSTRAINT u UNIQUE (a) DEFERRABLE INITIALLY DEFERRED;", object: "constraint public.t.u:" },
    Row { property: "unique constraint NULLS NOT DISTINCT", a: "ALTER TABLE t ADD CONSTRAINT u UNIQUE (a);", b: "ALTER TABLE t ADD CONSTRAINT u UNIQUE NULLS NOT DISTINCT (a);", object: "public.t.u" },
    Row { property: "unique constraint INCLUDE", a: "ALTER TABLE t ADD CONSTRAINT u UNIQUE (a);", b: "ALTER TABLE t ADD CONSTRAINT u UNIQUE (a) INCLUDE (b);", object: "public.t.u" },
    Row { property: "unique constraint WITH (fillfactor)", a: "ALTER TABLE t ADD CONSTRAINT u UNIQUE (a);", b: "ALTER TABLE t ADD CONSTRAINT u UNIQUE (a) WITH (fillfactor = 70);", object: "index public.u:" },
    Row { property: "unique vs primary key", a: "ALTER TABLE p ADD CONSTRAINT k UNIQUE (code, id);", b: "ALTER TABLE p DROP CONSTRAINT p_pkey; ALTER TABLE p ADD CONSTRAINT k PRIMARY KEY (code, id); ALTER TABLE p ADD CONSTRAINT p_pkey UNIQUE (id);", object: "public." },
    Row { property: "foreign key ON DELETE", a: "ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (pid) REFERENCES p (id) ON DELETE CASCADE;", b: "ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (pid) REFERENCES p (id) ON DELETE SET NULL;", object: "constraint public.t.fk:" },
    Row { property: "foreign key ON UPDATE", a: "ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (pid) REFERENCES p (id);", b: "ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (pid) REFERENCES p (id) ON UPDATE CASCADE;", object: "constraint public.t.fk:" },
    Row { property: "foreign key MATCH FULL", a: "ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (pid, b) REFERENCES p (id, code);", b: "ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (pid, b) REFERENCES p (id, code) MATCH FULL;", object: "constraint public.t.fk:" },
    Row { property: "foreign key deferrable", a: "ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (pid) REFERENCES p (id);", b: "ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (pid) REFERENCES p (id) DEFERRABLE INITIALLY DEFERRED;", object: "constraint public.t.fk:" },
    Row { property: "foreign key referenced columns", a: "ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (b) REFERENCES p (code);", b: "ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (pid) REFERENCES p (id);", object: "constraint public.t.fk:" },
    Row { property: "check expression", a: "ALTER TABLE t ADD CONSTRAINT ck CHECK (a > 0);", b: "ALTER TABLE t ADD CONSTRAINT ck CHECK (a >= 0);", object: "constraint public.t.ck:" },
    Row { property: "check NO INHERIT", a: "ALTER TABLE t ADD CONSTRAINT ck CHECK (a > 0);", b: "ALTER TABLE t ADD CONSTRAINT ck CHECK (a > 0) NO INHERIT;", object: "constraint public.t.ck:" },
    Row { property: "exclusion constraint", a: "ALTER TABLE t ADD CONSTRAINT x EXCLUDE USING btree (a WITH =);", b: "ALTER TABLE t ADD CONSTRAINT x EXCLUDE USING btree (a WITH =) WHERE (a > 0);", object: "public.t.x" },
    // Indexes.
    Row { property: "index predicate", a: "CREATE INDEX i ON t (a);", b: "CREATE INDEX i ON t (a) WHERE a > 0;", object: "index public.i:" },
    Row { property: "index INCLUDE", a: "CREATE INDEX i ON t (a);", b: "CREATE INDEX i ON t (a) INCLUDE (b);", object: "index public.i:" },
    Row { property: "index opclass", a: "CREATE INDEX i ON t (b);", b: "CREATE INDEX i ON t (b text_pattern_ops);", object: "index public.i:" },
    Row { property: "index collation", a: "CREATE INDEX i ON t (b);", b: "CREATE INDEX i ON t (b COLLATE \"C\");", object: "index public.i:" },
    Row { property: "index NULLS NOT DISTINCT", a: "CREATE UNIQUE INDEX i ON t (a);", b: "CREATE UNIQUE INDEX i ON t (a) NULLS NOT DISTINCT;", object: "index public.i:" },
    Row { property: "index uniqueness", a: "CREATE INDEX i ON t (a);", b: "CREATE UNIQUE INDEX i ON t (a);", object: "index public.i:" },
    Row { property: "index method", a: "CREATE INDEX i ON t USING btree (a);", b: "CREATE INDEX i ON t USING hash (a);", object: "index public.i:" },
    Row { property: "index order", a: "CREATE INDEX i ON t (a, b);", b: "CREATE INDEX i ON t (a DESC NULLS LAST, b);", object: "index public.i:" },
    Row { property: "index expression", a: "CREATE INDEX i ON t (lower(b));", b: "CREATE INDEX i ON t (upper(b));", object: "index public.i:" },
    Row { property: "index WITH (...)", a: "CREATE INDEX i ON t (a);", b: "CREATE INDEX i ON t (a) WITH (fillfactor = 50);", object: "index public.i:" },
    Row { property: "index table", a: "CREATE INDEX i ON t (id);", b: "CREATE INDEX i ON p (id);", object: "index public.i:" },
    Row { property: "index clustered", a: "CREATE INDEX i ON t (a);", b: "CREATE INDEX i ON t (a); ALTER TABLE t CLUSTER ON i;", object: "index public.i:" },
    Row { property: "replica identity index", a: "CREATE UNIQUE INDEX i ON t (n);", b: "CREATE UNIQUE INDEX i ON t (n); ALTER TABLE t REPLICA IDENTITY USING INDEX i;", object: "public." },
    // Comments.
    Row { property: "comment on table", a: "COMMENT ON TABLE t IS 'one';", b: "COMMENT ON TABLE t IS 'two';", object: "comment table t:" },
    Row { property: "comment on column", a: "SELECT 1;", b: "COMMENT ON COLUMN t.a IS 'why';", object: "comment column a of table t:" },
    Row { property: "comment on constraint", a: "ALTER TABLE t ADD CONSTRAINT ck CHECK (a > 0);", b: "ALTER TABLE t ADD CONSTRAINT ck CHECK (a > 0); COMMENT ON CONSTRAINT ck ON t IS 'why';", object: "comment constraint ck on table t:" },
    Row { property: "comment on index", a: "CREATE INDEX i ON t (a);", b: "CREATE INDEX i ON t (a); COMMENT ON INDEX i IS 'why';", object: "comment index i:" },
    Row { property: "comment on type", a: "SELECT 1;", b: "COMMENT ON TYPE e IS 'why';", object: "comment type e:" },
    Row { property: "comment on function", a: "SELECT 1;", b: "COMMENT ON FUNCTION f() IS 'why';", object: "comment function f():" },
    // Columns.
    Row { property: "identity", a: "ALTER TABLE t ALTER COLUMN n ADD GENERATED ALWAYS AS IDENTITY;", b: "ALTER TABLE t ALTER COLUMN n ADD GENERATED BY DEFAULT AS IDENTITY;", object: "public.t.n" },
    Row { property: "identity sequence options", a: "ALTER TABLE t ALTER COLUMN n ADD GENERATED ALWAYS AS IDENTITY;", b: "ALTER TABLE t ALTER COLUMN n ADD GENERATED ALWAYS AS IDENTITY (START WITH 100);", object: "sequence public.t_n_seq:" },
    Row { property: "generated column", a: "ALTER TABLE t ADD COLUMN g INTEGER GENERATED ALWAYS AS (a * 2) STORED;", b: "ALTER TABLE t ADD COLUMN g INTEGER GENERATED ALWAYS AS (a * 3) STORED;", object: "column public.t.g:" },
    Row { property: "default", a: "ALTER TABLE t ALTER COLUMN a SET DEFAULT 1;", b: "ALTER TABLE t ALTER COLUMN a SET DEFAULT 2;", object: "column public.t.a:" },
    Row { property: "not null", a: "SELECT 1;", b: "ALTER TABLE t ALTER COLUMN a SET NOT NULL;", object: "column public.t.a:" },
    Row { property: "column type", a: "ALTER TABLE t ALTER COLUMN a TYPE BIGINT;", b: "ALTER TABLE t ALTER COLUMN a TYPE NUMERIC(10, 2);", object: "column public.t.a:" },
    Row { property: "column collation", a: "SELECT 1;", b: "ALTER TABLE t ALTER COLUMN b TYPE TEXT COLLATE \"C\";", object: "column public.t.b:" },
    Row { property: "column storage", a: "SELECT 1;", b: "ALTER TABLE t ALTER COLUMN b SET STORAGE EXTERNAL;", object: "column public.t.b:" },
    Row { property: "column compression", a: "SELECT 1;", b: "ALTER TABLE t ALTER COLUMN b SET COMPRESSION pglz;", object: "column public.t.b:" },
    Row { property: "column statistics target", a: "SELECT 1;", b: "ALTER TABLE t ALTER COLUMN b SET STATISTICS 500;", object: "column public.t.b:" },
    Row { property: "column order", a: "ALTER TABLE p ADD COLUMN x INTEGER; ALTER TABLE p ADD COLUMN y INTEGER;", b: "ALTER TABLE p ADD COLUMN y INTEGER; ALTER TABLE p ADD COLUMN x INTEGER;", object: "column public.p." },
    Row { property: "column privileges", a: "SELECT 1;", b: "GRANT SELECT (a) ON t TO PUBLIC;", object: "column public.t.a:" },
    // Sequences.
    Row { property: "sequence increment", a: "CREATE SEQUENCE s;", b: "CREATE SEQUENCE s INCREMENT 2;", object: "sequence public.s:" },
    Row { property: "sequence cache", a: "CREATE SEQUENCE s;", b: "CREATE SEQUENCE s CACHE 20;", object: "sequence public.s:" },
    Row { property: "sequence type", a: "CREATE SEQUENCE s AS INTEGER;", b: "CREATE SEQUENCE s AS BIGINT;", object: "sequence public.s:" },
    Row { property: "sequence owner", a: "CREATE SEQUENCE s OWNED BY t.a;", b: "CREATE SEQUENCE s OWNED BY t.n;", object: "sequence public.s:" },
    Row { property: "sequence owned or not", a: "CREATE SEQUENCE s;", b: "CREATE SEQUENCE s OWNED BY t.a;", object: "sequence public.s:" },
    // Row-level security.
    Row { property: "policy expression", a: "CREATE POLICY pol ON t USING (a > 0);", b: "CREATE POLICY pol ON t USING (a > 1);", object: "policy public.t.pol:" },
    Row { property: "policy command", a: "CREATE POLICY pol ON t FOR SELECT USING (true);", b: "CREATE POLICY pol ON t FOR UPDATE USING (true);", object: "policy public.t.pol:" },
    Row { property: "policy permissive", a: "CREATE POLICY pol ON t USING (true);", b: "CREATE POLICY pol ON t AS RESTRICTIVE USING (true);", object: "policy public.t.pol:" },
    Row { property: "policy with check", a: "CREATE POLICY pol ON t FOR INSERT WITH CHECK (a > 0);", b: "CREATE POLICY pol ON t FOR INSERT WITH CHECK (a > 1);", object: "policy public.t.pol:" },
    Row { property: "row level security enabled", a: "SELECT 1;", b: "ALTER TABLE t ENABLE ROW LEVEL SECURITY;", object: "relation public.t:" },
    Row { property: "row level security forced", a: "ALTER TABLE t ENABLE ROW LEVEL SECURITY;", b: "ALTER TABLE t ENABLE ROW LEVEL SECURITY; ALTER TABLE t FORCE ROW LEVEL SECURITY;", object: "relation public.t:" },
    // Triggers.
    Row { property: "trigger event", a: "CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION f();", b: "CREATE TRIGGER tr BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION f();", object: "trigger public.t.tr:" },
    Row { property: "trigger condition", a: "CREATE TRIGGER tr BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION f();", b: "CREATE TRIGGER tr BEFORE UPDATE ON t FOR EACH ROW WHEN (OLD.a IS DISTINCT FROM NEW.a) EXECUTE FUNCTION f();", object: "trigger public.t.tr:" },
    Row { property: "trigger enabled", a: "CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION f();", b: "CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION f(); ALTER TABLE t DISABLE TRIGGER tr;", object: "trigger public.t.tr:" },
    Row { property: "constraint trigger deferrable", a: "CREATE CONSTRAINT TRIGGER tr AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION f();", b: "CREATE CONSTRAINT TRIGGER tr AFTER INSERT ON t DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION f();", object: "public.t.tr" },
    // Partitions and inheritance.
    Row { property: "partition bound", a: "CREATE TABLE m1 PARTITION OF m FOR VALUES FROM (0) TO (10);", b: "CREATE TABLE m1 PARTITION OF m FOR VALUES FROM (0) TO (20);", object: "relation public.m1:" },
    Row { property: "partition attached", a: "CREATE TABLE m1 PARTITION OF m FOR VALUES FROM (0) TO (10);", b: "CREATE TABLE m1 (k INTEGER NOT NULL, v INTEGER);", object: "relation public.m1:" },
    Row { property: "default partition", a: "CREATE TABLE m1 PARTITION OF m FOR VALUES FROM (0) TO (10);", b: "CREATE TABLE m1 PARTITION OF m DEFAULT;", object: "relation public.m1:" },
    Row { property: "partition key", a: "CREATE TABLE q (k INTEGER, v INTEGER) PARTITION BY RANGE (k);", b: "CREATE TABLE q (k INTEGER, v INTEGER) PARTITION BY LIST (k);", object: "relation public.q:" },
    Row { property: "partition key columns", a: "CREATE TABLE q (k INTEGER, v INTEGER) PARTITION BY RANGE (k);", b: "CREATE TABLE q (k INTEGER, v INTEGER) PARTITION BY RANGE (k, v);", object: "relation public.q:" },
    Row { property: "inheritance", a: "CREATE TABLE c1 (z INTEGER);", b: "CREATE TABLE c1 (z INTEGER) INHERITS (p);", object: "public.c1" },
    // Tables.
    Row { property: "unlogged", a: "CREATE TABLE u1 (id INTEGER);", b: "CREATE UNLOGGED TABLE u1 (id INTEGER);", object: "relation public.u1:" },
    Row { property: "table storage options", a: "SELECT 1;", b: "ALTER TABLE t SET (fillfactor = 70);", object: "relation public.t:" },
    Row { property: "replica identity", a: "SELECT 1;", b: "ALTER TABLE t REPLICA IDENTITY FULL;", object: "relation public.t:" },
    Row { property: "table privileges", a: "SELECT 1;", b: "GRANT SELECT ON t TO PUBLIC;", object: "relation public.t:" },
    Row { property: "rule", a: "CREATE RULE r AS ON INSERT TO p DO ALSO NOTIFY p;", b: "CREATE RULE r AS ON UPDATE TO p DO ALSO NOTIFY p;", object: "rule public.p.r:" },
    Row { property: "extended statistics", a: "CREATE STATISTICS st (ndistinct) ON a, b FROM t;", b: "CREATE STATISTICS st (dependencies) ON a, b FROM t;", object: "statistics public.st:" },
    // Types, views, functions.
    Row { property: "enum label order", a: "CREATE TYPE e2 AS ENUM ('a', 'b');", b: "CREATE TYPE e2 AS ENUM ('b', 'a');", object: "enum public.e2:" },
    Row { property: "enum value added", a: "SELECT 1;", b: "ALTER TYPE e ADD VALUE 'z';", object: "enum public.e:" },
    Row { property: "domain constraint", a: "CREATE DOMAIN d AS INTEGER CHECK (VALUE > 0);", b: "CREATE DOMAIN d AS INTEGER CHECK (VALUE > 1);", object: "domain constraint public.d." },
    Row { property: "domain not null", a: "CREATE DOMAIN d AS INTEGER;", b: "CREATE DOMAIN d AS INTEGER NOT NULL;", object: "domain public.d:" },
    Row { property: "composite type", a: "CREATE TYPE ct AS (x INTEGER);", b: "CREATE TYPE ct AS (x BIGINT);", object: "public.ct" },
    Row { property: "view definition", a: "CREATE VIEW v AS SELECT a FROM t;", b: "CREATE VIEW v AS SELECT a FROM t WHERE a > 0;", object: "view public.v:" },
    Row { property: "function body", a: "CREATE FUNCTION g() RETURNS INTEGER LANGUAGE sql AS 'SELECT 1';", b: "CREATE FUNCTION g() RETURNS INTEGER LANGUAGE sql AS 'SELECT 2';", object: "function public.g:" },
    Row { property: "function volatility", a: "CREATE FUNCTION g() RETURNS INTEGER LANGUAGE sql AS 'SELECT 1';", b: "CREATE FUNCTION g() RETURNS INTEGER LANGUAGE sql IMMUTABLE AS 'SELECT 1';", object: "function public.g:" },
    Row { property: "aggregate", a: "CREATE AGGREGATE ag (INTEGER) (SFUNC = int4pl, STYPE = INTEGER);", b: "CREATE AGGREGATE ag (INTEGER) (SFUNC = int4pl, STYPE = INTEGER, INITCOND = '0');", object: "aggregate public.ag(" },
    Row { property: "schema", a: "SELECT 1;", b: "CREATE SCHEMA other;", object: "schema other" },
    Row { property: "collation", a: "CREATE COLLATION co (provider = icu, locale = 'de');", b: "CREATE COLLATION co (provider = icu, locale = 'fr');", object: "collation public.co:" },
];

#[test]
fn every_property_a_fix_could_alter_is_compared() {
    let Some(server) = server_url() else { return };
    let one = ScratchDatabase::create(&server, None).unwrap();
    let two = ScratchDatabase::create(&server, None).unwrap();
    let mut one = one_client(&one);
    let mut two = one_client(&two);
    let mut missed = Vec::new();
    for row in ROWS {
        // Built the same way: equal.
        let same = catalogs(&mut one, &mut two, row.a, row.a, row.property);
        assert!(
            same.is_empty(),
            "{}: the same DDL compares different:\n{}",
            row.property,
            same.join("\n")
        );
        let differences = catalogs(&mut one, &mut two, row.a, row.b, row.property);
        if differences.is_empty() {
            missed.push(format!("{}: no difference seen", row.property));
            continue;
        }
        if !differences.iter().any(|d| d.contains(row.object)) {
            missed.push(format!(
                "{}: the difference does not name {}:\n  {}",
                row.property,
                row.object,
                differences.join("\n  ")
            ));
        }
    }
    assert!(missed.is_empty(), "{}", missed.join("\n"));
}

fn one_client(database: &ScratchDatabase) -> postgres::Client {
    let mut client = database.connect().unwrap();
    client.batch_execute(BASE).unwrap();
    client
}

/// `a` in one database and `b` in the other, each in a transaction rolled back after the catalogs
/// are read: what differs.
fn catalogs(
    one: &mut postgres::Client,
    two: &mut postgres::Client,
    a: &str,
    b: &str,
    property: &str,
) -> Vec<String> {
    let read = |client: &mut postgres::Client, sql: &str| {
        client.batch_execute("BEGIN").unwrap();
        client
            .batch_execute(sql)
            .unwrap_or_else(|e| panic!("{property}: {sql}: {}", migrate_safe::db::describe(&e)));
        let catalog = snapshot(client).unwrap();
        client.batch_execute("ROLLBACK").unwrap();
        catalog
    };
    let left = read(one, a);
    let right = read(two, b);
    diff(&left, &right)
}
