import t from 'tap';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DataDirLockedError, lockDataDir } from '../src/dataDirLock.js';

const root = resolve(import.meta.dirname, '../../..');

const tempDir = async (t: { teardown(fn: () => unknown): void }) => {
  const dir = await mkdtemp(join(tmpdir(), 'ratsfach-lock-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
};

t.test('a second lock of one data directory is refused, naming the holder', async (t) => {
  const dir = await tempDir(t);
  const lock = lockDataDir(dir);
  t.teardown(() => lock.release());
  t.throws(() => lockDataDir(dir), {
    constructor: DataDirLockedError,
    code: 'RATSFACH_API_DATA_DIR_LOCKED',
    message: new RegExp(`in use by process ${process.pid} `),
    details: { dataDir: dir, pid: process.pid },
    hint: /RATSFACH_DATA_DIR/,
  });
  lock.release();
  const again = lockDataDir(dir);
  t.equal(again.dataDir, dir, 'free again once released');
  again.release();
});

t.test('the lock of a killed process is free at once (no stale lock file to remove)', async (t) => {
  const dir = await tempDir(t);
  const child = spawn(
    'bash',
    [
      join(root, 'scripts/run-ts.sh'),
      join(import.meta.dirname, 'fixtures/holdDataDirLock.ts'),
      dir,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  t.teardown(() => child.kill('SIGKILL'));
  await new Promise<void>((done, fail) => {
    child.stdout.on('data', (chunk: Buffer) => String(chunk).includes('locked') && done());
    child.once('exit', () => fail(new Error('the holder exited early')));
  });
  const error = (() => {
    try {
      lockDataDir(dir);
      return null;
    } catch (caught) {
      return caught;
    }
  })();
  t.type(error, DataDirLockedError, 'refused while the other process lives');
  // run-ts.sh execs node, so the holder's pid is the child's.
  t.equal((error as DataDirLockedError).details.pid, child.pid, 'names the holder by pid');
  t.match((error as DataDirLockedError).message, new RegExp(`in use by process ${child.pid} `));
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
  const lock = lockDataDir(dir);
  t.ok(lock, 'taken once the holder is dead');
  lock.release();
});
