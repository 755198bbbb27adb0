#!/usr/bin/env bash
# Promote the PROD hot standby (db_standby) when the primary (db) is lost (docs/SAUVEGARDES.md):
#
#   scripts/db-promote.sh prod
#
# 1. the primary's container is stopped if it still runs (two writable primaries would split the
#    books) and fenced: a standby.signal in its volume makes it start read-only if anything
#    starts it again;
# 2. the standby is promoted (pg_promote: it replays all the WAL it received, then accepts writes
#    on a new timeline);
# 3. the services point at it: it joins the stack's network under the name `db` (the host of
#    DATABASE_URL), the services restart (their pools drop the dead connections) and the gateway
#    reloads. The deploy then leaves the old primary stopped (scripts/lib/deploy_backup.sh).
# PLATFORM=swarm (the local Swarm of scripts/cluster.sh, deploy/swarm/docker-stack.prod.yml): the
# same three steps as Swarm operations. 1: the primary's data directory gets its standby.signal
# when its task still runs, then the service db goes to 0 replicas; 2: pg_promote; 3: the service
# db_standby takes the network alias db (Swarm restarts its task: a few seconds without a
# database), and the services' new connections reach it. The deploy keeps both settings
# (DB_REPLICAS=0, DB_STANDBY_ALIAS=db) from the running stack.
# Exit 0 promoted; 1 failed; 2 refused, nothing done (no standby running, already promoted).
set -euo pipefail
ROOT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib/deploy_state.sh
source "$ROOT_DIR/scripts/lib/deploy_state.sh"
# shellcheck source=scripts/lib/db_backup.sh
source "$ROOT_DIR/scripts/lib/db_backup.sh"
# shellcheck source=scripts/lib/db_restore.sh
source "$ROOT_DIR/scripts/lib/db_restore.sh"
# shellcheck source=scripts/lib/db_standby.sh
source "$ROOT_DIR/scripts/lib/db_standby.sh"
DB_LOG_NAME="db-promote"

[[ $# -eq 1 && "$1" == prod ]] || db_refuse "usage: scripts/db-promote.sh prod"
db_check_target prod
DB_TARGET=prod
standby="$(db_standby_container)"
[[ -n "$standby" ]] || db_refuse "no standby is running (scripts/db-standby.sh prod start seeds one); nothing done"
[[ "$(db_value "$standby" "select pg_is_in_recovery()" 2>/dev/null)" == t ]] ||
  db_refuse "db_standby is not a standby any more (already promoted?); nothing done"
started="$(db_now_ms)"

# The lag at the moment of the promotion: what it replayed last, how old that is.
promote_standby() {
  local lag
  lag="$(db_value "$standby" "select coalesce(round(extract(epoch from now() - pg_last_xact_replay_timestamp())::numeric, 1)::text, 'none')")" || true
  [[ "$(db_value "$standby" "select pg_promote(true, 60)")" == t ]] || db_fail "pg_promote did not finish within 60 s (docker logs $standby)"
  db_log "db_standby promoted (its last replayed transaction was ${lag} s old); writable on timeline $(db_value "$standby" "select timeline_id from pg_control_checkpoint()")"
}

if db_on_swarm; then
  # 1. Fence the old primary: a standby.signal in its data directory (it would start read-only),
  # then no task of it.
  old="$(swarm_task_container db)"
  if [[ -n "$old" ]]; then
    # shellcheck disable=SC2016 # expanded inside the container
    db_docker exec -u postgres "$old" bash -c 'touch "$PGDATA/standby.signal"' ||
      db_log "could not fence the old primary's data directory: do not scale ${SWARM_STACK}_db up again"
  else
    db_log "the primary's task does not run (its node lost?): its volume is not fenced; do not scale ${SWARM_STACK}_db up again"
  fi
  swarm_docker service update --detach --replicas 0 "${SWARM_STACK}_db" >/dev/null || db_fail "cannot scale ${SWARM_STACK}_db to 0; nothing promoted"
  # Promote only once the old primary's server has exited: a clean stop sends every committed
  # transaction to the standby first, while a server still running would acknowledge transfers
  # the promoted standby never sees (the cluster tier lost one that way).
  deadline=$((SECONDS + 60))
  while [[ -n "$(swarm_task_container db)" ]] ||
    [[ -n "$old" && "$(db_docker inspect -f '{{.State.Running}}' "$old" 2>/dev/null)" == true ]]; do
    ((SECONDS < deadline)) || db_fail "${SWARM_STACK}_db still runs after 60 s; nothing promoted"
    sleep 0.5
  done
  db_log "the primary is stopped ($(db_seconds_since "$started") s)"
  # 2. Promote.
  promote_standby
  # 3. The name db (DATABASE_URL's host) now means the standby. Swarm replaces its task to change
  # the alias: the same volume, a primary now (no standby.signal any more).
  swarm_docker service update --detach --network-rm "${SWARM_STACK}_net" \
    --network-add "name=${SWARM_STACK}_net,alias=$STANDBY_SERVICE,alias=db" "${SWARM_STACK}_$STANDBY_SERVICE" >/dev/null ||
    db_fail "cannot give ${SWARM_STACK}_$STANDBY_SERVICE the name db"
  db_log "its task restarts under the name db ($(db_seconds_since "$started") s)"
  deadline=$((SECONDS + 120))
  until standby="$(swarm_task_container "$STANDBY_SERVICE")" && [[ -n "$standby" ]] &&
    [[ "$(db_value "$standby" "select pg_is_in_recovery()" 2>/dev/null)" == f ]]; do
    ((SECONDS < deadline)) || db_fail "the promoted database does not answer after 120 s (docker service ps ${SWARM_STACK}_$STANDBY_SERVICE)"
    sleep 0.5
  done
  db_log "PROD on the swarm now runs on db_standby (promoted in $(db_seconds_since "$started") s); the old primary's volume is kept. Next: a backup (PLATFORM=swarm scripts/db-backup.sh prod) and a new standby (docs/CLUSTER.md)"
  exit 0
fi

# 1. Fence the old primary.
old="$(docker ps -aq --filter "label=com.docker.compose.project=$(db_project prod)" --filter label=com.docker.compose.service=db | head -1)"
if [[ -n "$old" ]]; then
  if [[ "$(docker inspect -f '{{.State.Running}}' "$old")" == true ]]; then
    db_log "the primary still runs: stopping it before the promotion"
    docker stop "$old" >/dev/null || db_fail "cannot stop the primary; nothing promoted"
  fi
  DB_ID="$old"
  DB_VOLUME="$(db_volume_at "$old" /var/lib/postgresql/data)"
  DB_ARCHIVE_VOLUME=""
  DB_IMAGE="$(docker inspect -f '{{.Config.Image}}' "$old")"
  # shellcheck disable=SC2016 # expanded by the helper's bash
  db_helper -c 'touch /var/lib/postgresql/data/standby.signal' >/dev/null ||
    db_log "could not fence the old primary's volume $DB_VOLUME: do not start service db again"
  docker update --restart=no "$old" >/dev/null || true
fi

# 2. Promote.
promote_standby

# 3. The services find it under the name db.
network="$(docker inspect -f '{{range $name, $n := .NetworkSettings.Networks}}{{$name}} {{end}}' "$standby" | awk '{ print $1 }')"
docker network disconnect "$network" "$standby" >/dev/null || db_fail "cannot detach db_standby from $network"
docker network connect --alias db --alias "$STANDBY_SERVICE" "$network" "$standby" ||
  db_fail "cannot give db_standby the name db on $network"
mapfile -t writers < <(db_writers)
if ((${#writers[@]})); then
  db_log "restarting ${#writers[@]} service container(s) so that they connect to the new primary"
  docker restart "${writers[@]}" >/dev/null || db_fail "the services did not restart"
  db_wait_healthy "${writers[@]}"
fi
gateway="$(docker ps -q --filter "label=com.docker.compose.project=$(db_project prod)" --filter label=com.docker.compose.service=gateway | head -1)"
if [[ -n "$gateway" ]]; then
  docker exec "$gateway" nginx -t -q || db_fail "the gateway's configuration does not pass nginx -t"
  docker exec "$gateway" nginx -s reload || db_fail "the gateway did not reload"
fi
db_log "PROD now runs on db_standby (promoted in $(db_seconds_since "$started") s); the old primary's volume is kept, fenced. Next: a backup (scripts/db-backup.sh prod) and a new standby (docs/SAUVEGARDES.md)"
