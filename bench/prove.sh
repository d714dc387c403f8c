#!/usr/bin/env bash
# bench/prove.sh: how long `rewrite`'s default proof takes on real histories. For each corpus under
# ../shared/corpus (documenso 163 migrations, rallly 145, inbox-zero 240), one new migration is added at
# the end — what `prisma migrate dev --create-only` writes for a new column with an index on an
# existing table — and `migrate-safe rewrite` (writing, as a user runs it) is timed on a fresh copy:
#   url, 1 model   --scratch-url, Prisma version known (one apply model)
#   url, 2 models  --scratch-url, version unknown (proven under both apply models)
#   local, 2 models no URL, no Docker: a throwaway server from the local PostgreSQL binaries, a copy of
#                   the cluster template (kept in a cache of this script's own, made by the run before)
#   local, initdb   the same with an empty cache each run: initdb, and the template kept for later
#   --no-verify    the same rewrite without the proof, for comparison
# Target: under 2 s for a history of about 200 migrations. Each timed run must report
# proof.status == "proven" (or "skipped" for --no-verify), else the script stops.
# Needs PostgreSQL at $BENCH_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/postgres).
# MIGRATE_SAFE_BIN picks the binary (default: target/release/migrate-safe if built, else the debug one).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
URL=${BENCH_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/postgres}
CORPORA=${CORPORA:-$ROOT/../shared/corpus}
RUNS=${RUNS:-5}
if [ -z "${MIGRATE_SAFE_BIN:-}" ]; then
  if [ -x "$ROOT/target/release/migrate-safe" ]; then BIN=$ROOT/target/release/migrate-safe
  else (cd "$ROOT" && cargo build --quiet); BIN=$ROOT/target/debug/migrate-safe; fi
else BIN=$MIGRATE_SAFE_BIN; fi
[ -d "$CORPORA" ] || { echo "bench/prove.sh: no corpora at $CORPORA (they come with ../shared)"; exit 0; }
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
# The throwaway local server's cluster templates: this script's own, never the user's cache.
export MIGRATE_SAFE_CLUSTER_CACHE=$work/cache

# The first table the history creates and never drops or renames.
table_of() {
  python3 - "$1" <<'EOF'
import os, re, sys
d = sys.argv[1]
created, gone = [], set()
for name in sorted(os.listdir(d)):
    f = os.path.join(d, name, "migration.sql")
    if not os.path.isfile(f):
        continue
    sql = open(f, encoding="utf-8").read()
    created += re.findall(r'CREATE TABLE "([^"]+)"', sql)
    gone |= set(re.findall(r'DROP TABLE (?:IF EXISTS )?"([^"]+)"', sql))
    gone |= set(re.findall(r'ALTER TABLE "([^"]+)" RENAME TO', sql))
print(next(t for t in created if t not in gone))
EOF
}

fresh_copy() { # corpus table -> $work/m
  rm -rf "$work/m"; cp -r "$1" "$work/m"
  mkdir "$work/m/29991231000000_bench_note"
  printf -- '-- AlterTable\nALTER TABLE "%s" ADD COLUMN "benchNote" TEXT;\n\n-- CreateIndex\nCREATE INDEX "%s_benchNote_idx" ON "%s"("benchNote");\n' \
    "$2" "$2" "$2" >"$work/m/29991231000000_bench_note/migration.sql"
}

now() { date +%s.%N; }
stats() { python3 -c "import sys; v=sorted(float(x) for x in sys.argv[1:]); print(f'{sum(v)/len(v):.2f} s (min {v[0]:.2f}, max {v[-1]:.2f})')" "$@"; }

run_case() { # corpus table expected-status env-and-args...
  local corpus=$1 table=$2 expected=$3; shift 3
  local times=()
  for _ in $(seq "$RUNS"); do
    fresh_copy "$corpus" "$table"
    if [ -n "${EMPTY_CACHE:-}" ]; then rm -rf "$MIGRATE_SAFE_CLUSTER_CACHE"; fi
    local s e
    s=$(now)
    env -u MIGRATE_SAFE_SCRATCH_URL -u SHADOW_DATABASE_URL -u DATABASE_URL -u MIGRATE_SAFE_NO_VERIFY \
      DOCKER_HOST=unix:///nonexistent/docker.sock "$@" --format json >"$work/out.json" 2>"$work/err" || true
    e=$(now)
    local status
    status=$(python3 -c "import json; print(json.load(open('$work/out.json'))['proof']['status'])" 2>/dev/null || echo "no report")
    if [ "$status" != "$expected" ]; then
      echo "bench/prove.sh: expected proof $expected, got $status:"; cat "$work/err"; head -c 2000 "$work/out.json"; exit 1
    fi
    if [ -n "${EXPECT_SERVER:-}" ] && ! grep -qF "$EXPECT_SERVER" "$work/out.json"; then
      echo "bench/prove.sh: expected a server with \"$EXPECT_SERVER\":"; head -c 2000 "$work/out.json"; exit 1
    fi
    times+=("$(echo "$e - $s" | bc)")
  done
  stats "${times[@]}"
}

echo "migrate-safe rewrite of one new migration (a column and an index on an existing table), $RUNS runs each, $(basename "$BIN") binary $BIN"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
for corpus in "$CORPORA"/*/migrations; do
  name=$(basename "$(dirname "$corpus")")
  count=$(find "$corpus" -mindepth 1 -maxdepth 1 -type d | wc -l)
  table=$(table_of "$corpus")
  echo "$name ($count migrations before it; the new one is on \"$table\"):"
  echo "  url, 1 model     $(run_case "$corpus" "$table" proven "$BIN" rewrite "$work/m" --scratch-url "$URL" --prisma-version 6.19.3)"
  echo "  url, 2 models    $(run_case "$corpus" "$table" proven "$BIN" rewrite "$work/m" --scratch-url "$URL")"
  echo "  local, initdb    $(EMPTY_CACHE=1 EXPECT_SERVER="the cluster made by initdb, kept as the template" run_case "$corpus" "$table" proven "$BIN" rewrite "$work/m")"
  echo "  local, 2 models  $(EXPECT_SERVER="the cluster a copy of the template" run_case "$corpus" "$table" proven "$BIN" rewrite "$work/m")"
  echo "  --no-verify      $(run_case "$corpus" "$table" skipped "$BIN" rewrite "$work/m" --no-verify)"
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
