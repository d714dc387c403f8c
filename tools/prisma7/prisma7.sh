#!/usr/bin/env bash
# prisma7.sh <migrations-dir> <prisma-subcommand...>
#   e.g.  DATABASE_URL=postgresql://postgres@127.0.0.1:5432/db prisma7.sh ./migrations migrate deploy
#
# Runs the real Prisma CLI 7.10.1 from the kit (see setup.sh, README.md), with
# shim/schema-engine.cjs standing in for the native schema-engine binary, and a
# prisma.config.ts written for this one command: `migrations.path` = <migrations-dir>,
# `datasource.url` = $DATABASE_URL (and `datasource.shadowDatabaseUrl` = $SHADOW_DATABASE_URL
# when set), `schema` = $PRISMA_SCHEMA or a generated datasource-only schema.
#
# Environment:
#   DATABASE_URL         database to work on (postgresql://...; `?schema=` honoured). Required:
#                        the Wasm engine connects on start-up, even for `migrate diff --from-empty`.
#   SHADOW_DATABASE_URL  optional shadow database; it is WIPED (dropped and re-created).
#                        Default: a temporary database prisma_migrate_shadow_db_<uuid> on the
#                        DATABASE_URL server, dropped afterwards.
#   PRISMA_SCHEMA        optional schema.prisma (Prisma 7: no `url` in its datasource block).
#   P7X_SCRIPT_MODE      split7 (default: one simple query per statement when sqlparser 0.61
#                        parses the file, as Prisma 7.4+) or whole (the file as ONE simple query,
#                        as Prisma <= 7.3 and the 7.4+ fallback).
#   P7X_TRACE            optional file: every statement the shim sends is appended (JSON lines).
#   PRISMA7_KIT_DIR      kit location (default: .prisma7-kit/ at the project root, i.e.
#                        $HERE/../../.prisma7-kit, git-ignored); installed on first use by setup.sh.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
KIT_DIR=$(realpath -m -- "${PRISMA7_KIT_DIR:-$HERE/../../.prisma7-kit}")

if [ $# -lt 2 ]; then
  sed -n '2,3p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 64
fi

# shellcheck source=stamps.sh
. "$HERE/stamps.sh"
kit_is_current() {
  [ -f "$KIT_DIR/node_modules/prisma/build/index.js" ] &&
    [ -x "$KIT_DIR/sqlprobe-target/release/sqlprobe" ] &&
    [ "$(cat "$KIT_DIR/.setup-stamp" 2>/dev/null)" = "$(p7x_kit_stamp "$HERE")" ] &&
    cmp -s "$HERE/shim/schema-engine.cjs" "$KIT_DIR/schema-engine.cjs"
}
if ! kit_is_current; then
  echo "prisma7.sh: kit in $KIT_DIR missing or out of date, running setup.sh first" >&2
  PRISMA7_KIT_SETUP_QUIET=1 "$HERE/setup.sh" "$KIT_DIR" >&2
fi

case "${P7X_SCRIPT_MODE:-split7}" in
  split7 | whole) ;;
  *) echo "prisma7.sh: P7X_SCRIPT_MODE must be split7 or whole (got ${P7X_SCRIPT_MODE})" >&2; exit 64 ;;
esac
if [ -z "${DATABASE_URL:-}" ]; then
  echo "prisma7.sh: DATABASE_URL must be set (postgresql://user@host:port/db)" >&2
  exit 64
fi

if [ -n "${SHADOW_DATABASE_URL:-}" ] && [ "${SHADOW_DATABASE_URL%%\?*}" = "${DATABASE_URL%%\?*}" ]; then
  # The shim refuses it too, but the CLI only shows "Failed to connect to the shadow database".
  echo "prisma7.sh: SHADOW_DATABASE_URL names the DATABASE_URL database; it would be wiped" >&2
  exit 64
fi

MIGRATIONS_DIR=$(realpath -m -- "$1")
shift

# The config must sit under the kit dir so that `import 'prisma/config'` resolves to the
# kit's node_modules.
mkdir -p "$KIT_DIR/run"
tmp=$(mktemp -d "$KIT_DIR/run/cmd.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

if [ -n "${PRISMA_SCHEMA:-}" ]; then
  [ -f "$PRISMA_SCHEMA" ] || { echo "prisma7.sh: PRISMA_SCHEMA=$PRISMA_SCHEMA not found" >&2; exit 66; }
  schema=$(realpath -- "$PRISMA_SCHEMA")
else
  # Prisma 7: the datasource block names the provider only; the URL is in prisma.config.ts.
  printf 'datasource db {\n  provider = "postgresql"\n}\n' >"$tmp/schema.prisma"
  schema=$tmp/schema.prisma
fi

for value in "$schema" "$MIGRATIONS_DIR" "$DATABASE_URL" "${SHADOW_DATABASE_URL:-}"; do
  case "$value" in *[[:cntrl:]]*) echo "prisma7.sh: control character in $value" >&2; exit 64 ;; esac
done
# A JS string literal for a value written into the config (no control characters, see above).
js() {
  local s=$1
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  printf '"%s"' "$s"
}
{
  echo "// Written by tools/prisma7/prisma7.sh for one command."
  echo "import { defineConfig } from 'prisma/config'"
  echo "export default defineConfig({"
  echo "  schema: $(js "$schema"),"
  echo "  migrations: { path: $(js "$MIGRATIONS_DIR") },"
  if [ -n "${SHADOW_DATABASE_URL:-}" ]; then
    echo "  datasource: { url: $(js "$DATABASE_URL"), shadowDatabaseUrl: $(js "$SHADOW_DATABASE_URL") },"
  else
    echo "  datasource: { url: $(js "$DATABASE_URL") },"
  fi
  echo "})"
} >"$tmp/prisma.config.ts"

export PRISMA_SCHEMA_ENGINE_BINARY=$KIT_DIR/schema-engine.cjs
export PRISMA_HIDE_UPDATE_MESSAGE=1 CHECKPOINT_DISABLE=1
export P7X_SCRIPT_MODE=${P7X_SCRIPT_MODE:-split7}

set +e
node "$KIT_DIR/node_modules/prisma/build/index.js" "$@" --config "$tmp/prisma.config.ts"
rc=$?
set -e
exit $rc
