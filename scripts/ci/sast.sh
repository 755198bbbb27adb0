#!/usr/bin/env bash
# Static security analysis of the TypeScript (ESLint with the repository's config, which enables
# eslint-plugin-security), written as SARIF 2.1.0 for GitHub code scanning. Non-blocking: findings are
# reported in reports/eslint.json and reports/eslint-security.sarif and summarised, the step succeeds.
# Usage: scripts/ci/sast.sh [paths...]   (default: services scripts k6)
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p reports
paths=("$@")
[[ ${#paths[@]} -gt 0 ]] || paths=(services scripts k6)
status=0
npx --no-install eslint --format json-with-metadata --output-file reports/eslint.json "${paths[@]}" || status=$?
if [[ ! -s reports/eslint.json ]]; then
  echo "sast: ESLint produced no report (exit code ${status})" >&2
  exit 1
fi
node scripts/ci/eslint-sarif.mjs reports/eslint.json reports/eslint-security.sarif
echo "sast: ESLint exit code ${status} (non-blocking), SARIF in reports/eslint-security.sarif"
