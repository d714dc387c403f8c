#!/usr/bin/env bash
# Deploy under live writers: what the application sees while a rewritten Prisma migration is deployed
# and a report holds a row lock on the hot table. One run deploys the same history three ways, each on
# a fresh database with the same rows, load and blocker:
#
#   migrate-safe deploy                    (this project)
#   prisma migrate deploy                  (the real Prisma CLI 7.10.1, tools/prisma7; statement by statement)
#   a no-op as long as migrate-safe's run  (the machine's own noise under the same load)
#
# and prints, per way: writer transactions that failed (deadlocks included), the longest gap between
# completed writes while it ran, the longest gap before it started, how long it took, its exit code.
#
#   bench/deploy/writers.sh                          100,000 users, 300,000 posts, 15 s blocker, 160 tx/s
#   bench/deploy/writers.sh --users 20000 --posts 60000 --blocker 5
#
# Writers (bench/load-gap/load-gap.sh, pgbench, 4 clients): half insert a post then bump its author's
# score (the referencing table first, as a foreign-key check locks it), half the other way round. The
# blocker: a transaction that locks one "Post" row FOR UPDATE and sleeps. The migration: Prisma's v2 of
# the app (a backfill, SET NOT NULL, a foreign key, four indexes, a unique index) as `migrate-safe
# rewrite` makes it safe: 8 folders.
#
# Environment: PGHOST (127.0.0.1), PGPORT (5432), PGUSER (postgres); MIGRATE_SAFE_BIN (default
# target/release/migrate-safe, built if missing). Logs in bench/.work/deploy-writers/. Prints figures;
# exits 0 whenever the runs completed.
set -uo pipefail
export LC_ALL=C
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
OUT=$ROOT/bench/.work/deploy-writers
USERS=100000 POSTS=300000 BLOCKER_S=15 RATE=160
while [ $# -gt 0 ]; do
  case "$1" in
    --users) USERS=$2; shift 2 ;;
    --posts) POSTS=$2; shift 2 ;;
    --blocker) BLOCKER_S=$2; shift 2 ;;
    --rate) RATE=$2; shift 2 ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres} RATE
for t in psql pgbench python3 node; do command -v $t >/dev/null || { echo "missing: $t" >&2; exit 2; }; done
BIN=${MIGRATE_SAFE_BIN:-$ROOT/target/release/migrate-safe}
if [ ! -x "$BIN" ]; then (cd "$ROOT" && cargo build --release --locked -q) || exit 2; fi
PRISMA7=$ROOT/tools/prisma7/prisma7.sh
rm -rf "$OUT"; mkdir -p "$OUT"
TAG=$(date +%s)_$$
DBS=()
cleanup() { for db in "${DBS[@]}"; do psql -X -q -d postgres -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1; done; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# The history: 0_init (deployed before the load) and Prisma's v2, rewritten by migrate-safe.
INIT=$OUT/init; DIR=$OUT/migrations
mkdir -p "$INIT/0_init" "$DIR"
printf 'provider = "postgresql"\n' >"$INIT/migration_lock.toml"
cat >"$INIT/0_init/migration.sql" <<'SQL'
-- CreateTable
CREATE TABLE "Team" ("id" SERIAL NOT NULL, "name" TEXT NOT NULL, CONSTRAINT "Team_pkey" PRIMARY KEY ("id"));
-- CreateTable
CREATE TABLE "User" ("id" SERIAL NOT NULL, "email" TEXT NOT NULL, "name" TEXT, "teamId" INTEGER, "score" INTEGER NOT NULL DEFAULT 0, CONSTRAINT "User_pkey" PRIMARY KEY ("id"));
-- CreateTable
CREATE TABLE "Post" ("id" SERIAL NOT NULL, "authorId" INTEGER NOT NULL, "title" TEXT NOT NULL, "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP, CONSTRAINT "Post_pkey" PRIMARY KEY ("id"));
-- CreateTable
CREATE TABLE "Comment" ("id" SERIAL NOT NULL, "postId" INTEGER NOT NULL, "body" TEXT NOT NULL, CONSTRAINT "Comment_pkey" PRIMARY KEY ("id"));
-- AddForeignKey
ALTER TABLE "Post" ADD CONSTRAINT "Post_authorId_fkey" FOREIGN KEY ("authorId") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
SQL
cp -r "$INIT/." "$DIR/"
mkdir -p "$DIR/20261201000000_v2"
cat >"$DIR/20261201000000_v2/migration.sql" <<'SQL'
-- AlterTable
ALTER TABLE "Post" ADD COLUMN     "editorId" INTEGER;

-- Backfill (hand-written)
UPDATE "User" SET "name" = '' WHERE "name" IS NULL;

-- AlterTable
ALTER TABLE "User" ADD COLUMN     "role" TEXT NOT NULL DEFAULT 'member',
ALTER COLUMN "name" SET NOT NULL;

-- CreateIndex
CREATE UNIQUE INDEX "User_email_key" ON "User"("email");

-- CreateIndex
CREATE INDEX "Post_authorId_idx" ON "Post"("authorId");

-- CreateIndex
CREATE INDEX "Post_createdAt_idx" ON "Post"("createdAt");

-- CreateIndex
CREATE INDEX "User_teamId_idx" ON "User"("teamId");

-- CreateIndex
CREATE INDEX "Comment_postId_idx" ON "Comment"("postId");

-- AddForeignKey
ALTER TABLE "Post" ADD CONSTRAINT "Post_editorId_fkey" FOREIGN KEY ("editorId") REFERENCES "User"("id") ON DELETE SET NULL ON UPDATE CASCADE;
SQL
"$BIN" rewrite "$DIR" --no-verify --prisma-version 7.10.1 >"$OUT/rewrite.out" 2>&1 || { cat "$OUT/rewrite.out"; exit 1; }

cat >"$OUT/child_first.sql" <<'SQL'
\set u random(1, :users)
BEGIN;
INSERT INTO "Post" ("authorId", "title") VALUES (:u, 'w');
UPDATE "User" SET "score" = "score" + 1 WHERE "id" = :u;
COMMIT;
SQL
cat >"$OUT/parent_first.sql" <<'SQL'
\set u random(1, :users)
BEGIN;
UPDATE "User" SET "score" = "score" + 1 WHERE "id" = :u;
INSERT INTO "Post" ("authorId", "title") VALUES (:u, 'w');
COMMIT;
SQL
sed -i "s/:users/$USERS/" "$OUT/child_first.sql" "$OUT/parent_first.sql"

# One way: a fresh database seeded the same, the load, the blocker 2 s in, the command 3 s in.
run() { # run NAME COMMAND...
  local name=$1; shift
  local db=deploy_writers_${TAG}_$name
  psql -X -q -d postgres -c "CREATE DATABASE \"$db\"" || return 1
  DBS+=("$db")
  local url="postgresql://$PGUSER@$PGHOST:$PGPORT/$db"
  "$BIN" deploy "$INIT" --database-url "$url" >/dev/null || return 1
  psql -X -q -d "$db" -v ON_ERROR_STOP=1 >/dev/null <<SQL || return 1
INSERT INTO "Team" ("name") SELECT 't' || g FROM generate_series(1, 100) g;
INSERT INTO "User" ("email", "name", "teamId") SELECT 'u' || g || '@x', CASE WHEN g % 1000 = 0 THEN NULL ELSE 'n' || g END, g % 100 + 1 FROM generate_series(1, $USERS) g;
INSERT INTO "Post" ("authorId", "title") SELECT g % $USERS + 1, 'p' || g FROM generate_series(1, $POSTS) g;
INSERT INTO "Comment" ("postId", "body") SELECT g % $POSTS + 1, 'c' FROM generate_series(1, $POSTS / 3) g;
VACUUM ANALYZE;
SQL
  ( sleep 2; psql -X -q -d "$db" -c "SET application_name = 'report'" -c 'BEGIN' \
      -c 'SELECT "id" FROM "Post" WHERE "id" = 1 FOR UPDATE' -c "SELECT pg_sleep($BLOCKER_S)" -c 'COMMIT' >/dev/null 2>&1 ) &
  local blocker=$!
  local result
  result=$(DATABASE_URL=$url LOAD_GAP_KEEP="$OUT/$name.pgbench" "$ROOT/bench/load-gap/load-gap.sh" "$db" $((BLOCKER_S + 25)) 3 \
      "$OUT/child_first.sql" "$OUT/parent_first.sql" -- "$@" 2>"$OUT/$name.err" | tee "$OUT/$name.out" | tail -n 1)
  wait "$blocker"
  echo "$name $result" >>"$OUT/results"
}

echo "seeding $USERS users and $POSTS posts per run; blocker: a row lock on \"Post\" for ${BLOCKER_S} s; 4 writers at $RATE tx/s"
PRISMA7_KIT_SETUP_QUIET=1 "$ROOT/tools/prisma7/setup.sh" >"$OUT/prisma7-setup.log" 2>&1 || { echo "cannot install the Prisma 7 kit (see $OUT/prisma7-setup.log)" >&2; exit 2; }
cp -r "$DIR" "$OUT/migrations-prisma"
run migrate_safe "$BIN" deploy "$OUT/migrations" || echo "migrate-safe run failed"
ms=$(grep '^migrate_safe ' "$OUT/results" | sed 's/.*command_ms=\([0-9]*\).*/\1/')
run prisma env "$PRISMA7" "$OUT/migrations-prisma" migrate deploy || echo "prisma run failed"
run no_op sleep "$(python3 -c "print(${ms:-20000} / 1000)")" || echo "no-op run failed"
python3 - "$OUT/results" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1])]
names = {"migrate_safe": "migrate-safe deploy", "prisma": "prisma migrate deploy (7.10.1)", "no_op": "no-op of the same length"}
print(f"{'':34} {'failed':>6} {'deadlocks':>9} {'longest gap':>11} {'quiet gap':>9} {'took':>8} {'exit':>4}")
for name, *fields in rows:
    f = dict(x.split("=") for x in fields)
    print(f"{names.get(name, name):34} {f['failed']:>6} {f['deadlocks']:>9} {f['gap_ms'] + ' ms':>11} {f['quiet_gap_ms'] + ' ms':>9} {int(f['command_ms']) / 1000:>7.1f}s {f['command_rc']:>4}")
PY
