# Shared helpers for the project's shell scripts. Source it; do not run it.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Absolute, so that it names one place whichever directory a script runs from.
DATA_DIR="$(realpath -m "${RATSFACH_DATA_DIR:-$ROOT/.data}")"
PNPM_VERSION="10.34.8"

log() { printf '[%s] %s\n' "$(basename "$0")" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# pnpm through npx: corepack is not available on every machine.
pnpm_() { npx -y "pnpm@$PNPM_VERSION" "$@"; }

is_root() { [ "$(id -u)" = 0 ]; }

# Installs Debian packages when a command is missing; needs root.
apt_install() {
  is_root || die "missing packages ($*): run as root or install them with apt-get"
  if [ ! -f "$DATA_DIR/.apt-updated" ] || [ -n "$(find "$DATA_DIR/.apt-updated" -mmin +720 2>/dev/null)" ]; then
    log "apt-get update"
    apt-get update -qq >&2
    mkdir -p "$DATA_DIR" && touch "$DATA_DIR/.apt-updated"
  fi
  log "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2
}

# Polls a command until it succeeds or the bound (seconds) passes.
wait_for() {
  local bound="$1" what="$2"; shift 2
  local start=$SECONDS
  until "$@" >/dev/null 2>&1; do
    if (( SECONDS - start > bound )); then log "timed out after ${bound}s waiting for $what"; return 1; fi
    sleep 0.3
  done
}

# Installs the locked dependencies and builds every package (the first install compiles
# better-sqlite3, about a minute).
install_and_build() {
  log "installing dependencies (pnpm $PNPM_VERSION)"
  pnpm_ install --frozen-lockfile --reporter=append-only >&2
  log "building"
  pnpm_ exec tsc -b || die "build failed: run 'npx tsc -b' to see the errors"
}
