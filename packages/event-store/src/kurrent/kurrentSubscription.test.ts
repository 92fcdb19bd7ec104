import t from 'tap';
import type { RecordedEvent } from '../eventStore.js';
import { KurrentSubscription, type KurrentSubscriptionSource } from './kurrentSubscription.js';

/**
 * A log in memory standing in for the store's pages and watch, so the subscription's own logic
 * (paging, catch-up to live, back-pressure, close) is tested without a server.
 */
class FakeLog {
  readonly positions: bigint[] = [];
  readonly pageReads: Array<{ after: bigint | undefined; count: number }> = [];
  watchers: Array<{ after: bigint | undefined; wake: () => void; fail: (error: Error) => void }> =
    [];
  stopped = 0;

  append(count: number): void {
    for (let i = 0; i < count; i += 1) {
      const last = this.positions[this.positions.length - 1] ?? 0n;
      this.positions.push(last + 10n);
    }
    for (const watcher of this.watchers) watcher.wake();
  }

  source(
    after: bigint | undefined,
    pageSize: number,
    signal?: AbortSignal,
  ): KurrentSubscriptionSource<bigint> & { closed: number } {
    const source = {
      closed: 0,
      after,
      pageSize,
      signal,
      readPage: async (from: bigint | undefined, count: number) => {
        this.pageReads.push({ after: from, count });
        const rest = this.positions.filter((p) => from === undefined || p > from);
        const records = rest.slice(0, count);
        return {
          records,
          last: records[records.length - 1] ?? from,
          exhausted: rest.length <= count,
        };
      },
      toRecorded: (position: bigint): RecordedEvent => ({
        stream: 'document-t1-d1',
        revision: position / 10n - 1n,
        globalPosition: position,
        eventId: `e${position}`,
        type: 'A.v1',
        data: new Uint8Array(0),
        metadata: new Uint8Array(0),
        hash: new Uint8Array(64),
        prevHash: new Uint8Array(64),
      }),
      watch: (from: bigint | undefined, wake: () => void, fail: (error: Error) => void) => {
        const watcher = { after: from, wake, fail };
        this.watchers.push(watcher);
        return async () => {
          this.stopped += 1;
          this.watchers = this.watchers.filter((w) => w !== watcher);
        };
      },
      onClose: () => {
        source.closed += 1;
      },
    };
    return source;
  }
}

t.test('catches up in pages, then follows live without gap or duplicate', async (t) => {
  const log = new FakeLog();
  log.append(25);
  const subscription = new KurrentSubscription(log.source(50n, 8));
  const iterator = subscription[Symbol.asyncIterator]();
  const seen: bigint[] = [];
  while (seen.length < 20) {
    const next = await iterator.next();
    if (next.done === true) break;
    seen.push(next.value.globalPosition);
  }
  t.same(
    seen,
    Array.from({ length: 20 }, (_, i) => 60n + BigInt(i) * 10n),
    'starts after the checkpoint, in order',
  );
  const pending = iterator.next();
  while (log.watchers.length === 0) await new Promise((resolve) => setImmediate(resolve));
  t.equal(log.watchers.length, 1, 'caught up: watching for more');
  t.equal(log.watchers[0]?.after, 250n, 'the watch starts where the pages ended');
  log.append(3);
  const live: bigint[] = [];
  const first = await pending;
  if (first.done !== true) live.push(first.value.globalPosition);
  for (let i = 0; i < 2; i += 1) {
    const next = await iterator.next();
    if (next.done !== true) live.push(next.value.globalPosition);
  }
  t.same(live, [260n, 270n, 280n], 'live events arrive once each');
  await subscription.close();
  t.equal((await iterator.next()).done, true, 'a closed subscription ends');
  t.equal(log.stopped, 1, 'closing stops the watch');
});

t.test('never holds more than one page for a consumer that stops pulling', async (t) => {
  const log = new FakeLog();
  log.append(100);
  const subscription = new KurrentSubscription(log.source(undefined, 16));
  const iterator = subscription[Symbol.asyncIterator]();
  await iterator.next();
  await new Promise((resolve) => setImmediate(resolve));
  t.equal(subscription.bufferedCount(), 15);
  t.equal(log.pageReads.length, 1, 'no page is read ahead of the consumer');
  let most = subscription.bufferedCount();
  for (let i = 1; i < 100; i += 1) {
    await iterator.next();
    most = Math.max(most, subscription.bufferedCount());
  }
  t.ok(most <= 16, `at most one page buffered (${most})`);
  t.same(
    log.pageReads.map((r) => r.count),
    Array.from({ length: log.pageReads.length }, () => 16),
  );
  await subscription.close();
});

t.test('an abort ends the iteration and releases the watch', async (t) => {
  const log = new FakeLog();
  log.append(3);
  const controller = new AbortController();
  const source = log.source(undefined, 10, controller.signal);
  const subscription = new KurrentSubscription(source);
  const seen: bigint[] = [];
  const done = (async () => {
    for await (const event of subscription) seen.push(event.globalPosition);
  })();
  while (log.watchers.length === 0) await new Promise((resolve) => setImmediate(resolve));
  controller.abort();
  await done;
  t.same(seen, [10n, 20n, 30n]);
  t.equal(log.stopped, 1);
  t.equal(source.closed, 1, 'the store is told once');
});

t.test('a subscription made with an aborted signal yields nothing', async (t) => {
  const log = new FakeLog();
  log.append(3);
  const controller = new AbortController();
  controller.abort();
  const subscription = new KurrentSubscription(log.source(undefined, 10, controller.signal));
  const seen: RecordedEvent[] = [];
  for await (const event of subscription) seen.push(event);
  t.same(seen, []);
  t.equal(log.pageReads.length, 0);
});

t.test('a broken watch surfaces as the error of the pending read', async (t) => {
  const log = new FakeLog();
  const subscription = new KurrentSubscription(log.source(undefined, 10));
  const iterator = subscription[Symbol.asyncIterator]();
  const pending = iterator.next();
  while (log.watchers.length === 0) await new Promise((resolve) => setImmediate(resolve));
  const failure = new Error('watch broke');
  log.watchers[0]?.fail(failure);
  await t.rejects(pending, failure);
  t.equal(log.stopped, 1, 'the failed watch is released');
});

t.test('a subscription can be iterated only once', async (t) => {
  const log = new FakeLog();
  const subscription = new KurrentSubscription(log.source(undefined, 10));
  subscription[Symbol.asyncIterator]();
  t.throws(() => subscription[Symbol.asyncIterator](), TypeError);
  await subscription.close();
});
