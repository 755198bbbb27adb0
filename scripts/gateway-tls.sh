#!/usr/bin/env bash
# The gateway's exposure and its certificate: who can reach the UAT/PROD gateway, and over what.
# Sourced by scripts/deploy_blue_green_local.sh, and runnable by hand:
#
#   scripts/gateway-tls.sh issue uat|prod   make (or reuse) the local CA and the target's
#                                           certificate; prints the CA's path (to trust it)
#   scripts/gateway-tls.sh check CERT KEY   what the deploy checks in a certificate and its key
#
# The rules (docs/CD-PIPELINE.md, "Exposition du gateway"):
#   GATEWAY_BIND_ADDRESS   host address the gateway is published on; default 127.0.0.1 (this
#                          machine only). Anything else is "beyond loopback".
#   GATEWAY_TLS=on|off     HTTPS on the same port; default off on loopback, on beyond it.
#                          off beyond loopback is refused: the bank never speaks plain HTTP to
#                          the network.
#   GATEWAY_TLS_CERT, GATEWAY_TLS_KEY   the operator's own certificate (PEM, chain included)
#                          and key; both or neither. Neither: a certificate issued by a local CA
#                          that this script creates on first use in <state>/tls (openssl), for
#                          localhost, 127.0.0.1, ::1 and GATEWAY_TLS_NAMES (host names or
#                          addresses, separated by spaces or commas).
# A certificate or key that is missing, unreadable, expired, not PEM, or that do not match each
# other stops the deploy before anything changes (exit 2), with one line naming the file.

GATEWAY_TLS_CA_DAYS=3650
GATEWAY_TLS_CERT_DAYS=397
# A certificate expiring within this many seconds is re-issued (local CA) before it can expire
# in service: 30 days.
GATEWAY_TLS_RENEW_S=2592000

gateway_tls_refuse() {
  printf '%s: %s\n' "${DEPLOY_NAME:-gateway-tls}" "$*" >&2
  exit 2
}

gateway_tls_state() { printf '%s/tls' "${BANK_STATE_DIR:-$HOME/.fintech-test}"; }

gateway_is_loopback() {
  case "$1" in 127.* | ::1 | localhost) return 0 ;; *) return 1 ;; esac
}

# Checks and exports GATEWAY_BIND_ADDRESS and GATEWAY_TLS (what the compose files read) before
# anything runs; exit 2 with one line on a bad value.
gateway_tls_resolve() {
  GATEWAY_BIND_ADDRESS="${GATEWAY_BIND_ADDRESS:-127.0.0.1}" GATEWAY_TLS_NAMES="${GATEWAY_TLS_NAMES:-}"
  [[ "$GATEWAY_BIND_ADDRESS" =~ ^([0-9]{1,3}(\.[0-9]{1,3}){3}|[0-9A-Fa-f:]*:[0-9A-Fa-f:]*)$ ]] ||
    gateway_tls_refuse "GATEWAY_BIND_ADDRESS must be an IP address of this host (127.0.0.1, 0.0.0.0, 192.168.1.20...), got '$GATEWAY_BIND_ADDRESS'"
  local default=on
  gateway_is_loopback "$GATEWAY_BIND_ADDRESS" && default=off
  GATEWAY_TLS="${GATEWAY_TLS:-$default}"
  case "$GATEWAY_TLS" in
    on | off) ;;
    *) gateway_tls_refuse "unknown GATEWAY_TLS '$GATEWAY_TLS' (expected on or off; default off on loopback, on beyond it)" ;;
  esac
  if [[ "$GATEWAY_TLS" == off ]] && ! gateway_is_loopback "$GATEWAY_BIND_ADDRESS"; then
    gateway_tls_refuse "GATEWAY_TLS=off with GATEWAY_BIND_ADDRESS=$GATEWAY_BIND_ADDRESS: a gateway reachable from other machines serves HTTPS only (unset GATEWAY_TLS, or bind 127.0.0.1)"
  fi
  if [[ -n "${GATEWAY_TLS_CERT:-}" || -n "${GATEWAY_TLS_KEY:-}" ]]; then
    [[ -n "${GATEWAY_TLS_CERT:-}" && -n "${GATEWAY_TLS_KEY:-}" ]] ||
      gateway_tls_refuse "GATEWAY_TLS_CERT and GATEWAY_TLS_KEY go together (the certificate and its private key)"
  fi
  local name
  for name in $(gateway_tls_names); do
    [[ "$name" =~ ^[A-Za-z0-9*]([A-Za-z0-9.-]*[A-Za-z0-9])?$ || "$name" =~ ^[0-9A-Fa-f:.]+$ ]] ||
      gateway_tls_refuse "GATEWAY_TLS_NAMES: '$name' is neither a host name nor an IP address"
  done
  export GATEWAY_BIND_ADDRESS GATEWAY_TLS
}

# The names of a local certificate: localhost and the loopback addresses, then GATEWAY_TLS_NAMES.
gateway_tls_names() {
  local extra=()
  local names="${GATEWAY_TLS_NAMES:-}"
  read -ra extra <<<"${names//,/ }"
  printf '%s\n' localhost 127.0.0.1 ::1 "${extra[@]}"
}

# One-line reasons a certificate/key pair cannot be served; prints the reason and returns 1.
gateway_tls_check() {
  local cert="$1" key="$2" file end cert_pub key_pub
  for file in "$cert" "$key"; do
    [[ -e "$file" ]] || { echo "$file does not exist" && return 1; }
    [[ -r "$file" ]] || { echo "$file is not readable by $(id -un)" && return 1; }
  done
  openssl x509 -noout -in "$cert" 2>/dev/null || { echo "$cert is not a PEM certificate" && return 1; }
  if ! openssl x509 -noout -checkend 0 -in "$cert" >/dev/null 2>&1; then
    end="$(openssl x509 -noout -enddate -in "$cert" | sed 's/^notAfter=//')"
    echo "$cert expired on $end"
    return 1
  fi
  # An empty passphrase, never a prompt: nginx could not read an encrypted key either.
  key_pub="$(openssl pkey -pubout -in "$key" -passin pass: 2>/dev/null </dev/null)" ||
    { echo "$key is not an unencrypted PEM private key" && return 1; }
  cert_pub="$(openssl x509 -noout -pubkey -in "$cert")"
  [[ "$cert_pub" == "$key_pub" ]] || { echo "$key does not match the certificate $cert" && return 1; }
}

# The local CA, created on first use (mode 600 key); prints its certificate's path.
gateway_tls_ca() {
  local dir
  dir="$(gateway_tls_state)"
  (umask 077 && mkdir -p "$dir") || return 1
  if [[ ! -s "$dir/ca.pem" || ! -s "$dir/ca-key.pem" ]]; then
    (umask 077 && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
      -keyout "$dir/ca-key.pem" -out "$dir/ca.pem" -days "$GATEWAY_TLS_CA_DAYS" \
      -subj "/O=Fintech-test/CN=Fintech-test local CA $(hostname) $(date +%Y-%m-%d)" \
      -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null) ||
      { echo "gateway-tls: openssl could not create the local CA in $dir" >&2 && return 1; }
    chmod 644 "$dir/ca.pem"
    echo "gateway-tls: created the local CA $dir/ca.pem (trust it to browse the bank without a warning)" >&2
  fi
  printf '%s/ca.pem' "$dir"
}

# <state>/tls/<target>.pem and <target>-key.pem from the local CA, re-issued when missing, due to
# expire within 30 days, issued by another CA, or for other names. Prints "CERT KEY".
gateway_tls_issue() {
  local target="$1" dir ca names san="" name cert key
  ca="$(gateway_tls_ca)" || return 1
  dir="$(gateway_tls_state)"
  cert="$dir/$target.pem" key="$dir/$target-key.pem"
  names="$(gateway_tls_names | awk '!seen[$0]++' | paste -sd ' ' -)"
  if [[ -s "$cert" && -s "$key" && "$(cat "$dir/$target.names" 2>/dev/null)" == "$names" ]] &&
    openssl x509 -noout -checkend "$GATEWAY_TLS_RENEW_S" -in "$cert" >/dev/null 2>&1 &&
    openssl verify -CAfile "$ca" "$cert" >/dev/null 2>&1; then
    printf '%s %s\n' "$cert" "$key"
    return 0
  fi
  for name in $names; do
    if [[ "$name" =~ ^[0-9.]+$ || "$name" == *:* ]]; then san+="IP:$name,"; else san+="DNS:$name,"; fi
  done
  local csr ext
  csr="$(mktemp)" ext="$(mktemp)"
  printf 'subjectAltName=%s\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n' \
    "${san%,}" >"$ext"
  if ! (umask 077 && openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$key.new" \
    -out "$csr" -subj "/O=Fintech-test/CN=localhost" 2>/dev/null &&
    openssl x509 -req -in "$csr" -CA "$ca" -CAkey "$dir/ca-key.pem" -CAcreateserial -days "$GATEWAY_TLS_CERT_DAYS" \
      -extfile "$ext" -out "$cert.new" 2>/dev/null); then
    rm -f "$csr" "$ext" "$key.new" "$cert.new"
    echo "gateway-tls: openssl could not issue the $target certificate in $dir" >&2
    return 1
  fi
  rm -f "$csr" "$ext"
  mv -f "$key.new" "$key" && mv -f "$cert.new" "$cert"
  printf '%s\n' "$names" >"$dir/$target.names"
  echo "gateway-tls: issued $cert for $names (local CA $ca, valid $GATEWAY_TLS_CERT_DAYS days)" >&2
  printf '%s %s\n' "$cert" "$key"
}

# The deploy's certificate step, before anything changes (GATEWAY_TLS=on only): the operator's
# pair or the local CA's, checked. Sets GATEWAY_TLS_CERT_FILE / GATEWAY_TLS_KEY_FILE, and makes
# this deploy's own checks (curl, k6) trust what the gateway will serve: the local CA, or for the
# operator's certificate, whose names need not include localhost, its public key (pinned).
gateway_tls_prepare() {
  local target="$1" problem
  [[ "$GATEWAY_TLS" == on ]] || return 0
  if [[ -n "${GATEWAY_TLS_CERT:-}" ]]; then
    GATEWAY_TLS_CERT_FILE="$GATEWAY_TLS_CERT" GATEWAY_TLS_KEY_FILE="$GATEWAY_TLS_KEY"
  else
    local pair
    pair="$(gateway_tls_issue "$target")" ||
      gateway_tls_refuse "no certificate for the $target gateway (see the line above); nothing was changed"
    read -r GATEWAY_TLS_CERT_FILE GATEWAY_TLS_KEY_FILE <<<"$pair"
  fi
  problem="$(gateway_tls_check "$GATEWAY_TLS_CERT_FILE" "$GATEWAY_TLS_KEY_FILE")" ||
    gateway_tls_refuse "GATEWAY_TLS: $problem; nothing was changed"
  local curl_home
  curl_home="$(gateway_tls_state)/curl-$target"
  (umask 077 && mkdir -p "$curl_home") || gateway_tls_refuse "cannot write $curl_home"
  if [[ -n "${GATEWAY_TLS_CERT:-}" ]]; then
    local pin
    pin="$(openssl x509 -noout -pubkey -in "$GATEWAY_TLS_CERT_FILE" | openssl pkey -pubin -outform der |
      openssl dgst -sha256 -binary | base64)"
    printf 'insecure\npinnedpubkey = "sha256//%s"\n' "$pin" >"$curl_home/.curlrc"
    export K6_INSECURE_SKIP_TLS_VERIFY=true
    log "HTTPS with $GATEWAY_TLS_CERT_FILE (yours); this deploy's own checks pin its public key"
  else
    local ca
    ca="$(gateway_tls_ca)"
    printf 'cacert = "%s"\n' "$ca" >"$curl_home/.curlrc"
    export SSL_CERT_FILE="$ca"
    log "HTTPS with $GATEWAY_TLS_CERT_FILE from the local CA: trust $ca to browse without a warning"
  fi
  # curl reads $CURL_HOME/.curlrc: every check of this deploy (wait_for_http.sh, smoke) goes
  # through it without an option added to each call.
  export CURL_HOME="$curl_home"
}

# Copies the pair into the gateway's TLS volume through a container of the gateway's image that
# mounts it (`docker exec -i` into the running gateway, or `compose run`), on stdin: the key is
# never on a command line. Usage: gateway_tls_install COMMAND... (the container command prefix,
# which must run `gateway-tls-install`).
gateway_tls_install() {
  [[ "$GATEWAY_TLS" == on ]] || return 0
  local dir
  dir="$(mktemp -d)"
  cp "$GATEWAY_TLS_CERT_FILE" "$dir/cert.pem"
  (umask 077 && cp "$GATEWAY_TLS_KEY_FILE" "$dir/key.pem")
  if ! tar -C "$dir" -cf - cert.pem key.pem | "$@" >&2; then
    rm -rf "$dir"
    return 1
  fi
  rm -rf "$dir"
}

# PROD, gateway running (deploy_prod.sh, before the flip): installs this deploy's certificate in
# the gateway's volume (the flip's reload serves it), or, when the gateway's published address or
# GATEWAY_TLS differ from this deploy's, re-creates the gateway with the gateway image of the
# release being deployed (built, pulled, or already here; a release without one keeps the running
# gateway's image): its port does not answer for a few seconds, which the log says.
#   gateway_expose_prod ACTIVE NAME TAG SOURCE(build|pull|local)
gateway_expose_prod() {
  local active="$1" name="$2" tag="$3" source="$4" gw tls address image scheme=http
  gw="$(prod_container gateway)"
  tls="$(docker inspect -f '{{range .Config.Env}}{{println .}}{{end}}' "$gw" | sed -n 's/^GATEWAY_TLS=//p')"
  address="$(docker inspect -f '{{range $port, $bindings := .HostConfig.PortBindings}}{{range $bindings}}{{.HostIp}}{{end}}{{end}}' "$gw")"
  tls="${tls:-off}" address="${address:-0.0.0.0}"
  if [[ "$tls" == "$GATEWAY_TLS" && "$address" == "$GATEWAY_BIND_ADDRESS" ]]; then
    gateway_tls_install docker exec -i "$gw" gateway-tls-install ||
      die "the certificate could not be installed in the gateway; $active keeps serving"
    return 0
  fi
  [[ "$tls" == on ]] && scheme=https
  case "$source" in
    build) prod_compose_release "$name" "$tag" build gateway >&2 || die "gateway image build failed; $active keeps serving" ;;
    pull) pull_release "$name" "$tag" gateway ;;
  esac
  if ! docker image inspect "$(release_image "$name" "$tag" gateway)" >/dev/null 2>&1; then
    image="$(docker inspect -f '{{.Config.Image}}' "$gw")"
    name="${image%-gateway:*}" tag="${image##*:}"
  fi
  log "gateway exposure changes from $address ($scheme) to $GATEWAY_BIND_ADDRESS (${PROD_URL%%:*}): re-creating the gateway with $(release_image "$name" "$tag" gateway); its port does not answer for a few seconds"
  gateway_tls_install prod_compose_release "$name" "$tag" run --rm --no-deps -T --entrypoint gateway-tls-install gateway ||
    die "the certificate could not be installed in the gateway's volume; $active keeps serving"
  prod_compose_release "$name" "$tag" up -d --no-build --no-deps gateway >&2 || die "the gateway did not start with the new exposure"
  "$ROOT_DIR/scripts/wait_for_http.sh" "$PROD_URL/health" "$HEALTH_TIMEOUT" 0.2 >/dev/null ||
    die "the re-created gateway does not answer on $PROD_URL"
  log "gateway re-created: $PROD_URL serves $active"
}

# The URL of a gateway published on `port` of this host, as this deploy reaches it.
gateway_url() {
  if [[ "$GATEWAY_TLS" == on ]]; then printf 'https://localhost:%s' "$1"; else printf 'http://localhost:%s' "$1"; fi
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  set -euo pipefail
  case "${1:-}" in
    issue)
      [[ "${2:-}" == uat || "${2:-}" == prod ]] || gateway_tls_refuse "usage: $0 issue uat|prod"
      pair="$(gateway_tls_issue "$2")" || exit 1
      read -r cert key <<<"$pair"
      printf 'certificate %s\nkey %s\nCA %s\n' "$cert" "$key" "$(gateway_tls_ca)"
      ;;
    check)
      [[ $# -eq 3 ]] || gateway_tls_refuse "usage: $0 check CERT KEY"
      if problem="$(gateway_tls_check "$2" "$3")"; then echo "ok: $2 and $3"; else gateway_tls_refuse "$problem"; fi
      ;;
    *) gateway_tls_refuse "usage: $0 issue uat|prod | $0 check CERT KEY" ;;
  esac
fi
