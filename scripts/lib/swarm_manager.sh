#!/usr/bin/env bash
# The local Docker Swarm of scripts/cluster.sh as the scripts reach it (sourced by
# scripts/lib/deploy_swarm.sh and scripts/lib/db_backup.sh, not run):
#   swarm_docker ARGS        docker ARGS on the manager: through its socket when this user may
#                            write it, else `docker exec` into the manager's container.
#                            SWARM_DOCKER_TIMEOUT=N gives up after N seconds (a call that
#                            fetches from a node that may not answer). `timeout` wraps the
#                            docker client, never this function: timeout runs programs only.
#   swarm_task_container S   NODE:ID of the running task of the stack's one-replica service S
#                            (empty when none runs): the node containers of scripts/cluster.sh
#                            are named after their hostnames, so `docker exec NODE docker ...`
#                            reaches the task's container.

SWARM_STACK="${SWARM_STACK:-bank}"
SWARM_MANAGER="${CLUSTER_MANAGER:-bank-node-1}"
SWARM_SOCKET="${CLUSTER_SOCKET_DIR:-/tmp/bank-cluster}/docker.sock"

# The manager's socket, bind-mounted on this host by scripts/cluster.sh, when this user may use it.
swarm_socket_usable() { [[ -S "$SWARM_SOCKET" && -w "$SWARM_SOCKET" ]]; }

swarm_docker() {
  local limit=()
  [[ -z "${SWARM_DOCKER_TIMEOUT:-}" ]] || limit=(timeout "$SWARM_DOCKER_TIMEOUT")
  if swarm_socket_usable; then
    DOCKER_HOST="unix://$SWARM_SOCKET" "${limit[@]}" docker "$@"
  else
    "${limit[@]}" docker exec -i "$SWARM_MANAGER" docker "$@"
  fi
}

swarm_task_container() {
  local task node container
  read -r task node < <(swarm_docker service ps "${SWARM_STACK}_$1" --filter desired-state=running \
    --format '{{.ID}} {{.Node}} {{.CurrentState}}' 2>/dev/null | awk '$3 == "Running" { print $1, $2; exit }') || true
  [[ -n "${task:-}" ]] || return 0
  container="$(swarm_docker inspect -f '{{.Status.ContainerStatus.ContainerID}}' "$task" 2>/dev/null || true)"
  [[ -z "$container" ]] || printf '%s:%s' "$node" "$container"
}
