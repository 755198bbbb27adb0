#!/usr/bin/env bash
# Run one k6 script of k6/ and write, next to it, its end-of-test summary (JSON) and an HTML report
# from k6's built-in web dashboard (sourced by k6-smoke.sh and k6-load.sh). Where k6 comes from:
#   1. a `k6` binary on the PATH (it should be v0.51.0, the pinned version; its version is printed);
#   2. else the grafana/k6:0.51.0 image (GitHub; any machine that has it or can pull it), run as
#      root (-u 0:0) so that it may write into the mounted k6/ directory;
#   3. neither: SKIPPED with a clear message and exit 0 (nothing ran, nothing is claimed).
# A k6 run whose thresholds fail exits non-zero (99), which fails the stage. The dashboard serves
# nothing (K6_WEB_DASHBOARD_PORT=-1): it only exports the report when the test ends.
#
# k6_run SCRIPT SUMMARY REPORT [k6 run options...]
k6_run() {
  local script="$1" summary="$2" report="$3"
  shift 3
  local root k6_image workspace base_url
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
  k6_image="${K6_IMAGE:-grafana/k6:0.51.0}"
  workspace="${GITHUB_WORKSPACE:-$root}"
  base_url="${BASE_URL:-http://localhost:5000}"
  # shellcheck source=scripts/ci/lib.sh
  source "$root/scripts/ci/lib.sh"

  rm -f "$root/k6/$summary" "$root/k6/$report"
  if command -v k6 >/dev/null 2>&1; then
    echo "k6: $(k6 version | head -n 1), $script (BASE_URL=$base_url)"
    K6_WEB_DASHBOARD=true K6_WEB_DASHBOARD_PORT=-1 K6_WEB_DASHBOARD_EXPORT="$root/k6/$report" \
      k6 run "$@" -e "BASE_URL=$base_url" --summary-export="$root/k6/$summary" "$root/k6/$script"
  elif image_available "$k6_image"; then
    echo "k6: docker run $k6_image $script (BASE_URL=$base_url)"
    docker run --rm --network host -u 0:0 -e "BASE_URL=$base_url" \
      -e K6_WEB_DASHBOARD=true -e K6_WEB_DASHBOARD_PORT=-1 -e "K6_WEB_DASHBOARD_EXPORT=/scripts/$report" \
      -v "$workspace/k6:/scripts" "$k6_image" run "$@" \
      --summary-export="/scripts/$summary" "/scripts/$script"
  else
    echo "k6: SKIPPED - no k6 binary on the PATH and no $k6_image image (cannot be pulled here);" \
      "k6/$script did not run, k6/$summary and k6/$report were not written. On GitHub the image is pulled and it runs."
    return 0
  fi
  echo "k6: summary in k6/$summary, HTML report in k6/$report"
}
