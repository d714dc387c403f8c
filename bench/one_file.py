#!/usr/bin/env python3
"""One migration file with very many index statements: lint and rewrite must stay linear in them.

    python3 bench/one_file.py [--bin target/release/migrate-safe] [--sizes 25000,50000,100000]

For each shape (plain index builds, UNIQUE builds, a build and a DROP INDEX of it, foreign keys) and
each size, writes a two-migration history (a table, then one file of N statements) under
bench/.work/one-file/, times `migrate-safe lint` and `migrate-safe rewrite --dry-run --no-verify`
(best of 3) and prints the time per 1,000 statements: linear means that column stays flat as N grows.
Issue 21 found 0.96 s / 3.4 s / 15.6 s for 25k / 50k / 100k index builds (quadratic). Prints figures;
exits 0 whatever they are.
"""

import argparse
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

SHAPES = {
    "index": lambda i: f'CREATE INDEX "i{i}" ON "T"("a");',
    "unique": lambda i: f'CREATE UNIQUE INDEX "i{i}" ON "T"("a");',
    "build+drop": lambda i: f'CREATE INDEX "i{i}" ON "T"("a");\nDROP INDEX "i{i}";',
    "foreign key": lambda i: f'ALTER TABLE "T" ADD CONSTRAINT "f{i}" FOREIGN KEY ("a") REFERENCES "T"("id");',
}


def history(shape, n):
    root = os.path.join(ROOT, "bench", ".work", "one-file", f"{shape.replace('+', '_').replace(' ', '_')}-{n}")
    os.makedirs(os.path.join(root, "0_init"), exist_ok=True)
    os.makedirs(os.path.join(root, "1_many"), exist_ok=True)
    with open(os.path.join(root, "migration_lock.toml"), "w") as f:
        f.write('provider = "postgresql"\n')
    with open(os.path.join(root, "0_init", "migration.sql"), "w") as f:
        f.write('CREATE TABLE "T" ("id" INTEGER PRIMARY KEY, "a" INTEGER);\n')
    with open(os.path.join(root, "1_many", "migration.sql"), "w") as f:
        f.write("\n".join(SHAPES[shape](i) for i in range(n)) + "\n")
    return root


def best_of(runs, command):
    best = None
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        took = time.perf_counter() - started
        if done.returncode not in (0, 1):
            sys.exit(f"{' '.join(command)} failed: {done.stderr.decode()[:500]}")
        best = took if best is None else min(best, took)
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bin", default=os.environ.get("MIGRATE_SAFE_BIN", os.path.join(ROOT, "target", "release", "migrate-safe")))
    parser.add_argument("--sizes", default="25000,50000,100000")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"{'shape':<12} {'N':>7} {'lint':>9} {'per 1k':>8} {'rewrite':>9} {'per 1k':>8}")
    for shape in SHAPES:
        for n in sizes:
            root = history(shape, n)
            lint = best_of(args.runs, [args.bin, "lint", root])
            rewrite = best_of(args.runs, [args.bin, "rewrite", root, "--dry-run", "--no-verify"])
            print(f"{shape:<12} {n:>7} {lint:>8.2f}s {lint * 1000 / n * 1000:>6.1f}ms {rewrite:>8.2f}s {rewrite * 1000 / n * 1000:>6.1f}ms")


if __name__ == "__main__":
    main()
