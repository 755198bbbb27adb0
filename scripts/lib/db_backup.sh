#!/usr/bin/env bash
# Database backups of the UAT and PROD stacks (sourced by scripts/db-backup.sh, db-restore.sh and
# the PROD deploy, not run). docs/SAUVEGARDES.md tells the operator's side.
#
# Format (the same with the official postgres:16 image and our offline one, which has no pg_dump
# nor pg_basebackup): a physical base backup made with PostgreSQL's low-level API, in one psql
# session inside the database container: a temporary replication slot keeps the WAL, then
# pg_backup_start, a tar of the data directory, pg_backup_stop, and the backup_label it returns
# plus the WAL segments from the start to the end of the backup are appended to the tar. The file
# is therefore self-contained: it restores without the WAL archive. Files, in BACKUP_DIR (default
# <state>/backups, mode 700):
#   bank-<target>-<UTC stamp>.tar.gz        the backup (mode 600)
#   bank-<target>-<UTC stamp>.manifest      key=value lines: time, release, schema version, size,
#                                           sha256, WAL positions... (mode 600)
# Functions print their messages on stderr; `db_fail` exits 1, `db_refuse` exits 2 (nothing changed).

# The WAL archive's mount point in the PROD database container (compose: prod_pgwal_archive).
# shellcheck disable=SC2034 # used by scripts/lib/db_restore.sh
readonly DB_ARCHIVE=/var/lib/postgresql/archive
DB_LOG_NAME="${DB_LOG_NAME:-db-backup}"

db_log() { printf '[%s] %s\n' "$DB_LOG_NAME" "$*" >&2; }
db_fail() {
  db_log "FAILED: $*"
  exit 1
}
db_refuse() {
  printf '%s: %s\n' "$DB_LOG_NAME" "$*" >&2
  exit 2
}

# PLATFORM=compose (default): the stacks of this host's engine. PLATFORM=swarm: PROD on the local
# Docker Swarm of scripts/cluster.sh (deploy/swarm/docker-stack.prod.yml), whose database
# containers run inside the node containers.
# shellcheck source=scripts/lib/swarm_manager.sh
source "$(dirname "${BASH_SOURCE[0]}")/swarm_manager.sh"
db_on_swarm() { [[ "${PLATFORM:-compose}" == swarm ]]; }

# docker for a database container, on the engine that runs it: this host's, or for a Swarm task
# written NODE:ID (swarm_task_container) the node's: the manager's socket when usable (one hop
# less: the backup before a deploy makes a dozen of these calls), else `docker exec NODE docker
# ...` (with -i when the call passes stdin on).
db_docker() {
  local arg node="" args=()
  for arg in "$@"; do
    if [[ "$arg" =~ ^(bank-node-[0-9]+):([0-9a-f]{64})$ ]]; then
      node="${BASH_REMATCH[1]}" arg="${BASH_REMATCH[2]}"
    fi
    args+=("$arg")
  done
  if [[ -z "$node" ]]; then
    docker "${args[@]}"
  elif [[ "$node" == "$SWARM_MANAGER" ]] && swarm_socket_usable; then
    DOCKER_HOST="unix://$SWARM_SOCKET" docker "${args[@]}"
  elif [[ " ${args[*]} " == *" -i "* ]]; then
    docker exec -i "$node" docker "${args[@]}"
  else
    docker exec "$node" docker "${args[@]}"
  fi
}

db_now_ms() { date +%s%3N; }
db_seconds_since() { awk -v a="$1" -v b="$(db_now_ms)" 'BEGIN { printf "%.1f", (b - a) / 1000 }'; }

db_check_target() {
  [[ "${1:-}" == uat || "${1:-}" == prod ]] || db_refuse "unknown target '${1:-}' (expected uat or prod)"
  case "${PLATFORM:-compose}" in
    compose) ;;
    swarm) [[ "$1" == prod ]] || db_refuse "PLATFORM=swarm runs PROD only (got $1)" ;;
    *) db_refuse "unknown PLATFORM '$PLATFORM' (expected compose or swarm)" ;;
  esac
}

# The Compose project of a target (BANK_DB_PROJECT: another project, for tests by hand).
db_project() { printf '%s' "${BANK_DB_PROJECT:-bank-$1}"; }

# The running database container of a target's stack (empty when it is not running): the
# service db, or after scripts/db-promote.sh the promoted standby.
db_container() {
  local id
  if db_on_swarm; then
    id="$(swarm_task_container db)"
    if [[ -z "$id" ]]; then
      id="$(swarm_task_container db_standby)"
      [[ -n "$id" && "$(db_value "$id" "select pg_is_in_recovery()" 2>/dev/null)" == f ]] || id=""
    fi
    printf '%s' "$id"
    return 0
  fi
  id="$(docker ps -q --filter "label=com.docker.compose.project=$(db_project "$1")" \
    --filter "label=com.docker.compose.service=db" | head -1)"
  if [[ -z "$id" ]]; then
    id="$(docker ps -q --filter "label=com.docker.compose.project=$(db_project "$1")" \
      --filter "label=com.docker.compose.service=db_standby" | head -1)"
    [[ -n "$id" && "$(db_value "$id" "select pg_is_in_recovery()" 2>/dev/null)" == f ]] || id=""
  fi
  printf '%s' "$id"
}

db_require_running() {
  if db_on_swarm; then
    DB_ID="$(db_container prod)"
    [[ -n "$DB_ID" ]] || db_refuse "the prod database is not running on the swarm (service ${SWARM_STACK}_db): start it first (TARGET=prod PLATFORM=swarm scripts/deploy_blue_green_local.sh)"
    return 0
  fi
  DB_ID="$(db_container "$1")"
  [[ -n "$DB_ID" ]] || db_refuse "the $1 database is not running (project bank-$1, service db): start it first (TARGET=$1 scripts/deploy_blue_green_local.sh)"
}

# psql in the database container, as the stack's user on its database, over the local socket.
# Extra arguments go to psql; SQL on stdin or with -c.
db_psql_in() {
  local id="$1"
  shift
  # shellcheck disable=SC2016 # expanded by the shell inside the container
  db_docker exec -i -u postgres "$id" bash -c 'exec psql -X -q -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -d "${POSTGRES_DB:-$POSTGRES_USER}" "$@"' psql "$@"
}

# One value from a query.
db_value() {
  local id="$1" sql="$2"
  shift 2
  db_psql_in "$id" -At -c "$sql" "$@"
}

db_backup_dir() {
  if [[ -n "${BACKUP_DIR:-}" ]]; then
    [[ -d "$BACKUP_DIR" ]] || db_refuse "BACKUP_DIR $BACKUP_DIR does not exist (create it, mode 700, or unset BACKUP_DIR to use $(state_dir)/backups)"
    printf '%s' "$BACKUP_DIR"
  else
    printf '%s/backups' "$(state_dir)"
  fi
}

# Backups of a target, oldest first (paths of the .tar.gz that have a manifest).
db_backups_of() {
  local dir="$1" target="$2" file
  for file in "$dir"/bank-"$target"-*.tar.gz; do
    [[ -f "$file" && -f "${file%.tar.gz}.manifest" ]] && printf '%s\n' "$file"
  done
  return 0
}

db_manifest_of() { printf '%s.manifest' "${1%.tar.gz}"; }

# A key of a manifest (empty when absent).
db_manifest_get() { sed -n "s/^$2=//p" "$1" | head -1; }

# Newest applied migration (the schema version), or "none".
db_schema_version() {
  db_value "$1" "select coalesce((select name from knex_migrations order by name desc limit 1), 'none')" 2>/dev/null ||
    echo none
}

# "<schema version> <archive_mode> <server_version> <archiving failing: t|f>" in one round trip.
db_facts() {
  local common="current_setting('archive_mode'), current_setting('server_version'),
    (select coalesce(last_failed_time > coalesce(last_archived_time, '-infinity'), false) from pg_stat_archiver)"
  db_psql_in "$1" -At -F ' ' -c "select coalesce((select max(name) from knex_migrations), 'none'), $common" 2>/dev/null ||
    db_psql_in "$1" -At -F ' ' -c "select 'none', $common"
}

# The release the stack runs: PROD's record of the serving colour, else the image of a
# transactions container.
db_release_of() {
  local target="$1" image
  if db_on_swarm; then
    image="$(swarm_docker service ls --filter "label=com.docker.stack.namespace=$SWARM_STACK" --format '{{.Name}} {{.Replicas}} {{.Image}}' 2>/dev/null |
      awk '$1 ~ /_transactions_/ && $2 !~ /^0\// { print $3; exit }')"
    printf '%s' "${image:-unknown}"
    return 0
  fi
  image="$(docker ps --filter "label=com.docker.compose.project=$(db_project "$target")" \
    --format '{{.Label "com.docker.compose.service"}} {{.Image}}' | awk '$1 ~ /^transactions/ { print $2; exit }')"
  printf '%s' "${image:-unknown}"
}

# What runs inside the database container between pg_backup_start and pg_backup_stop's end:
# $1 work dir. Writes backup_label from pg_backup_stop's answer and copies the WAL segments the
# backup needs (start to stop, same timeline, plus history files) next to it.
# shellcheck disable=SC2016 # runs inside the container
readonly DB_COLLECT_WAL='set -euo pipefail
work="$1"
stop_wal="$(head -1 "$work/stop.out")"
tail -n +2 "$work/stop.out" | sed "\${/^\$/d}" >"$work/backup_label"
start_wal="$(sed -n "s/^START WAL LOCATION: .* (file \([0-9A-F]*\))\$/\1/p" "$work/backup_label")"
[[ -n "$start_wal" && -n "$stop_wal" ]] || { echo "backup_label without WAL positions" >&2; exit 1; }
mkdir -p "$work/pg_wal/archive_status"
n=0
for f in "$PGDATA"/pg_wal/*; do
  name="${f##*/}"
  if [[ "$name" =~ ^[0-9A-F]{24}$ && ! "$name" < "$start_wal" && ! "$name" > "$stop_wal" ]] || [[ "$name" == *.history ]]; then
    cp "$f" "$work/pg_wal/$name"
    n=$((n + 1))
  fi
done
[[ -f "$work/pg_wal/$start_wal" && -f "$work/pg_wal/$stop_wal" ]] || { echo "WAL $start_wal..$stop_wal not all in pg_wal" >&2; exit 1; }
tar -C "$work" -rf "$work/base.tar" backup_label pg_wal
printf "%s %s %s\n" "$start_wal" "$stop_wal" "$n" >"$work/wal.out"'

# Takes a backup of `target` into `dir`; prints the backup's path on stdout (last line).
db_backup_take() {
  local target="$1" dir="$2" id stamp name work dest started schema release archive_mode server_version archive_failing
  db_require_running "$target"
  id="$DB_ID"
  started="$(db_now_ms)"
  if [[ ! -d "$dir" ]]; then
    (umask 077 && mkdir -p "$dir") || db_fail "cannot create $dir"
  fi
  stamp="$(date -u +%Y%m%dT%H%M%SZ)"
  name="bank-$target-$stamp"
  dest="$dir/$name.tar.gz"
  [[ ! -e "$dest" ]] || db_fail "$dest already exists (two backups in the same second?)"
  work="/tmp/$name"
  release="$(db_release_of "$target")"
  read -r schema archive_mode server_version archive_failing < <(db_facts "$id") || db_fail "the $target database does not answer"
  # A backup is only as good as the archive behind it for point-in-time recovery: say it loudly.
  [[ "$archive_failing" != t ]] ||
    db_fail "WAL archiving of $target is failing (pg_stat_archiver: last failure after the last success; see the database's log): fix it before backing up"
  DB_BACKUP_CLEANUP=("$id" "$work" "$dest.partial")
  trap db_backup_cleanup EXIT

  # shellcheck disable=SC2016 # expanded inside the container
  db_docker exec -i -u postgres "$id" bash -c 'rm -rf "$1" && mkdir -m 700 "$1" && cat >"$1/collect-wal.sh"' \
    collect "$work" <<<"$DB_COLLECT_WAL" || db_fail "cannot prepare $work in the database container"
  # One session from start to stop (the low-level API's rule); \! runs the copy inside it. The
  # temporary slot keeps the WAL from being recycled until the session ends. The copy and its
  # compression run niced: the deploy takes this backup while the serving colour answers. GNU tar
  # exits 1 when a file changed or vanished while it read it: normal for a live database (the WAL
  # copied with the backup makes the files consistent at restore), so only its exit 2 fails it.
  db_psql_in "$id" >&2 <<SQL || db_fail "the base backup of $target failed (see above); nothing was written in $dir"
\\pset format unaligned
\\pset tuples_only on
\\o /dev/null
SELECT pg_create_physical_replication_slot('bank_backup_' || pg_backend_pid(), true, true);
SELECT pg_backup_start('$name', true);
\\! nice -n 10 tar -C "\$PGDATA" --warning=no-file-changed --warning=no-file-removed --exclude=./pg_wal --exclude=./postmaster.pid --exclude=./postmaster.opts --exclude='./previous-*' --exclude='./restore-*' --exclude=./backup_label.old -cf "$work/base.tar" . ; [ \$? -le 1 ] || echo 'TAR FAILED' >"$work/failed"
SET statement_timeout = '300s';
\\o $work/stop.out
SELECT pg_walfile_name(lsn) || E'\\n' || labelfile FROM pg_backup_stop(true);
\\o /dev/null
\\! bash "$work/collect-wal.sh" "$work" || echo 'WAL FAILED' >"$work/failed"
SQL
  local wal
  # shellcheck disable=SC2016 # expanded inside the container
  wal="$(db_docker exec "$id" bash -c 'if [[ -f "$1/failed" ]]; then cat "$1/failed"; else cat "$1/wal.out"; fi' wal "$work")" ||
    db_fail "no WAL summary"
  [[ "$wal" != *FAILED* ]] || db_fail "the copy inside the database container failed ($wal)"
  (
    set -o pipefail
    umask 077
    db_docker exec "$id" cat "$work/base.tar" | nice -n 10 gzip -c >"$dest.partial"
  ) || db_fail "cannot write $dest"
  local sha size end_time users transfers
  sha="$(sha256sum "$dest.partial" | cut -d' ' -f1)"
  size="$(stat -c %s "$dest.partial")"
  end_time="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  read -r users transfers < <(db_value "$id" "select (select count(*) from users), (select count(*) from transfers)" -F ' ' 2>/dev/null || echo '0 0')
  read -r start_wal stop_wal wal_files <<<"$wal"
  (
    umask 077
    cat >"$dir/$name.manifest.partial" <<EOF
format=pg-base-backup-tar-gz
target=$target
label=$name
time=$end_time
start_time_epoch=$((started / 1000))
end_time_epoch=$(date +%s)
release=$release
schema_version=$schema
server_version=$server_version
database_image=$(db_docker inspect -f '{{.Config.Image}}' "$id")
archive_mode=$archive_mode
start_wal=$start_wal
stop_wal=$stop_wal
wal_files=$wal_files
users=$users
transfers=$transfers
size=$size
sha256=$sha
EOF
  ) || db_fail "cannot write the manifest"
  mv -f "$dest.partial" "$dest"
  mv -f "$dir/$name.manifest.partial" "$dir/$name.manifest"
  db_log "backup of $target: $dest ($size bytes, schema $schema, release $release, $users users, $transfers transfers) in $(db_seconds_since "$started") s"
  printf '%s\n' "$dest"
}

db_backup_cleanup() {
  local id="${DB_BACKUP_CLEANUP[0]:-}" work="${DB_BACKUP_CLEANUP[1]:-}" partial="${DB_BACKUP_CLEANUP[2]:-}"
  [[ -n "$id" && -n "$work" ]] && db_docker exec "$id" rm -rf "$work" >/dev/null 2>&1
  [[ -n "$partial" ]] && rm -f "$partial" "${partial%.tar.gz.partial}.manifest.partial"
  return 0
}

# Keeps the newest `keep` backups of a target, deletes the older ones with their manifests.
db_backup_prune() {
  local dir="$1" target="$2" keep="$3" files i
  mapfile -t files < <(db_backups_of "$dir" "$target")
  for ((i = 0; i + keep < ${#files[@]}; i++)); do
    rm -f "${files[i]}" "$(db_manifest_of "${files[i]}")"
    db_log "removed ${files[i]} (keeping the last $keep)"
  done
  # The WAL archive only needs to reach back to the oldest backup kept (history files stay).
  local oldest_wal id removed
  oldest_wal="$(db_manifest_get "$(db_manifest_of "${files[i]}")" start_wal)"
  id="$(db_container "$target")"
  [[ -n "$oldest_wal" && -n "$id" ]] || return 0
  # shellcheck disable=SC2016 # expanded inside the container
  removed="$(db_docker exec "$id" bash -c '[[ -d "$1" ]] || { echo 0; exit 0; }; n=0
    for f in "$1"/*; do name="${f##*/}"
      if [[ "$name" =~ ^[0-9A-F]{24}$ && "$name" < "$2" ]]; then rm -f "$f"; n=$((n + 1)); fi
    done; echo "$n"' prune "$DB_ARCHIVE" "$oldest_wal")" || return 0
  ((removed == 0)) || db_log "removed $removed archived WAL segment(s) older than the oldest backup kept ($oldest_wal)"
}

# Checks a backup before anything is touched: manifest, size, sha256, a readable tar holding
# what a cluster needs. One line on failure, exit 2.
db_backup_verify() {
  local file="$1" manifest listing member
  manifest="$(db_manifest_of "$file")"
  [[ -f "$file" ]] || db_refuse "$file does not exist"
  [[ -f "$manifest" ]] || db_refuse "$file has no manifest ($manifest): not a backup made by scripts/db-backup.sh"
  [[ "$(db_manifest_get "$manifest" format)" == pg-base-backup-tar-gz ]] || db_refuse "$manifest: unknown format"
  [[ "$(stat -c %s "$file")" == "$(db_manifest_get "$manifest" size)" ]] ||
    db_refuse "$file is $(stat -c %s "$file") bytes, its manifest says $(db_manifest_get "$manifest" size): truncated or replaced, refused"
  [[ "$(sha256sum "$file" | cut -d' ' -f1)" == "$(db_manifest_get "$manifest" sha256)" ]] ||
    db_refuse "$file does not match the sha256 of its manifest: corrupted or altered, refused"
  listing="$(tar -tzf "$file" 2>/dev/null)" || db_refuse "$file is not a readable tar.gz, refused"
  for member in PG_VERSION global/pg_control backup_label "pg_wal/$(db_manifest_get "$manifest" stop_wal)"; do
    grep -qxE "(\./)?$member" <<<"$listing" || db_refuse "$file lacks $member: incomplete backup, refused"
  done
}
