#!/usr/bin/env bash
# The action's report step: the SARIF file and the pull-request comment's markdown, when asked for. Never
# fails on findings (the gate step does); fails on errors (exit 2: a wrong path, a bad config, ...).
#   INPUT_PATH, INPUT_ARGS  as for `migrate-safe lint` (an empty path: found as Prisma does)
#   INPUT_SARIF             write SARIF 2.1.0 to this file
#   INPUT_COMMENT           "true": write the markdown to $RUNNER_TEMP/migrate-safe-comment.md
set -euo pipefail
bin="$RUNNER_TEMP/migrate-safe/node_modules/.bin/migrate-safe"
paths=()
[ -z "${INPUT_PATH:-}" ] || paths=("$INPUT_PATH")
lint() { # format output-file
  local code=0
  # shellcheck disable=SC2086 # args are words on purpose
  "$bin" lint "${paths[@]}" ${INPUT_ARGS:-} --format "$1" > "$2" || code=$?
  [ "$code" = 0 ] || [ "$code" = 1 ] || exit "$code"
}
[ -z "${INPUT_SARIF:-}" ] || lint sarif "$INPUT_SARIF"
[ "${INPUT_COMMENT:-false}" != true ] || lint markdown "$RUNNER_TEMP/migrate-safe-comment.md"
