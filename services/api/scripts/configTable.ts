// Writes the configuration table of the root README.md from the API's configuration schema.
//   scripts/run-ts.sh services/api/scripts/configTable.ts          (rewrite README.md)
//   scripts/run-ts.sh services/api/scripts/configTable.ts --check  (exit 1 when it is stale)
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { withConfigTable } from '../src/configTable.js';

const readmePath = resolve(import.meta.dirname, '../../../README.md');
const readme = readFileSync(readmePath, 'utf8');
const fresh = withConfigTable(readme);
if (process.argv.includes('--check')) {
  if (fresh !== readme) {
    process.stderr.write(
      'README.md configuration table is stale: run services/api/scripts/configTable.ts\n',
    );
    process.exit(1);
  }
} else if (fresh !== readme) {
  writeFileSync(readmePath, fresh);
  process.stdout.write('README.md configuration table updated\n');
}
