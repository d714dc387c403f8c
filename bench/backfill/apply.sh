#!/usr/bin/env bash
# Apply migration folders the way Prisma <= 7.3 does: each folder's migration.sql sent as ONE query
# (`psql -c "$(cat file)"`: one implicit transaction; a file holding a lone DO block runs outside any
# transaction block, so the block may COMMIT). Folders in the order given; stops at the first failure.
#
#   bench/backfill/apply.sh DB TIMES_FILE LOG_FILE DIR...
#
# Appends one line per folder to TIMES_FILE (`start_epoch end_epoch rc folder`), the machine's CPU
# counters (/proc/stat's "cpu" line) at the start and the end to TIMES_FILE.cpu, psql's output to
# LOG_FILE; prints nothing on stdout (bench/load-gap/load-gap.sh prints its figures there). Exit status:
# the first failing psql's, else 0. Each file is killed after MIG_TIMEOUT_S (default 600) seconds.
set -uo pipefail
[ $# -ge 4 ] || { echo "usage: $0 DB TIMES_FILE LOG_FILE DIR..." >&2; exit 2; }
db=$1 times=$2 log=$3; shift 3
grep -m1 '^cpu ' /proc/stat >>"$times.cpu" 2>/dev/null
trap 'grep -m1 "^cpu " /proc/stat >>"$times.cpu" 2>/dev/null' EXIT
for dir in "$@"; do
  s=$(date +%s.%N)
  timeout "${MIG_TIMEOUT_S:-600}" psql -X -v ON_ERROR_STOP=1 -d "$db" -c "$(cat "$dir/migration.sql")" >>"$log" 2>&1
  rc=$?
  e=$(date +%s.%N)
  echo "$s $e $rc $(basename "$dir")" >>"$times"
  [ "$rc" = 0 ] || { echo "$(basename "$dir"): psql exit $rc" >>"$log"; exit "$rc"; }
done
