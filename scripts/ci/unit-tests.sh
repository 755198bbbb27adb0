#!/usr/bin/env bash
# Unit tests with coverage (c8) and a JUnit report.
# Usage: scripts/ci/unit-tests.sh
# Writes reports/junit-unit.xml and reports/coverage/ (lcov, cobertura, html; see .c8rc.json).
# Only test/unit runs: mocha merges positional paths with the spec list of .mocharc.json, so the
# other tiers are excluded with --ignore instead.
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p reports
MOCHA_FILE=reports/junit-unit.xml npx --no-install c8 mocha \
  --ignore 'test/integration/**' --ignore 'test/e2e/**'
echo "unit-tests: JUnit in reports/junit-unit.xml, coverage in reports/coverage/"
