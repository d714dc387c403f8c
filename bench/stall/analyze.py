#!/usr/bin/env python3
"""Analyse the pgbench per-transaction logs of the two write-stall runs and draw the SVG.

usage: analyze.py OUTDIR ROWS RATE

OUTDIR holds, per run R in (A, B): R.pgbench_log.* (pgbench -l files: client_id transaction_no
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
            if k:
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


A, B = stats("A"), stats("B")


def f(v, unit="", nd=1):
    if isinstance(v, float) and math.isnan(v):
        return "n/a"
    return f"{v:,.{nd}f}{unit}"


rows = [
    ("load duration", f(A["load_s"], " s"), f(B["load_s"], " s")),
    ("migration time (total)", f(A["mig_s"], " s", 2), f(B["mig_s"], " s", 2)),
    ("writes completed (whole load)", f"{A['n_all']:,}", f"{B['n_all']:,}"),
    ("writes completed during migration", f"{A['n_in_window_completed']:,}", f"{B['n_in_window_completed']:,}"),
    ("write latency p50 (whole load)", f(A["p50_all"], " ms", 2), f(B["p50_all"], " ms", 2)),
    ("write latency p99 (whole load)", f(A["p99_all"], " ms", 2), f(B["p99_all"], " ms", 2)),
    ("write latency max (whole load)", f(A["max_all"], " ms", 1), f(B["max_all"], " ms", 1)),
    ("writes overlapping migration", f"{A['n_win']:,}", f"{B['n_win']:,}"),
    ("  p50 latency", f(A["p50_win"], " ms", 2), f(B["p50_win"], " ms", 2)),
    ("  p99 latency", f(A["p99_win"], " ms", 2), f(B["p99_win"], " ms", 2)),
    ("  max latency", f(A["max_win"], " ms", 1), f(B["max_win"], " ms", 1)),
    ("longest no-write stretch in migration", f(A["stall_ms"], " ms", 1), f(B["stall_ms"], " ms", 1)),
    ("failed/skipped transactions", str(A["failed"]), str(B["failed"])),
]
w0 = max(len(r[0]) for r in rows)
w1 = max(max(len(r[1]) for r in rows), len("A: original"))
print()
print(f"Write stall, saas-baseline 20240301120000_teams_and_billing, Document rows = {ROWS:,}, "
      f"load = 4 connections at {RATE} writes/s total")
print(f"{'':<{w0}}  {'A: original':>{w1}}  {'B: migrate-safe rewrite':>24}")
for r in rows:
    print(f"{r[0]:<{w0}}  {r[1]:>{w1}}  {r[2]:>24}")
ratio = A["stall_ms"] / B["stall_ms"] if B["stall_ms"] > 0 else float("inf")
print(f"{'worst-stall ratio A/B':<{w0}}  {f(ratio, 'x', 1):>{w1}}")
print()

ok_max = B["max_win"] <= 250.0
ok_p99 = B["p99_win"] < 20.0
ok_ratio = ratio >= 25.0
print(f"{'PASS' if ok_max else 'FAIL'}  B: no write overlapping the migration waits longer than 250 ms "
      f"(max {f(B['max_win'], ' ms', 1)})")
print(f"{'PASS' if ok_p99 else 'FAIL'}  B: p99 write latency during the migration < 20 ms "
      f"(p99 {f(B['p99_win'], ' ms', 2)})")
note = "" if ROWS == 2_000_000 else f"  [target is stated at 2,000,000 rows; this run used {ROWS:,}]"
print(f"{'PASS' if ok_ratio else 'FAIL'}  worst-stall ratio A/B >= 25x ({f(ratio, 'x', 1)}){note}")

with open(os.path.join(OUT, "summary.json"), "w") as fh:
    json.dump({k: {kk: vv for kk, vv in d.items() if kk != "writes"} for k, d in (("A", A), ("B", B))}
              | {"ratio": ratio, "rows": ROWS, "rate": RATE,
                 "pass": {"b_max_250ms": ok_max, "b_p99_20ms": ok_p99, "ratio_25x": ok_ratio}},
              fh, indent=2, default=str)

# ---------------------------------------------------------------- SVG
W, PH, ML, MR, MT, GAP = 1000, 300, 70, 20, 50, 70
H = MT + 2 * PH + GAP + 70
COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd"]
lat_max = max(A["max_all"], B["max_all"], 10.0)
y_lo, y_hi = 0.1, 10 ** math.ceil(math.log10(lat_max))


def ymap(v, top):
    v = min(max(v, y_lo), y_hi)
    return top + PH - (math.log10(v) - math.log10(y_lo)) / (math.log10(y_hi) - math.log10(y_lo)) * PH


out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
       f'<rect width="{W}" height="{H}" fill="white"/>',
       f'<text x="{W/2}" y="22" text-anchor="middle" font-size="15">Write latency over time during '
       f'20240301120000_teams_and_billing ({ROWS:,} Document rows, 4 writers, {html.escape(str(RATE))} writes/s)</text>']
for idx, S in enumerate((A, B)):
    top = MT + idx * (PH + GAP)
    t0 = S["times"]["mig_start"]
    xs0, xs1 = S["times"]["load_start"] - t0, S["times"]["load_end"] - t0
    span = max(xs1 - xs0, 1e-3)
    xmap = lambda x: ML + (x - xs0) / span * (W - ML - MR)
    title = ("A: original migration (one implicit transaction)" if S["run"] == "A"
             else "B: migrate-safe rewrite")
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
