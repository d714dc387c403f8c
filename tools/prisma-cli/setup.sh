#!/usr/bin/env bash
# setup.sh [TARGET_DIR]
#
# Installs the real Prisma CLI 6.19.3 (+ @prisma/adapter-pg 6.19.3, pg) into
# TARGET_DIR (default: $PRISMA_KIT_DIR, else .prisma-kit/ at the project root,
# i.e. ../../.prisma-kit from this script, git-ignored) from the npm
# registry, exactly as pinned by package.json + package-lock.json here, and
# drops in the patched-adapter config (adapter.cjs, prisma.config.ts).
# No Prisma engine binary is downloaded or needed: migrate runs through the
# Wasm schema engine shipped inside the `prisma` package.
# Idempotent: re-running with an unchanged lockfile skips `npm ci`.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TARGET=${1:-${PRISMA_KIT_DIR:-$HERE/../../.prisma-kit}}
mkdir -p "$TARGET"
TARGET=$(cd "$TARGET" && pwd)

command -v node >/dev/null || { echo "setup.sh: node (>= 18.18) is required" >&2; exit 1; }
command -v npm >/dev/null || { echo "setup.sh: npm is required" >&2; exit 1; }

for f in package.json package-lock.json adapter.cjs prisma.config.ts schema-engine-stub.cjs; do
  if ! cmp -s "$HERE/$f" "$TARGET/$f" 2>/dev/null; then
    cp "$HERE/$f" "$TARGET/$f"
  fi
done
chmod +x "$TARGET/schema-engine-stub.cjs"

stamp="$TARGET/.setup-stamp"
want=$(cat "$HERE/package-lock.json" "$HERE/package.json" | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -f "$TARGET/node_modules/prisma/build/index.js" ]; then
  echo "setup.sh: packages already installed in $TARGET"
else
  rm -f "$stamp"
  echo "setup.sh: installing pinned packages into $TARGET (npm ci) ..."
  # --ignore-scripts: prisma's/@prisma/engines' install scripts would try to
  # download native engines (impossible offline, and not needed here).
  (cd "$TARGET" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
fi

# Self-check: exact versions, and the adapter patch still applies to the
# installed @prisma/adapter-pg (no database connection is made).
(cd "$TARGET" && node -e '
  const want = { "prisma": "6.19.3", "@prisma/client": "6.19.3", "@prisma/adapter-pg": "6.19.3", "pg": "8.23.1" };
  for (const [name, v] of Object.entries(want)) {
    const got = JSON.parse(require("fs").readFileSync("node_modules/" + name + "/package.json", "utf8")).version;
    if (got !== v) { console.error(`setup.sh: ${name} is ${got}, expected ${v}`); process.exit(1); }
  }
  const { PrismaKitPg } = require("./adapter.cjs");
  const f = new PrismaKitPg("postgresql://selfcheck@127.0.0.1:1/selfcheck");
  f.connect().then(async (a) => {
    if (!/client\.query\(script\)/.test(String(a.executeScript))) throw new Error("executeScript patch not applied");
    await a.dispose();
    console.log("setup.sh: self-check ok (prisma " + want.prisma + ", @prisma/adapter-pg " + want["@prisma/adapter-pg"] + " patched, pg " + want.pg + ")");
  }).catch((e) => { console.error("setup.sh: self-check failed:", e); process.exit(1); });
')
echo "$want" > "$stamp"

[ -n "${PRISMA_KIT_SETUP_QUIET:-}" ] && exit 0
cat <<EOF

Run the real Prisma CLI (offline, JS schema engine + patched PrismaPg):

  DATABASE_URL=postgresql://postgres@127.0.0.1:5432/mydb \\
    $HERE/prisma.sh ./migrations migrate deploy

  $HERE/prisma.sh ./migrations migrate status
  $HERE/prisma.sh ./migrations migrate resolve --applied 0_init
  $HERE/prisma.sh ./migrations migrate diff --from-empty --to-schema-datamodel schema.prisma --script
  $HERE/prisma.sh ./migrations migrate diff --from-migrations ./migrations \\
      --to-schema-datamodel schema.prisma --shadow-database-url "\$SHADOW_DATABASE_URL" --exit-code

Env: DATABASE_URL (required for anything touching a database), SHADOW_DATABASE_URL
(optional; default: a temporary database on the DATABASE_URL server), PRISMA_SCHEMA
(optional schema.prisma for commands that need the datamodel), PRISMA_KIT_DIR
(kit location; default <project root>/.prisma-kit). Kit installed in: $TARGET
EOF
