import t from 'tap';
import { DirSyncQueue } from './dirSyncQueue.js';

/** A sync function the test finishes by hand, recording which directory each call synced. */
const manualSync = () => {
  const calls: { dir: string; finish: (error?: Error) => void }[] = [];
  const sync = (dir: string): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      calls.push({ dir, finish: (error) => (error === undefined ? resolve() : reject(error)) });
    });
  return { calls, sync };
};

const tick = () => new Promise((resolve) => setImmediate(resolve));

t.test('requests arriving while a sync runs share one sync queued behind it', async (t) => {
  const { calls, sync } = manualSync();
  const queue = new DirSyncQueue(sync);
  const first = queue.sync('/d');
  const second = queue.sync('/d');
  const third = queue.sync('/d');
  t.equal(calls.length, 1, 'only the first request starts a sync at once');
  let secondDone = false;
  void second.then(() => (secondDone = true));
  calls[0]?.finish();
  await first;
  await tick();
  t.notOk(secondDone, 'a request made during a sync is not served by that sync');
  t.equal(calls.length, 2, 'the queued sync starts when the running one ends');
  calls[1]?.finish();
  await Promise.all([second, third]);
  t.equal(calls.length, 2, 'the two waiting requests were served by one sync');
});

t.test('different directories are synced independently', async (t) => {
  const { calls, sync } = manualSync();
  const queue = new DirSyncQueue(sync);
  const a = queue.sync('/a');
  const b = queue.sync('/b');
  t.same(
    calls.map((c) => c.dir),
    ['/a', '/b'],
    'both directories sync at once',
  );
  for (const c of calls) c.finish();
  await Promise.all([a, b]);
  const again = queue.sync('/a');
  t.equal(calls.length, 3, 'an idle directory starts a new sync for a new request');
  calls[2]?.finish();
  await again;
});

t.test('a failed sync fails its callers and the queued sync still runs', async (t) => {
  const { calls, sync } = manualSync();
  const queue = new DirSyncQueue(sync);
  const first = queue.sync('/d');
  const second = queue.sync('/d');
  const failure = new Error('EIO');
  calls[0]?.finish(failure);
  await t.rejects(first, failure, 'the caller of the failed sync sees its error');
  await tick();
  t.equal(calls.length, 2, 'the waiting request gets its own sync');
  calls[1]?.finish();
  await t.resolves(second, 'and succeeds when that sync does');
});
