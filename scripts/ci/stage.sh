#!/usr/bin/env bash
# The pipeline's stages, by name: the one place that decides what a stage does. `.ci/run` and the
# jobs of .github/workflows/ci.yml call these same names in the same order.
#
# Usage: scripts/ci/stage.sh [--keep-going] NAME [NAME...]
#   Runs the stages in order and stops at the first that fails (--keep-going: runs them all, then
#   fails if any did). Prints "stage NAME: passed|FAILED in N s" per stage and appends the same to
#   reports/stages.txt. An unknown name prints the list and exits 2 before anything runs.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

# name|what it does (the list printed on a bad name, in pipeline order)
STAGES=(
  "install|npm ci (exactly package-lock.json)"
  "lint|ESLint, Prettier, k6 types and k6 0.51 syntax, then actionlint, SHA pins, yamllint, shellcheck, base image pins"
  "typecheck|tsc --noEmit on the whole repository"
  "test|npm test: unit + integration tiers on SQLite and PostgreSQL 16, coverage -> reports/junit-test.xml"
  "unit|npm run test:unit alone -> reports/junit-unit.xml"
  "integration|npm run test:integration alone -> reports/junit-integration.xml"
  "audit|npm audit -> reports/npm-audit.json (findings do not fail it)"
  "sast|ESLint security rules -> reports/eslint-security.sarif (findings do not fail it)"
  "signatures|npm audit signatures: registry signatures + provenance of every package -> reports/npm-signatures.txt"
  "licences|production dependencies' licences vs scripts/ci/licences-allowed.json -> reports/licences.json"
  "secrets|secretlint (recommended preset) on the working tree and the git history of HEAD -> reports/secrets.json"
  "images|engine + Compose found, base images, build bank-{web,transactions,gateway}:ci"
  "sbom|CycloneDX SBOMs of the npm tree and of the three CI images, schema-validated -> reports/sbom-*.cdx.json"
  "stack-up|start the CI stack (compose -p bank-ci), wait for http://localhost:5000/health"
  "integration-live|npm run test:integration with BASE_URL=http://localhost:5000 -> reports/junit-integration.xml"
  "trivy|Trivy scan of the three CI images -> reports/trivy-*.sarif"
  "zap|ZAP baseline of http://localhost:5000 -> zap-reports/"
  "k6-smoke|k6 smoke -> k6/k6-summary.json + k6/k6-report.html"
  "k6-load|k6 load -> k6/k6-summary-load.json + k6/k6-report-load.html"
  "stack-down|remove the CI stack and its volumes"
  "e2e|Docker tier: CI, UAT and PROD stacks, blue/green under load, rollback -> reports/junit-e2e.xml"
  "cluster|three-node Docker Swarm (scripts/cluster.sh): PROD deploy, flips, drain, node loss under load -> reports/junit-cluster.xml"
  "browser|npm run test:browser (Chromium driven by playwright-core)"
)

usage() {
  echo "usage: scripts/ci/stage.sh [--keep-going] NAME [NAME...]; stages:" >&2
  local entry
  for entry in "${STAGES[@]}"; do printf '  %-17s %s\n' "${entry%%|*}" "${entry#*|}" >&2; done
}

known() {
  local entry
  for entry in "${STAGES[@]}"; do [[ "${entry%%|*}" == "$1" ]] && return 0; done
  return 1
}

has_npm_script() {
  node -e 'process.exit(require("./package.json").scripts?.[process.argv[1]] ? 0 : 1)' "$1"
}

run_stage() {
  case "$1" in
    install) npm ci --no-audit --no-fund ;;
    lint) npm run lint && scripts/ci/lint-workflows.sh && scripts/ci/base-images.sh check ;;
    typecheck) npm run typecheck ;;
    # No service may lose coverage (c8 sets no floor; the floors are per service).
    test) MOCHA_FILE=reports/junit-test.xml npm test && node scripts/ci/coverage-by-service.mjs ;;
    unit) MOCHA_FILE=reports/junit-unit.xml npm run test:unit ;;
    integration) MOCHA_FILE=reports/junit-integration.xml npm run test:integration ;;
    audit) scripts/ci/npm-audit.sh ;;
    sast) scripts/ci/sast.sh ;;
    signatures) scripts/ci/signatures.sh ;;
    licences) scripts/ci/tools.sh scan && node scripts/ci/licences.mjs ;;
    secrets) scripts/ci/tools.sh scan && node scripts/ci/secrets.mjs ;;
    images) scripts/ci/build-images.sh ;;
    sbom) scripts/ci/sbom.sh ;;
    stack-up) scripts/ci/stack-up.sh ;;
    integration-live)
      BASE_URL="${BASE_URL:-http://localhost:5000}" MOCHA_FILE=reports/junit-integration.xml \
        npm run test:integration
      ;;
    trivy) scripts/ci/trivy.sh ;;
    zap) scripts/ci/zap-baseline.sh ;;
    k6-smoke) scripts/ci/k6-smoke.sh ;;
    k6-load) scripts/ci/k6-load.sh ;;
    stack-down) scripts/ci/stack-down.sh ;;
    e2e) MOCHA_FILE=reports/junit-e2e.xml scripts/e2e.sh ;;
    cluster) MOCHA_FILE=reports/junit-cluster.xml scripts/ci/cluster-tests.sh ;;
    browser)
      if ! has_npm_script test:browser; then
        echo "stage browser: package.json has no test:browser script, so there is no browser tier to run" >&2
        return 1
      fi
      MOCHA_FILE=reports/junit-browser.xml npm run test:browser
      ;;
  esac
}

keep_going=0
if [[ "${1:-}" == --keep-going ]]; then
  keep_going=1
  shift
fi
if [[ $# -eq 0 ]]; then
  usage
  exit 2
fi
for name in "$@"; do
  if ! known "$name"; then
    echo "stage.sh: unknown stage '$name'" >&2
    usage
    exit 2
  fi
done

mkdir -p reports
failed=()
for name in "$@"; do
  printf '\n=== stage %s\n' "$name"
  start=$SECONDS
  status=0
  run_stage "$name" || status=$?
  result=passed
  [[ $status -eq 0 ]] || result="FAILED (exit $status)"
  printf 'stage %s: %s in %s s\n' "$name" "$result" "$((SECONDS - start))" | tee -a reports/stages.txt
  if [[ $status -ne 0 ]]; then
    failed+=("$name")
    [[ $keep_going -eq 1 ]] || exit "$status"
  fi
done
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "stage.sh: failed: ${failed[*]}" >&2
  exit 1
fi
