#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs dependencies, builds, checks lint, format and
# types, starts the real services the tests need (PostgreSQL; the S3 server), runs every test,
# stops the services, and ends with one line "N passed, N failed".
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

checks_failed=0
check() {
  local name="$1"; shift
  log "check: $name"
  if "$@"; then log "check passed: $name"; else log "check FAILED: $name"; checks_failed=$((checks_failed + 1)); fi
}

install_and_build

check "typecheck tests" pnpm_ exec tsc -p tsconfig.test.json
check "eslint" pnpm_ exec eslint .
check "prettier" pnpm_ exec prettier --check . --log-level warn

services=()
cleanup() {
  for s in "${services[@]}"; do bash "scripts/$s" stop || true; done
}
trap cleanup EXIT

RATSFACH_TEST_PG_URL="$(bash scripts/pg.sh start)"; services+=(pg.sh)
export RATSFACH_TEST_PG_URL
if [ -f scripts/s3-server.sh ]; then
  eval "$(bash scripts/s3-server.sh start --env)"; services+=(s3-server.sh)
fi

log "running tests"
summary="$(mktemp)"
set +e
pnpm_ exec tap --reporter=tap --no-allow-incomplete-coverage "$@" 2>&1 |
  node scripts/tap-count.mjs "$summary" "$checks_failed"
statuses=("${PIPESTATUS[@]}")
set -e
status=${statuses[1]}
# tap also fails on coverage below the floor in .taprc (tap-count counts that as a failure); any
# other failure of tap's own, with every test passed, must not pass unnoticed either.
if [ "${statuses[0]}" != 0 ] && [ "$status" = 0 ]; then
  log "tap exited with ${statuses[0]} although every test passed"
  read -r passed _ failed _ <"$summary"
  printf '%s passed, %s failed\n' "$passed" "$((failed + 1))" >"$summary"
  status=1
fi
node scripts/coverage-floor.mjs || true
trap - EXIT
cleanup
# The count is the last line, after the services' shutdown messages.
cat "$summary"
rm -f "$summary"
exit "$status"
