#!/usr/bin/env bash
# Post "CI failed" with the run's link to a Slack incoming webhook (SLACK_WEBHOOK_URL). Without a
# webhook it says so and exits 0: the notification is optional, the failure is already reported.
# Usage (GitHub sets the GITHUB_* variables): SLACK_WEBHOOK_URL=... scripts/ci/slack-notify.sh
set -euo pipefail
if [[ -z "${SLACK_WEBHOOK_URL:-}" ]]; then
  echo "slack-notify: SLACK_WEBHOOK_URL is not set (repository secret), no notification sent"
  exit 0
fi
repository="${GITHUB_REPOSITORY:-local}"
run_url="${GITHUB_SERVER_URL:-https://github.com}/$repository/actions/runs/${GITHUB_RUN_ID:-0}"
text=":x: CI en échec sur $repository (${GITHUB_REF_NAME:-?}) : $run_url"
payload="$(node -e 'console.log(JSON.stringify({ text: process.argv[1] }))' "$text")"
curl -fsS --retry 3 -H 'Content-Type: application/json' --data "$payload" "$SLACK_WEBHOOK_URL" >/dev/null
echo "slack-notify: failure posted to Slack ($run_url)"
