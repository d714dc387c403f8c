#!/usr/bin/env bash
# Make a Docker engine answer on this machine: install Debian's docker.io when dockerd is missing, start
# dockerd in the background (vfs storage) when `docker info` fails, wait until it answers.
# Idempotent; prints nothing when the engine already answers. Needs root for the install and the start.
set -euo pipefail

LOG=${DOCKERD_LOG:-/var/log/migrate-safe-dockerd.log}
WAIT_SECONDS=${DOCKERD_WAIT_SECONDS:-60}

say() { echo "start-dockerd: $*" >&2; }
engine_up() { docker info >/dev/null 2>&1; }
# A dockerd process that is alive: a killed one may linger as a zombie where nothing reaps it.
dockerd_alive() {
  local pid
  for pid in $(pgrep -x dockerd 2>/dev/null); do
    [ "$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null)" = Z ] || return 0
  done
  return 1
}

if command -v docker >/dev/null 2>&1 && engine_up; then
  exit 0
fi

if ! command -v dockerd >/dev/null 2>&1; then
  [ "$(id -u)" = 0 ] || { say "dockerd is not installed and we are not root to install it"; exit 1; }
  say "installing Debian's docker.io (dockerd, containerd, runc)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  # The package's scripts try to start the service through init; there is none here, which is fine:
  # we start dockerd ourselves below.
  apt-get install -y -qq --no-install-recommends docker.io iptables ca-certificates >/dev/null
  command -v dockerd >/dev/null 2>&1 || { say "docker.io installed but no dockerd on PATH"; exit 1; }
fi

if ! engine_up; then
  if dockerd_alive; then
    say "dockerd is running but does not answer yet; waiting"
  else
    [ "$(id -u)" = 0 ] || { say "dockerd must be started as root"; exit 1; }
    # A socket or pid file left by an engine that was killed makes dockerd refuse to start.
    rm -f /var/run/docker.pid /var/run/docker.sock
    say "starting dockerd (storage driver vfs), log in $LOG"
    setsid nohup dockerd --storage-driver=vfs >"$LOG" 2>&1 </dev/null &
  fi
  for _ in $(seq 1 "$WAIT_SECONDS"); do
    engine_up && break
    sleep 1
  done
fi

if ! engine_up; then
  say "the Docker engine still does not answer after ${WAIT_SECONDS}s; last lines of $LOG:"
  tail -n 20 "$LOG" >&2 2>/dev/null || true
  exit 1
fi
say "Docker engine answers ($(docker version --format '{{.Server.Version}}' 2>/dev/null || echo '?'))"
