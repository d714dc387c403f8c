#!/usr/bin/env bash
# run.sh MODE [CASE...] — every case directory (or the named ones) through the real Prisma 7.10.1 CLI
# (`prisma migrate deploy` via ../prisma7.sh) under P7X_SCRIPT_MODE=MODE (split7 | whole): a fresh
# database p7x_case_<case>, an init migration, then the case's case.sql as the second migration.
# Prints the file, the CLI output, every statement the shim sent (P7X_TRACE), the _prisma_migrations
# rows and what is left in the database. The databases are dropped afterwards unless P7X_CASES_KEEP=1.
#   P7X_CASES_ADMIN_URL  server (default postgresql://postgres@127.0.0.1:5432/postgres)
set -u
MODE=${1:-split7}
shift || true
HERE=$(cd "$(dirname "$0")" && pwd)
ADMIN_URL=${P7X_CASES_ADMIN_URL:-postgresql://postgres@127.0.0.1:5432/postgres}
SERVER=${ADMIN_URL%/*}
export P7X_SCRIPT_MODE=$MODE
if [ $# -gt 0 ]; then CASES=("$@"); else mapfile -t CASES < <(cd "$HERE" && ls -d [A-Z]*/ | tr -d /); fi
W=$(mktemp -d "${TMPDIR:-/tmp}/p7x-cases.XXXXXX")
sql() { psql "$SERVER/$1" -XqAt -v ON_ERROR_STOP=1 -c "$2" 2>&1; }
dbs=()
cleanup() {
  if [ "${P7X_CASES_KEEP:-}" != 1 ]; then
    for db in "${dbs[@]}"; do sql postgres "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null; done
    rm -rf "$W"
  else
    echo "kept: ${dbs[*]} and $W"
  fi
}
trap cleanup EXIT

for c in "${CASES[@]}"; do
  db=p7x_case_$(echo "$c" | tr 'A-Z' 'a-z' | cut -c1-40)
  dbs+=("$db")
  work=$W/$MODE/$c
  mkdir -p "$work/migrations/20260101000000_init" "$work/migrations/20260102000000_case"
  printf 'provider = "postgresql"\n' >"$work/migrations/migration_lock.toml"
  printf 'CREATE TABLE "t" ("id" INTEGER PRIMARY KEY, "v" INTEGER);\nCREATE INDEX "t_v_plain_idx" ON "t"("v");\n' >"$work/migrations/20260101000000_init/migration.sql"
  cp "$HERE/$c/case.sql" "$work/migrations/20260102000000_case/migration.sql"
  sql postgres "DROP DATABASE IF EXISTS $db" >/dev/null
  sql postgres "CREATE DATABASE $db" >/dev/null
  sql postgres "DROP ROLE IF EXISTS p7x_role" >/dev/null
  echo "################ $MODE / $c"
  echo "--- migration.sql"
  cat "$work/migrations/20260102000000_case/migration.sql"
  (
    export P7X_TRACE=$work/trace.jsonl DATABASE_URL=$SERVER/$db
    timeout 120 "$HERE/../prisma7.sh" "$work/migrations" migrate deploy >"$work/deploy.out" 2>&1
    echo "exit=$?" >>"$work/deploy.out"
  )
  echo "--- prisma migrate deploy (stdout+stderr, config lines dropped)"
  grep -v -E '^(Loaded Prisma config|Prisma schema loaded)' "$work/deploy.out" | sed '/^$/N;/^\n$/D'
  echo "--- what the shim sent (P7X_TRACE; the init migration's statements first)"
  [ -f "$work/trace.jsonl" ] && node -e '
    for (const l of require("fs").readFileSync(process.argv[1], "utf8").split("\n").filter(Boolean)) {
      const { kind, text } = JSON.parse(l); console.log(`  [${kind}] ${JSON.stringify(text)}`.slice(0, 200))
    }' "$work/trace.jsonl"
  echo "--- _prisma_migrations"
  psql "$SERVER/$db" -qX -A -F ' | ' -c "SELECT migration_name, (finished_at IS NOT NULL) AS finished, (rolled_back_at IS NOT NULL) AS rolled_back, applied_steps_count AS steps, left(coalesce(logs,'<NULL>'), 160) AS logs FROM _prisma_migrations ORDER BY started_at" 2>&1
  echo "--- objects left"
  sql "$db" "SELECT string_agg(relname || '(' || relkind::text || CASE WHEN relkind='i' AND NOT (SELECT indisvalid FROM pg_index WHERE indexrelid=c.oid) THEN ',INVALID' ELSE '' END || ')', ' ' ORDER BY relname) FROM pg_class c JOIN pg_namespace n ON n.oid=c.relnamespace WHERE n.nspname='public' AND relname <> '_prisma_migrations' AND relname NOT LIKE '%_pkey'"
  sql "$db" "SELECT 'columns of t: ' || string_agg(attname, ',' ORDER BY attnum) FROM pg_attribute WHERE attrelid='t'::regclass AND attnum>0 AND NOT attisdropped"
  psql "$SERVER/$db" -XqAt -c "SELECT 'probe rows: ' || string_agg(row_to_json(p)::text, ' ') FROM probe p" 2>/dev/null
  sql postgres "SELECT 'role p7x_role exists: ' || (count(*)>0) FROM pg_roles WHERE rolname='p7x_role'"
  echo
done
sql postgres "DROP ROLE IF EXISTS p7x_role" >/dev/null
