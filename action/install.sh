#!/usr/bin/env bash
# The action's install step: migrate-safe from npm (the launcher and this runner's platform package with
# the prebuilt binary) into $RUNNER_TEMP/migrate-safe, and its .bin on $GITHUB_PATH. No Rust toolchain,
# no build.
#   INPUT_VERSION  the npm version [default: the version in the action's own Cargo.toml]
#   INPUT_PACKAGE  npm install specs instead (e.g. two local tarballs from npm/pack.sh)
set -euo pipefail
spec="${INPUT_PACKAGE:-}"
if [ -z "$spec" ]; then
  version="${INPUT_VERSION:-}"
  if [ -z "$version" ]; then
    version="$(awk '/^\[/{ p = ($0 == "[package]") } p && /^version *=/{ gsub(/.*= *"|".*/, ""); print; exit }' "$GITHUB_ACTION_PATH/Cargo.toml")"
  fi
  spec="migrate-safe@$version"
fi
prefix="$RUNNER_TEMP/migrate-safe"
mkdir -p "$prefix"
# A package.json of its own, so npm installs here and not into a project above.
[ -f "$prefix/package.json" ] || echo '{"name": "migrate-safe-action", "private": true}' > "$prefix/package.json"
# shellcheck disable=SC2086 # specs are words on purpose
npm install --prefix "$prefix" --no-audit --no-fund --no-save --loglevel=error $spec
"$prefix/node_modules/.bin/migrate-safe" --version
echo "$prefix/node_modules/.bin" >> "${GITHUB_PATH:-/dev/null}"
