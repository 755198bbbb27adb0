#!/usr/bin/env bash
# CycloneDX SBOMs (the `sbom` stage), each validated against the CycloneDX JSON schema right after
# it is written (scripts/ci/sbom-validate.mjs); any invalid SBOM or failed tool fails the stage.
#   reports/sbom-npm.cdx.json         the npm dependency tree of package-lock.json, as installed:
#                                     `npm sbom` (npm's own, CycloneDX 1.5: what npm ci installed)
#   reports/sbom-<service>.cdx.json   one per image: its Debian packages (dpkg database), the node
#                                     modules inside it and its other files, by @cyclonedx/cdxgen
#                                     (-t docker, CycloneDX 1.6) from the image as `docker save`
#                                     exports it: read only, nothing runs in the image
# cdxgen because it reads both the OS packages and the npm packages of an image, installs from npm
# (scripts/ci/tools/sbom) and runs offline; Syft and Trivy come from GitHub releases or Docker Hub.
#
# Usage: scripts/ci/sbom.sh [SERVICE=IMAGE ...]
#   default: web=bank-web:ci transactions=bank-transactions:ci gateway=bank-gateway:ci (the
#   images of the `images` stage); publish-images passes the images it pushed.
set -euo pipefail
# shellcheck source=scripts/ci/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$CI_ROOT"
mkdir -p reports

images=("$@")
if [[ ${#images[@]} -eq 0 ]]; then
  images=(web=bank-web:ci transactions=bank-transactions:ci gateway=bank-gateway:ci)
fi
for pair in "${images[@]}"; do
  if [[ "$pair" != ?*=?* ]]; then
    echo "usage: scripts/ci/sbom.sh [SERVICE=IMAGE ...] ('$pair' is not SERVICE=IMAGE)" >&2
    exit 2
  fi
done

scripts/ci/tools.sh sbom
cdxgen="$CI_ROOT/scripts/ci/tools/sbom/node_modules/.bin/cdxgen"

start=$SECONDS
npm sbom --sbom-format cyclonedx --sbom-type application >reports/sbom-npm.cdx.json
node scripts/ci/sbom-validate.mjs reports/sbom-npm.cdx.json
echo "sbom: npm tree in $((SECONDS - start)) s"

failed=0
for pair in "${images[@]}"; do
  service="${pair%%=*}"
  image="${pair#*=}"
  out="reports/sbom-$service.cdx.json"
  start=$SECONDS
  if ! docker image inspect "$image" >/dev/null 2>&1; then
    echo "sbom: FAILED $service: image $image is not on this host (the images stage builds it)" >&2
    failed=1
    continue
  fi
  id="$(docker image inspect -f '{{.Id}}' "$image")"
  log="$(mktemp)"
  # --no-install-deps: read what the image holds, never install anything. cdxgen runs its own
  # schema validation too; sbom-validate.mjs is the check this stage relies on.
  if ! "$cdxgen" -t docker --spec-version 1.6 --no-install-deps \
    --project-name "bank-$service" --project-version "$id" -o "$out" "$image" >"$log" 2>&1; then
    echo "sbom: FAILED $service: cdxgen exited non-zero on $image:" >&2
    grep -vE '^[|+]' "$log" | tail -n 15 >&2
    failed=1
  elif ! node scripts/ci/sbom-validate.mjs "$out"; then
    failed=1
  fi
  rm -f "$log"
  echo "sbom: $service ($image, $id) in $((SECONDS - start)) s"
done
[[ $failed -eq 0 ]] || exit 1
echo "sbom: OK, reports/sbom-npm.cdx.json and ${#images[@]} image SBOM(s) valid"
