#!/usr/bin/env bash
# TLS scan of a gateway by a tool that is not ours: Debian's sslscan, installed with apt-get when
# absent (a fresh CI machine). Prints sslscan's own report, then a one-line verdict; exit 1 when
# the server accepts a protocol below TLS 1.2 or a cipher without forward secrecy (a key exchange
# other than ECDHE/DHE; every TLS 1.3 suite is ephemeral).
#   scripts/ci/tls-scan.sh [HOST:PORT=localhost:5002] [XML_OUT]
# XML_OUT (optional) keeps sslscan's XML report for a test to read.
set -euo pipefail

target="${1:-localhost:5002}"
xml="${2:-$(mktemp)}"

if ! command -v sslscan >/dev/null 2>&1; then
  sudo=()
  [[ "$(id -u)" == 0 ]] || sudo=(sudo -n)
  echo "tls-scan: installing Debian's sslscan (apt-get)" >&2
  "${sudo[@]}" apt-get install -y -qq sslscan >/dev/null 2>&1 ||
    { "${sudo[@]}" apt-get update -qq >/dev/null && "${sudo[@]}" apt-get install -y -qq sslscan >/dev/null; }
fi

start=$SECONDS
sslscan --no-colour --xml="$xml" "$target"
echo "tls-scan: sslscan $(sslscan --version 2>/dev/null | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | head -1) on $target in $((SECONDS - start)) s" >&2

# Protocols the server accepts (enabled="1"), and accepted ciphers without an ephemeral key
# exchange.
mapfile -t protocols < <(grep -oE '<protocol type="[a-z]+" version="[0-9.]+" enabled="1"' "$xml" |
  sed -E 's/.*type="([a-z]+)" version="([0-9.]+)".*/\1v\2/')
mapfile -t weak_protocols < <(printf '%s\n' "${protocols[@]}" | grep -vE '^tlsv1\.[23]$' || true)
mapfile -t no_fs < <(grep -E '<cipher status="(accepted|preferred)"' "$xml" |
  grep -v 'sslversion="TLSv1.3"' | grep -oE 'cipher="[^"]+"' | sed -E 's/cipher="(.*)"/\1/' |
  grep -vE '^(ECDHE|DHE)-' || true)
accepted="$(grep -cE '<cipher status="(accepted|preferred)"' "$xml" || true)"

echo "tls-scan: protocols accepted: ${protocols[*]:-none}; ciphers accepted: $accepted; below TLS 1.2: ${weak_protocols[*]:-none}; without forward secrecy: ${no_fs[*]:-none}"
[[ ${#weak_protocols[@]} -eq 0 || -z "${weak_protocols[0]}" ]] && [[ ${#no_fs[@]} -eq 0 || -z "${no_fs[0]}" ]]
