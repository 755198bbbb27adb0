#!/usr/bin/env bash
# What a Kubernetes blue/green flip decides and changes, without kubectl (sourced, not run), so
# that the tests check it (test/scripts/k8s-flip.test.ts): scripts/k8s-flip.sh sends exactly the
# patch k8s_flip_patch prints and judges the Service's endpoints with k8s_flip_endpoints_serve.
# Objects: deploy/k8s (the Service `web` selects app.kubernetes.io/name=web and color=<active>).

K8S_FLIP_SERVICE="web"

k8s_flip_colour_valid() { [[ "${1:-}" == blue || "${1:-}" == green ]]; }

# The JSON merge patch (kubectl patch --type=merge) that points the Service `web` at a colour:
# it changes the selector's color label and nothing else.
k8s_flip_patch() {
  k8s_flip_colour_valid "${1:-}" || return 1
  printf '{"spec":{"selector":{"color":"%s"}}}\n' "$1"
}

# True when a Deployment is ready to serve: every desired replica ready, and at least one.
#   k8s_flip_ready DESIRED READY
k8s_flip_ready() {
  local desired="${1:-0}" ready="${2:-0}"
  [[ "$desired" =~ ^[0-9]+$ && "$ready" =~ ^[0-9]+$ ]] || return 1
  ((desired > 0 && ready >= desired))
}

# Reads the Service's endpoints as "<pod name> <ready>" lines (kubectl's jsonpath over its
# EndpointSlices) and succeeds when at least one ready endpoint exists and every ready one is a
# pod of web-<colour> (a Deployment's pods are named <deployment>-<hash>-<suffix>).
#   k8s_flip_endpoints_serve COLOUR <lines
k8s_flip_endpoints_serve() {
  local colour="$1" pod ready serving=0
  while read -r pod ready; do
    [[ -n "$pod" && "$ready" == true ]] || continue
    [[ "$pod" == "$K8S_FLIP_SERVICE-$colour-"* ]] || return 1
    serving=$((serving + 1))
  done
  ((serving > 0))
}
