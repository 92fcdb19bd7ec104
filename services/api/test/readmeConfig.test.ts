import t from 'tap';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ConfigSchema } from '../src/config.js';
import { configTable, withConfigTable } from '../src/configTable.js';

t.test('the README configuration table is the one the config schema generates', async (t) => {
  const readme = await readFile(resolve(import.meta.dirname, '../../../README.md'), 'utf8');
  t.equal(
    withConfigTable(readme),
    readme,
    'stale: run scripts/run-ts.sh services/api/scripts/configTable.ts',
  );
});

t.test('the table has one row per configuration variable, with its default', async (t) => {
  const table = configTable();
  for (const name of Object.keys(ConfigSchema.properties)) {
    t.match(table, new RegExp(`^\\| \`${name}\` +\\|`, 'm'), name);
  }
  t.match(table, /`RATSFACH_PORT` +\| `8480` +\|/);
});

t.test('a README without the markers is refused, not silently left alone', async (t) => {
  t.throws(() => withConfigTable('# no table here\n'), /lacks the markers/);
});
