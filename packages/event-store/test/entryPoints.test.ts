import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import t from 'tap';

const runTs = fileURLToPath(new URL('../../../scripts/run-ts.sh', import.meta.url));
const child = fileURLToPath(new URL('./loadedDrivers.ts', import.meta.url));
const packageDir = fileURLToPath(new URL('..', import.meta.url));

/** The drivers a fresh process has loaded after importing `specifier` (and nothing else). */
async function driversLoadedBy(specifier: string): Promise<string[]> {
  const { stdout } = await promisify(execFile)('bash', [runTs, child, specifier], {
    cwd: packageDir,
  });
  return JSON.parse(stdout.trim()) as string[];
}

t.test('importing the root entry point loads no database driver', async (t) => {
  t.same(await driversLoadedBy('@ratsfach/event-store'), []);
  t.same(await driversLoadedBy('@ratsfach/event-store/memory'), [], 'nor does the memory store');
});

t.test('each backend entry point loads its own driver and no other', async (t) => {
  // These also show that the child sees a loaded driver, so the empty list above means something.
  t.same(await driversLoadedBy('@ratsfach/event-store/sqlite'), ['better-sqlite3']);
  t.same(await driversLoadedBy('@ratsfach/event-store/postgres'), ['pg']);
  // The KurrentDB adapter imports its client only when a store is opened.
  t.same(await driversLoadedBy('@ratsfach/event-store/kurrent'), []);
  t.same(await driversLoadedBy('@kurrent/kurrentdb-client'), ['@kurrent/kurrentdb-client']);
});
