#!/usr/bin/env python3
"""Generate a deterministic, Prisma-shaped PostgreSQL migration history for benchmarks.

    python3 bench/synth.py OUT_DIR COUNT [--seed N]

OUT_DIR gets `migration_lock.toml` (provider = "postgresql") and COUNT folders named
`YYYYMMDDHHMMSS_name/migration.sql`, written the way `prisma migrate dev` writes them:
`-- CreateEnum`, `-- CreateTable`, `-- CreateIndex` (also on tables created long before),
`-- AddForeignKey`, `-- AlterTable` (ADD/DROP/ALTER COLUMN), `-- AlterEnum`, `-- DropIndex`,
`-- DropForeignKey`, `-- RenameIndex`, `-- DropTable`, Prisma's `/* Warnings: ... */` block, and
the odd hand-written data migration. The generator tracks the schema it has produced, so every
statement refers to objects that exist at that point of the history (the history applies
cleanly to an empty database, in order).

The same COUNT and seed always give byte-identical output; a history of COUNT migrations is the
first COUNT migrations of any longer history with the same seed.
"""

import argparse
import datetime
import os
import random
import shutil
import sys

WORDS = (
    "account audit billing card cart channel comment contract coupon customer delivery device "
    "document draft event feature field folder grant group invoice item job label ledger license "
    "member message note notification order organisation passkey payment plan price product "
    "profile quote receipt recipient refund region report review role schedule seat session "
    "setting share signature site snapshot subscription tag task team template ticket token "
    "transfer upload user vendor webhook workspace"
).split()

COLUMN_WORDS = (
    "name title email status kind amount currency note url slug code reason source label "
    "description priority position count score locale timezone color externalId reference "
    "expiresAt completedAt sentAt archivedAt startsAt endsAt lastSeenAt version checksum"
).split()

SCALARS = [
    ("TEXT", None),
    ("TEXT", None),
    ("INTEGER", "0"),
    ("BOOLEAN", "false"),
    ("TIMESTAMP(3)", "CURRENT_TIMESTAMP"),
    ("DOUBLE PRECISION", None),
    ("JSONB", None),
    ("BIGINT", None),
    ("DECIMAL(65,30)", None),
]


def camel(*parts):
    head, *rest = parts
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


def pascal(*parts):
    return "".join(p[:1].upper() + p[1:] for p in parts)


def q(ident):
    return '"' + ident + '"'


def index_name(table, cols, suffix):
    # Prisma's convention, truncated like Prisma does to PostgreSQL's 63 bytes.
    name = "_".join([table, *cols, suffix])
    if len(name) > 63:
        name = name[: 63 - len(suffix) - 1] + "_" + suffix
    return name


class Table:
    def __init__(self, name):
        self.name = name
        self.columns = {}  # name -> (type, nullable)
        self.indexes = {}  # name -> (cols, unique)
        self.fks = {}  # name -> (col, target table)


class Schema:
    def __init__(self, rng):
        self.rng = rng
        self.tables = {}
        self.enums = {}  # name -> [values]
        self.used_names = set()

    def fresh_table_name(self):
        rng = self.rng
        for _ in range(1000):
            if rng.random() < 0.5:
                name = pascal(rng.choice(WORDS))
            else:
                name = pascal(rng.choice(WORDS), rng.choice(WORDS))
            if name not in self.used_names:
                self.used_names.add(name)
                return name
        n = len(self.used_names)
        name = pascal(rng.choice(WORDS)) + str(n)
        self.used_names.add(name)
        return name

    def fresh_enum_name(self):
        rng = self.rng
        for _ in range(1000):
            name = pascal(rng.choice(WORDS), rng.choice(["Status", "Type", "Kind", "Role", "Source", "Mode"]))
            if name not in self.used_names:
                self.used_names.add(name)
                return name
        name = "Enum" + str(len(self.used_names))
        self.used_names.add(name)
        return name

    def fresh_column(self, table):
        rng = self.rng
        for _ in range(100):
            if rng.random() < 0.6:
                col = rng.choice(COLUMN_WORDS)
            else:
                col = camel(rng.choice(WORDS), rng.choice(COLUMN_WORDS))
            if col not in table.columns:
                return col
        col = "field" + str(len(table.columns))
        return col

    def random_table(self, exclude=None):
        names = [n for n in self.tables if n != exclude]
        return self.rng.choice(names) if names else None


class Generator:
    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.schema = Schema(self.rng)
        self.when = datetime.datetime(2019, 3, 4, 9, 15, 0)
        self.seq = 0

    # ---- SQL fragments -------------------------------------------------------------

    def column_type(self, table_name):
        rng = self.rng
        if self.schema.enums and rng.random() < 0.12:
            enum = rng.choice(sorted(self.schema.enums))
            values = self.schema.enums[enum]
            return q(enum), "'" + values[0] + "'"
        sql_type, default = rng.choice(SCALARS)
        return sql_type, default

    def column_def(self, col, sql_type, default, nullable, padded):
        pad = "    " if padded else ""
        parts = [pad + q(col), sql_type]
        if not nullable:
            parts.append("NOT NULL")
        if default is not None and not nullable:
            parts.append("DEFAULT " + default)
        return " ".join(parts)

    def create_enum(self, blocks):
        name = self.schema.fresh_enum_name()
        n = self.rng.randint(2, 5)
        pool = ["ACTIVE", "INACTIVE", "PENDING", "DRAFT", "COMPLETED", "REJECTED", "ARCHIVED",
                "OWNER", "ADMIN", "MEMBER", "VIEWER", "EMAIL", "LINK", "API", "WEBHOOK"]
        values = self.rng.sample(pool, n)
        self.schema.enums[name] = values
        blocks.append("-- CreateEnum\nCREATE TYPE %s AS ENUM (%s);" % (q(name), ", ".join("'%s'" % v for v in values)))
        return name

    def create_table(self, blocks, indexes, fks, with_enum):
        rng = self.rng
        schema = self.schema
        if with_enum:
            self.create_enum(blocks)
        name = schema.fresh_table_name()
        table = Table(name)
        lines = []
        id_type = "TEXT" if rng.random() < 0.5 else "SERIAL"
        lines.append("    %s %s NOT NULL," % (q("id"), id_type))
        table.columns["id"] = ("TEXT" if id_type == "TEXT" else "INTEGER", False)
        for _ in range(rng.randint(2, 9)):
            col = schema.fresh_column(table)
            sql_type, default = self.column_type(name)
            nullable = rng.random() < 0.4
            lines.append(self.column_def(col, sql_type, default, nullable, True) + ",")
            table.columns[col] = (sql_type, nullable)
        # Relations to tables that already exist.
        relations = []
        for _ in range(rng.choice([0, 1, 1, 2])):
            target = schema.random_table()
            if target is None:
                break
            target_id = schema.tables[target].columns["id"][0]
            col = camel(target[:1].lower() + target[1:], "Id")
            if col in table.columns:
                continue
            nullable = rng.random() < 0.3
            lines.append(self.column_def(col, target_id, None, nullable, True) + ",")
            table.columns[col] = (target_id, nullable)
            relations.append((col, target))
        lines.append('    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,')
        lines.append('    "updatedAt" TIMESTAMP(3) NOT NULL,')
        table.columns["createdAt"] = ("TIMESTAMP(3)", False)
        table.columns["updatedAt"] = ("TIMESTAMP(3)", False)
        lines.append("")
        lines.append("    CONSTRAINT %s PRIMARY KEY (%s)" % (q(name + "_pkey"), q("id")))
        blocks.append("-- CreateTable\nCREATE TABLE %s (\n%s\n);" % (q(name), "\n".join(lines)))
        schema.tables[name] = table
        # Indexes and foreign keys of the new table come after all CreateTable blocks.
        for col, target in relations:
            indexes.append(self.index_sql(table, [col], unique=rng.random() < 0.2))
            fks.append(self.fk_sql(table, col, target))
        return name

    def index_sql(self, table, cols, unique):
        idx = index_name(table.name, cols, "key" if unique else "idx")
        if idx in table.indexes:
            return None
        table.indexes[idx] = (cols, unique)
        method = ""
        if not unique and len(cols) == 1 and table.columns[cols[0]][0] == "JSONB":
            method = " USING GIN"
        return "%s %s ON %s%s(%s);" % (
            "CREATE UNIQUE INDEX" if unique else "CREATE INDEX",
            q(idx),
            q(table.name),
            method,
            ", ".join(q(c) for c in cols),
        )

    def fk_sql(self, table, col, target):
        fk = index_name(table.name, [col], "fkey")
        table.fks[fk] = (col, target)
        on_delete = self.rng.choice(["CASCADE", "CASCADE", "RESTRICT", "SET NULL"])
        if on_delete == "SET NULL" and not table.columns[col][1]:
            on_delete = "CASCADE"
        return "ALTER TABLE %s ADD CONSTRAINT %s FOREIGN KEY (%s) REFERENCES %s(%s) ON DELETE %s ON UPDATE CASCADE;" % (
            q(table.name), q(fk), q(col), q(target), q("id"), on_delete
        )

    # ---- migration kinds ---------------------------------------------------------------

    def m_initial(self):
        blocks, indexes, fks = [], [], []
        for i in range(self.rng.randint(6, 12)):
            self.create_table(blocks, indexes, fks, with_enum=(i % 3 == 0))
        return "initial_migration", blocks, indexes, fks

    def m_create_table(self):
        blocks, indexes, fks = [], [], []
        name = self.create_table(blocks, indexes, fks, with_enum=self.rng.random() < 0.3)
        table = self.schema.tables[name]
        extra = [c for c in table.columns if c not in ("id",)]
        if extra and self.rng.random() < 0.5:
            sql = self.index_sql(table, [self.rng.choice(extra)], unique=self.rng.random() < 0.3)
            if sql:
                indexes.append(sql)
        return "create_%s_table" % snake(name), blocks, indexes, fks

    def m_add_columns(self):
        rng = self.rng
        table = self.schema.tables[self.schema.random_table()]
        clauses = []
        for _ in range(rng.choice([1, 1, 1, 2, 3])):
            col = self.schema.fresh_column(table)
            sql_type, default = self.column_type(table.name)
            nullable = default is None or rng.random() < 0.5
            clauses.append("ADD COLUMN     " + self.column_def(col, sql_type, default, nullable, False))
            table.columns[col] = (sql_type, nullable)
        blocks = ["-- AlterTable\nALTER TABLE %s %s;" % (q(table.name), ",\n".join(clauses))]
        return "add_%s_to_%s" % (snake(col), snake(table.name)), blocks, [], []

    def m_index_existing(self):
        rng = self.rng
        table = self.schema.tables[self.schema.random_table()]
        cols = [c for c in table.columns if c != "id"]
        if not cols:
            return self.m_add_columns()
        picked = rng.sample(cols, min(len(cols), rng.choice([1, 1, 1, 2])))
        sql = self.index_sql(table, picked, unique=rng.random() < 0.25)
        if sql is None:
            return self.m_add_columns()
        return "add_%s_index" % snake(table.name), [], [sql], []

    def m_fk_existing(self):
        rng = self.rng
        schema = self.schema
        table = schema.tables[schema.random_table()]
        target = schema.random_table(exclude=table.name)
        if target is None:
            return self.m_add_columns()
        col = camel(target[:1].lower() + target[1:], "Id")
        if col in table.columns:
            return self.m_add_columns()
        target_id = schema.tables[target].columns["id"][0]
        blocks = ["-- AlterTable\nALTER TABLE %s ADD COLUMN     %s %s;" % (q(table.name), q(col), target_id)]
        table.columns[col] = (target_id, True)
        indexes = []
        if rng.random() < 0.7:
            sql = self.index_sql(table, [col], unique=False)
            if sql:
                indexes.append(sql)
        fks = [self.fk_sql(table, col, target)]
        return "link_%s_to_%s" % (snake(table.name), snake(target)), blocks, indexes, fks

    def m_alter_enum(self):
        if not self.schema.enums:
            return self.m_add_columns()
        enum = self.rng.choice(sorted(self.schema.enums))
        value = "VALUE_%d" % (len(self.schema.enums[enum]) + 1)
        while value in self.schema.enums[enum]:
            value += "_X"
        self.schema.enums[enum].append(value)
        blocks = ["-- AlterEnum\nALTER TYPE %s ADD VALUE '%s';" % (q(enum), value)]
        return "add_%s_%s" % (snake(enum), value.lower()), blocks, [], []

    def m_drop_column(self):
        table = self.schema.tables[self.schema.random_table()]
        droppable = [c for c in table.columns
                     if c not in ("id", "createdAt", "updatedAt")
                     and not any(c in cols for cols, _ in table.indexes.values())
                     and not any(c == fcol for fcol, _ in table.fks.values())]
        if not droppable:
            return self.m_add_columns()
        col = self.rng.choice(droppable)
        del table.columns[col]
        warning = ("/*\n  Warnings:\n\n  - You are about to drop the column `%s` on the `%s` table. "
                   "All the data in the column will be lost.\n\n*/" % (col, table.name))
        blocks = [warning, "-- AlterTable\nALTER TABLE %s DROP COLUMN %s;" % (q(table.name), q(col))]
        return "remove_%s_from_%s" % (snake(col), snake(table.name)), blocks, [], []

    def m_alter_column(self):
        rng = self.rng
        table = self.schema.tables[self.schema.random_table()]
        cols = [c for c in table.columns if c not in ("id", "createdAt", "updatedAt")]
        if not cols:
            return self.m_add_columns()
        col = rng.choice(cols)
        sql_type, nullable = table.columns[col]
        kind = rng.random()
        if nullable and kind < 0.4:
            table.columns[col] = (sql_type, False)
            stmt = "ALTER TABLE %s ALTER COLUMN %s SET NOT NULL;" % (q(table.name), q(col))
        elif not nullable and kind < 0.7:
            table.columns[col] = (sql_type, True)
            stmt = "ALTER TABLE %s ALTER COLUMN %s DROP NOT NULL;" % (q(table.name), q(col))
        elif sql_type == "TEXT":
            stmt = "ALTER TABLE %s ALTER COLUMN %s SET DEFAULT '';" % (q(table.name), q(col))
        elif sql_type == "INTEGER":
            table.columns[col] = ("BIGINT", nullable)
            stmt = "ALTER TABLE %s ALTER COLUMN %s SET DATA TYPE BIGINT;" % (q(table.name), q(col))
        else:
            stmt = "ALTER TABLE %s ALTER COLUMN %s DROP DEFAULT;" % (q(table.name), q(col))
        return "alter_%s_%s" % (snake(table.name), snake(col)), ["-- AlterTable\n" + stmt], [], []

    def m_drop_index(self):
        table = self.schema.tables[self.schema.random_table()]
        if not table.indexes:
            return self.m_index_existing()
        idx = self.rng.choice(sorted(table.indexes))
        del table.indexes[idx]
        return "drop_%s" % snake(idx), ["-- DropIndex\nDROP INDEX %s;" % q(idx)], [], []

    def m_rename_index(self):
        table = self.schema.tables[self.schema.random_table()]
        if not table.indexes:
            return self.m_index_existing()
        idx = self.rng.choice(sorted(table.indexes))
        new = idx[:55] + "_r%d" % self.seq
        table.indexes[new] = table.indexes.pop(idx)
        blocks = ["-- RenameIndex\nALTER INDEX %s RENAME TO %s;" % (q(idx), q(new))]
        return "rename_%s_index" % snake(table.name), blocks, [], []

    def m_drop_fk(self):
        table = self.schema.tables[self.schema.random_table()]
        if not table.fks:
            return self.m_fk_existing()
        fk = self.rng.choice(sorted(table.fks))
        del table.fks[fk]
        blocks = ["-- DropForeignKey\nALTER TABLE %s DROP CONSTRAINT %s;" % (q(table.name), q(fk))]
        return "drop_%s" % snake(fk), blocks, [], []

    def m_drop_table(self):
        schema = self.schema
        if len(schema.tables) < 20:
            return self.m_create_table()
        referenced = {target for t in schema.tables.values() for _, target in t.fks.values()}
        candidates = sorted(n for n in schema.tables if n not in referenced)
        if not candidates:
            return self.m_add_columns()
        name = self.rng.choice(candidates)
        del schema.tables[name]
        warning = ("/*\n  Warnings:\n\n  - You are about to drop the `%s` table. If the table is not empty, "
                   "all the data it contains will be lost.\n\n*/" % name)
        blocks = [warning, "-- DropTable\nDROP TABLE %s;" % q(name)]
        return "drop_%s_table" % snake(name), blocks, [], []

    def m_data(self):
        table = self.schema.tables[self.schema.random_table()]
        cols = [c for c, (t, _) in table.columns.items() if t == "TEXT" and c != "id"]
        if not cols:
            return self.m_add_columns()
        col = self.rng.choice(cols)
        blocks = ["-- Backfill (hand-written)\nUPDATE %s SET %s = '' WHERE %s IS NULL;" % (q(table.name), q(col), q(col))]
        return "backfill_%s_%s" % (snake(table.name), snake(col)), blocks, [], []

    KINDS = [
        ("m_create_table", 20),
        ("m_add_columns", 24),
        ("m_index_existing", 12),
        ("m_fk_existing", 10),
        ("m_alter_enum", 5),
        ("m_drop_column", 7),
        ("m_alter_column", 8),
        ("m_drop_index", 3),
        ("m_rename_index", 2),
        ("m_drop_fk", 3),
        ("m_drop_table", 2),
        ("m_data", 4),
    ]

    def next_migration(self):
        self.seq += 1
        if self.seq == 1:
            name, blocks, indexes, fks = self.m_initial()
        else:
            names, weights = zip(*self.KINDS)
            kind = self.rng.choices(names, weights)[0]
            name, blocks, indexes, fks = getattr(self, kind)()
        # Prisma's order: enums and tables, then indexes, then foreign keys.
        parts = list(blocks)
        parts += ["-- CreateIndex\n" + s for s in indexes if s]
        parts += ["-- AddForeignKey\n" + s for s in fks]
        sql = "\n\n".join(parts) + "\n"
        self.when += datetime.timedelta(minutes=self.rng.randint(7, 60 * 12), seconds=self.rng.randint(0, 59))
        folder = "%s_%s" % (self.when.strftime("%Y%m%d%H%M%S"), name[:80])
        return folder, sql


def snake(name):
    out = []
    for i, ch in enumerate(name):
        if ch.isupper() and i and not name[i - 1].isupper():
            out.append("_")
        out.append(ch.lower())
    return "".join(c if c.isalnum() or c == "_" else "_" for c in "".join(out))


LOCK = '# Please do not edit this file manually\n# It should be added in your version-control system (e.g., Git)\nprovider = "postgresql"\n'


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("count", type=int)
    ap.add_argument("--seed", type=int, default=20240607)
    args = ap.parse_args()

    if os.path.exists(args.out):
        if os.listdir(args.out) and not os.path.exists(os.path.join(args.out, "migration_lock.toml")):
            sys.exit("synth.py: %s exists and is not a migrations directory; not replacing it" % args.out)
        shutil.rmtree(args.out)
    os.makedirs(args.out)
    with open(os.path.join(args.out, "migration_lock.toml"), "w") as f:
        f.write(LOCK)
    gen = Generator(args.seed)
    for i in range(1, args.count + 1):
        folder, sql = gen.next_migration()
        os.makedirs(os.path.join(args.out, folder))
        with open(os.path.join(args.out, folder, "migration.sql"), "w") as f:
            f.write(sql)
    return 0


if __name__ == "__main__":
    sys.exit(main())
