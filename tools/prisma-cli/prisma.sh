#!/usr/bin/env bash
# prisma.sh <migrations-dir> <prisma-subcommand...>
#   e.g.  DATABASE_URL=postgresql://postgres@127.0.0.1:5432/db prisma.sh ./migrations migrate deploy
#
# Runs the real Prisma CLI 6.19.3 from the kit (see setup.sh) with a
# prisma.config.ts that selects the JS schema engine over a patched
# @prisma/adapter-pg, and `migrations.path` = <migrations-dir>.
#
# Environment:
#   DATABASE_URL         database to work on (postgresql://...; `?schema=` honoured)
#   SHADOW_DATABASE_URL  optional shadow database; it is WIPED (dropped and
#                        re-created). Default: a temporary database
#                        prisma_migrate_shadow_db_<uuid> on the DATABASE_URL
#                        server, dropped afterwards. `--shadow-database-url URL`
#                        on the command line is turned into this variable (the
#                        CLI itself rejects that flag when a JS engine is set).
#   PRISMA_SCHEMA        optional schema.prisma (commands that need the
#                        datamodel: migrate dev, db push, ...). Default: a
#                        generated datamodel-less postgresql schema.
#   PRISMA_KIT_DIR       kit location (default: .prisma-kit/ at the project
#                        root, i.e. $HERE/../../.prisma-kit, git-ignored); it is
#                        installed on first use by setup.sh.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
KIT_DIR=$(realpath -m -- "${PRISMA_KIT_DIR:-$HERE/../../.prisma-kit}")

if [ $# -lt 2 ]; then
  sed -n '2,4p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 64
fi

kit_is_current() {
  [ -f "$KIT_DIR/node_modules/prisma/build/index.js" ] &&
    [ "$(cat "$KIT_DIR/.setup-stamp" 2>/dev/null)" = "$(cat "$HERE/package-lock.json" "$HERE/package.json" | sha256sum | cut -d' ' -f1)" ] &&
    cmp -s "$HERE/adapter.cjs" "$KIT_DIR/adapter.cjs" &&
    cmp -s "$HERE/prisma.config.ts" "$KIT_DIR/prisma.config.ts" &&
    cmp -s "$HERE/schema-engine-stub.cjs" "$KIT_DIR/schema-engine-stub.cjs"
}
if ! kit_is_current; then
  echo "prisma.sh: kit in $KIT_DIR missing or out of date, running setup.sh first" >&2
  PRISMA_KIT_SETUP_QUIET=1 "$HERE/setup.sh" "$KIT_DIR" >&2
fi

MIGRATIONS_DIR=$(realpath -m -- "$1")
shift

# Pull --shadow-database-url out of the arguments (into SHADOW_DATABASE_URL).
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --shadow-database-url)
      [ $# -ge 2 ] || { echo "prisma.sh: --shadow-database-url needs a value" >&2; exit 64; }
      export SHADOW_DATABASE_URL=$2; shift 2 ;;
    --shadow-database-url=*)
      export SHADOW_DATABASE_URL=${1#--shadow-database-url=}; shift ;;
    *)
      args+=("$1"); shift ;;
  esac
done

if [ -z "${DATABASE_URL:-}" ]; then
  # The CLI builds the adapter whenever it loads the config, and the JS schema
  # engine connects to DATABASE_URL on start-up for every migrate/db command,
  # even `migrate diff --from-empty ...`.
  echo "prisma.sh: DATABASE_URL must be set (postgresql://user@host:port/db)" >&2
  exit 64
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/prisma-kit.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

if [ -n "${PRISMA_SCHEMA:-}" ]; then
  [ -f "$PRISMA_SCHEMA" ] || { echo "prisma.sh: PRISMA_SCHEMA=$PRISMA_SCHEMA not found" >&2; exit 66; }
  PRISMA_KIT_SCHEMA=$(realpath -- "$PRISMA_SCHEMA")
else
  # Prisma 6 requires `url` in the datasource block (without it the CLI falls
  # back to downloading a query engine). With a driver adapter the CLI only
  # shows it in its "Datasource" line and prints a WARNING that it is unused.
  cat > "$tmp/schema.prisma" <<'EOF'
generator client {
  provider   = "prisma-client-js"
  engineType = "client"
}

datasource db {
  provider = "postgresql"
  url      = env("DATABASE_URL")
}
EOF
  PRISMA_KIT_SCHEMA=$tmp/schema.prisma
fi

export PRISMA_KIT_SCHEMA
export PRISMA_KIT_MIGRATIONS_DIR=$MIGRATIONS_DIR
# engineType "client" + engine "js" => the CLI downloads no engine binary.
export PRISMA_CLIENT_ENGINE_TYPE=client
# The one native-binary call left (`migrate resolve --rolled-back` pre-flight
# check); see schema-engine-stub.cjs.
export PRISMA_SCHEMA_ENGINE_BINARY=$KIT_DIR/schema-engine-stub.cjs
export CHECKPOINT_DISABLE=1 PRISMA_HIDE_UPDATE_MESSAGE=1

set +e
node "$KIT_DIR/node_modules/prisma/build/index.js" "${args[@]}" --config "$KIT_DIR/prisma.config.ts"
rc=$?
set -e
exit $rc
