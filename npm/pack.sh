#!/usr/bin/env bash
# npm/pack.sh OUTDIR [--binary PATH] [--platform NAME]
#
# Writes the npm tarballs into OUTDIR: the launcher `migrate-safe-<version>.tgz` and the platform package
# `migrate-safe-<platform>-<version>.tgz` (@migrate-safe/<platform>) holding the binary. The version is
# the one in Cargo.toml, for both packages and for the launcher's optionalDependencies.
#
#   --binary PATH     package this binary (default: build it with `cargo build --release --locked`)
#   --platform NAME   the platform package it goes into, one of npm/platforms/ (default: this machine's,
#                     from node's process.platform-process.arch). With a cross-compiled --binary this
#                     packs the other platforms; see npm/README.md for the release steps.
#
# Nothing is published: `npm publish OUTDIR/<tarball>` does that, platform packages first.
set -euo pipefail

usage() { echo "usage: npm/pack.sh OUTDIR [--binary PATH] [--platform NAME]" >&2; exit 2; }

root="$(cd "$(dirname "$0")/.." && pwd)"
outdir=""
binary=""
platform=""
while [ $# -gt 0 ]; do
  case "$1" in
    --binary) [ $# -ge 2 ] || usage; binary="$2"; shift 2 ;;
    --platform) [ $# -ge 2 ] || usage; platform="$2"; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "npm/pack.sh: unknown option $1" >&2; usage ;;
    *) [ -z "$outdir" ] || usage; outdir="$1"; shift ;;
  esac
done
[ -n "$outdir" ] || usage
command -v node >/dev/null && command -v npm >/dev/null ||
  { echo "npm/pack.sh: needs node and npm on PATH" >&2; exit 2; }

# The [package] version of Cargo.toml.
version="$(awk '/^\[/{ in_pkg = ($0 == "[package]") } in_pkg && /^version *=/{ gsub(/.*= *"|".*/, ""); print; exit }' "$root/Cargo.toml")"
[ -n "$version" ] || { echo "npm/pack.sh: no version in the [package] section of $root/Cargo.toml" >&2; exit 2; }

[ -n "$platform" ] || platform="$(node -p 'process.platform + "-" + process.arch')"
template="$root/npm/platforms/$platform"
[ -f "$template/package.json" ] || {
  echo "npm/pack.sh: no platform package for $platform (there are: $(ls "$root/npm/platforms" | tr '\n' ' '))" >&2
  exit 2
}
exe="migrate-safe"
case "$platform" in win32-*) exe="migrate-safe.exe" ;; esac

if [ -z "$binary" ]; then
  (cd "$root" && cargo build --release --locked)
  binary="$root/target/release/$exe"
fi
[ -f "$binary" ] || { echo "npm/pack.sh: $binary: no such file (build it, or pass --binary PATH)" >&2; exit 2; }

mkdir -p "$outdir"
outdir="$(cd "$outdir" && pwd)"
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT

# Set a staged package's version (and the launcher's optionalDependencies), then npm pack it.
pack() { # staged-package-dir
  node - "$1/package.json" "$version" "$root/npm/platforms" <<'JS'
const fs = require("fs");
const path = require("path");
const [file, version, platforms] = process.argv.slice(2);
const pkg = JSON.parse(fs.readFileSync(file, "utf8"));
pkg.version = version;
if (pkg.name === "migrate-safe") {
  pkg.optionalDependencies = {};
  for (const dir of fs.readdirSync(platforms).sort()) {
    const name = JSON.parse(fs.readFileSync(path.join(platforms, dir, "package.json"), "utf8")).name;
    pkg.optionalDependencies[name] = version;
  }
}
fs.writeFileSync(file, JSON.stringify(pkg, null, 2) + "\n");
JS
  (cd "$1" && npm pack --silent --pack-destination "$outdir" >/dev/null)
}

mkdir -p "$stage/platform/bin" "$stage/launcher"
cp -R "$template/." "$stage/platform/"
cp "$binary" "$stage/platform/bin/$exe"
chmod 0755 "$stage/platform/bin/$exe"
pack "$stage/platform"
cp -R "$root/npm/migrate-safe/." "$stage/launcher/"
chmod 0755 "$stage/launcher/bin/migrate-safe.js"
pack "$stage/launcher"

echo "$outdir/migrate-safe-$version.tgz"
echo "$outdir/migrate-safe-$platform-$version.tgz"
