#!/usr/bin/env bash
# k6 load test (k6/perf-load.js: register once per VU, then health, login, dashboard; up to 40 VUs)
# -> k6/k6-summary-load.json and the HTML report k6/k6-report-load.html.
# Usage: [BASE_URL=http://localhost:5000] scripts/ci/k6-load.sh
set -euo pipefail
# shellcheck source=scripts/ci/k6-run.sh
source "$(dirname "$0")/k6-run.sh"
k6_run perf-load.js k6-summary-load.json k6-report-load.html
