#!/usr/bin/env bash
# Backfill benchmark: what the old application's writers see while a migration that adds a column,
# backfills it and makes it NOT NULL is applied, as Prisma wrote it and as `migrate-safe rewrite` batches
# it. See bench/backfill/README.md.
#
#   bench/backfill/run.sh                   2,000,000 "Item" rows (default)
#   bench/backfill/run.sh --rows 200000     smaller / quicker
#   bench/backfill/run.sh --rate 160        total writes/s of the 4 writer connections (default 160)
#   bench/backfill/run.sh --load-seconds S  pgbench's duration per run (default: from a calibration)
#   bench/backfill/run.sh --keep            keep the scratch databases
#
# Runs, each on a fresh copy of one seeded template, under the same writers (bench/load-gap/load-gap.sh:
# pgbench, 4 clients; UPDATE "qty" of a random existing "Item" @3, INSERT into "Event" @1):
#   original  the change folder sent as one query (Prisma <= 7.3's model)
#   rewrite   every folder `migrate-safe rewrite --no-verify` made of it, in name order, each one query
#   no-op     SELECT pg_sleep(<the rewrite's seconds>), sent the same way
# Prints one line per run (failed, deadlocks, gap_ms, quiet_gap_ms, command_ms, command_rc; the machine's
# CPU busy / iowait share while the command ran; whether every row got its slug), the rewrite's folders,
# then a summary against the target: 0 failed writes, rewrite's longest gap <= 1.5 x the no-op's.
# Exit status: 0 when every migration command succeeded and the load covered it (whatever PASS/FAIL
# says), 1 otherwise, 2 for bad arguments / missing tools.
#
# Environment: PGHOST (127.0.0.1 only), PGPORT (5432), PGUSER (postgres); MIGRATE_SAFE_BIN (default
# target/release/migrate-safe, built if missing). Logs in bench/.work/backfill/ (overwritten).
set -uo pipefail
export LC_ALL=C   # folder-name (byte) order for globs, "." decimals

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
OUT=$ROOT/bench/.work/backfill
CHANGE=20261208000000_item_slug
ROWS=2000000
RATE=160
LOAD_S=
KEEP=0
DELAY_S=3   # writers run this long before the migration starts (load-gap's DELAY)
TAIL_S=5    # ... and at least this long after the longest expected command

while [ $# -gt 0 ]; do
  case "$1" in
    --rows) ROWS=${2:-}; shift 2 ;;
    --rate) RATE=${2:-}; shift 2 ;;
    --load-seconds) LOAD_S=${2:-}; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done
for v in "$ROWS" "$RATE" ${LOAD_S:+"$LOAD_S"}; do
  case "$v" in ''|*[!0-9]*) echo "--rows, --rate and --load-seconds take whole numbers" >&2; exit 2 ;; esac
done
[ "$ROWS" -ge 1000 ] || { echo "--rows must be at least 1000" >&2; exit 2; }

export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres}
export CLIENTS=4 RATE
[ "$PGHOST" = 127.0.0.1 ] || { echo "this benchmark only connects to 127.0.0.1 (PGHOST=$PGHOST)" >&2; exit 2; }
for t in psql pgbench python3 timeout; do command -v $t >/dev/null || { echo "missing: $t" >&2; exit 2; }; done
psql -X -q -d postgres -c 'SELECT 1' >/dev/null || { echo "no PostgreSQL on $PGHOST:$PGPORT (user $PGUSER)" >&2; exit 2; }
BIN=${MIGRATE_SAFE_BIN:-$ROOT/target/release/migrate-safe}
if [ ! -x "$BIN" ]; then (cd "$ROOT" && cargo build --release --locked -q) || exit 2; fi

rm -rf "$OUT"; mkdir -p "$OUT"
TAG=$(date +%s)_$$
DBS=()
psql_admin() { psql -X -q -v ON_ERROR_STOP=1 -d postgres "$@"; }
now() { date +%s.%N; }
cleanup() {
  if [ "$KEEP" = 1 ]; then [ ${#DBS[@]} -gt 0 ] && echo "kept: ${DBS[*]}"; return; fi
  for db in "${DBS[@]}"; do psql_admin -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM
fail() { echo "$*" >&2; exit 1; }

START=$(now)
echo "migrate-safe: $BIN (built $(date -r "$BIN" '+%F %T'); the checkout is now at $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet HEAD 2>/dev/null || echo ', with uncommitted changes'))"

# 1. The rewrite, on a copy of the history (bench/backfill/migrations: 0_init + the change).
cp -r "$HERE/migrations" "$OUT/rewrite"
"$BIN" rewrite "$OUT/rewrite" --no-verify >"$OUT/rewrite.out" 2>&1 || { cat "$OUT/rewrite.out" >&2; fail "migrate-safe rewrite failed"; }
diff -r "$HERE/migrations/0_init" "$OUT/rewrite/0_init" >/dev/null || fail "migrate-safe rewrite changed 0_init"
REWRITE_DIRS=()
for d in "$OUT/rewrite/$CHANGE"*/; do REWRITE_DIRS+=("${d%/}"); done   # glob order = folder-name order
[ ${#REWRITE_DIRS[@]} -gt 1 ] || { cat "$OUT/rewrite.out" >&2; fail "migrate-safe rewrite made no new folder of $CHANGE"; }
grep -q '^DO ' "$OUT/rewrite/${CHANGE}_01_"*/migration.sql 2>/dev/null \
  || { cat "$OUT/rewrite.out" >&2; fail "no batched backfill (_01_ folder with a DO block) in the rewrite"; }
echo "rewrite of $CHANGE: $(for d in "${REWRITE_DIRS[@]}"; do printf '%s ' "$(basename "$d")"; done)"

# 2. The template: 0_init as Prisma applies it, ROWS items, a few events; every run copies it.
TEMPLATE=backfill_bench_${TAG}_template
t0=$(now)
psql_admin -c "CREATE DATABASE \"$TEMPLATE\"" || fail "cannot create $TEMPLATE"
DBS+=("$TEMPLATE")
psql -X -q -v ON_ERROR_STOP=1 -d "$TEMPLATE" -c "$(cat "$HERE/migrations/0_init/migration.sql")" || fail "0_init failed"
psql -X -q -v ON_ERROR_STOP=1 -d "$TEMPLATE" \
  -c "INSERT INTO \"Item\" (\"title\", \"qty\") SELECT 'Item ' || g, g % 100 FROM generate_series(1, $ROWS) AS g" \
  -c "INSERT INTO \"Event\" (\"kind\") SELECT 'seed' FROM generate_series(1, 10000)" \
  -c 'VACUUM (ANALYZE)' -c 'CHECKPOINT' || fail "seeding failed"
printf 'seeded %s "Item" rows in %.1f s (the template of every run)\n' "$ROWS" "$(python3 -c "print($(now) - $t0)")"

# Writers: the workload files with the row count filled in (load-gap.sh passes no -D to pgbench).
mkdir -p "$OUT/workload"
sed "s/:rows/$ROWS/" "$HERE/workload/item_update.sql" >"$OUT/workload/item_update.sql"
cp "$HERE/workload/event_insert.sql" "$OUT/workload/"

fresh_db() {  # fresh_db NAME: DB := a new copy of the template
  DB=backfill_bench_${TAG}_$1
  psql_admin -c "CREATE DATABASE \"$DB\" TEMPLATE \"$TEMPLATE\" STRATEGY FILE_COPY" || fail "cannot copy the template"
  DBS+=("$DB")
  psql_admin -c 'CHECKPOINT' >/dev/null
}
# The rows after a migration: every "slug" as the backfill sets it, NOT NULL, no trigger/function left.
check_db() {
  psql -X -At -F ' ' -d "$1" -c "SELECT
    'wrong_slugs=' || (SELECT count(*) FROM \"Item\" WHERE \"slug\" IS DISTINCT FROM 'item-' || \"id\"),
    'not_null=' || (SELECT attnotnull FROM pg_attribute WHERE attrelid = '\"Item\"'::regclass AND attname = 'slug'),
    'triggers_left=' || (SELECT count(*) FROM pg_trigger WHERE tgrelid = '\"Item\"'::regclass AND NOT tgisinternal)
      + (SELECT count(*) FROM pg_proc WHERE proname LIKE 'migrate_safe%')" 2>&1 | tr '\n' ' ' | sed 's/ *$//'
}

# 3. Calibration: the rewrite without load, to size pgbench's run (and a first check of its result).
if [ -z "$LOAD_S" ]; then
  fresh_db calibrate; db=$DB
  "$HERE/apply.sh" "$db" "$OUT/calibrate.files" "$OUT/calibrate.psql.log" "${REWRITE_DIRS[@]}" \
    || fail "the rewrite failed without load (see $OUT/calibrate.psql.log)"
  CAL_S=$(awk '{s += $2 - $1} END {printf "%.1f", s}' "$OUT/calibrate.files")
  LOAD_S=$(python3 -c "import math; print(max(15, $DELAY_S + math.ceil(1.5 * $CAL_S) + $TAIL_S + 3))")
  echo "calibration: the rewrite took ${CAL_S} s without load ($(check_db "$db")); writers run ${LOAD_S} s per run"
  psql_admin -c "DROP DATABASE \"$db\" WITH (FORCE)"
else
  echo "writers run ${LOAD_S} s per run (--load-seconds)"
fi
echo "writers: $CLIENTS clients, $RATE writes/s in all: UPDATE \"Item\".\"qty\" @3, INSERT \"Event\" @1; migration starts ${DELAY_S} s in"
echo

BAD=0
run() {  # run NAME LOAD_SECONDS DIR...
  local name=$1 secs=$2; shift 2
  local db line
  fresh_db "${name//-/_}"; db=$DB
  line=$(LOAD_GAP_KEEP="$OUT/$name.pgbench" "$ROOT/bench/load-gap/load-gap.sh" "$db" "$secs" "$DELAY_S" \
      "$OUT/workload/item_update.sql@3" "$OUT/workload/event_insert.sql@1" -- \
      "$HERE/apply.sh" "$db" "$OUT/$name.files" "$OUT/$name.psql.log" "$@" 2>"$OUT/$name.err" | tail -n 1)
  case "$line" in failed=*) ;; *) cat "$OUT/$name.err" >&2; fail "run $name: no figures from load-gap.sh";; esac
  echo "$name $line" >>"$OUT/results"
  # The whole machine's CPU while the command ran (this benchmark's own share included): a busy machine
  # (other work, e.g. builds, on the same 2 cores) lengthens gaps that are not the migration's doing.
  local extra
  extra="  $(python3 -c 'import sys
a, b = ([int(v) for v in l.split()[1:9]] for l in open(sys.argv[1]).read().splitlines()[:2])
d = [y - x for x, y in zip(a, b)]; t = sum(d) or 1
print(f"cpu_busy={100 * (t - d[3] - d[4]) / t:.0f}% iowait={100 * d[4] / t:.0f}%")' "$OUT/$name.files.cpu" 2>/dev/null)"
  [ "$name" != no-op ] && extra="$extra  $(check_db "$db")"
  printf '%-9s %s%s\n' "$name" "$line" "$extra"
  local rc ms
  rc=$(sed 's/.*command_rc=\([0-9]*\).*/\1/' <<<"$line"); ms=$(sed 's/.*command_ms=\([0-9]*\).*/\1/' <<<"$line")
  [ "$rc" = 0 ] || { BAD=1; echo "          migration FAILED: $(grep -m1 -E 'ERROR|FATAL|exit' "$OUT/$name.psql.log")"; }
  if [ $(( DELAY_S * 1000 + ms + 1000 )) -gt $(( secs * 1000 )) ]; then
    BAD=1; echo "          the writers stopped before the command ended: its gap is not measured to the end (use --load-seconds)"
  fi
  [ "$KEEP" = 1 ] || psql_admin -c "DROP DATABASE \"$db\" WITH (FORCE)"
}

run original "$LOAD_S" "$HERE/migrations/$CHANGE"
run rewrite "$LOAD_S" "${REWRITE_DIRS[@]}"
# The rewrite's folders: time and the longest gap between completed writes overlapping each.
python3 - "$OUT/rewrite.files" "$OUT/rewrite.pgbench" <<'PY'
import glob, sys
ok = []
for p in glob.glob(sys.argv[2] + "/pgb.*"):
    for line in open(p):
        x = line.split()
        if len(x) >= 6 and x[2] not in ("failed", "serialization", "deadlock", "skipped"):
            ok.append(int(x[4]) + int(x[5]) / 1e6)
ok.sort()
for line in open(sys.argv[1]):
    s, e, rc, name = line.split()
    s, e = float(s), float(e)
    g = max((b - a for a, b in zip(ok, ok[1:]) if b >= s and a <= e), default=0) * 1000
    print(f"          {name:52} {e - s:7.2f} s  gap_ms={g:.0f}  rc={rc}")
PY
REWRITE_S=$(awk '{s += $2 - $1} END {printf "%.2f", s}' "$OUT/rewrite.files")
mkdir -p "$OUT/noop/0_noop"
printf 'SELECT pg_sleep(%s);\n' "$REWRITE_S" >"$OUT/noop/0_noop/migration.sql"
run no-op "$(python3 -c "import math; print(max(15, $DELAY_S + math.ceil($REWRITE_S) + $TAIL_S))")" "$OUT/noop/0_noop"

echo
python3 - "$OUT/results" <<'PY'
import sys
r = {}
for line in open(sys.argv[1]):
    name, *fields = line.split()
    r[name] = {k: int(v) for k, v in (f.split("=") for f in fields)}
o, w, n = r["original"], r["rewrite"], r["no-op"]
limit = 1.5 * n["gap_ms"]
ok = w["failed"] == 0 and w["gap_ms"] <= limit
ratio = f"{w['gap_ms'] / n['gap_ms']:.2f}x" if n["gap_ms"] else "n/a"
print(f"summary: failed writes original={o['failed']} rewrite={w['failed']} no-op={n['failed']}; "
      f"longest gap original={o['gap_ms']} ms, rewrite={w['gap_ms']} ms vs 1.5 x no-op's {n['gap_ms']} ms = {limit:.0f} ms "
      f"(rewrite/no-op {ratio}): {'PASS' if ok else 'FAIL'} (target: 0 failed writes, rewrite gap <= 1.5 x no-op gap)")
PY
printf 'total %.0f s; logs in %s\n' "$(python3 -c "print($(now) - $START)")" "$OUT"
exit $BAD
