#!/usr/bin/env bash
# A real Docker Swarm of three nodes on this machine, for the tests and for anyone who wants to see
# the bank run across machines without having three: each node is a container running Debian's
# docker.io engine (docker-in-docker), bank-node-1 the manager, bank-node-2 and bank-node-3 the
# workers, on their own bridge network, with one registry (Debian's docker-registry) that every
# node pulls the bank's images from.
#
#   scripts/cluster.sh up       build the node image (cached by the hash of its recipe), start the
#                               registry and the nodes, make the swarm, label the nodes; does
#                               nothing more when the cluster is already up
#   scripts/cluster.sh down     remove everything `up` made (nodes, their volumes, the registry,
#                               the network); safe to run at any time
#   scripts/cluster.sh status   the nodes, their state, and which tasks run on which node
#
# Reach the cluster with `docker exec bank-node-1 docker node ls` (any docker command), or, as
# root, DOCKER_HOST=unix:///tmp/bank-cluster/docker.sock docker node ls (CLUSTER_SOCKET_DIR).
# The stack's gateway is published on 127.0.0.1:${CLUSTER_GATEWAY_PORT:-5012} (through the manager
# node); the registry on 127.0.0.1:${CLUSTER_REGISTRY_PORT:-5015} for pushes from this host, and as
# bank-cluster-registry:5000 for the nodes.
#
# Node labels: bank-node-1 gateway=true db=true (the gateway's published port and PostgreSQL's
# volume stay on the manager); bank-node-3 db_standby=true (the hot standby and its volume, on
# another machine than the primary's); every node node=<n>, the key the stack spreads its replicas
# over.
#
# Exit codes: 0 done; 1 the cluster could not be made (one line says what is missing; nothing is
# left behind); 2 bad usage.
set -euo pipefail

ROOT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly NODE_DIR="$ROOT_DIR/deploy/swarm/node"
readonly NODE_IMAGE_NAME="bank-cluster/node"
readonly NETWORK=bank-cluster
readonly REGISTRY=bank-cluster-registry
readonly LABEL=bank.cluster
readonly NODES=(bank-node-1 bank-node-2 bank-node-3)
readonly MANAGER=bank-node-1
# Fixed addresses: a node restarted after a crash comes back with the same one, so the swarm
# finds it again. An explicit subnet keeps Docker from picking one that collides with a stack's.
readonly SUBNET="${CLUSTER_SUBNET:-192.168.212.0/24}"
readonly PREFIX="${SUBNET%.*}"
GATEWAY_PORT="${CLUSTER_GATEWAY_PORT:-5012}"
REGISTRY_PORT="${CLUSTER_REGISTRY_PORT:-5015}"
UP_TIMEOUT="${CLUSTER_UP_TIMEOUT:-60}"
# The manager's engine also listens on a socket in this directory (bind-mounted, mode 700): the
# deploy and the tests talk to it directly, which costs far less than a `docker exec` per command.
SOCKET_DIR="${CLUSTER_SOCKET_DIR:-/tmp/bank-cluster}"

log() { printf '[cluster] %s\n' "$*" >&2; }

usage() {
  echo "usage: scripts/cluster.sh up|down|status" >&2
  exit 2
}

# A node's fixed address on the cluster's network.
node_address() { printf '%s.%s' "$PREFIX" "$((10 + ${1##*-}))"; }

# The hash of the node image's recipe: an image built from another recipe is rebuilt.
recipe_hash() {
  cat "$NODE_DIR/Dockerfile" "$NODE_DIR/entrypoint.sh" "$NODE_DIR/registry.yml" | sha256sum | cut -c1-16
}

engine_answers() { docker info >/dev/null 2>&1; }

# The Debian bookworm image the node image starts from: the official one when Docker Hub
# answers, else the one scripts/offline-base-images.sh builds from Debian's archive.
base_image() {
  local offline=bank-offline/debian:bookworm
  if docker image inspect debian:bookworm-slim >/dev/null 2>&1 || timeout 60 docker pull -q debian:bookworm-slim >/dev/null 2>&1; then
    echo debian:bookworm-slim
    return 0
  fi
  docker image inspect "$offline" >/dev/null 2>&1 || "$ROOT_DIR/scripts/offline-base-images.sh" >&2 || return 1
  echo "$offline"
}

build_node_image() {
  local hash image base start=$SECONDS
  hash="$(recipe_hash)"
  image="$NODE_IMAGE_NAME:$hash"
  if [[ "$(docker image inspect -f '{{ index .Config.Labels "bank.cluster.recipe" }}' "$image" 2>/dev/null)" == "$hash" ]]; then
    log "node image $image up to date"
    NODE_IMAGE="$image"
    return 0
  fi
  base="$(base_image)" || {
    echo "cluster: no Debian base image (neither debian:bookworm-slim nor scripts/offline-base-images.sh's)" >&2
    return 1
  }
  log "building the node image $image from $base (Debian's docker.io and docker-registry)"
  if ! docker build -q --network host --build-arg "BASE_IMAGE=$base" --label "bank.cluster.recipe=$hash" \
    --label "$LABEL=node-image" -t "$image" "$NODE_DIR" >/dev/null; then
    echo "cluster: the node image could not be built (apt-get install docker.io in $base failed; see above)" >&2
    return 1
  fi
  log "node image built in $((SECONDS - start)) s"
  # Images of older recipes are of no more use.
  docker image ls --format '{{.Repository}}:{{.Tag}}' "$NODE_IMAGE_NAME" | grep -vxF "$image" | xargs -r docker rmi >/dev/null 2>&1 || true
  NODE_IMAGE="$image"
}

# Options of a node container. --privileged first (GitHub runners, Docker Desktop); where the host
# refuses it (a capability missing from its bounding set), the capabilities and unconfined
# profiles a dockerd needs, with /sys and the cgroups remounted read-write by the entrypoint.
PRIVILEGED_OPTS=(--privileged)
FALLBACK_OPTS=(--cap-add ALL --cap-drop SYS_RESOURCE --security-opt seccomp=unconfined
  --security-opt apparmor=unconfined --security-opt systempaths=unconfined
  --device-cgroup-rule 'a *:* rwm' --cgroupns private)
NODE_OPTS=()

start_node() {
  local name="$1" publish=() socket=()
  if [[ "$name" == "$MANAGER" ]]; then
    publish=(-p "127.0.0.1:$GATEWAY_PORT:8080" -v "$SOCKET_DIR:/var/run/bank-cluster")
    socket=(--host unix:///var/run/bank-cluster/docker.sock)
  fi
  docker run -d --name "$name" --hostname "$name" --label "$LABEL=node" \
    --network "$NETWORK" --ip "$(node_address "$name")" "${publish[@]}" \
    -v "$name-docker:/var/lib/docker" --tmpfs /run --tmpfs /tmp \
    "${NODE_OPTS[@]}" \
    "$NODE_IMAGE" dockerd --insecure-registry "$REGISTRY:5000" "${socket[@]}" >/dev/null
}

node_engine_answers() { docker exec "$1" docker info >/dev/null 2>&1; }

wait_node_engine() {
  local name="$1" deadline=$((SECONDS + UP_TIMEOUT))
  until node_engine_answers "$name"; do
    if [[ "$(docker inspect -f '{{.State.Running}}' "$name" 2>/dev/null)" != true ]] || ((SECONDS >= deadline)); then
      return 1
    fi
    sleep 0.5
  done
}

# The first node tells which options this host accepts.
start_first_node() {
  local error
  NODE_OPTS=("${PRIVILEGED_OPTS[@]}")
  if error="$(start_node "$MANAGER" 2>&1)" && wait_node_engine "$MANAGER"; then
    log "nodes run with --privileged"
    return 0
  fi
  log "--privileged refused here ($(printf '%s' "$error" | grep -m1 . | cut -c1-160)); using the explicit capability set"
  docker rm -f "$MANAGER" >/dev/null 2>&1 || true
  docker volume rm "$MANAGER-docker" >/dev/null 2>&1 || true
  NODE_OPTS=("${FALLBACK_OPTS[@]}")
  if ! error="$(start_node "$MANAGER" 2>&1)" || ! wait_node_engine "$MANAGER"; then
    [[ -n "$error" ]] || error="$(docker logs --tail 3 "$MANAGER" 2>&1 | tr '\n' ' ')"
    echo "cluster: node $MANAGER cannot start a Docker engine: $(printf '%s' "$error" | tail -n1 | cut -c1-200)" >&2
    return 1
  fi
}

remove_everything() {
  local ids
  ids="$(docker ps -aq --filter "label=$LABEL" 2>/dev/null || true)"
  # shellcheck disable=SC2086 # one id per word
  [[ -z "$ids" ]] || docker rm -f -v $ids >/dev/null 2>&1 || true
  local name
  for name in "${NODES[@]}"; do docker volume rm "$name-docker" >/dev/null 2>&1 || true; done
  docker network rm "$NETWORK" >/dev/null 2>&1 || true
  rm -rf "$SOCKET_DIR"
}

cluster_is_up() {
  [[ "$(docker exec "$MANAGER" docker info -f '{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}' 2>/dev/null)" == "active true" ]]
}

up() {
  local start=$SECONDS
  if ! engine_answers; then
    echo "cluster: no Docker engine answers ('docker info' failed): start Docker (or scripts/docker-engine.sh) first" >&2
    exit 1
  fi
  if cluster_is_up; then
    log "the cluster is already up"
    status
    return 0
  fi
  remove_everything
  # From here on, a failure removes whatever was made.
  trap 'rc=$?; if ((rc != 0)); then remove_everything; log "nothing was left behind"; fi' EXIT
  build_node_image
  (umask 077 && mkdir -p "$SOCKET_DIR")
  docker network create --label "$LABEL=network" --subnet "$SUBNET" "$NETWORK" >/dev/null
  if ! docker run -d --name "$REGISTRY" --label "$LABEL=registry" --network "$NETWORK" --ip "$PREFIX.5" \
    -p "127.0.0.1:$REGISTRY_PORT:5000" "$NODE_IMAGE" docker-registry serve /etc/docker/registry/config.yml >/dev/null; then
    echo "cluster: the registry cannot start (is 127.0.0.1:$REGISTRY_PORT free? CLUSTER_REGISTRY_PORT picks another)" >&2
    return 1
  fi
  local engines_start=$SECONDS name
  start_first_node
  for name in "${NODES[@]:1}"; do
    start_node "$name" || {
      echo "cluster: node $name cannot be created" >&2
      return 1
    }
  done
  for name in "${NODES[@]:1}"; do
    wait_node_engine "$name" || {
      echo "cluster: node $name cannot start a Docker engine: $(docker logs --tail 1 "$name" 2>&1)" >&2
      return 1
    }
  done
  log "${#NODES[@]} engines up in $((SECONDS - engines_start)) s"

  local swarm_start=$SECONDS token
  docker exec "$MANAGER" docker swarm init --advertise-addr "$(node_address "$MANAGER")" >/dev/null
  # Swarm's default heartbeat is 5 s. Shorter marks a dead node down sooner, but on a busy machine
  # (2 cores shared with other jobs) live nodes then miss beats, are marked down and lose their
  # tasks: CLUSTER_HEARTBEAT=1s only on an idle machine.
  docker exec "$MANAGER" docker swarm update --dispatcher-heartbeat "${CLUSTER_HEARTBEAT:-5s}" >/dev/null
  token="$(docker exec "$MANAGER" docker swarm join-token -q worker)"
  for name in "${NODES[@]:1}"; do
    docker exec "$name" docker swarm join --token "$token" --advertise-addr "$(node_address "$name")" \
      "$(node_address "$MANAGER"):2377" >/dev/null
  done
  for name in "${NODES[@]}"; do
    docker exec "$MANAGER" docker node update --label-add "node=${name##*-}" "$name" >/dev/null
  done
  docker exec "$MANAGER" docker node update --label-add gateway=true --label-add db=true "$MANAGER" >/dev/null
  docker exec "$MANAGER" docker node update --label-add db_standby=true "${NODES[-1]}" >/dev/null
  local deadline=$((SECONDS + UP_TIMEOUT))
  until [[ "$(docker exec "$MANAGER" docker node ls --format '{{.Status}}' | grep -c '^Ready$')" == "${#NODES[@]}" ]]; do
    if ((SECONDS >= deadline)); then
      echo "cluster: the swarm did not have ${#NODES[@]} Ready nodes after ${UP_TIMEOUT} s" >&2
      return 1
    fi
    sleep 0.5
  done
  log "swarm of ${#NODES[@]} Ready in $((SECONDS - swarm_start)) s; cluster up in $((SECONDS - start)) s"
  trap - EXIT
  status
}

down() {
  engine_answers || {
    echo "cluster: no Docker engine answers; nothing to remove" >&2
    return 0
  }
  remove_everything
  log "cluster removed (nodes, their volumes, registry, network)"
}

status() {
  if ! docker inspect "$MANAGER" >/dev/null 2>&1; then
    echo "cluster: not up (no $MANAGER container; scripts/cluster.sh up makes it)"
    return 1
  fi
  local name
  echo "node containers:"
  for name in "${NODES[@]}" "$REGISTRY"; do
    printf '  %-22s %s\n' "$name" "$(docker inspect -f '{{.State.Status}}' "$name" 2>/dev/null || echo absent)"
  done
  if ! cluster_is_up; then
    echo "cluster: $MANAGER is not an active swarm manager"
    return 1
  fi
  echo "swarm nodes:"
  docker exec "$MANAGER" docker node ls --format '{{.Hostname}} {{.Status}} {{.Availability}} {{.ManagerStatus}}' | sed 's/^/  /'
  echo "tasks (running or starting) by node:"
  local ids
  ids="$(docker exec "$MANAGER" docker node ls -q | tr '\n' ' ')"
  # shellcheck disable=SC2086 # one id per word
  docker exec "$MANAGER" docker node ps $ids --filter desired-state=running \
    --format '{{.Node}} {{.Name}} {{.CurrentState}}' | sort -u | sed 's/^/  /' || true
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  *) usage ;;
esac
