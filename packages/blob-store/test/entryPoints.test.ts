import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import t from 'tap';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '../../..');

/** Imports `entry` in a fresh process that refuses to load minio; returns what it printed. */
async function importAlone(entry: string): Promise<string> {
  const { stdout } = await run(
    'bash',
    [join(repo, 'scripts/run-ts.sh'), join(here, 'fixtures/entryPointChild.ts'), entry],
    { cwd: here },
  );
  return stdout.trim();
}

t.test('the package root and the fs and memory entry points load no minio', async (t) => {
  const entries = [
    '@ratsfach/blob-store',
    '@ratsfach/blob-store/fs',
    '@ratsfach/blob-store/memory',
  ];
  const printed = await Promise.all(entries.map(importAlone));
  entries.forEach((entry, i) => t.equal(printed[i], 'loaded', `${entry} imports without minio`));
});

t.test('the s3 entry point does load minio, so the check above can fail', async (t) => {
  t.match(await importAlone('@ratsfach/blob-store/s3'), /^minio minio/);
});
