#!/usr/bin/env bash
# Opt-in browser test of the dashboard (CI does not run it): starts the built jar on a free port (or --port N)
# with a temporary data directory, drives every feature of the page in Debian's headless Chromium with
# Playwright (browse, where preview and delete, a table from a guessed schema, a dropped file imported and
# watched to Finished) and saves a screenshot to docs/dashboard.png.
#
#   src/test/browser/run.sh              # builds the jar if sources are newer, installs what is missing
#   src/test/browser/run.sh --port 8099  # Sluice on that port (PORT=8099 too); default: a free one
#   ROWS=100000 src/test/browser/run.sh  # a shorter import (default 400000); SCREENSHOT= (empty) keeps docs/ as is
#
# Installs, only if missing: the Debian package chromium (apt-get, needs root or sudo) and playwright-core from
# package-lock.json into src/test/browser/node_modules (npm ci). Playwright never downloads a browser here.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
export CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
export SLUICE_JAR="${SLUICE_JAR:-$root/target/sluice.jar}"
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
start=$(date +%s)

if [ ! -x "$CHROMIUM" ]; then
  echo "== installing Debian's chromium"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -q
  $sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium
fi

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "run.sh needs node (20 or later) and npm: apt-get install nodejs npm" >&2
  exit 2
fi

if [ ! -f "$here/node_modules/playwright-core/package.json" ]; then
  echo "== installing playwright-core (npm ci)"
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
fi

if [ "$SLUICE_JAR" = "$root/target/sluice.jar" ] && { [ ! -f "$SLUICE_JAR" ] ||
    [ -n "$(find "$root/src/main" "$root/pom.xml" -newer "$SLUICE_JAR" -print -quit)" ]; }; then
  echo "== building the jar"
  (cd "$root" && mvn -B -q -DskipTests package)
fi

echo "== $("$CHROMIUM" --version 2>/dev/null), playwright-core $(node -p "require('$here/node_modules/playwright-core/package.json').version")"
status=0
(cd "$here" && node dashboard.test.mjs "$@") || status=$?
echo "== browser test took $(( $(date +%s) - start )) s"
exit $status
