#!/usr/bin/env bash
# Restores for scripts/db-restore.sh (sourced after scripts/lib/db_backup.sh, not run).
#
# A restore never touches the live cluster until the restored copy has proved itself:
#   1. the backup is verified (manifest, size, sha256, readable tar with what a cluster needs);
#   2. it is unpacked into a NEW cluster directory, restore-<stamp>, inside the database volume,
#      next to the live one (same disk, so the switch below is a rename, not a copy);
#   3. a temporary PostgreSQL (the stack's own image, no network) recovers that copy: to the end
#      of the backup, or to a point in time with the WAL archive (recovery_target_time / _xid),
#      then promotes it on a new timeline (its WAL never collides with the archived history);
#   4. the ledger checks run on it (trial balance 0 per currency, every balance equal to its
#      journal lines, users.balance equal to the primary account, the audit chain if the table
#      audit_events exists) and its schema may not be newer than the live one;
#   5. only then the switch: the writers (every service but the database and the gateway) stop,
#      the database stops, the live cluster moves to previous-<stamp> and the restored one into
#      place (renames), the database and the writers start again, the gateway reloads (nginx -t
#      first). previous-<stamp> stays until `scripts/db-restore.sh <target> --drop-previous`.
# Any failure before step 5 removes restore-<stamp> and leaves the live database as it was.

readonly DB_RESTORE_TIMEOUT="${DB_RESTORE_TIMEOUT:-900}"

# The volume mounted at `destination` in a container (empty if none).
db_volume_at() {
  docker inspect -f "{{range .Mounts}}{{if eq .Destination \"$2\"}}{{.Name}}{{end}}{{end}}" "$1"
}

# Runs bash as postgres in a throwaway container of the database's image with its volumes.
# Usage: db_helper ARGS-FOR-BASH... (stdin passed through)
db_helper() {
  local args=(--rm -i -u postgres --network none -v "$DB_VOLUME:/var/lib/postgresql/data")
  [[ -n "$DB_ARCHIVE_VOLUME" ]] && args+=(-v "$DB_ARCHIVE_VOLUME:$DB_ARCHIVE:ro")
  docker run "${args[@]}" --entrypoint bash "$DB_IMAGE" "$@"
}

# What the restore needs to know about the live database container DB_ID.
db_inspect_live() {
  DB_VOLUME="$(db_volume_at "$DB_ID" /var/lib/postgresql/data)"
  DB_ARCHIVE_VOLUME="$(db_volume_at "$DB_ID" "$DB_ARCHIVE")"
  DB_IMAGE="$(docker inspect -f '{{.Config.Image}}' "$DB_ID")"
  [[ -n "$DB_VOLUME" ]] || db_fail "the database container has no volume at /var/lib/postgresql/data"
  DB_USER="$(docker exec "$DB_ID" printenv POSTGRES_USER || echo postgres)"
  DB_NAME="$(docker exec "$DB_ID" printenv POSTGRES_DB || echo "$DB_USER")"
}

# Segments present in the WAL archive of the live database (empty without an archive).
db_archive_listing() {
  [[ -n "$DB_ARCHIVE_VOLUME" ]] || return 0
  docker exec "$DB_ID" ls "$DB_ARCHIVE" 2>/dev/null || true
}

# Closes the current WAL segment and waits until the archive has it, so that the archive covers
# every transaction committed until now. Fails loudly when archiving fails.
db_archive_now() {
  local segment deadline=$((SECONDS + 60)) row
  segment="$(db_value "$DB_ID" "select pg_walfile_name(pg_switch_wal())")" || db_fail "pg_switch_wal failed"
  while ((SECONDS < deadline)); do
    row="$(db_value "$DB_ID" "select coalesce(last_archived_wal, ''), failed_count, coalesce(last_failed_wal, '') from pg_stat_archiver" -F ' ')"
    read -r archived failed failed_wal <<<"$row"
    [[ -n "$archived" && ! "${archived:0:24}" < "$segment" ]] && return 0
    sleep 0.5
  done
  db_fail "the WAL archive does not receive $segment (pg_stat_archiver: last archived ${archived:-none}, $failed failure(s), last failed ${failed_wal:-none}): see the database's log"
}

# Human-readable UTC time of an epoch.
db_utc() { date -u -d "@$1" '+%Y-%m-%d %H:%M:%S UTC'; }

# Chooses the base backup for a point-in-time restore to epoch `when` (newest backup made with
# archiving on, whose first WAL segment is still in the archive, finished before `when`); refuses
# with the range available when there is none.
db_pitr_base() {
  local dir="$1" target="$2" when="$3" what="$4" file manifest end oldest="" chosen="" listing
  listing="$(db_archive_listing)"
  while read -r file; do
    [[ -n "$file" ]] || continue
    manifest="$(db_manifest_of "$file")"
    [[ "$(db_manifest_get "$manifest" archive_mode)" == on ]] || continue
    grep -qx "$(db_manifest_get "$manifest" start_wal)" <<<"$listing" || continue
    end="$(db_manifest_get "$manifest" end_time_epoch)"
    [[ -z "$oldest" || "$end" -lt "$oldest" ]] && oldest="$end"
    ((end < when)) && chosen="$file"
  done < <(db_backups_of "$dir" "$target")
  local now
  now="$(date +%s)"
  [[ -n "$oldest" ]] || db_refuse "no point in time is available for $target: no backup in $dir taken with WAL archiving whose WAL is still in the archive (take one: scripts/db-backup.sh $target)"
  if [[ -z "$chosen" || "$when" -gt "$now" ]]; then
    db_refuse "$what is outside what can be restored: from $(db_utc "$oldest") (oldest base backup) to now, $(db_utc "$now"); nothing changed"
  fi
  printf '%s' "$chosen"
}

# Ledger checks on the cluster reachable with `psql_cmd...`; prints one line of figures, returns 1
# when an invariant does not hold.
db_ledger_checks() {
  local row users transfers journal unbalanced journal_off accounts_off users_off audit
  row="$("$@" -At -F ' ' -c "
    select (select count(*) from users),
           (select count(*) from transfers),
           (select count(*) from transactions),
           (select count(*) from (select currency from accounts group by currency having sum(balance) <> 0) c),
           (select count(*) from (select currency from transactions group by currency having sum(amount) <> 0) j),
           (select count(*) from accounts a
              where a.balance <> coalesce((select sum(t.amount) from transactions t where t.account_id = a.number), 0)),
           (select count(*) from users u join accounts a on a.user_id = u.id and a.kind = 'primary'
              where u.balance <> a.balance)")" || {
    db_log "the ledger tables cannot be read on the restored copy"
    return 1
  }
  read -r users transfers journal unbalanced journal_off accounts_off users_off <<<"$row"
  audit="$(db_audit_chain "$@")" || return 1
  db_log "ledger checks on the restored copy: $users users, $transfers transfers, $journal journal lines; currencies whose balances do not sum to 0: $unbalanced, whose journal does not sum to 0: $journal_off; accounts off their journal lines: $accounts_off; users.balance off the primary account: $users_off; audit chain: $audit"
  [[ "$unbalanced" == 0 && "$journal_off" == 0 && "$accounts_off" == 0 && "$users_off" == 0 ]]
}

# The audit chain when a table audit_events with (id, hash, prev_hash) exists: every sealed row's
# prev_hash is the hash of the row before it in the chain (seq order; the newest rows may not be
# sealed yet). Prints what was found.
db_audit_chain() {
  local columns broken
  columns="$("$@" -At -c "select count(*) from information_schema.columns
    where table_name = 'audit_events' and column_name in ('id', 'hash', 'prev_hash')")" || return 1
  if [[ "$("$@" -At -c "select to_regclass('audit_events') is not null")" != t ]]; then
    echo "no audit_events table"
  elif [[ "$columns" != 3 ]]; then
    echo "audit_events has no (id, hash, prev_hash) chain, not checked"
  else
    broken="$("$@" -At -c "select count(*) from (select prev_hash, lag(hash) over (order by seq) as before
      from audit_events where seq is not null) c where before is not null and prev_hash is distinct from before")" || return 1
    echo "$broken broken link(s)"
    [[ "$broken" == 0 ]]
  fi
}

# psql in the temporary restore container.
db_psql_restored() {
  docker exec -i -u postgres "$DB_RESTORE_CONTAINER" psql -X -q -v ON_ERROR_STOP=1 -U "$DB_USER" -d "$DB_NAME" "$@"
}

db_restore_cleanup() {
  [[ -n "${DB_RESTORE_CONTAINER:-}" ]] && docker rm -f "$DB_RESTORE_CONTAINER" >/dev/null 2>&1
  if [[ -n "${DB_RESTORE_DIR:-}" ]]; then
    # shellcheck disable=SC2016 # expanded by the helper's bash
    db_helper -c 'rm -rf "/var/lib/postgresql/data/$1"' rm "$DB_RESTORE_DIR" >/dev/null 2>&1 || true
    db_log "the live $DB_TARGET database was not changed (restore-$DB_STAMP removed)"
  fi
  return 0
}

# Recovers `backup` into restore-<stamp> and checks it. Extra arguments: PostgreSQL settings for
# the recovery target (default: the end of the backup).
db_restore_prepare() {
  local backup="$1"
  shift
  local targets=("$@") restore_command="false" started
  ((${#targets[@]})) || targets=(-c recovery_target=immediate)
  [[ -n "$DB_ARCHIVE_VOLUME" ]] && restore_command="cp $DB_ARCHIVE/%f %p"
  DB_STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
  DB_RESTORE_DIR="restore-$DB_STAMP"
  DB_RESTORE_CONTAINER="$(db_project "$DB_TARGET")-restore-$DB_STAMP"
  trap db_restore_cleanup EXIT
  started="$(db_now_ms)"
  # shellcheck disable=SC2016 # expanded by the helper's bash
  gzip -dc "$backup" | db_helper -c 'set -e; d="/var/lib/postgresql/data/$1"; mkdir -m 700 "$d"
    tar -C "$d" -xf -; touch "$d/recovery.signal"; rm -f "$d/postmaster.pid"' unpack "$DB_RESTORE_DIR" ||
    db_fail "cannot unpack $backup into the database volume (disk full?)"
  db_log "unpacked into $DB_VOLUME/$DB_RESTORE_DIR in $(db_seconds_since "$started") s; recovering with the stack's image $DB_IMAGE"
  local args=(-d --name "$DB_RESTORE_CONTAINER" -u postgres --network none -v "$DB_VOLUME:/var/lib/postgresql/data")
  [[ -n "$DB_ARCHIVE_VOLUME" ]] && args+=(-v "$DB_ARCHIVE_VOLUME:$DB_ARCHIVE:ro")
  docker run "${args[@]}" --entrypoint postgres "$DB_IMAGE" -D "/var/lib/postgresql/data/$DB_RESTORE_DIR" \
    -c listen_addresses= -c unix_socket_directories=/var/run/postgresql -c archive_mode=off \
    -c "restore_command=$restore_command" -c recovery_target_action=promote "${targets[@]}" >/dev/null ||
    db_fail "cannot start the temporary PostgreSQL"
  local deadline=$((SECONDS + DB_RESTORE_TIMEOUT)) state
  while :; do
    state="$(db_psql_restored -At -c 'select pg_is_in_recovery()' 2>/dev/null || true)"
    [[ "$state" == f ]] && break
    if [[ "$(docker inspect -f '{{.State.Running}}' "$DB_RESTORE_CONTAINER")" != true ]] || ((SECONDS > deadline)); then
      docker logs --tail 15 "$DB_RESTORE_CONTAINER" >&2 2>&1 || true
      db_fail "the restored copy did not finish its recovery (PostgreSQL's log above)"
    fi
    sleep 0.5
  done
  DB_RECOVERED_TO="$(docker logs "$DB_RESTORE_CONTAINER" 2>&1 | sed -n 's/.*\(recovery stopping [^"]*\|consistent recovery state reached [^"]*\|last completed transaction was at log time .*\)$/\1/p' | tail -1)"
  db_log "recovered and promoted in $(db_seconds_since "$started") s${DB_RECOVERED_TO:+ ($DB_RECOVERED_TO)}"

  local restored_schema live_schema
  restored_schema="$(db_psql_restored -At -c "select coalesce((select max(name) from knex_migrations), 'none')")" ||
    db_fail "the restored copy has no readable schema version"
  live_schema="$(db_schema_version "$DB_ID")"
  if [[ "$live_schema" != none && "$restored_schema" > "$live_schema" ]]; then
    db_refuse "the backup's schema ($restored_schema) is newer than the live database's ($live_schema): deploy the release that has it first; nothing changed"
  fi
  db_ledger_checks db_psql_restored || db_fail "the restored copy breaks the ledger's invariants (figures above): not switched"
  # PostgreSQL is the container's process 1: SIGINT is its fast shutdown (a clean checkpoint).
  docker kill -s INT "$DB_RESTORE_CONTAINER" >/dev/null || db_fail "cannot stop the temporary PostgreSQL"
  [[ "$(timeout 120 docker wait "$DB_RESTORE_CONTAINER")" == 0 ]] || db_fail "the temporary PostgreSQL did not stop cleanly"
  docker rm -f "$DB_RESTORE_CONTAINER" >/dev/null
  DB_RESTORE_CONTAINER=""
}

# Running containers of the target's stack that write to the database (everything but the
# database itself, its standby and the gateway).
db_writers() {
  docker ps --filter "label=com.docker.compose.project=$(db_project "$DB_TARGET")" \
    --format '{{.ID}} {{.Label "com.docker.compose.service"}}' |
    awk '$2 != "db" && $2 != "db_standby" && $2 != "gateway" { print $1 }'
}

db_wait_healthy() {
  local deadline=$((SECONDS + 180)) id status
  for id in "$@"; do
    while :; do
      status="$(docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}' "$id")"
      [[ "$status" == healthy || "$status" == running ]] && break
      ((SECONDS < deadline)) || db_fail "container $id is $status after the switch (docker logs $id)"
      sleep 0.5
    done
  done
}

# The restored copy was promoted with archiving off, so the history file of its new timeline is
# only in its own pg_wal. Copied to the archive here, a later restore (from this backup or an
# older one) sees that timeline as taken and picks the next one. Without it, two clusters would
# write segments of the same name: the archive refuses the second, archiving stalls, and every
# backup after it waits for a segment that never comes.
db_archive_timeline_history() {
  [[ -n "$DB_ARCHIVE_VOLUME" ]] || return 0
  # shellcheck disable=SC2016 # expanded by the helper's bash
  docker run --rm -u postgres --network none -v "$DB_VOLUME:/var/lib/postgresql/data" \
    -v "$DB_ARCHIVE_VOLUME:$DB_ARCHIVE" --entrypoint bash "$DB_IMAGE" -c 'set -euo pipefail; shopt -s nullglob
    for f in /var/lib/postgresql/data/pg_wal/*.history; do
      a="$1/${f##*/}"
      [[ -e "$a" ]] || { cp "$f" "$a.part"; mv "$a.part" "$a"; }
    done' archive "$DB_ARCHIVE"
}

# Step 5: writers stop, renames, everything starts again. Prints the downtime.
db_restore_switch() {
  local writers started gateway
  started="$(db_now_ms)"
  mapfile -t writers < <(db_writers)
  db_log "switching: stopping ${#writers[@]} writer container(s), then the database"
  ((${#writers[@]} == 0)) || docker stop "${writers[@]}" >/dev/null || db_fail "cannot stop the writers"
  docker stop "$DB_ID" >/dev/null || db_fail "cannot stop the database"
  # shellcheck disable=SC2016 # expanded by the helper's bash
  db_helper -c 'set -euo pipefail; shopt -s dotglob nullglob; cd /var/lib/postgresql/data
    mkdir -m 700 "previous-$1"
    for e in *; do [[ "$e" == previous-* || "$e" == restore-* ]] || mv "$e" "previous-$1/"; done
    mv "restore-$1"/* . && rmdir "restore-$1"' switch "$DB_STAMP" ||
    db_fail "the switch failed inside $DB_VOLUME: look at it before starting the database (previous-$DB_STAMP holds the old cluster)"
  DB_RESTORE_DIR=""
  trap - EXIT
  db_archive_timeline_history ||
    db_log "warning: the new timeline's history file could not be copied to the WAL archive; take a backup once the database is up (scripts/db-backup.sh $DB_TARGET) and check that it succeeds"
  docker start "$DB_ID" >/dev/null || db_fail "the database did not start on the restored cluster (previous-$DB_STAMP holds the old one)"
  db_wait_healthy "$DB_ID"
  local deadline=$((SECONDS + 120))
  # shellcheck disable=SC2016 # expanded inside the container; its role, not root's (which the
  # server would log as a FATAL "role does not exist" on every probe)
  until docker exec "$DB_ID" sh -c 'pg_isready -q -U "$POSTGRES_USER" -d "$POSTGRES_DB"' 2>/dev/null; do
    ((SECONDS < deadline)) || db_fail "the database does not accept connections on the restored cluster (docker logs $DB_ID)"
    sleep 0.3
  done
  if ((${#writers[@]})); then
    docker start "${writers[@]}" >/dev/null || db_fail "the services did not start again"
    db_wait_healthy "${writers[@]}"
  fi
  gateway="$(docker ps -q --filter "label=com.docker.compose.project=$(db_project "$DB_TARGET")" --filter label=com.docker.compose.service=gateway | head -1)"
  if [[ -n "$gateway" ]]; then
    # The services may have new addresses: the gateway resolves them again on a reload.
    if ! docker exec "$gateway" nginx -t -q || ! docker exec "$gateway" nginx -s reload; then
      db_fail "the gateway did not reload"
    fi
  fi
  DB_SWITCH_SECONDS="$(db_seconds_since "$started")"
  db_log "switched in $DB_SWITCH_SECONDS s (writers stopped during that time)"
}
