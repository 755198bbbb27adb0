#!/usr/bin/env bash
# Blue/green flip on Kubernetes (deploy/k8s): once both Deployments of the new colour are rolled
# out and ready, patches the selector of the Service `web` to that colour, verifies that its
# endpoints (and, with VERIFY_URL, the public answers' X-App-Color header) are the new colour's
# pods, and flips back when they are not. Not run on a cluster by this project's tests: they
# check the manifests and what the flip sends (docs/KUBERNETES.md).
#
# Usage: scripts/k8s-flip.sh blue|green
#   NAMESPACE=bank-prod        the namespace of the overlay deploy/k8s/overlays/prod
#   ROLLOUT_TIMEOUT=120        seconds to wait for web-<colour> and transactions-<colour> ready
#   VERIFY_TIMEOUT=30          seconds for the Service's endpoints to be the new colour's pods
#   VERIFY_URL                 optional public URL (e.g. https://bank.example/health): 5 answers
#                              in a row must carry X-App-Color: <colour>
#
# Exit codes: 0 the Service selects the colour (also when it already did); 1 failed, the
# previous colour still or again serves; 2 bad input (nothing done); 4 the flip back failed too.
set -euo pipefail

ROOT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib/k8s_flip.sh
source "$ROOT_DIR/scripts/lib/k8s_flip.sh"

usage() {
  cat >&2 <<'USAGE'
usage: scripts/k8s-flip.sh blue|green
  env: NAMESPACE (bank-prod), ROLLOUT_TIMEOUT (120), VERIFY_TIMEOUT (30), VERIFY_URL (optional)
USAGE
}
refuse() {
  printf 'k8s-flip: %s\n' "$*" >&2
  usage
  exit 2
}
log() { printf '[k8s-flip] %s\n' "$*" >&2; }
die() {
  log "$*"
  exit 1
}

(($# == 1)) || refuse "expected one colour, got $# argument(s)"
TARGET="$1"
k8s_flip_colour_valid "$TARGET" || refuse "unknown colour '$TARGET' (expected blue or green)"
NAMESPACE="${NAMESPACE:-bank-prod}"
ROLLOUT_TIMEOUT="${ROLLOUT_TIMEOUT:-120}"
VERIFY_TIMEOUT="${VERIFY_TIMEOUT:-30}"
VERIFY_URL="${VERIFY_URL:-}"
[[ "$NAMESPACE" =~ ^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$ ]] || refuse "NAMESPACE '$NAMESPACE' is not a valid namespace name"
for var in ROLLOUT_TIMEOUT VERIFY_TIMEOUT; do
  [[ "${!var}" =~ ^[1-9][0-9]*$ ]] || refuse "$var must be a whole number of seconds (at least 1), got '${!var}'"
done
[[ -z "$VERIFY_URL" || "$VERIFY_URL" =~ ^https?:// ]] || refuse "VERIFY_URL must start with http:// or https://, got '$VERIFY_URL'"
command -v kubectl >/dev/null 2>&1 || die "kubectl not found on PATH"

# kubectl on the namespace of this flip (NAMESPACE).
kubectl_ns() { kubectl --namespace "$NAMESPACE" "$@"; }

current="$(kubectl_ns get service "$K8S_FLIP_SERVICE" -o jsonpath='{.spec.selector.color}')" ||
  die "cannot read the Service $K8S_FLIP_SERVICE in namespace $NAMESPACE (is the overlay applied, is the context right?)"
if [[ "$current" == "$TARGET" ]]; then
  log "Service $K8S_FLIP_SERVICE already selects $TARGET; nothing to do"
  exit 0
fi
k8s_flip_colour_valid "$current" || die "the Service $K8S_FLIP_SERVICE selects color '$current', neither blue nor green"

# 1. The new colour ready: rolled out, every desired replica ready.
for deployment in "transactions-$TARGET" "web-$TARGET"; do
  kubectl_ns rollout status "deployment/$deployment" --timeout="${ROLLOUT_TIMEOUT}s" >&2 ||
    die "deployment/$deployment not rolled out after ${ROLLOUT_TIMEOUT}s; $current still serves"
  read -r desired ready < <(kubectl_ns get deployment "$deployment" -o jsonpath='{.spec.replicas} {.status.readyReplicas}{"\n"}') || true
  k8s_flip_ready "${desired:-0}" "${ready:-0}" ||
    die "deployment/$deployment has ${ready:-0} of ${desired:-0} replicas ready; $current still serves"
done

# The endpoints the Service routes to, as "<pod> <ready>" lines.
endpoints() {
  kubectl_ns get endpointslices -l "kubernetes.io/service-name=$K8S_FLIP_SERVICE" \
    -o jsonpath='{range .items[*].endpoints[*]}{.targetRef.name}{" "}{.conditions.ready}{"\n"}{end}'
}

# 5 consecutive public answers from the colour (only with VERIFY_URL).
public_answers_from() {
  local colour="$1" streak=0 seen deadline=$((SECONDS + VERIFY_TIMEOUT))
  while ((streak < 5)); do
    ((SECONDS < deadline)) || return 1
    seen="$(curl -sS -o /dev/null -D - --max-time 5 "$VERIFY_URL" 2>/dev/null |
      tr -d '\r' | awk -F': ' 'tolower($1) == "x-app-color" { print $2 }')" || true
    if [[ "$seen" == "$colour" ]]; then streak=$((streak + 1)); else streak=0 && sleep 0.5; fi
  done
}

verify() {
  local colour="$1" deadline=$((SECONDS + VERIFY_TIMEOUT))
  until [[ "$(kubectl_ns get service "$K8S_FLIP_SERVICE" -o jsonpath='{.spec.selector.color}')" == "$colour" ]] &&
    endpoints | k8s_flip_endpoints_serve "$colour"; do
    ((SECONDS < deadline)) || return 1
    sleep 1
  done
  [[ -z "$VERIFY_URL" ]] || public_answers_from "$colour"
}

# 2. The flip: one label of the Service's selector.
log "Service $K8S_FLIP_SERVICE: $current -> $TARGET (namespace $NAMESPACE)"
kubectl_ns patch service "$K8S_FLIP_SERVICE" --type=merge -p "$(k8s_flip_patch "$TARGET")" >&2 ||
  die "the patch was refused; $current still serves"

# 3. Verify, else flip back.
if verify "$TARGET"; then
  log "Service $K8S_FLIP_SERVICE now routes to $TARGET only; $current keeps running for a rollback (scripts/k8s-flip.sh $current)"
  exit 0
fi
log "$TARGET does not serve through $K8S_FLIP_SERVICE after ${VERIFY_TIMEOUT}s; flipping back to $current"
if kubectl_ns patch service "$K8S_FLIP_SERVICE" --type=merge -p "$(k8s_flip_patch "$current")" >&2 && verify "$current"; then
  die "flip to $TARGET failed verification; back on $current"
fi
log "FAILED: flip to $TARGET failed verification, and flipping back to $current failed too: an operator must look (kubectl -n $NAMESPACE get service,endpointslices)"
exit 4
