#!/usr/bin/env bash
# Runs a TypeScript file (a benchmark, a tool) straight from source, resolving workspace packages
# to their src/ through the `ratsfach-source` export condition, as the tests do.
#   scripts/run-ts.sh packages/crypto/bench/stream.bench.ts [args]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
loader="$(ls -d "$ROOT"/node_modules/.pnpm/@tapjs+typescript@*/node_modules/@tapjs/typescript 2>/dev/null | head -1)"
[ -n "$loader" ] || { echo "run-ts: dependencies missing; run: npx -y pnpm@10.34.8 install" >&2; exit 1; }
export TS_NODE_TRANSPILE_ONLY=1 TS_NODE_PROJECT="$ROOT/tsconfig.json"
exec node --import="file://$loader/dist/esm/import.mjs" --conditions=ratsfach-source "$@"
