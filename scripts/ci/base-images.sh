#!/usr/bin/env bash
# Keeps the official base images of the Dockerfiles, compose files and scripts equal to their
# digest pins in docker/base-images/Dockerfile (the file Dependabot updates).
#
# Usage: scripts/ci/base-images.sh check|sync
#   check  every reference to node / postgres / nginx images in the files below is exactly the
#          pinned "<image>:<tag>@sha256:<digest>"; prints each one that is not (exit 1)
#   sync   rewrites those references from the pins (after a Dependabot update), then checks
# The offline base images (bank-offline/*, scripts/offline-base-images.sh) are not concerned.
set -euo pipefail
cd "$(dirname "$0")/../.."

pins_file=docker/base-images/Dockerfile
files=(services/Dockerfile gateway/Dockerfile compose/docker-compose.ci.yml compose/docker-compose.uat.yml
  compose/docker-compose.prod.yml scripts/ci/cd-publish-images.sh scripts/ci/lib.sh)
mapfile -t pins < <(sed -n 's/^FROM \([^ ]*@sha256:[0-9a-f]\{64\}\) AS .*/\1/p' "$pins_file")
if [[ ${#pins[@]} -ne 3 ]]; then
  echo "base-images: $pins_file must pin node, postgres and nginx (FROM <image>:<tag>@sha256:<digest> AS <name>)" >&2
  exit 1
fi

# A reference to an official image: the repository name (not part of a longer name such as
# bank-offline/node), a version tag and an optional digest (`--chown=node:node` is not one).
reference_of() { printf '(^|[^A-Za-z0-9/._])%s:[0-9][A-Za-z0-9._-]*(@sha256:[0-9a-f]{64})?' "$1"; }

case "${1:-}" in
  sync)
    for pin in "${pins[@]}"; do
      repo="${pin%%:*}"
      sed -E -i "s#$(reference_of "$repo")#\\1$pin#g" "${files[@]}"
    done
    ;&
  check)
    bad=0
    for pin in "${pins[@]}"; do
      repo="${pin%%:*}"
      while IFS= read -r hit; do
        found="$(grep -oE "$(reference_of "$repo")" <<<"${hit#*:*:}" | sed -E "s#^[^A-Za-z0-9/._]##" | head -1)"
        if [[ "$found" != "$pin" ]]; then
          echo "base-images: ${hit%%:*}:$(cut -d: -f2 <<<"$hit"): '$found' is not the pin '$pin' (scripts/ci/base-images.sh sync)"
          bad=1
        fi
      done < <(grep -nHE "$(reference_of "$repo")" "${files[@]}" || true)
    done
    [[ $bad -eq 0 ]] || exit 1
    echo "base-images: ${#pins[@]} pins (${pins[*]%%@*}) used as pinned in ${#files[@]} files"
    ;;
  *)
    echo "usage: scripts/ci/base-images.sh check|sync" >&2
    exit 2
    ;;
esac
