#!/usr/bin/env bash
# Trivy vulnerability scan of each CI image into reports/trivy-<service>.sarif (non-blocking): the
# `trivy` stage, on GitHub and everywhere else. It uses a `trivy` binary when there is one (on
# GitHub, v0.69.3 from aquasecurity/setup-trivy, pinned to a commit SHA), else the aquasec/trivy
# image when it is local or can be pulled, else says clearly that the scan is skipped (exit 0:
# nothing was scanned, nothing is claimed).
# Usage: scripts/ci/trivy.sh [image...]   (default: the images of compose/docker-compose.ci.yml)
set -euo pipefail
# shellcheck source=scripts/ci/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$CI_ROOT"
mkdir -p reports

images=("$@")
if [[ ${#images[@]} -eq 0 ]]; then
  mapfile -t images < <(ci_images | grep '^bank-')
fi
trivy_image="${TRIVY_IMAGE:-aquasec/trivy:0.69.3}"

if command -v trivy >/dev/null 2>&1; then
  runner=(trivy)
elif image_available "$trivy_image"; then
  runner=(docker run --rm -v /var/run/docker.sock:/var/run/docker.sock -v "$CI_ROOT/reports:/reports" "$trivy_image")
else
  echo "trivy: SKIPPED - no trivy binary and the image $trivy_image cannot be pulled here;" \
    "${#images[@]} image(s) not scanned: ${images[*]}. On GitHub, setup-trivy provides the binary and they are scanned."
  exit 0
fi

for image in "${images[@]}"; do
  name="${image%%:*}"
  name="${name#bank-}"
  out="reports/trivy-${name}.sarif"
  [[ "${runner[0]}" == trivy ]] || out="/reports/trivy-${name}.sarif"
  echo "trivy: scanning $image -> reports/trivy-${name}.sarif"
  "${runner[@]}" image --format sarif --output "$out" --exit-code 0 "$image"
done
