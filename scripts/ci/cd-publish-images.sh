#!/usr/bin/env bash
# Builds and pushes the images that CD's MODE=image deploys, under the one naming scheme
# (docs/CD-PIPELINE.md): <IMAGE_NAME>-{web,transactions,gateway}:<tag> for every tag given.
#
# Usage: IMAGE_NAME=ghcr.io/<owner>/<repo> [TAGS="sha version"] scripts/ci/cd-publish-images.sh
#   IMAGE_NAME is lower-cased (registries refuse upper case). TAGS defaults to the commit SHA
#   (GITHUB_SHA, else the checkout's HEAD) plus, on a tag (GITHUB_REF_TYPE=tag), its name.
#   NODE_IMAGE / NGINX_IMAGE: the base images, official by default.
#   DIGESTS_FILE: where the pushed digests are recorded (default reports/published-images.txt), one
#   line per image, "<IMAGE_NAME>-<service>:<tag> <IMAGE_NAME>-<service>@sha256:<digest>": what
#   MODE=image deploys check the pulled images against where there is no GitHub attestation
#   (IMAGE_DIGESTS_FILE, docs/CD-PIPELINE.md). On GitHub the digests also go to $GITHUB_OUTPUT
#   (web-digest, transactions-digest, gateway-digest, image-name): the attestations' subjects.
# Registry login is the caller's (docker/login-action on GitHub, `docker login` elsewhere).
set -euo pipefail
cd "$(dirname "$0")/../.."

name="${IMAGE_NAME:?IMAGE_NAME is required, e.g. ghcr.io/owner/fintech-test}"
name="${name,,}"
if [[ -n "${TAGS:-}" ]]; then
  tags="$TAGS"
else
  tags="${GITHUB_SHA:-$(git rev-parse HEAD)}"
  [[ "${GITHUB_REF_TYPE:-}" != tag ]] || tags="$tags ${GITHUB_REF_NAME:?}"
fi
read -r -a tag_list <<<"$tags"
[[ ${#tag_list[@]} -gt 0 ]] || {
  echo "cd-publish-images: no tag to publish" >&2
  exit 2
}

build() {
  local service="$1" first="$name-$1:${tag_list[0]}"
  shift
  echo "cd-publish-images: building $first"
  docker build -q "$@" -t "$first" >/dev/null
  local tag
  for tag in "${tag_list[@]:1}"; do docker tag "$first" "$name-$service:$tag"; done
}
build web -f services/Dockerfile --target web --build-arg "NODE_IMAGE=${NODE_IMAGE:-node:24-bookworm-slim@sha256:235600a8101ab264e117b1768e925532262668dc9b581ef1dd7d96ced463b8e7}" .
build transactions -f services/Dockerfile --target transactions --build-arg "NODE_IMAGE=${NODE_IMAGE:-node:24-bookworm-slim@sha256:235600a8101ab264e117b1768e925532262668dc9b581ef1dd7d96ced463b8e7}" .
build gateway --build-arg "NGINX_IMAGE=${NGINX_IMAGE:-nginx:1.30@sha256:585d4e63ef9a0c34cbb46fefa3449d16d38bf4a8d3d817e6638962d8b7578696}" gateway

digests_file="${DIGESTS_FILE:-reports/published-images.txt}"
mkdir -p "$(dirname "$digests_file")"
: >"$digests_file"
for service in web transactions gateway; do
  for tag in "${tag_list[@]}"; do
    docker push -q "$name-$service:$tag" >/dev/null
  done
  # The registry's digest of what was just pushed (every tag of a service is the same image).
  digest="$(docker image inspect -f '{{range .RepoDigests}}{{println .}}{{end}}' "$name-$service:${tag_list[0]}" |
    grep -m1 "^$name-$service@sha256:" || true)"
  if [[ -z "$digest" ]]; then
    echo "cd-publish-images: no registry digest recorded for $name-$service after the push" >&2
    exit 1
  fi
  for tag in "${tag_list[@]}"; do echo "$name-$service:$tag $digest" >>"$digests_file"; done
  echo "cd-publish-images: $name-$service:{${tags// /,}} is $digest"
  if [[ -n "${GITHUB_OUTPUT:-}" ]]; then echo "$service-digest=${digest#*@}" >>"$GITHUB_OUTPUT"; fi
done
if [[ -n "${GITHUB_OUTPUT:-}" ]]; then echo "image-name=$name" >>"$GITHUB_OUTPUT"; fi
echo "cd-publish-images: pushed $name-{web,transactions,gateway}:{${tags// /,}}, digests in $digests_file"
