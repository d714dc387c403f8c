#!/usr/bin/env bash
# bench/check.sh: the live side of migrate-safe, timed on the documenso history (163 migrations).
#   1. `migrate-safe check --all` (applies every file Prisma's way, traces every statement's locks)
#      against applying the same files with one `psql -c "$(cat file)"` per file. Target: ratio <= 1.0.
#   2. `migrate-safe rewrite --require-proof --dry-run` of the last migration that needs a rewrite, with
#      the whole history before it, on the server at $BENCH_DATABASE_URL, Prisma version not given (proven
#      under both apply models). Target: under 2 s (issue 13: a rewrite of one migration over a history of
#      about 200 proves in under 2 s; bench/prove.sh times the same for all three corpora, without a URL
#      too).
# Needs PostgreSQL at $BENCH_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/postgres) and psql.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
URL=${BENCH_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/postgres}
CORPUS=${CORPUS:-$ROOT/../shared/corpus/documenso/migrations}
RUNS=${RUNS:-3}
BIN=$ROOT/target/release/migrate-safe
[ -d "$CORPUS" ] || { echo "bench/check.sh: no corpus at $CORPUS (it comes with ../shared)"; exit 0; }
(cd "$ROOT" && cargo build --release --quiet)

now() { date +%s.%N; }
mean() { python3 -c "import sys; v=[float(x) for x in sys.argv[1:]]; print(f'{sum(v)/len(v):.2f}')" "$@"; }

check_times=(); psql_times=(); verify_times=()
for _ in $(seq "$RUNS"); do
  s=$(now); "$BIN" check "$CORPUS" --all --scratch-url "$URL" >/dev/null || true; e=$(now)
  check_times+=("$(echo "$e - $s" | bc)")

  db=migrate_safe_bench_psql
  psql "$URL" -qc "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null 2>&1
  target=${URL%/*}/$db
  s=$(now)
  for f in $(ls -d "$CORPUS"/*/ | sort); do psql "$target" -qc "$(cat "$f/migration.sql")" >/dev/null 2>&1; done
  e=$(now)
  psql "$URL" -qc "DROP DATABASE IF EXISTS $db" >/dev/null
  psql_times+=("$(echo "$e - $s" | bc)")
done

last=$("$BIN" rewrite "$CORPUS" --all --dry-run --format json |
  python3 -c "import json,sys; print([m['migration'] for m in json.load(sys.stdin)['migrations'] if m['changes_anything']][-1])")
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cp -r "$CORPUS" "$work/migrations"
for _ in $(seq "$RUNS"); do
  s=$(now); "$BIN" rewrite "$work/migrations" --migration "$last" --require-proof --scratch-url "$URL" --dry-run >/dev/null; e=$(now)
  verify_times+=("$(echo "$e - $s" | bc)")
done

check=$(mean "${check_times[@]}"); psql_mean=$(mean "${psql_times[@]}"); verify=$(mean "${verify_times[@]}")
ratio=$(python3 -c "print(f'{$check/$psql_mean:.2f}')")
echo "documenso history, $(ls -d "$CORPUS"/*/ | wc -l) migrations, mean of $RUNS runs"
echo "  migrate-safe check --all          ${check} s"
echo "  psql -c per file (apply only)     ${psql_mean} s"
echo "  ratio check / psql                ${ratio}  (target <= 1.0: $(python3 -c "print('PASS' if $ratio <= 1.0 else 'FAIL')"))"
echo "  rewrite --require-proof $last  ${verify} s  (target < 2 s: $(python3 -c "print('PASS' if $verify < 2 else 'FAIL')"))"
