#!/usr/bin/env bash
# k6 smoke test: 1 VU for 10 s on GET /health (k6/perf-smoke.js) -> k6/k6-summary.json
# and the HTML report k6/k6-report.html.
# With the image, this is exactly:
#   docker run --rm --network host -u 0:0 -v $GITHUB_WORKSPACE/k6:/scripts grafana/k6:0.51.0 run \
#     --vus 1 --duration 10s --summary-export=/scripts/k6-summary.json /scripts/perf-smoke.js
# (plus -e BASE_URL, default http://localhost:5000, and the K6_WEB_DASHBOARD* variables of k6-run.sh). Usage: [BASE_URL=...] scripts/ci/k6-smoke.sh
set -euo pipefail
# shellcheck source=scripts/ci/k6-run.sh
source "$(dirname "$0")/k6-run.sh"
k6_run perf-smoke.js k6-summary.json k6-report.html --vus 1 --duration 10s
