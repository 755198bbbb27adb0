#!/usr/bin/env bash
# CD deploys only commits whose CI passed. Waits for the CI workflow's run of a commit and
# succeeds when that run succeeded; fails at once when it failed, or after CI_WAIT_MINUTES.
# On a tag (GITHUB_REF_TYPE=tag) only the run of that tag counts: it is the run that published
# the version's images. Otherwise any push run of the commit counts.
# Pushes to main do not need it: the workflow starts on CI's `workflow_run` success instead.
#
# Usage: GITHUB_TOKEN=... [CI_SHA=sha] [CI_WORKFLOW=ci.yml] [CI_WAIT_MINUTES=60] scripts/ci/cd-ci-gate.sh
#   (GITHUB_API_URL, GITHUB_REPOSITORY, GITHUB_SHA, GITHUB_REF_TYPE, GITHUB_REF_NAME: from the runner)
# Needs curl and jq (both on GitHub's hosted runners). Permission: actions: read.
set -euo pipefail

: "${GITHUB_TOKEN:?GITHUB_TOKEN is required (actions: read)}"
: "${GITHUB_REPOSITORY:?GITHUB_REPOSITORY is required}"
sha="${CI_SHA:-${GITHUB_SHA:?GITHUB_SHA is required}}"
workflow="${CI_WORKFLOW:-ci.yml}"
wait_minutes="${CI_WAIT_MINUTES:-60}"
ref=""
[[ "${GITHUB_REF_TYPE:-}" == tag ]] && ref="${GITHUB_REF_NAME:-}"
api="${GITHUB_API_URL:-https://api.github.com}/repos/$GITHUB_REPOSITORY/actions/workflows/$workflow/runs"

deadline=$((SECONDS + wait_minutes * 60))
while :; do
  runs="$(curl -fsSL -H "Authorization: Bearer $GITHUB_TOKEN" -H "Accept: application/vnd.github+json" \
    "$api?head_sha=$sha&event=push&per_page=100")" || {
    echo "cd-ci-gate: cannot list the $workflow runs of $sha" >&2
    exit 1
  }
  # One line per relevant run: "<status> <conclusion> <url>".
  lines="$(jq -r --arg ref "$ref" '.workflow_runs[] | select($ref == "" or .head_branch == $ref)
    | "\(.status) \(.conclusion // "none") \(.html_url)"' <<<"$runs")"
  if passed="$(grep -m1 '^completed success ' <<<"$lines")"; then
    echo "cd-ci-gate: CI passed for $sha${ref:+ ($ref)}: ${passed##* }"
    exit 0
  fi
  if [[ -n "$lines" ]] && ! grep -qv '^completed ' <<<"$lines"; then
    echo "cd-ci-gate: CI did not pass for $sha${ref:+ ($ref)}; not deploying: $(head -n 1 <<<"$lines")" >&2
    exit 1
  fi
  if ((SECONDS >= deadline)); then
    echo "cd-ci-gate: no successful CI run for $sha${ref:+ ($ref)} after ${wait_minutes} min; not deploying" >&2
    exit 1
  fi
  echo "cd-ci-gate: waiting for CI on $sha${ref:+ ($ref)} (${lines:-no run yet})"
  sleep 30
done
