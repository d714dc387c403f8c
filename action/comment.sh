#!/usr/bin/env bash
# The action's comment step: post $RUNNER_TEMP/migrate-safe-comment.md on the pull request, or update the
# comment an earlier run posted (found by the marker on its first line). Needs GH_TOKEN with
# pull-requests: write; outside a pull request it does nothing.
set -euo pipefail
file="$RUNNER_TEMP/migrate-safe-comment.md"
marker='<!-- migrate-safe lint -->'
pr="$(node -e 'const e = require(process.argv[1]); console.log((e.pull_request && e.pull_request.number) || "")' "${GITHUB_EVENT_PATH:-/dev/null}" 2>/dev/null || true)"
if [ -z "$pr" ]; then
  echo "migrate-safe: not a pull request event; no comment posted"
  exit 0
fi
id="$(gh api --paginate "repos/$GITHUB_REPOSITORY/issues/$pr/comments" \
  --jq ".[] | select(.body | startswith(\"$marker\")) | .id" | head -n 1)"
if [ -n "$id" ]; then
  gh api --method PATCH "repos/$GITHUB_REPOSITORY/issues/comments/$id" -F "body=@$file" --silent
  echo "migrate-safe: updated comment $id on #$pr"
else
  gh api --method POST "repos/$GITHUB_REPOSITORY/issues/$pr/comments" -F "body=@$file" --silent
  echo "migrate-safe: commented on #$pr"
fi
