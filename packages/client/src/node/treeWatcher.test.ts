import { mkdirSync, mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import type { UnavailableError } from '@ratsfach/kernel';
import { engineFolder } from './nodeFileSystem.js';
import { watcherError, watchTree } from './treeWatcher.js';

const nextBatch = (
  root: string,
  backend: 'chokidar' | 'native',
): {
  batches: string[][];
  wait: () => Promise<string[]>;
  close: () => Promise<void>;
  ready: Promise<void>;
} => {
  const batches: string[][] = [];
  let wake: (() => void) | undefined;
  const watcher = watchTree(
    root,
    {
      onChange: (paths) => {
        batches.push([...paths]);
        wake?.();
      },
      onError: () => undefined,
    },
    { quietMs: 50, backend },
  );
  return {
    batches,
    ready: watcher.ready,
    close: () => watcher.close(),
    wait: async () => {
      while (batches.length === 0) await new Promise<void>((resolve) => (wake = resolve));
      return batches.shift() as string[];
    },
  };
};

for (const backend of ['chokidar', 'native'] as const) {
  t.test(`${backend}: reports changes in one batch, never the engine's own folder`, async (t) => {
    const root = mkdtempSync(join(tmpdir(), 'ratsfach-watch-'));
    mkdirSync(join(root, 'A'));
    const watch = nextBatch(root, backend);
    t.teardown(() => watch.close());
    await watch.ready;
    mkdirSync(join(root, engineFolder, 'tmp'), { recursive: true });
    writeFileSync(join(root, engineFolder, 'tmp', 'x.part'), 'hidden');
    writeFileSync(join(root, 'A', 'one.txt'), '1');
    writeFileSync(join(root, 'A', 'two.txt'), '2');
    const batch = await watch.wait();
    t.ok(
      batch.includes('A/one.txt') && batch.includes('A/two.txt'),
      `both writes seen: ${batch.join(', ')}`,
    );
    t.notOk(
      batch.some((p) => p.startsWith(engineFolder)),
      'the engine folder is not reported',
    );
  });
}

t.test('chokidar sees a write into a folder that was just renamed', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'ratsfach-watch-'));
  mkdirSync(join(root, 'old'));
  const watch = nextBatch(root, 'chokidar');
  t.teardown(() => watch.close());
  await watch.ready;
  renameSync(join(root, 'old'), join(root, 'new'));
  await watch.wait();
  writeFileSync(join(root, 'new', 'after.txt'), 'x');
  let seen: string[] = [];
  while (!seen.includes('new/after.txt')) seen = await watch.wait();
  t.pass('the write into the renamed folder was reported');
});

t.test('a watcher that cannot start reports a typed error with what to do', async (t) => {
  const errors: UnavailableError[] = [];
  const watcher = watchTree(
    join(tmpdir(), 'ratsfach-no-such-folder-', String(process.pid)),
    { onChange: () => undefined, onError: (error) => errors.push(error) },
    { backend: 'native' },
  );
  await watcher.close();
  t.equal(errors.length, 1);
  t.equal(errors[0]?.code, 'RATSFACH_SYNC_WATCHER_FAILED');
  t.match(errors[0]?.hint, /periodic scan/);
});

t.test('running out of watches names the setting to raise', async (t) => {
  const enospc = watcherError(Object.assign(new Error('no space'), { code: 'ENOSPC' }));
  t.match(enospc.hint, /fs\.inotify\.max_user_watches/);
  t.match(enospc.message, /ENOSPC/);
  t.match(watcherError(Object.assign(new Error('x'), { code: 'EMFILE' })).hint, /ulimit -n/);
  t.match(watcherError(new Error('odd')).message, /odd/);
});
