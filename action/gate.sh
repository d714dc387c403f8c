#!/usr/bin/env bash
# The action's gate step: annotations on the pull request's diff; exits 1 on findings at or above the
# failing severity, 2 on errors.
set -euo pipefail
bin="$RUNNER_TEMP/migrate-safe/node_modules/.bin/migrate-safe"
paths=()
[ -z "${INPUT_PATH:-}" ] || paths=("$INPUT_PATH")
# shellcheck disable=SC2086 # args are words on purpose
exec "$bin" lint "${paths[@]}" ${INPUT_ARGS:-} --format github
