#!/usr/bin/env bash
# Dependency audit: `npm audit --json` into reports/npm-audit.json. Non-blocking by design: known
# vulnerabilities are reported (and summarised here), they do not fail the pipeline.
# Usage: scripts/ci/npm-audit.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p reports
status=0
npm audit --json >reports/npm-audit.json || status=$?
# shellcheck disable=SC2016 # JavaScript template literals, not shell expansions
node -e '
  const fs = require("node:fs");
  let report;
  try { report = JSON.parse(fs.readFileSync("reports/npm-audit.json", "utf8")); } catch { report = null; }
  const v = report && report.metadata && report.metadata.vulnerabilities;
  if (!v) {
    const why = (report && (report.message || (report.error && report.error.summary))) || "unreadable report";
    console.log(`npm-audit: NO RESULT - the audit endpoint answered: ${why}`);
    process.exit(0);
  }
  console.log(`npm-audit: ${v.total} vulnerable package(s): critical ${v.critical}, high ${v.high}, moderate ${v.moderate}, low ${v.low}, info ${v.info}`);
'
echo "npm-audit: exit code ${status} (non-blocking), report in reports/npm-audit.json"
