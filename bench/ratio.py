#!/usr/bin/env python3
"""`lint --all` (text and JSON) against squawk on the shared histories, interleaved in one run:
best and median of N runs each, and the ratios issue 23 sets (<= 0.25x squawk). Prints figures; not a
test. Needs target/release/migrate-safe (`cargo build --release`) and squawk 2.70.0 in
bench/.tools/venv (`bench/run.sh` installs it, or `python3 -m venv bench/.tools/venv &&
bench/.tools/venv/bin/pip install squawk-cli==2.70.0`).

    python3 bench/ratio.py [N]        # N runs of each (default 40)
"""
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MIGRATE_SAFE = os.environ.get("MIGRATE_SAFE_BIN", os.path.join(ROOT, "target/release/migrate-safe"))
SQUAWK = os.path.join(ROOT, "bench/.tools/venv/bin/squawk")
CORPUS = os.path.join(ROOT, "..", "shared", "corpus")


def timed(command):
    start = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return (time.perf_counter() - start) * 1000


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    for tool in (MIGRATE_SAFE, SQUAWK):
        if not os.access(tool, os.X_OK):
            sys.exit(f"bench/ratio.py: {tool} is missing (see the docstring)")
    print("| history | lint --all (text) best / median | --format json | squawk | ratio best (median) |")
    print("|---|---|---|---|---|")
    for name in ("documenso", "rallly", "inbox-zero"):
        migrations = os.path.join(CORPUS, name, "migrations")
        if not os.path.isdir(migrations):
            print(f"| {name} | not here ({migrations}) | | | |")
            continue
        text, json, squawk = [], [], []
        for _ in range(runs):
            text.append(timed([MIGRATE_SAFE, "lint", "--all", migrations]))
            json.append(timed([MIGRATE_SAFE, "lint", "--all", "--format", "json", migrations]))
            squawk.append(timed([SQUAWK, f"{migrations}/*/migration.sql"]))
        best = {k: min(v) for k, v in (("t", text), ("j", json), ("q", squawk))}
        median = {k: statistics.median(v) for k, v in (("t", text), ("j", json), ("q", squawk))}
        print(
            f"| {name} | {best['t']:.1f} / {median['t']:.1f} ms | {best['j']:.1f} / {median['j']:.1f} ms "
            f"| {best['q']:.1f} / {median['q']:.1f} ms | text {best['t'] / best['q']:.2f}x "
            f"({median['t'] / median['q']:.2f}x), json {best['j'] / best['q']:.2f}x ({median['j'] / median['q']:.2f}x) |"
        )


if __name__ == "__main__":
    main()
