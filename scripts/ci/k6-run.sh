#!/usr/bin/env bash
# Run one k6 script of k6/ and export its end-of-test summary next to it (sourced by k6-smoke.sh and
# k6-load.sh). Where k6 comes from, in order:
#   1. the grafana/k6:0.51.0 image (GitHub; any machine that has it or can pull it), run as root
#      (-u 0:0) so that it may write the summary into the mounted k6/ directory;
#   2. a `k6` binary on the PATH;
#   3. neither: the test is SKIPPED with a clear message and exit 0 (nothing ran, nothing is claimed).
# A k6 run whose thresholds fail exits non-zero (99), which fails the step.
#
# k6_run SCRIPT SUMMARY [k6 run options...]
k6_run() {
  local script="$1" summary="$2"
  shift 2
  local root k6_image workspace
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
  k6_image="${K6_IMAGE:-grafana/k6:0.51.0}"
  workspace="${GITHUB_WORKSPACE:-$root}"
  # shellcheck source=scripts/ci/lib.sh
  source "$root/scripts/ci/lib.sh"

  rm -f "$root/k6/$summary"
  if image_available "$k6_image"; then
    echo "k6: docker run $k6_image $script (BASE_URL=${BASE_URL:-http://localhost:5000})"
    docker run --rm --network host -u 0:0 -e "BASE_URL=${BASE_URL:-http://localhost:5000}" \
      -v "$workspace/k6:/scripts" "$k6_image" run "$@" \
      --summary-export="/scripts/$summary" "/scripts/$script"
  elif command -v k6 >/dev/null 2>&1; then
    echo "k6: $(k6 version | head -n 1), $script (BASE_URL=${BASE_URL:-http://localhost:5000})"
    k6 run "$@" -e "BASE_URL=${BASE_URL:-http://localhost:5000}" \
      --summary-export="$root/k6/$summary" "$root/k6/$script"
  else
    echo "k6: SKIPPED - no $k6_image image (cannot be pulled here) and no k6 binary;" \
      "k6/$script did not run and k6/$summary was not written. On GitHub the image is pulled and it runs."
    return 0
  fi
  echo "k6: summary in k6/$summary"
}
