#!/usr/bin/env node
// The `ratsfach` command: runs the compiled entry point (`npx tsc -b` builds it).
import { existsSync } from 'node:fs';

const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write(
    'ratsfach is not built yet: run `npm run build` (or `npm run up`) in the repository, then try again\n',
  );
  process.exit(1);
}
await import(entry.href);
