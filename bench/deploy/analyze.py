#!/usr/bin/env python3
"""Longest write stall per run from the pgbench -l logs, and the pre-flight's time.

usage: analyze.py OUTDIR BLOCKER_S LOCK_TIMEOUT

With -R, pgbench measures each write's latency from its *scheduled* start, so a write held up
behind a lock counts its whole wait. The longest gap is the longest stretch without a completed write.
"""
import glob
import json
import os
import sys

OUT, BLOCKER_S, LOCK_TIMEOUT = sys.argv[1], float(sys.argv[2]), sys.argv[3]


def writes(name):
    lat, ends = [], []
    for path in glob.glob(os.path.join(OUT, name + ".log*")):
        for line in open(path):
            p = line.split()
            if len(p) >= 6 and p[2].isdigit():
                lat.append(int(p[2]) / 1000.0)
                ends.append(int(p[4]) + int(p[5]) / 1e6)
    ends.sort()
    gap = max((b - a for a, b in zip(ends, ends[1:])), default=0.0) * 1000.0
    return len(lat), max(lat, default=0.0), gap


times = {}
for line in open(os.path.join(OUT, "times")):
    name, *kv = line.split()
    times[name] = dict(x.split("=") for x in kv)
rows = []
for name, label in (("prisma", "prisma migrate deploy (6.19.3)"), ("migrate_safe", f"migrate-safe deploy --lock-timeout {LOCK_TIMEOUT}")):
    n, longest, gap = writes(name)
    applied = open(os.path.join(OUT, name + ".applied")).read().strip() == "1"
    rows.append((label, n, longest, gap, float(times[name]["deploy_s"]), times[name]["exit"], applied))
print()
print(f"blocker: a transaction holding ACCESS SHARE on \"Post\" for {BLOCKER_S:.0f} s; the pending migration adds a column")
print(f"{'':42} {'writes':>7} {'longest write':>14} {'longest gap':>12} {'deploy took':>12} {'exit':>5} applied")
for label, n, longest, gap, took, code, applied in rows:
    print(f"{label:42} {n:7d} {longest:11.0f} ms {gap:9.0f} ms {took:10.1f} s {code:>5} {'yes' if applied else 'NO'}")
if rows[1][2] > 0:
    print(f"longest write: {rows[0][2] / rows[1][2]:.1f}x shorter under migrate-safe deploy")
try:
    report = json.load(open(os.path.join(OUT, "preflight.json")))
    pre = report["preflight"]
    print()
    print(f"pre-flight (read-only) on {pre['migrations'][0]['tables'][0].get('rows_estimate')} rows: {pre['elapsed_ms']:.0f} ms in all")
    for c in pre["checks"]:
        print(f"  line {c['line']}: {c['what']} -> {c['result']} {c.get('detail', c.get('why', ''))} ({c['elapsed_ms']:.0f} ms)")
except (OSError, KeyError, ValueError, IndexError) as e:
    print(f"pre-flight: no report ({e}); see {OUT}/preflight.err")
