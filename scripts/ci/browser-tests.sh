#!/usr/bin/env bash
# Browser tier: Debian's Chromium, driven by playwright-core, against both services started by
# the tests themselves. Installs Chromium when it is missing (CI is root on a fresh machine;
# playwright's own browser download does not work where only npm and Debian are reachable).
# Screenshots of every step go to reports/screenshots/, the JUnit report to reports/junit-browser.xml.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

if [[ ! -x /usr/bin/chromium ]]; then
  as_root=()
  if [[ $(id -u) -ne 0 ]]; then as_root=(sudo); fi
  echo "Installing Debian's chromium (apt-get)"
  "${as_root[@]}" apt-get update -qq
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core
fi

rm -rf reports/screenshots
mkdir -p reports/screenshots
npx mocha --config test/browser/.mocharc.json
