#!/usr/bin/env bash
# setup.sh [TARGET_DIR]
#
# Installs the real Prisma CLI 7.10.1 with its stand-in schema engine (see README.md) into
# TARGET_DIR (default: $PRISMA7_KIT_DIR, else .prisma7-kit/ at the project root, i.e.
# ../../.prisma7-kit from this script, git-ignored):
#   * `npm ci --ignore-scripts` of the pinned package.json + package-lock.json here
#     (prisma 7.10.1, @prisma/adapter-pg 7.10.1, @prisma/schema-engine-wasm, pg);
#   * sqlprobe (sqlparser =0.61.0, pinned by sqlprobe/Cargo.lock) built with
#     `cargo build --release --locked`, its CARGO_TARGET_DIR inside TARGET_DIR;
#   * shim/schema-engine.cjs copied in as TARGET_DIR/schema-engine.cjs.
# Nothing outside this folder and TARGET_DIR is read or written. No Prisma engine binary is
# downloaded (none can be, offline). Idempotent: each half is redone only when its inputs
# changed (stamps .npm-stamp, .sqlprobe-stamp; .setup-stamp covers everything).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TARGET=${1:-${PRISMA7_KIT_DIR:-$HERE/../../.prisma7-kit}}
mkdir -p "$TARGET"
TARGET=$(cd "$TARGET" && pwd)
say() { [ -n "${PRISMA7_KIT_SETUP_QUIET:-}" ] || echo "setup.sh: $*"; }

command -v node >/dev/null || { echo "setup.sh: node (>= 20.19) is required" >&2; exit 1; }
command -v npm >/dev/null || { echo "setup.sh: npm is required" >&2; exit 1; }
command -v cargo >/dev/null || { echo "setup.sh: cargo is required (to build sqlprobe)" >&2; exit 1; }
node -e '
  const [a, b] = process.versions.node.split(".").map(Number)
  if (a < 20 || (a === 20 && b < 19)) { console.error(`setup.sh: node ${process.versions.node} is too old; Prisma 7 needs >= 20.19`); process.exit(1) }
'

# shellcheck source=stamps.sh
. "$HERE/stamps.sh"

# 1. npm packages.
want_npm=$(p7x_npm_stamp "$HERE")
if [ "$(cat "$TARGET/.npm-stamp" 2>/dev/null)" = "$want_npm" ] && [ -f "$TARGET/node_modules/prisma/build/index.js" ]; then
  say "npm packages already installed in $TARGET"
else
  rm -f "$TARGET/.npm-stamp" "$TARGET/.setup-stamp"
  cp "$HERE/package.json" "$HERE/package-lock.json" "$TARGET/"
  say "installing pinned packages into $TARGET (npm ci) ..."
  # --ignore-scripts: @prisma/engines' postinstall would try binaries.prisma.sh (unreachable).
  (cd "$TARGET" && nice -n 19 npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
  echo "$want_npm" >"$TARGET/.npm-stamp"
fi

# 2. sqlprobe (the parse gate of the split7 mode).
want_probe=$(p7x_sqlprobe_stamp "$HERE")
probe=$TARGET/sqlprobe-target/release/sqlprobe
if [ "$(cat "$TARGET/.sqlprobe-stamp" 2>/dev/null)" = "$want_probe" ] && [ -x "$probe" ]; then
  say "sqlprobe already built in $TARGET/sqlprobe-target"
else
  rm -f "$TARGET/.sqlprobe-stamp" "$TARGET/.setup-stamp"
  say "building sqlprobe (sqlparser =0.61.0) into $TARGET/sqlprobe-target ..."
  CARGO_TARGET_DIR=$TARGET/sqlprobe-target nice -n 19 \
    cargo build --release --locked --quiet --manifest-path "$HERE/sqlprobe/Cargo.toml" >&2
  echo "$want_probe" >"$TARGET/.sqlprobe-stamp"
fi

# 3. The shim.
if ! cmp -s "$HERE/shim/schema-engine.cjs" "$TARGET/schema-engine.cjs"; then
  cp "$HERE/shim/schema-engine.cjs" "$TARGET/schema-engine.cjs"
fi
chmod +x "$TARGET/schema-engine.cjs"

# Self-check: exact versions, the probe answers, the shim starts (no database connection).
(cd "$TARGET" && node -e '
  const want = { "prisma": "7.10.1", "@prisma/adapter-pg": "7.10.1", "@prisma/driver-adapter-utils": "7.10.1",
    "@prisma/schema-engine-wasm": "8.1.0-2.59be4fda12412a79eeb9c2ae727b6aa723593323", "pg": "8.23.1" }
  for (const [name, v] of Object.entries(want)) {
    const got = JSON.parse(require("fs").readFileSync("node_modules/" + name + "/package.json", "utf8")).version
    if (got !== v) { console.error(`setup.sh: ${name} is ${got}, expected ${v}`); process.exit(1) }
  }
')
probe_out=$(printf 'CREATE TABLE "t" ("id" INT);\nSELECT 1;\n' | "$probe" --split)
case "$probe_out" in
  *'"parsed":true'*'"statements":["CREATE TABLE \"t\" (\"id\" INT)","SELECT 1"]'*) ;;
  *) echo "setup.sh: sqlprobe self-check failed: $probe_out" >&2; exit 1 ;;
esac
"$TARGET/schema-engine.cjs" --version | grep -q 'p7x-wasm-shim' ||
  { echo "setup.sh: shim self-check failed" >&2; exit 1; }
p7x_kit_stamp "$HERE" >"$TARGET/.setup-stamp"
say "self-check ok (prisma 7.10.1, @prisma/schema-engine-wasm 8.1.0-2.59be4fda, sqlprobe with sqlparser 0.61.0)"

[ -n "${PRISMA7_KIT_SETUP_QUIET:-}" ] && exit 0
cat <<EOF

Run the real Prisma CLI 7.10.1 (offline, Wasm schema engine behind shim/schema-engine.cjs):

  export DATABASE_URL=postgresql://postgres@127.0.0.1:5432/mydb
  $HERE/prisma7.sh ./migrations migrate deploy                    # P7X_SCRIPT_MODE=split7 (default) or whole
  $HERE/prisma7.sh ./migrations migrate status
  $HERE/prisma7.sh ./migrations migrate resolve --rolled-back NAME
  $HERE/prisma7.sh . migrate diff --from-empty --to-schema schema.prisma --script
  $HERE/prisma7.sh ./migrations migrate diff --from-config-datasource --to-schema schema.prisma --exit-code

Kit installed in: $TARGET
EOF
