#!/usr/bin/env bash
# Write-stall benchmark: how long do live writes stall while the saas-baseline migration
# 20240301120000_teams_and_billing is applied, as Prisma wrote it (run A) and as migrate-safe
# rewrote it (run B)?  See bench/stall/README.md.
#
#   bench/stall/run.sh                 2,000,000 Document rows (default)
#   bench/stall/run.sh --rows 500000   scale the main table (other tables follow proportionally)
#   bench/stall/run.sh --rate 200      total write rate of the 4 writer connections (default 200/s)
#   bench/stall/run.sh --keep          keep the scratch databases (default: dropped at the end)
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
LEAD_S=2          # load runs this long before the migration starts
TAIL_S=3          # ... and this long after it ends
LOAD_CAP_S=900    # hard upper bound for a load (pgbench -T); the script stops it much earlier
MIG_TIMEOUT_S=600 # hard upper bound for one migration file

while [ $# -gt 0 ]; do
  case "$1" in
    --rows) ROWS=$2; shift 2 ;;
    --rate) RATE=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
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
rm -f "$OUT"/A.* "$OUT"/B.* "$OUT"/summary.json "$OUT"/latency.svg

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

# Sanity: the release binary's rewrite of the original history should be exactly expected/.
BIN=$ROOT/target/release/migrate-safe
if [ -x "$BIN" ]; then
  rm -rf "$OUT/rewrite" && mkdir -p "$OUT/rewrite" && cp -r "$FIXTURE/migrations" "$OUT/rewrite/"
  if "$BIN" rewrite "$OUT/rewrite/migrations" --migration "$TARGET" >"$OUT/rewrite.log" 2>&1 \
     && diff -r "$OUT/rewrite/migrations" "$FIXTURE/expected" >"$OUT/rewrite.diff" 2>&1; then
    echo "migrate-safe rewrite of the fixture == expected/ (run B applies expected/)"
  else
    echo "NOTE: migrate-safe's rewrite differs from expected/ (see $OUT/rewrite.diff); run B applies expected/"
  fi
fi

# apply_file DB FILE: one migration.sql as ONE query string, as Prisma sends it.
apply_file() {
  PGOPTIONS="-c client_min_messages=warning" timeout "$MIG_TIMEOUT_S" psql -X -q -v ON_ERROR_STOP=1 -d "$1" -c "$(cat "$2")"
}

run() {  # run NAME (A|B) MIGRATION_DIR...
  local name=$1; shift
  local db=stall_bench_${TAG}_$(echo "$name" | tr A-Z a-z)
  local t0 t1 rc=0
  echo
  echo "== run $name: database $db"
  psql_admin -c "CREATE DATABASE \"$db\"" || return 1
  DBS+=("$db")
  apply_file "$db" "$FIXTURE/migrations/0_init/migration.sql" || return 1
  t0=$(now)
  psql -X -q -v ON_ERROR_STOP=1 -d "$db" -v docs="$ROWS" -v users="$USERS" -v teams="$TEAMS" \
       -v memberships="$MEMBERSHIPS" -f "$HERE/seed.sql" || return 1
  psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c 'VACUUM (ANALYZE)' -c 'CHECKPOINT' || return 1
  t1=$(now)
  printf '   seeded %s documents, %s users, %s teams, %s memberships in %.1f s\n' \
         "$ROWS" "$USERS" "$TEAMS" "$MEMBERSHIPS" "$(echo "$t1 - $t0" | bc)"

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
  : >"$OUT/$name.migrations"
  for dir in "$@"; do
    s=$(now)
    apply_file "$db" "$dir/migration.sql" >>"$OUT/$name.psql.log" 2>&1 || { rc=1; echo "   migration $(basename "$dir") FAILED (see $OUT/$name.psql.log)"; }
    e=$(now)
    printf '   %-90s %7.2f s\n' "$(basename "$dir")" "$(echo "$e - $s" | bc)" | tee -a "$OUT/$name.migrations"
    [ "$rc" = 0 ] || break
  done
  mig_end=$(now)
  sleep "$TAIL_S"
  local load_end; load_end=$(now)
  # Stop the writers: terminating their backends makes pgbench finish and flush its logs.
  psql_admin -c "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '$db' AND application_name = 'stall_bench_load'" >/dev/null
  wait "$PGBENCH_PID" 2>/dev/null
  PGBENCH_PID=
  printf 'load_start=%s\nmig_start=%s\nmig_end=%s\nload_end=%s\n' "$load_start" "$mig_start" "$mig_end" "$load_end" >"$OUT/$name.times"
  printf '   migration total %.2f s\n' "$(echo "$mig_end - $mig_start" | bc)"
  if ! ls "$OUT/$name".pgbench_log* >/dev/null 2>&1; then echo "   no pgbench log (see $OUT/$name.pgbench.out)"; return 1; fi
  if [ "$KEEP" = 0 ]; then
    psql_admin -c "DROP DATABASE IF EXISTS \"$db\"" && echo "   dropped $db"
  fi
  return $rc
}

START=$(now)
# Under load the original can fail outright (e.g. a deadlock with the writers: it locks several busy
# tables one after another). That is a result, not a benchmark error: report it and go on with B.
A_NOTE=
if ! run A "$FIXTURE/migrations/$TARGET"; then
  A_NOTE=$(grep -m1 -E '^ERROR' "$OUT/A.psql.log" 2>/dev/null || true)
  [ -n "$A_NOTE" ] || { echo "run A failed" >&2; exit 1; }
fi
B_DIRS=()
for d in "$FIXTURE"/expected/"$TARGET"*/; do B_DIRS+=("${d%/}"); done   # glob order = folder-name order
run B "${B_DIRS[@]}" || { echo "run B failed" >&2; exit 1; }

python3 "$HERE/analyze.py" "$OUT" "$ROWS" "$RATE"
[ -z "$A_NOTE" ] || printf '\nNote: under this load the ORIGINAL migration failed (Prisma would stop with P3018): %s\n' "$A_NOTE"
printf '\ntotal benchmark time %.0f s\n' "$(echo "$(now) - $START" | bc)"
