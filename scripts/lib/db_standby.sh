#!/usr/bin/env bash
# The PROD hot standby (sourced by scripts/db-standby.sh and scripts/db-promote.sh after
# scripts/lib/db_backup.sh, not run). docs/SAUVEGARDES.md tells the operator's side.
#
# The standby is the Compose service db_standby: the same image as the primary, its own volume
# (prod_pgstandby), read-only (hot_standby), streaming from the primary `db` through a physical
# replication slot (db_standby) as the role `replicator`. It is seeded from a base backup made with
# the same low-level API as scripts/db-backup.sh (neither image needs pg_basebackup), plus
# standby.signal and primary_conninfo in its postgresql.auto.conf (mode 600, in its volume: the
# replication password lives nowhere else but in the primary's catalog as a SCRAM verifier).

readonly STANDBY_SERVICE=db_standby
readonly STANDBY_SLOT=db_standby
readonly STANDBY_ROLE=replicator

db_standby_container() {
  if db_on_swarm; then
    swarm_task_container "$STANDBY_SERVICE"
    return 0
  fi
  docker ps -q --filter "label=com.docker.compose.project=$(db_project prod)" \
    --filter "label=com.docker.compose.service=$STANDBY_SERVICE" | head -1
}

# psql in a container whose environment names the stack's user and database.
db_standby_psql() { db_psql_in "$@"; }

# Prepares the primary for a replica: the replication role with a fresh password, its pg_hba
# line, the slot that keeps the WAL the standby has not received. Prints the password.
db_standby_prepare_primary() {
  local id="$1" password
  password="$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')"
  db_psql_in "$id" >/dev/null <<SQL || return 1
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$STANDBY_ROLE') THEN
    CREATE ROLE $STANDBY_ROLE WITH REPLICATION LOGIN;
  END IF;
END \$\$;
ALTER ROLE $STANDBY_ROLE PASSWORD '$password';
SELECT pg_drop_replication_slot('$STANDBY_SLOT') FROM pg_replication_slots WHERE slot_name = '$STANDBY_SLOT' AND NOT active;
SELECT pg_create_physical_replication_slot('$STANDBY_SLOT', true)
  WHERE NOT EXISTS (SELECT FROM pg_replication_slots WHERE slot_name = '$STANDBY_SLOT');
SQL
  # shellcheck disable=SC2016 # expanded inside the container
  db_docker exec -u postgres "$id" bash -c 'line="host replication $1 all scram-sha-256"
    grep -qxF "$line" "$PGDATA/pg_hba.conf" || printf "%s\n" "$line" >>"$PGDATA/pg_hba.conf"' hba "$STANDBY_ROLE" ||
    return 1
  db_value "$id" "select pg_reload_conf()" >/dev/null || return 1
  printf '%s' "$password"
}

# Replication as the primary sees it: "<state> <bytes behind> <replay lag>" of the standby, or
# nothing when it is not connected.
db_standby_lag_from_primary() {
  db_value "$1" "select state, pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn), coalesce(replay_lag::text, '0')
    from pg_stat_replication where application_name = '$STANDBY_SERVICE'" -F ' ' 2>/dev/null || true
}
