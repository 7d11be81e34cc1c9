#!/usr/bin/env bash
# The browser test (test/browser/temporal-ui.test.ts): headless Chromium from Debian's `chromium`
# package, driven by playwright-core, reads a waiting import's page in the Temporal Web UI.
# Installs chromium with apt-get when it is missing (CI runs as root; a person without root is told
# the command). Screenshots land in test-artifacts/ui/. `npm run test:browser` runs this script.
set -euo pipefail
cd "$(dirname "$0")/.."
chromium="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ ! -x "$chromium" ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "browser test: $chromium is missing; install it with: sudo apt-get install -y chromium" >&2
    exit 2
  fi
  echo "browser test: installing Debian's chromium (about 300 MB, 1-2 min on a first run)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium >/dev/null
fi
echo "browser test: $("$chromium" --version 2>/dev/null | tail -n 1)"
node --import tsx --test --test-reporter=spec --test-concurrency=1 --test-timeout=600000 test/browser/*.test.ts
