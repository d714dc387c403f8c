#!/usr/bin/env bash
# Write-stall benchmark: how long do live writes stall while the saas-baseline migration
# 20240301120000_teams_and_billing is applied, as Prisma wrote it (A) and as migrate-safe rewrote it
# (B), under both of Prisma's apply models (1: each file as one query, Prisma <= 7.3; 2: statement by
# statement, Prisma 7.4+), against a no-op migration (N: the machine's own noise)?  Then
# `migrate-safe check`'s lock-hold report for the same files.  See bench/stall/README.md.
#
#   bench/stall/run.sh                 2,000,000 Document rows (default)
#   bench/stall/run.sh --rows 500000   scale the main table (other tables follow proportionally)
#   bench/stall/run.sh --rate 200      total write rate of the 4 writer connections (default 200/s)
#   bench/stall/run.sh --keep          keep the scratch databases (default: dropped at the end)
#   bench/stall/run.sh --check-rows N  rows per table for `migrate-safe check --rows` (default 200000)
#
# Environment: PGHOST (default 127.0.0.1), PGPORT (5432), PGUSER (postgres); only 127.0.0.1 is used.
# Output: the table on stdout; logs, summary.json and latency.svg in bench/.work/stall/.
# Prints figures; the exit status is 0 whenever both runs completed, whatever PASS/FAIL says.
set -uo pipefail
export LC_ALL=C   # folder-name (byte) order for globs, "." decimals

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
FIXTURE=$ROOT/migrations-fixtures/saas-baseline
TARGET=20240301120000_teams_and_billing
OUT=$ROOT/bench/.work/stall
ROWS=2000000
RATE=200
CLIENTS=4
KEEP=0
CHECK_ROWS=200000
LEAD_S=2          # load runs this long before the migration starts
TAIL_S=3          # ... and this long after it ends
LOAD_CAP_S=900    # hard upper bound for a load (pgbench -T); the script stops it much earlier
MIG_TIMEOUT_S=600 # hard upper bound for one migration file

while [ $# -gt 0 ]; do
  case "$1" in
    --rows) ROWS=$2; shift 2 ;;
    --rate) RATE=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    --check-rows) CHECK_ROWS=$2; shift 2 ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done
case "$ROWS" in ''|*[!0-9]*) echo "--rows needs a number" >&2; exit 2 ;; esac
[ "$ROWS" -ge 10000 ] || { echo "--rows must be at least 10000" >&2; exit 2; }

export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres}
[ "$PGHOST" = 127.0.0.1 ] || { echo "this benchmark only connects to 127.0.0.1 (PGHOST=$PGHOST)" >&2; exit 2; }
for t in psql pgbench python3; do command -v $t >/dev/null || { echo "missing: $t" >&2; exit 2; }; done

# Proportions of the seed: per 2M documents, 100k users, 10k teams, 200k memberships.
TEAMS=$(( ROWS / 200 )); [ "$TEAMS" -ge 10 ] || TEAMS=10
USERS=$(( TEAMS * 10 ))
MEMBERSHIPS=$(( USERS * 2 ))

TAG=$(date +%Y%m%d%H%M%S)_$$
DBS=()
PGBENCH_PID=
mkdir -p "$OUT"
rm -f "$OUT"/[NAB]*.* "$OUT"/summary.json "$OUT"/latency.svg "$OUT"/check.*

psql_admin() { psql -X -q -v ON_ERROR_STOP=1 -d postgres "$@"; }
now() { date +%s.%N; }

cleanup() {
  if [ -n "$PGBENCH_PID" ] && kill -0 "$PGBENCH_PID" 2>/dev/null; then kill "$PGBENCH_PID" 2>/dev/null; fi
  if [ "$KEEP" = 0 ]; then
    for db in "${DBS[@]}"; do
      psql_admin -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '$db' AND pid <> pg_backend_pid()" >/dev/null 2>&1
      if [ "$(psql_admin -Atc "SELECT 1 FROM pg_database WHERE datname = '$db'" 2>/dev/null)" = 1 ]; then
        psql_admin -c "DROP DATABASE IF EXISTS \"$db\"" >/dev/null 2>&1 && echo "dropped $db"
      fi
    done
  else
    echo "kept: ${DBS[*]}"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Sanity: the binary's rewrite of the original history should be exactly expected/. The release
# build by default; MIGRATE_SAFE_BIN picks another (e.g. target/debug/migrate-safe).
BIN=${MIGRATE_SAFE_BIN:-$ROOT/target/release/migrate-safe}
[ -x "$BIN" ] || BIN=$ROOT/target/debug/migrate-safe
if [ -x "$BIN" ]; then
  rm -rf "$OUT/rewrite" && mkdir -p "$OUT/rewrite" && cp -r "$FIXTURE/migrations" "$OUT/rewrite/"
  if "$BIN" rewrite "$OUT/rewrite/migrations" --migration "$TARGET" >"$OUT/rewrite.log" 2>&1 \
     && diff -r "$OUT/rewrite/migrations" "$FIXTURE/expected" >"$OUT/rewrite.diff" 2>&1; then
    echo "$BIN rewrite of the fixture == expected/ (runs B apply expected/)"
  else
    echo "NOTE: migrate-safe's rewrite differs from expected/ (see $OUT/rewrite.diff); runs B apply expected/"
  fi
else
  echo "NOTE: no migrate-safe binary (cargo build); runs B apply expected/, no check report"
fi

# apply_file MODEL DB FILE: one migration.sql the way Prisma sends it. one-query: as ONE query string
# (one implicit transaction, Prisma <= 7.3); per-statement: each statement its own query in autocommit
# (psql -f sends them one by one), as Prisma 7.4+ does for a file its sqlparser parses (every file here).
apply_file() {
  if [ "$1" = per-statement ]; then
    PGOPTIONS="-c client_min_messages=warning" timeout "$MIG_TIMEOUT_S" psql -X -q -v ON_ERROR_STOP=1 -d "$2" -f "$3"
  else
    PGOPTIONS="-c client_min_messages=warning" timeout "$MIG_TIMEOUT_S" psql -X -q -v ON_ERROR_STOP=1 -d "$2" -c "$(cat "$3")"
  fi
}

# The seeded database every run starts from (copied as a template: same rows, same statistics).
TEMPLATE=stall_bench_${TAG}_template
make_template() {
  local t0 t1
  psql_admin -c "CREATE DATABASE \"$TEMPLATE\"" || return 1
  DBS+=("$TEMPLATE")
  apply_file one-query "$TEMPLATE" "$FIXTURE/migrations/0_init/migration.sql" || return 1
  t0=$(now)
  psql -X -q -v ON_ERROR_STOP=1 -d "$TEMPLATE" -v docs="$ROWS" -v users="$USERS" -v teams="$TEAMS" \
       -v memberships="$MEMBERSHIPS" -f "$HERE/seed.sql" || return 1
  psql -X -q -v ON_ERROR_STOP=1 -d "$TEMPLATE" -c 'VACUUM (ANALYZE)' -c 'CHECKPOINT' || return 1
  t1=$(now)
  printf 'seeded %s documents, %s users, %s teams, %s memberships in %.1f s (the template of every run)\n' \
         "$ROWS" "$USERS" "$TEAMS" "$MEMBERSHIPS" "$(echo "$t1 - $t0" | bc)"
}

run() {  # run NAME MODEL MIGRATION_DIR...
  local name=$1 model=$2; shift 2
  local db=stall_bench_${TAG}_$(echo "$name" | tr A-Z a-z)
  local rc=0
  echo
  echo "== run $name ($model): database $db"
  psql_admin -c "CREATE DATABASE \"$db\" TEMPLATE \"$TEMPLATE\" STRATEGY FILE_COPY" || return 1
  DBS+=("$db")
  psql_admin -c "CHECKPOINT" >/dev/null

  # Concurrent writers: every pgbench transaction is one write statement; -l logs each one.
  PGAPPNAME=stall_bench_load pgbench -n -c "$CLIENTS" -j 2 -T "$LOAD_CAP_S" -R "$RATE" \
      -l --log-prefix="$OUT/$name.pgbench_log" \
      -D ndocs="$ROWS" -D nusers="$USERS" -D nteams="$TEAMS" \
      -f "$HERE/workload/doc_insert.sql@3" -f "$HERE/workload/doc_update.sql@3" \
      -f "$HERE/workload/membership_insert.sql@2" -f "$HERE/workload/team_update.sql@1" \
      -f "$HERE/workload/team_insert.sql@1" \
      "$db" >"$OUT/$name.pgbench.out" 2>&1 &
  PGBENCH_PID=$!
  local load_start; load_start=$(now)
  sleep "$LEAD_S"

  local mig_start mig_end f s e
  mig_start=$(now)
  : >"$OUT/$name.migrations"; : >"$OUT/$name.files"
  for dir in "$@"; do
    s=$(now)
    apply_file "$model" "$db" "$dir/migration.sql" >>"$OUT/$name.psql.log" 2>&1 || { rc=1; echo "   migration $(basename "$dir") FAILED (see $OUT/$name.psql.log)"; }
    e=$(now)
    printf '   %-90s %7.2f s\n' "$(basename "$dir")" "$(echo "$e - $s" | bc)" | tee -a "$OUT/$name.migrations"
    printf '%s %s %s\n' "$s" "$e" "$(basename "$dir")" >>"$OUT/$name.files"
    [ "$rc" = 0 ] || break
  done
  mig_end=$(now)
  sleep "$TAIL_S"
  local load_end; load_end=$(now)
  # Stop the writers: terminating their backends makes pgbench finish and flush its logs.
  psql_admin -c "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '$db' AND application_name = 'stall_bench_load'" >/dev/null
  wait "$PGBENCH_PID" 2>/dev/null
  PGBENCH_PID=
  printf 'load_start=%s\nmig_start=%s\nmig_end=%s\nload_end=%s\nmodel=%s\n' "$load_start" "$mig_start" "$mig_end" "$load_end" "$model" >"$OUT/$name.times"
  printf '   migration total %.2f s\n' "$(echo "$mig_end - $mig_start" | bc)"
  if ! ls "$OUT/$name".pgbench_log* >/dev/null 2>&1; then echo "   no pgbench log (see $OUT/$name.pgbench.out)"; return 1; fi
  if [ "$KEEP" = 0 ]; then
    psql_admin -c "DROP DATABASE IF EXISTS \"$db\"" && echo "   dropped $db"
  fi
  return $rc
}

START=$(now)
make_template || { echo "seeding failed" >&2; exit 1; }
B_DIRS=()
for d in "$FIXTURE"/expected/"$TARGET"*/; do B_DIRS+=("${d%/}"); done   # glob order = folder-name order
# Under load the original can fail outright (e.g. a deadlock with the writers: it locks several busy
# tables one after another). That is a result, not a benchmark error: report it and go on.
NOTES=()
for m in 1:one-query 2:per-statement; do
  n=${m%%:*} model=${m#*:}
  if ! run "A$n" "$model" "$FIXTURE/migrations/$TARGET"; then
    note=$(grep -m1 -E '^(psql:.*)?ERROR' "$OUT/A$n.psql.log" 2>/dev/null || true)
    [ -n "$note" ] || { echo "run A$n failed" >&2; exit 1; }
    NOTES+=("A$n ($model): the ORIGINAL migration failed under this load (Prisma would stop with P3018): $note")
  fi
  run "B$n" "$model" "${B_DIRS[@]}" || { echo "run B$n failed" >&2; exit 1; }
done
# The no-op: a migration that locks nothing and lasts as long as the longer rewrite run, so its
# longest write gap is the machine's own noise over the same length of time.
NOOP=$OUT/noop/00000000000000_noop
NOOP_S=$(python3 -c 'import sys
def d(p):
    t = dict(l.strip().split("=", 1) for l in open(p) if "=" in l)
    return float(t["mig_end"]) - float(t["mig_start"])
print(f"{max(d(sys.argv[1]), d(sys.argv[2])):.2f}")' "$OUT/B1.times" "$OUT/B2.times")
mkdir -p "$NOOP" && printf 'SELECT pg_sleep(%s);\n' "$NOOP_S" >"$NOOP/migration.sql"
run N one-query "$NOOP" || { echo "run N failed" >&2; exit 1; }
if [ "$KEEP" = 0 ]; then psql_admin -c "DROP DATABASE IF EXISTS \"$TEMPLATE\"" >/dev/null && echo "dropped $TEMPLATE"; fi

python3 "$HERE/analyze.py" "$OUT" "$ROWS" "$RATE"
for n in "${NOTES[@]}"; do printf '\nNote: %s\n' "$n"; done

# migrate-safe check's lock-hold report for the same files (its own scratch databases, --rows seeding).
if [ -x "$BIN" ]; then
  echo
  echo "migrate-safe check --rows $CHECK_ROWS: lock holds on existing tables (per migration; full output in $OUT/check.*.txt)"
  for m in 6.19.3:one-query 7.10.1:per-statement; do
    version=${m%%:*} model=${m#*:}
    for side in original:migrations rewrite:expected; do
      label=${side%%:*} dir=$FIXTURE/${side#*:}
      "$BIN" check "$dir" --rows "$CHECK_ROWS" --prisma-version "$version" \
          --scratch-url "postgresql://$PGUSER@$PGHOST:$PGPORT/postgres" >"$OUT/check.$label.$model.txt" 2>&1
      echo "  $label, Prisma $version ($model), exit $?:"
      awk '/^Locks taken by /{m=$4} /^  Lock holds on existing tables:/{p=1; print "    " m ":"; next} p && /^    /{print "  " $0; next} {p=0}' \
          "$OUT/check.$label.$model.txt"
    done
  done
fi
printf '\ntotal benchmark time %.0f s\n' "$(echo "$(now) - $START" | bc)"
