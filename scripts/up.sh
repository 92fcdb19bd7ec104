#!/usr/bin/env bash
# Installs, builds and starts ratsfach on embedded defaults (SQLite and a filesystem blob
# directory under one data directory), in the foreground, until Ctrl-C.
#   RATSFACH_DATA_DIR (default .data), RATSFACH_HOST (127.0.0.1), RATSFACH_PORT (8480)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

install_and_build
export RATSFACH_DATA_DIR="$DATA_DIR"
# Blob writes fsync in the libuv thread pool; 4 threads (the default) serialise small blobs.
export UV_THREADPOOL_SIZE="${UV_THREADPOOL_SIZE:-16}"
# Every connection and event stream holds a file descriptor: take the whole hard limit (the
# service logs the budget it got at start).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || echo "up: could not raise the open-file limit (ulimit -n $(ulimit -n))" >&2
echo "up: open-file limit $(ulimit -n) (hard $(ulimit -Hn))" >&2
exec node services/api/dist/main.js
