#!/usr/bin/env python3
"""Analyse the pgbench per-transaction logs of the write-stall runs and draw the SVG.

usage: analyze.py OUTDIR ROWS RATE

Runs: N (a no-op migration: the machine's noise), A1/B1 (original / rewrite, each file as one query:
Prisma <= 7.3), A2/B2 (the same, statement by statement: Prisma 7.4+).
OUTDIR holds, per run R: R.pgbench_log.* (pgbench -l files: client_id transaction_no
latency_us script_no end_epoch end_us [schedule_lag_us]) and R.times (key=value lines:
load_start, mig_start, mig_end, load_end as epoch seconds).  Every pgbench transaction is exactly
one write statement, so one log line = one write.  With --rate, pgbench measures latency from the
transaction's *scheduled* start, so a write held up behind a lock counts its whole wait (no
coordinated omission); start = end - latency.
"""
import glob
import html
import json
import math
import os
import sys

OUT, ROWS, RATE = sys.argv[1], int(sys.argv[2]), sys.argv[3]
SCRIPTS = ["Document INSERT", "Document UPDATE", "Membership INSERT", "Team UPDATE", "Team INSERT"]


def load(run):
    times = {}
    with open(os.path.join(OUT, run + ".times")) as f:
        for line in f:
            k, _, v = line.strip().partition("=")
            if k == "model":
                times["model"] = v
            elif k:
                times[k] = float(v)
    writes = []  # (start, end, latency_ms, script)
    failed = 0
    for path in glob.glob(os.path.join(OUT, run + ".pgbench_log*")):
        with open(path) as f:
            for line in f:
                p = line.split()
                if len(p) < 6:
                    continue
                if not p[2].isdigit():  # "failed" / "skipped" (pgbench 15 retry/latency-limit markers)
                    failed += 1
                    continue
                lat_us = int(p[2])
                end = int(p[4]) + int(p[5]) / 1e6
                writes.append((end - lat_us / 1e6, end, lat_us / 1000.0, int(p[3])))
    writes.sort(key=lambda w: w[1])
    return times, writes, failed


def pct(sorted_vals, q):
    if not sorted_vals:
        return float("nan")
    i = min(len(sorted_vals) - 1, max(0, math.ceil(q * len(sorted_vals)) - 1))
    return sorted_vals[i]


def stats(run):
    times, writes, failed = load(run)
    ms, me = times["mig_start"], times["mig_end"]
    lat_all = sorted(w[2] for w in writes)
    # writes whose lifetime overlaps the migration window
    win = [w for w in writes if w[0] < me and w[1] > ms]
    lat_win = sorted(w[2] for w in win)
    # longest stretch inside [mig_start, mig_end] with no write completing
    ends = [ms] + [w[1] for w in writes if ms <= w[1] <= me] + [me]
    gap, gap_at = 0.0, ms
    for a, b in zip(ends, ends[1:]):
        if b - a > gap:
            gap, gap_at = b - a, a
    return {
        "run": run,
        "times": times,
        "writes": writes,
        "failed": failed,
        "n_all": len(writes),
        "n_win": len(win),
        "n_in_window_completed": len(ends) - 2,
        "p50_all": pct(lat_all, 0.50), "p99_all": pct(lat_all, 0.99), "max_all": lat_all[-1] if lat_all else float("nan"),
        "p50_win": pct(lat_win, 0.50), "p99_win": pct(lat_win, 0.99), "max_win": lat_win[-1] if lat_win else float("nan"),
        "stall_ms": gap * 1000.0, "stall_at": gap_at - ms,
        "mig_s": me - ms, "load_s": times["load_end"] - times["load_start"],
    }


NAMES = [("N", "no-op"), ("A1", "A1 original"), ("B1", "B1 rewrite"),
         ("A2", "A2 original"), ("B2", "B2 rewrite")]
RUNS = {name: stats(name) for name, _ in NAMES if os.path.exists(os.path.join(OUT, name + ".times"))}


def f(v, unit="", nd=1):
    if isinstance(v, float) and math.isnan(v):
        return "n/a"
    return f"{v:,.{nd}f}{unit}"


rows = [
    ("apply model", lambda S: S["times"].get("model_name", "")),
    ("migration time (total)", lambda S: f(S["mig_s"], " s", 2)),
    ("writes completed (whole load)", lambda S: f"{S['n_all']:,}"),
    ("writes completed during migration", lambda S: f"{S['n_in_window_completed']:,}"),
    ("write latency p50 (whole load)", lambda S: f(S["p50_all"], " ms", 2)),
    ("write latency p99 (whole load)", lambda S: f(S["p99_all"], " ms", 2)),
    ("writes overlapping migration", lambda S: f"{S['n_win']:,}"),
    ("  p50 latency", lambda S: f(S["p50_win"], " ms", 2)),
    ("  p99 latency", lambda S: f(S["p99_win"], " ms", 2)),
    ("  max latency", lambda S: f(S["max_win"], " ms", 1)),
    ("longest no-write stretch in migration", lambda S: f(S["stall_ms"], " ms", 1)),
    ("failed/skipped transactions", lambda S: str(S["failed"])),
]
for S in RUNS.values():
    S["times"]["model_name"] = {"one-query": "one query", "per-statement": "per statement"}.get(
        S["times"].get("model", ""), "")
cols = [(name, label) for name, label in NAMES if name in RUNS]
w0 = max(len(r[0]) for r in rows)
print()
print(f"Write stall, saas-baseline 20240301120000_teams_and_billing, Document rows = {ROWS:,}, "
      f"load = 4 connections at {RATE} writes/s total")
print(f"{'':<{w0}}" + "".join(f"  {label:>16}" for _, label in cols))
for label, get in rows:
    print(f"{label:<{w0}}" + "".join(f"  {get(RUNS[name]):>16}" for name, _ in cols))
print()


def ratio(a, b):
    return a["stall_ms"] / b["stall_ms"] if b["stall_ms"] > 0 else float("inf")


N = RUNS.get("N")
results = {}
note = "" if ROWS == 2_000_000 else f"  [goals are stated at 2,000,000 rows; this run used {ROWS:,}]"
for k, model in (("1", "one query per file, Prisma <= 7.3"), ("2", "statement by statement, Prisma 7.4+")):
    A, B = RUNS.get("A" + k), RUNS.get("B" + k)
    if not (A and B and N):
        continue
    b_n, a_b = ratio(B, N), ratio(A, B)
    ok_noise, ok_ratio = b_n <= 1.5, a_b >= 50.0
    results[k] = {"rewrite_over_noop": b_n, "original_over_rewrite": a_b,
                  "pass": {"rewrite_within_1_5x_of_noop": ok_noise, "original_50x_rewrite": ok_ratio}}
    print(f"{model}: longest write gap original {A['stall_ms']:,.1f} ms, rewrite {B['stall_ms']:,.1f} ms, "
          f"no-op {N['stall_ms']:,.1f} ms")
    print(f"  {'PASS' if ok_noise else 'FAIL'}  rewrite / no-op = {b_n:.2f}x (goal <= 1.5x)")
    print(f"  {'PASS' if ok_ratio else 'FAIL'}  original / rewrite = {a_b:.1f}x (goal >= 50x){note}")

# Where the rewrite's longest gaps are: per migration file (start/end in R.files), the longest stretch
# without a completed write while that file ran.
for name in ("B1", "B2"):
    S = RUNS.get(name)
    path = os.path.join(OUT, name + ".files")
    if not S or not os.path.exists(path):
        continue
    print(f"{name}: longest write gap while each file ran")
    S["per_file"] = {}
    for line in open(path):
        s0, e0, folder = line.split(maxsplit=2)
        s0, e0, folder = float(s0), float(e0), folder.strip()
        ends = [s0] + [w[1] for w in S["writes"] if s0 <= w[1] <= e0] + [e0]
        gap = max((b - a for a, b in zip(ends, ends[1:])), default=0.0) * 1000.0
        S["per_file"][folder] = gap
        print(f"  {folder:<82} {e0 - s0:6.2f} s  {gap:8.1f} ms")

with open(os.path.join(OUT, "summary.json"), "w") as fh:
    json.dump({k: {kk: vv for kk, vv in d.items() if kk != "writes"} for k, d in RUNS.items()}
              | {"ratios": results, "rows": ROWS, "rate": RATE}, fh, indent=2, default=str)

# ---------------------------------------------------------------- SVG
W, PH, ML, MR, MT, GAP = 1000, 220, 70, 20, 50, 70
H = MT + len(RUNS) * (PH + GAP) + 20
COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd"]
lat_max = max([S["max_all"] for S in RUNS.values() if not math.isnan(S["max_all"])] + [10.0])
y_lo, y_hi = 0.1, 10 ** math.ceil(math.log10(lat_max))


def ymap(v, top):
    v = min(max(v, y_lo), y_hi)
    return top + PH - (math.log10(v) - math.log10(y_lo)) / (math.log10(y_hi) - math.log10(y_lo)) * PH


out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
       f'<rect width="{W}" height="{H}" fill="white"/>',
       f'<text x="{W/2}" y="22" text-anchor="middle" font-size="15">Write latency over time during '
       f'20240301120000_teams_and_billing ({ROWS:,} Document rows, 4 writers, {html.escape(str(RATE))} writes/s)</text>']
for idx, S in enumerate(RUNS.values()):
    top = MT + idx * (PH + GAP)
    t0 = S["times"]["mig_start"]
    xs0, xs1 = S["times"]["load_start"] - t0, S["times"]["load_end"] - t0
    span = max(xs1 - xs0, 1e-3)
    xmap = lambda x: ML + (x - xs0) / span * (W - ML - MR)
    title = {"N": "N: no-op migration (pg_sleep)", "A1": "A1: original, one query per file",
             "B1": "B1: migrate-safe rewrite, one query per file", "A2": "A2: original, statement by statement",
             "B2": "B2: migrate-safe rewrite, statement by statement"}[S["run"]]
    out.append(f'<text x="{ML}" y="{top-8}" font-size="13" font-weight="bold">{html.escape(title)} — '
               f'migration {S["mig_s"]:.2f} s, longest no-write stretch {S["stall_ms"]:.0f} ms, '
               f'max latency {S["max_all"]:.0f} ms</text>')
    out.append(f'<rect x="{xmap(0):.1f}" y="{top}" width="{xmap(S["mig_s"]) - xmap(0):.1f}" height="{PH}" '
               f'fill="#fbe3e3"/>')
    out.append(f'<rect x="{ML}" y="{top}" width="{W-ML-MR}" height="{PH}" fill="none" stroke="#444"/>')
    d = 10 ** math.floor(math.log10(y_lo))
    while d <= y_hi:
        y = ymap(d, top)
        out.append(f'<line x1="{ML}" x2="{W-MR}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>')
        lab = f"{d:g} ms"
        out.append(f'<text x="{ML-5}" y="{y+4:.1f}" text-anchor="end">{lab}</text>')
        d *= 10
    for ref, col in ((250.0, "#c00"), (20.0, "#e90")):
        if ref <= y_hi:
            y = ymap(ref, top)
            out.append(f'<line x1="{ML}" x2="{W-MR}" y1="{y:.1f}" y2="{y:.1f}" stroke="{col}" stroke-dasharray="4,3"/>')
            out.append(f'<text x="{W-MR-3}" y="{y-3:.1f}" text-anchor="end" fill="{col}">{ref:g} ms</text>')
    step = max(1, round(span / 12))
    x = math.ceil(xs0 / step) * step
    while x <= xs1:
        px = xmap(x)
        out.append(f'<line x1="{px:.1f}" x2="{px:.1f}" y1="{top+PH}" y2="{top+PH+4}" stroke="#444"/>')
        out.append(f'<text x="{px:.1f}" y="{top+PH+16}" text-anchor="middle">{x:g}</text>')
        x += step
    out.append(f'<text x="{(ML+W-MR)/2}" y="{top+PH+32}" text-anchor="middle">'
               f'write start, seconds since the migration started (shaded: migration running)</text>')
    for (st, en, lat, sc) in S["writes"]:
        out.append(f'<circle cx="{xmap(st - t0):.1f}" cy="{ymap(lat, top):.1f}" r="1.6" '
                   f'fill="{COLORS[sc % len(COLORS)]}" fill-opacity="0.6"/>')
lx = ML
for i, name in enumerate(SCRIPTS):
    out.append(f'<circle cx="{lx+5}" cy="{H-14}" r="4" fill="{COLORS[i]}"/>'
               f'<text x="{lx+13}" y="{H-10}">{name}</text>')
    lx += 150
out.append(f'<text x="{20}" y="{MT + PH/2}" transform="rotate(-90 20 {MT + PH/2})" text-anchor="middle">'
           f'latency (log)</text>')
out.append("</svg>")
svg = os.path.join(OUT, "latency.svg")
with open(svg, "w") as fh:
    fh.write("\n".join(out))
print(f"\nplot: {svg}")
