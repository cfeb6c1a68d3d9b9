#!/usr/bin/env bash
# Installs what Spectra needs and is missing: npm dependencies (Bun comes from npm), Debian's
# nats-server, and for the tests Debian's prometheus (promtool) and chromium. Idempotent and
# quiet when everything is already there; runs before `npm start`, `npm test` and `npm run bench`
# (npm's pre-scripts).
set -euo pipefail
cd "$(dirname "$0")/../.."

# Missing, older than the lock file, or half installed (`npm ls` finds a dependency missing).
stamp=node_modules/.package-lock.json
if [ ! -x node_modules/.bin/bun ] || [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ] || ! npm ls --loglevel=silent >/dev/null 2>&1; then
  # `npm install`, not `npm ci`: npm 11 leaves other platforms' optional native packages
  # (chdb, msgpackr-extract) out of the lock file and `npm ci` then refuses it; `npm install`
  # installs the locked versions all the same.
  echo "spectra: installing npm dependencies (npm install)" >&2
  npm install --no-audit --no-fund --loglevel=error >&2
fi

# Debian packages: nats-server (the embedded NATS); prometheus (its promtool checks the alert
# rules in config/prometheus) and chromium (headless, for the live page test) only for the tests.
missing=()
command -v nats-server >/dev/null 2>&1 || missing+=(nats-server)
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "spectra: installing Debian's ${missing[*]} (apt-get install -y ${missing[*]})" >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  else
    echo "spectra: missing Debian packages: ${missing[*]}; install them as root with: apt-get update && apt-get install -y ${missing[*]}" >&2
    echo "spectra: (nats-server: or set nats.url / NATS_URL to an external NATS server; prometheus and chromium: only tests use them, and skip without them outside CI)" >&2
  fi
fi
