#!/usr/bin/env bash
# Unit tests with coverage (c8) and a JUnit report.
# Usage: scripts/ci/unit-tests.sh
# Writes reports/junit-unit.xml and reports/coverage/ (lcov, cobertura, html; see .c8rc.json).
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p reports
MOCHA_FILE=reports/junit-unit.xml npx --no-install c8 mocha 'test/unit/**/*.test.ts'
echo "unit-tests: JUnit in reports/junit-unit.xml, coverage in reports/coverage/"
