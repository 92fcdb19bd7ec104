import t from 'tap';
import { ApiProblemError } from '../http/apiClient.js';
import type { EventStreamHandlers } from '../http/eventStream.js';
import { watcherError } from '../node/treeWatcher.js';
import type { TreeWatcherEvents } from '../node/treeWatcher.js';
import { watchSync, type WatchNotice, type WatchPass } from './watchSync.js';

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));
const until = async (what: () => boolean) => {
  for (let i = 0; i < 400 && !what(); i++) await tick();
  if (!what()) throw new Error('timed out');
};

/**
 * A watch over fakes: a pass that waits on a gate, a stream and a watcher the test drives. It is
 * stopped in the test's teardown whatever happens: a watch left running by a failed assertion
 * keeps its timers and the file never ends.
 */
const fakeWatch = (
  t: { teardown(fn: () => unknown): void },
  overrides: { pass?: () => Promise<string>; pollMs?: number } = {},
) => {
  const passes: WatchPass<string>[] = [];
  const notices: WatchNotice[] = [];
  let stream: EventStreamHandlers | undefined;
  let folder: TreeWatcherEvents | undefined;
  const closed: string[] = [];
  let gate: (() => void) | undefined;
  let started = 0;
  const controller = new AbortController();
  const refusals: Error[] = [];
  let verdict: 'revoked' | undefined;
  const done = watchSync<string, 'revoked'>({
    pass:
      overrides.pass ??
      (async () => {
        started += 1;
        await new Promise<void>((resolve) => (gate = resolve));
        return `pass ${started}`;
      }),
    onPass: (pass) => passes.push(pass),
    onNotice: (notice) => notices.push(notice),
    openStream: (handlers) => {
      stream = handlers;
      return { close: async () => void closed.push('stream') };
    },
    watchFolder: (events) => {
      folder = events;
      return { ready: Promise.resolve(), close: async () => void closed.push('folder') };
    },
    isRefusal: (error) => (error as Error).message === 'refused',
    onRefused: async (error) => {
      refusals.push(error);
      return verdict;
    },
    pollMs: overrides.pollMs ?? 60_000,
    safetyMs: 60_000,
    signal: controller.signal,
  });
  t.teardown(async () => {
    controller.abort();
    gate?.();
    await done;
  });
  return {
    passes,
    notices,
    closed,
    refusals,
    done,
    stream: () => stream!,
    folder: () => folder!,
    started: () => started,
    finishPass: async () => {
      await until(() => gate !== undefined);
      const open = gate!;
      gate = undefined;
      open();
      await tick();
    },
    stop: () => controller.abort(),
    proveRevoked: () => (verdict = 'revoked'),
  };
};

t.test(
  'one pass at start; stream and folder triggers during it give exactly one more',
  async (t) => {
    const w = fakeWatch(t);
    await until(() => w.started() === 1);
    w.stream().onLive();
    w.stream().onEvent({ type: 'feeds', data: '{}', id: '7' });
    w.folder().onChange(['council/a.txt']);
    w.stream().onEvent({ type: 'closing', data: '{}', id: undefined });
    await w.finishPass();
    await w.finishPass();
    await tick();
    t.equal(w.started(), 2, 'two triggers during the first pass: one more pass');
    t.same(
      w.passes.map((p) => p.reasons),
      [['start'], ['feeds', 'local']],
    );
    t.ok(w.passes.every((p) => p.ok));
    t.same(w.notices, [{ kind: 'live' }]);
    w.stop();
    t.same(await w.done, { reason: 'stopped' });
    t.same(w.closed.sort(), ['folder', 'stream'], 'stream and watcher closed');
  },
);

t.test('SIGINT during a pass lets it finish, then ends the watch', async (t) => {
  const w = fakeWatch(t);
  await until(() => w.started() === 1);
  w.stream().onEvent({ type: 'feeds', data: '{}', id: '8' });
  w.stop();
  let ended = false;
  void w.done.then(() => (ended = true));
  await tick();
  t.notOk(ended, 'the running pass is not cut off');
  await w.finishPass();
  t.same(await w.done, { reason: 'stopped' });
  t.equal(w.started(), 1, 'the pending trigger starts no pass after the stop');
  t.equal(w.passes.length, 1);
});

t.test(
  'while the stream is down the watch polls; back live after a gap it catches up',
  async (t) => {
    let count = 0;
    const w = fakeWatch(t, { pass: async () => `pass ${++count}`, pollMs: 20 });
    await until(() => w.passes.length === 1);
    w.stream().onDown(new Error('ECONNREFUSED'), 1000);
    await until(() => w.passes.some((p) => p.reasons.includes('poll')));
    t.match(w.notices, [{ kind: 'polling', retryInMs: 1000 }]);
    w.stream().onLive();
    w.stream().onDown(new Error('silent'), 10);
    const before = w.passes.length;
    w.stream().onLive();
    await until(() => w.passes.length > before);
    t.ok(
      w.passes.some((p) => p.reasons.includes('reconnected')),
      'a reconnect after a gap runs a pass',
    );
    w.folder().onError(watcherError(Object.assign(new Error('no watches'), { code: 'ENOSPC' })));
    t.match(w.notices.at(-1), { kind: 'watcherFailed' });
    const scans = w.passes.length;
    await until(() => w.passes.length > scans + 1);
    t.ok(
      w.passes.some((p) => p.reasons.includes('scan')),
      'a failed watcher: periodic scans',
    );
    w.stop();
    await w.done;
  },
);

t.test('a refusal is judged; unproven it goes on, proven it ends the watch', async (t) => {
  let mode: 'refuse' | 'fail' | 'ok' = 'refuse';
  const w = fakeWatch(t, {
    pass: async () => {
      if (mode === 'refuse') throw new Error('refused');
      if (mode === 'fail') throw new Error('ECONNRESET');
      return 'ok';
    },
  });
  await until(() => w.passes.length === 1);
  t.equal(w.refusals.length, 1);
  t.match(w.notices, [{ kind: 'refusalNotProven' }]);
  t.match(w.passes[0], { ok: false, error: { message: 'refused' } });
  mode = 'fail';
  w.stream().onEvent({ type: 'feeds', data: '{}', id: '9' });
  await until(() => w.passes.length === 2);
  t.equal(w.refusals.length, 1, 'an ordinary failure is no refusal');
  w.stream().onRefused(
    new ApiProblemError({
      type: 'about:blank',
      title: 'refused',
      status: 403,
      detail: 'revoked',
      instance: '',
      code: 'RATSFACH_API_DEVICE_NOT_IN_GOOD_STANDING',
    }),
  );
  await until(() => w.passes.length === 3);
  t.match(w.notices, [{ kind: 'refusalNotProven' }, { kind: 'streamRefused' }]);
  mode = 'refuse';
  w.proveRevoked();
  w.folder().onChange(['x']);
  t.same(await w.done, { reason: 'ended', end: 'revoked' });
  t.equal(w.passes.length, 3, 'the refusal that ended the watch is no failed pass');
});

t.test('an already aborted signal ends the watch without a pass', async (t) => {
  const controller = new AbortController();
  controller.abort();
  let passes = 0;
  const end = await watchSync({
    pass: async () => void (passes += 1),
    onPass: () => undefined,
    onNotice: () => undefined,
    isRefusal: () => false,
    onRefused: async () => undefined,
    signal: controller.signal,
  });
  t.same(end, { reason: 'stopped' });
  t.equal(passes, 0);
});
