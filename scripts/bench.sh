#!/usr/bin/env bash
# Every benchmark, one after the other (not part of the tests). Starts PostgreSQL and the S3
# server if needed and stops what it started. Figures are written to stdout; record them in
# docs/benchmarks.md with the machine. Run one area only: scripts/bench.sh event-store|projector|crypto|api|blob-store
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
area="${1:-all}"
run() { log "bench: $*"; scripts/run-ts.sh "$@"; }

started=()
cleanup() { for s in "${started[@]}"; do bash "scripts/$s" stop || true; done; }
trap cleanup EXIT
need_pg() {
  if ! bash scripts/pg.sh status >/dev/null 2>&1; then started+=(pg.sh); fi
  RATSFACH_TEST_PG_URL="$(bash scripts/pg.sh start)"; export RATSFACH_TEST_PG_URL
}
need_s3() {
  if ! bash scripts/s3-server.sh status >/dev/null 2>&1; then started+=(s3-server.sh); fi
  eval "$(bash scripts/s3-server.sh start --env)"
}

if [[ $area == all || $area == event-store ]]; then
  need_pg
  run packages/event-store/bench/eventStore.bench.ts --backend=sqlite,sqliteWorker,postgres --rounds=3
  run packages/event-store/bench/groupCommitThread.bench.ts --rounds=4
fi
if [[ $area == all || $area == projector ]]; then
  need_pg
  run services/projector/bench/projection.bench.ts
fi
if [[ $area == all || $area == crypto ]]; then
  run --expose-gc packages/crypto/bench/stream.bench.ts --rounds=3 64 512
  run packages/crypto/bench/records.bench.ts --rounds=9
fi
if [[ $area == all || $area == api ]]; then
  run services/api/bench/pushLatency.bench.ts --commits=200
fi
if [[ $area == all || $area == blob-store ]]; then
  need_s3
  run packages/blob-store/bench/fs.bench.ts --rounds 5
  run --expose-gc packages/blob-store/bench/s3.bench.ts --rounds=3
fi
