#!/usr/bin/env bash
# Integration tests with a JUnit report (reports/junit-integration.xml): test/integration, with
# BASE_URL pointing at the running CI stack so that the HTTP health test targets the gateway
# (default http://localhost:5000); the database tests use a real SQLite file and a real PostgreSQL 16.
# Usage: [BASE_URL=http://localhost:5000] scripts/ci/integration-tests.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p reports
export BASE_URL="${BASE_URL:-http://localhost:5000}"
echo "integration-tests: against $BASE_URL"
MOCHA_FILE=reports/junit-integration.xml npx --no-install mocha 'test/integration/**/*.test.ts'
echo "integration-tests: JUnit in reports/junit-integration.xml"
