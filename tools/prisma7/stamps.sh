# stamps.sh — sourced by setup.sh and prisma7.sh: what an installed kit must match.
# Each stamp is the sha256 of the inputs of one half of the installation.
p7x_sha() { cat "$@" | sha256sum | cut -d' ' -f1; }
p7x_npm_stamp() { p7x_sha "$1/package.json" "$1/package-lock.json"; }
p7x_sqlprobe_stamp() { p7x_sha "$1/sqlprobe/Cargo.toml" "$1/sqlprobe/Cargo.lock" "$1/sqlprobe/src/main.rs"; }
p7x_kit_stamp() {
  printf '%s\n' "$(p7x_npm_stamp "$1")" "$(p7x_sqlprobe_stamp "$1")" "$(p7x_sha "$1/shim/schema-engine.cjs")" |
    sha256sum | cut -d' ' -f1
}
