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

# Images with the same filesystem layers (web and transactions differ by their CMD only) have the
# same inventory: cdxgen reads the first one, the others get a copy under their own name.
declare -A sbom_of_layers=()
# rename_sbom FROM TO SERVICE IMAGE_ID IMAGE: a copy of an SBOM for another image of the same layers
# (its own name, id and tag; the first image's other oci:image:* properties dropped).
rename_sbom() {
  # shellcheck disable=SC2016 # JavaScript template literals, not shell expansions
  node -e '
    const fs = require("node:fs");
    const [from, to, service, id, image] = process.argv.slice(1);
    const bom = JSON.parse(fs.readFileSync(from, "utf8"));
    bom.serialNumber = `urn:uuid:${require("node:crypto").randomUUID()}`;
    const c = bom.metadata.component;
    const oldRef = c["bom-ref"];
    // The same form as cdxgen writes for the first image (pkg:container/<name>@<image id>).
    Object.assign(c, { name: `bank-${service}`, version: id, purl: `pkg:container/bank-${service}@${id}` });
    c["bom-ref"] = c.purl;
    for (const d of bom.dependencies ?? []) if (d.ref === oldRef) d.ref = c["bom-ref"];
    bom.metadata.properties = [
      ...(bom.metadata.properties ?? []).filter((p) => !p.name.startsWith("oci:image:") || p.name === "oci:image:manifest:Layers"),
      { name: "oci:image:Id", value: id },
      { name: "oci:image:RepoTag", value: image },
      { name: "fintech:inventory:sameLayersAs", value: from },
    ];
    fs.writeFileSync(to, JSON.stringify(bom));
  ' "$@"
}

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
  layers="$(docker image inspect -f '{{.RootFS.Layers}}' "$image" | sha256sum | cut -c1-64)"
  if [[ -n "${sbom_of_layers[$layers]:-}" ]]; then
    rename_sbom "${sbom_of_layers[$layers]}" "$out" "$service" "$id" "$image"
    node scripts/ci/sbom-validate.mjs "$out" || failed=1
    echo "sbom: $service ($image, $id): same layers as ${sbom_of_layers[$layers]}, inventory reused in $((SECONDS - start)) s"
    continue
  fi
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
  else
    sbom_of_layers[$layers]="$out"
  fi
  rm -f "$log"
  echo "sbom: $service ($image, $id) in $((SECONDS - start)) s"
done
[[ $failed -eq 0 ]] || exit 1
echo "sbom: OK, reports/sbom-npm.cdx.json and ${#images[@]} image SBOM(s) valid"
