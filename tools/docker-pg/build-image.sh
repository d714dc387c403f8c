#!/usr/bin/env bash
# Build a local Docker image `postgres:<PG_MAJOR>` (default 15) from Debian's own PostgreSQL packages, for
# machines where no container registry answers (so the official image cannot be pulled). Idempotent: does
# nothing when the image is already there. Needs root and a running Docker engine (start-dockerd.sh).
#
#   tools/docker-pg/build-image.sh [PG_MAJOR]
#
# Which Debian release ships which major: bullseye 13, bookworm 15, trixie 17 (override with SUITE=...).
# The Debian mirror is the one this machine's apt uses, read from /etc/apt at run time (override with
# MIRROR=...).
set -euo pipefail

PG_MAJOR=${1:-15}
IMAGE=${IMAGE:-postgres:$PG_MAJOR}
HERE=$(cd "$(dirname "$0")" && pwd)

say() { echo "build-image: $*" >&2; }
die() { say "$*"; exit 1; }

docker info >/dev/null 2>&1 || die "the Docker engine does not answer (run tools/docker-pg/start-dockerd.sh)"
if docker image inspect "$IMAGE" >/dev/null 2>&1; then
  exit 0
fi
[ "$(id -u)" = 0 ] || die "debootstrap needs root"

if [ -z "${SUITE:-}" ]; then
  case "$PG_MAJOR" in
    13) SUITE=bullseye ;;
    15) SUITE=bookworm ;;
    17) SUITE=trixie ;;
    *) die "no Debian release ships postgresql-$PG_MAJOR (bullseye 13, bookworm 15, trixie 17); set SUITE= to one that does" ;;
  esac
fi

# The first non-security Debian archive in apt's sources, deb822 (*.sources) or one-line (*.list).
mirror_from_apt() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk '
      /^[ \t]*$/ { if (uri != "" && suites !~ /security/) { print uri; exit } uri = ""; suites = ""; next }
      tolower($1) == "uris:" { uri = $2 }
      tolower($1) == "suites:" { suites = $0 }
      END { if (uri != "" && suites !~ /security/) print uri }
    ' "$f" | head -n 1
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    # deb [options] URI suite component...
    sed -e 's/\[[^]]*\]//' "$f" | awk '$1 == "deb" && $3 !~ /security/ { print $2 }'
  done
}
if [ -z "${MIRROR:-}" ]; then
  MIRROR=$(mirror_from_apt | grep -v -i -e security -e '^$' | grep -i debian | head -n 1 || true)
  [ -n "$MIRROR" ] || MIRROR=$(mirror_from_apt | head -n 1 || true)
  [ -n "$MIRROR" ] || die "found no Debian mirror in /etc/apt/sources.list{,.d/*}; set MIRROR="
fi

if ! command -v debootstrap >/dev/null 2>&1; then
  say "installing debootstrap"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
fi

ROOT=$(mktemp -d /var/tmp/docker-pg-rootfs.XXXXXX)
chmod 0755 "$ROOT" # it becomes the image's /, which everyone must traverse
cleanup() {
  # Nothing may stay mounted inside before the tree is removed.
  for m in proc sys dev/pts dev; do umount -l "$ROOT/$m" 2>/dev/null || true; done
  rm -rf --one-file-system "$ROOT"
}
trap cleanup EXIT

start=$(date +%s)
say "debootstrap $SUITE (minbase + postgresql-$PG_MAJOR) into $ROOT; a few minutes"
# locales (the first alternative of postgresql's `locales | locales-all`) gives en_US.UTF-8 below.
if ! debootstrap --variant=minbase --include="postgresql-$PG_MAJOR,locales" "$SUITE" "$ROOT" "$MIRROR" \
  >"$ROOT.log" 2>&1; then
  tail -n 30 "$ROOT.log" >&2
  die "debootstrap failed (full log: $ROOT.log)"
fi
rm -f "$ROOT.log"

# The package's postinst made a `main` cluster in Debian's layout; the image makes its own in $PGDATA.
rm -rf "$ROOT/etc/postgresql/$PG_MAJOR" "$ROOT/var/lib/postgresql/$PG_MAJOR"
# The official image's locale.
echo 'en_US.UTF-8 UTF-8' >"$ROOT/etc/locale.gen"
chroot "$ROOT" /usr/sbin/locale-gen >/dev/null

install -m 0755 "$HERE/docker-entrypoint.sh" "$ROOT/usr/local/bin/docker-entrypoint.sh"
mkdir -p "$ROOT/var/lib/postgresql/data" "$ROOT/var/run/postgresql"
chroot "$ROOT" chown -R postgres:postgres /var/lib/postgresql /var/run/postgresql

# Small: no package caches or lists, no documentation, no translations but English. The JIT provider
# with LLVM and its Z3 (about 130 MB) go too: without llvmjit.so PostgreSQL runs without JIT
# (pg_jit_available() is false), which changes no result.
rm -rf "$ROOT"/var/cache/apt/* "$ROOT"/var/lib/apt/lists/* "$ROOT"/var/cache/debconf/*-old \
  "$ROOT"/usr/share/doc/* "$ROOT"/usr/share/man/* "$ROOT"/usr/share/info/* "$ROOT"/var/log/*.log \
  "$ROOT"/var/cache/ldconfig/aux-cache
find "$ROOT/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name 'en*' ! -name locale.alias -exec rm -rf {} +
rm -f "$ROOT/usr/lib/postgresql/$PG_MAJOR/lib/llvmjit.so" "$ROOT/usr/lib/postgresql/$PG_MAJOR/lib/llvmjit_types.bc"
rm -rf "$ROOT/usr/lib/postgresql/$PG_MAJOR/lib/bitcode"
rm -f "$ROOT"/usr/lib/*-linux-gnu/libLLVM-*.so* "$ROOT"/usr/lib/*-linux-gnu/libz3.so*
# The locale sources, once en_US.UTF-8 is compiled into /usr/lib/locale/locale-archive.
rm -rf "$ROOT/usr/share/i18n/locales" "$ROOT/usr/share/i18n/charmaps"
for m in proc sys dev/pts dev; do umount -l "$ROOT/$m" 2>/dev/null || true; done

say "importing as $IMAGE"
tar --numeric-owner -C "$ROOT" -c . | docker import \
  --change "ENV PG_MAJOR=$PG_MAJOR" \
  --change "ENV PATH=/usr/lib/postgresql/$PG_MAJOR/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
  --change 'ENV PGDATA=/var/lib/postgresql/data' \
  --change 'ENV LANG=en_US.utf8' \
  --change 'EXPOSE 5432' \
  --change 'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]' \
  --change 'CMD ["postgres"]' \
  --message "postgresql-$PG_MAJOR from Debian $SUITE (tools/docker-pg/build-image.sh)" \
  - "$IMAGE" >/dev/null

# A smoke test: the server starts, logs the line migrate-safe waits for, and answers a query.
name=docker-pg-smoke-$$
docker run -d --name "$name" -e POSTGRES_HOST_AUTH_METHOD=trust "$IMAGE" >/dev/null
ok=
for _ in $(seq 1 60); do
  if docker logs "$name" 2>&1 | grep -q 'database system is ready to accept connections' &&
    docker exec "$name" psql -U postgres -Atc 'select 1' >/dev/null 2>&1; then
    ok=1
    break
  fi
  sleep 1
done
[ -n "$ok" ] || docker logs "$name" >&2 || true
docker rm -f "$name" >/dev/null
if [ -z "$ok" ]; then
  docker rmi "$IMAGE" >/dev/null 2>&1 || true
  die "the image did not start PostgreSQL; removed it again"
fi
say "built $IMAGE ($(docker image inspect --format '{{.Size}}' "$IMAGE" | awk '{ printf "%d MB", $1 / 1000000 }')) in $(($(date +%s) - start))s"
