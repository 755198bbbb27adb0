#!/usr/bin/env bash
# The PROD hot standby (service db_standby of compose/docker-compose.prod.yml, docs/SAUVEGARDES.md):
#
#   scripts/db-standby.sh prod start    start it, seeded from a base backup of the primary when its
#                                       volume is empty or it does not follow the primary (after
#                                       a restore, which starts a new timeline); waits until it
#                                       streams. Prints its lag.
#   scripts/db-standby.sh prod status   its lag as the primary sees it (bytes of WAL not replayed,
#                                       replay delay) and as the standby sees it (age of the last
#                                       transaction replayed). Exit 1 when it does not stream.
#
# PLATFORM=swarm: the service db_standby of deploy/swarm/docker-stack.prod.yml on the local Swarm
# (on the node labelled db_standby=true, waiting to be seeded since the stack was deployed).
# ENV_FILE: the PROD env file (default <state>/prod.env; Compose only). Exit 2: refused, nothing
# done (the primary is not running, bad arguments).
set -euo pipefail
ROOT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib/compose.sh
source "$ROOT_DIR/scripts/lib/compose.sh"
# shellcheck source=scripts/lib/deploy_state.sh
source "$ROOT_DIR/scripts/lib/deploy_state.sh"
# shellcheck source=scripts/lib/db_backup.sh
source "$ROOT_DIR/scripts/lib/db_backup.sh"
# shellcheck source=scripts/lib/db_standby.sh
source "$ROOT_DIR/scripts/lib/db_standby.sh"
DB_LOG_NAME="db-standby"

[[ $# -eq 2 && "$1" == prod && ("$2" == start || "$2" == status) ]] ||
  db_refuse "usage: scripts/db-standby.sh prod start|status (the standby is part of the PROD stack only)"
action="$2"
db_check_target prod
db_require_running prod
primary="$DB_ID"

# Prints the lag; returns 1 when the standby does not stream.
status() {
  local row standby age
  row="$(db_standby_lag_from_primary "$primary")"
  standby="$(db_standby_container)"
  if [[ -n "$standby" ]]; then
    age="$(db_value "$standby" "select coalesce(round(extract(epoch from now() - pg_last_xact_replay_timestamp())::numeric, 1)::text, 'none')
      || ' ' || pg_is_in_recovery()" 2>/dev/null || true)"
  fi
  if [[ -z "$row" ]]; then
    db_log "the standby does not stream from the primary (container: ${standby:-not running})"
    return 1
  fi
  read -r state bytes delay <<<"$row"
  db_log "standby $state: ${bytes:-?} bytes of WAL not yet replayed, replay delay ${delay}; last transaction replayed ${age%% *} s ago (read-only: ${age##* })"
}

if [[ "$action" == status ]]; then
  status
  exit
fi

if status 2>/dev/null; then
  status
  exit 0
fi
started="$(db_now_ms)"
if db_on_swarm; then
  # The stack runs it, waiting to be seeded.
  standby="$(db_standby_container)"
  [[ -n "$standby" ]] ||
    db_refuse "no task of ${SWARM_STACK}_$STANDBY_SERVICE runs on the swarm (a node labelled db_standby=true, docs/CLUSTER.md); nothing done"
else
  ENV_FILE="${ENV_FILE:-$(state_env_file prod)}"
  [[ -f "$ENV_FILE" ]] || db_refuse "ENV_FILE $ENV_FILE does not exist (deploy PROD first)"
  export ENV_FILE
  compose -p "$(db_project prod)" -f "$ROOT_DIR/compose/docker-compose.prod.yml" up -d --no-deps "$STANDBY_SERVICE" >&2 ||
    db_fail "the standby container did not start"
  standby="$(db_standby_container)"
  [[ -n "$standby" ]] || db_fail "the standby container is not running"
fi
# A seeded standby that does not stream (a restore gave the primary a new timeline, or it was
# away longer than its slot keeps WAL) is seeded again: stop its server, empty its volume.
# shellcheck disable=SC2016 # expanded inside the container
if db_docker exec "$standby" test -s /var/lib/postgresql/data/PG_VERSION; then
  db_log "the standby's copy is stale: seeding it again"
  db_docker exec -u postgres "$standby" bash -c 'touch "$PGDATA/.seeding"' || db_fail "cannot mark the standby for seeding"
  db_docker restart "$standby" >/dev/null || db_fail "cannot restart the standby"
  db_docker exec -u postgres "$standby" bash -c 'shopt -s dotglob; for e in "$PGDATA"/*; do [[ "$e" == */.seeding ]] || rm -rf "$e"; done' ||
    db_fail "cannot empty the standby's volume"
else
  db_docker exec -u postgres "$standby" bash -c 'touch "$PGDATA/.seeding"' || db_fail "cannot mark the standby for seeding"
fi

password="$(db_standby_prepare_primary "$primary")" || db_fail "cannot prepare the primary for replication"
seed_dir="$(mktemp -d)"
trap 'rm -rf "$seed_dir"' EXIT
backup="$(BACKUP_DIR="$seed_dir" db_backup_take prod "$seed_dir" | tail -1)" || db_fail "the base backup for the standby failed"
# shellcheck disable=SC2016 # expanded inside the container
gzip -dc "$backup" | db_docker exec -i -u postgres "$standby" bash -c 'set -e
  tar -C "$PGDATA" -xf -
  rm -f "$PGDATA/postmaster.pid" "$PGDATA/recovery.signal"' || db_fail "cannot unpack the base backup into the standby"
rm -rf "$seed_dir"
# The connection settings (with the replication password) go through stdin, never a command line.
# shellcheck disable=SC2016 # expanded inside the container
printf "primary_conninfo = 'host=db port=5432 user=%s password=%s application_name=%s'\nprimary_slot_name = '%s'\n" \
  "$STANDBY_ROLE" "$password" "$STANDBY_SERVICE" "$STANDBY_SLOT" |
  db_docker exec -i -u postgres "$standby" bash -c 'set -e
    cat >>"$PGDATA/postgresql.auto.conf"
    chmod 600 "$PGDATA/postgresql.auto.conf"
    touch "$PGDATA/standby.signal"
    rm -f "$PGDATA/.seeding"' || db_fail "cannot configure the standby"
deadline=$((SECONDS + 120))
until status 2>/dev/null; do
  ((SECONDS < deadline)) || {
    db_docker logs --tail 20 "$standby" >&2 2>&1 || true
    db_fail "the standby does not stream after 120 s (its log above)"
  }
  sleep 1
done
db_log "standby seeded and streaming in $(db_seconds_since "$started") s"
status
