#!/usr/bin/env bash
# Deploy benchmark: the longest write stall while a pending `ALTER TABLE "Post" ADD COLUMN` is deployed
# and a long transaction holds a lock on "Post" (a 20 s blocker), under `prisma migrate deploy` (the
# real Prisma 6.19.3 from tools/prisma-cli) and under `migrate-safe deploy`; then the pre-flight's time
# on the same 2M-row table. See bench/deploy/README.md.
#
#   bench/deploy/run.sh                  2,000,000 rows, 20 s blocker, 4 writers at 200 writes/s
#   bench/deploy/run.sh --rows 200000 --blocker 5 --lock-timeout 100ms
#
# Environment: PGHOST (default 127.0.0.1), PGPORT (5432), PGUSER (postgres); MIGRATE_SAFE_BIN (default
# target/release/migrate-safe, built if missing). Output: a table on stdout; logs in bench/.work/deploy/.
# Prints figures; exits 0 whenever both runs completed.
set -uo pipefail
export LC_ALL=C

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
OUT=$ROOT/bench/.work/deploy
ROWS=2000000
BLOCKER_S=20
RATE=200
CLIENTS=4
LOCK_TIMEOUT=50ms
while [ $# -gt 0 ]; do
  case "$1" in
    --rows) ROWS=$2; shift 2 ;;
    --blocker) BLOCKER_S=$2; shift 2 ;;
    --rate) RATE=$2; shift 2 ;;
    --lock-timeout) LOCK_TIMEOUT=$2; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres}
for t in psql pgbench python3 node; do command -v $t >/dev/null || { echo "missing: $t" >&2; exit 2; }; done
BIN=${MIGRATE_SAFE_BIN:-$ROOT/target/release/migrate-safe}
if [ ! -x "$BIN" ]; then (cd "$ROOT" && cargo build --release --locked -q) || exit 2; fi
PRISMA=$ROOT/tools/prisma-cli/prisma.sh
PRISMA_KIT_SETUP_QUIET=1 "$ROOT/tools/prisma-cli/setup.sh" >/dev/null || { echo "cannot install the Prisma kit" >&2; exit 2; }

rm -rf "$OUT"; mkdir -p "$OUT"
TAG=$(date +%s)_$$
DBS=()
cleanup() {
  for db in "${DBS[@]}"; do psql -X -q -d postgres -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM
now() { date +%s.%N; }

# The history: 0_init creates the tables (deployed before the load), 1_slug is pending.
DIR=$OUT/migrations
mkdir -p "$DIR/0_init" "$DIR/1_slug"
printf 'provider = "postgresql"\n' >"$DIR/migration_lock.toml"
cat >"$DIR/0_init/migration.sql" <<'SQL'
CREATE TABLE "Post" ("id" SERIAL PRIMARY KEY, "authorId" INTEGER NOT NULL, "title" TEXT NOT NULL);
SQL
printf 'ALTER TABLE "Post" ADD COLUMN "slug" TEXT;\n' >"$DIR/1_slug/migration.sql"
cat >"$OUT/write.sql" <<'SQL'
\set id random(1, :nrows)
UPDATE "Post" SET "title" = 'w' WHERE "id" = :id;
SQL

run() {  # run NAME COMMAND...
  local name=$1; shift
  local db=deploy_bench_${TAG}_$name
  psql -X -q -d postgres -c "CREATE DATABASE \"$db\"" || return 1
  DBS+=("$db")
  local url="postgresql://$PGUSER@$PGHOST:$PGPORT/$db"
  DATABASE_URL=$url "$PRISMA" "$DIR" migrate resolve --applied 0_init >/dev/null 2>&1 || true
  psql -X -q -d "$db" -v ON_ERROR_STOP=1 -f "$DIR/0_init/migration.sql" \
       -c "INSERT INTO \"Post\" (\"authorId\", \"title\") SELECT g % 1000, 't' || g FROM generate_series(1, $ROWS) g" \
       -c 'VACUUM (ANALYZE) "Post"' || return 1
  local total=$((BLOCKER_S + 8))
  PGAPPNAME=deploy_bench_load pgbench -n -c "$CLIENTS" -j 2 -T "$total" -R "$RATE" -D nrows="$ROWS" \
      -l --log-prefix="$OUT/$name.log" -f "$OUT/write.sql" "$db" >"$OUT/$name.pgbench.out" 2>&1 &
  local load=$!
  sleep 2
  # The blocker: a long transaction that read "Post" (ACCESS SHARE until it ends).
  psql -X -q -d "$db" -c "SET application_name = 'long_report'" \
       -c "BEGIN; SELECT count(*) FROM \"Post\"; SELECT pg_sleep($BLOCKER_S); COMMIT;" >/dev/null 2>&1 &
  local blocker=$!
  sleep 0.5
  local s e; s=$(now)
  DATABASE_URL=$url "$@" >"$OUT/$name.deploy.out" 2>&1; local rc=$?
  e=$(now)
  wait "$blocker"; wait "$load"
  printf '%s deploy_s=%.2f exit=%s\n' "$name" "$(echo "$e - $s" | bc)" "$rc" >>"$OUT/times"
  psql -X -q -At -d "$db" -c "SELECT count(*) FROM information_schema.columns WHERE table_name = 'Post' AND column_name = 'slug'" >"$OUT/$name.applied"
}

echo "seeding $ROWS rows per run, blocker ${BLOCKER_S} s, $CLIENTS writers at $RATE writes/s"
run prisma "$PRISMA" "$DIR" migrate deploy || echo "prisma run failed"
run migrate_safe "$BIN" deploy "$DIR" --lock-timeout "$LOCK_TIMEOUT" --deadline 5min --max-attempts 100 || echo "migrate-safe run failed"

# Pre-flight on the same table: duplicates for a unique index, NULLs for SET NOT NULL, orphans for a FK.
PDB=deploy_bench_${TAG}_preflight
psql -X -q -d postgres -c "CREATE DATABASE \"$PDB\"" && DBS+=("$PDB")
PDIR=$OUT/preflight
mkdir -p "$PDIR/0_init" "$PDIR/1_checks"
cp "$DIR/migration_lock.toml" "$PDIR/"
printf 'CREATE TABLE "User" ("id" SERIAL PRIMARY KEY);\n%s' "$(cat "$DIR/0_init/migration.sql")" >"$PDIR/0_init/migration.sql"
cat >"$PDIR/1_checks/migration.sql" <<'SQL'
ALTER TABLE "Post" ALTER COLUMN "authorId" DROP NOT NULL;
ALTER TABLE "Post" ADD CONSTRAINT "Post_authorId_fkey" FOREIGN KEY ("authorId") REFERENCES "User"("id");
ALTER TABLE "Post" ALTER COLUMN "title" SET NOT NULL;
CREATE UNIQUE INDEX "Post_title_key" ON "Post"("title");
SQL
PURL="postgresql://$PGUSER@$PGHOST:$PGPORT/$PDB"
mkdir -p "$OUT/preflight_init" && cp -r "$PDIR/0_init" "$PDIR/migration_lock.toml" "$OUT/preflight_init/"
"$BIN" deploy "$OUT/preflight_init" --database-url "$PURL" >"$OUT/preflight_init.out" 2>&1
psql -X -q -d "$PDB" -c "INSERT INTO \"User\" SELECT g FROM generate_series(0, 999) g" \
     -c "INSERT INTO \"Post\" (\"authorId\", \"title\") SELECT g % 1000, 't' || g FROM generate_series(1, $ROWS) g" \
     -c 'VACUUM (ANALYZE)' >/dev/null
"$BIN" deploy "$PDIR" --database-url "$PURL" --dry-run --format json >"$OUT/preflight.json" 2>"$OUT/preflight.err"

python3 "$HERE/analyze.py" "$OUT" "$BLOCKER_S" "$LOCK_TIMEOUT"
