import t from 'tap';
import type { RecordedEvent } from '../eventStore.js';
import { CommitSignal, PagedSubscription, type PagedLogSource } from './pagedSubscription.js';

const recorded = (position: bigint): RecordedEvent => ({
  stream: 'document-t1-d1',
  revision: position - 1n,
  globalPosition: position,
  eventId: `e${position}`,
  type: 'A.v1',
  data: new Uint8Array(0),
  metadata: new Uint8Array(0),
  hash: new Uint8Array(64),
  prevHash: new Uint8Array(64),
});

/** A log of positions 1..n in memory; `onRead` runs after each page is read, before it returns. */
class FakeLog {
  readonly events: RecordedEvent[] = [];
  readonly commits = new CommitSignal(Number.POSITIVE_INFINITY);
  reads = 0;
  closes = 0;
  onRead = (): void => undefined;

  append(count: number): void {
    for (let i = 0; i < count; i += 1) this.events.push(recorded(BigInt(this.events.length + 1)));
    this.commits.notify();
  }

  readonly source: PagedLogSource<number> = {
    mark: () => this.commits.generation,
    readPage: (after, limit) => {
      this.reads += 1;
      const events = this.events.filter((e) => e.globalPosition > (after ?? 0n)).slice(0, limit);
      this.onRead();
      return {
        events,
        next: events[events.length - 1]?.globalPosition ?? after,
        caughtUp: events.length < limit,
      };
    },
    waitForMore: (mark, _after, signal) => this.commits.wait(mark, signal),
    close: () => {
      this.closes += 1;
    },
  };
}

const fakeLog = (): FakeLog => new FakeLog();

t.test('catches up in pages, then follows live, without gap or duplicate', async (t) => {
  const log = fakeLog();
  log.append(10);
  const subscription = new PagedSubscription(log.source, { after: 3n, pageSize: 4 });
  const seen: bigint[] = [];
  const iterator = subscription[Symbol.asyncIterator]();
  for (let i = 0; i < 7; i += 1)
    seen.push(((await iterator.next()).value as RecordedEvent).globalPosition);
  t.ok(subscription.bufferedCount() <= 4, 'never more than one page held');
  const live = iterator.next();
  log.append(2);
  seen.push(((await live).value as RecordedEvent).globalPosition);
  seen.push(((await iterator.next()).value as RecordedEvent).globalPosition);
  t.same(seen, [4n, 5n, 6n, 7n, 8n, 9n, 10n, 11n, 12n]);
  await subscription.close();
  t.equal((await iterator.next()).done, true, 'a closed subscription ends');
  t.equal(log.closes, 1);
});

t.test('a commit that lands between reading a page and waiting is not slept through', async (t) => {
  const log = fakeLog();
  log.append(1);
  let injected = false;
  log.onRead = () => {
    // The page is already cut when this commit lands: only the mark taken before the read can
    // tell the wait that something came in meanwhile.
    if (!injected && log.reads === 1) {
      injected = true;
      log.append(1);
    }
  };
  const subscription = new PagedSubscription(log.source, { pageSize: 10 });
  const iterator = subscription[Symbol.asyncIterator]();
  t.equal((await iterator.next()).value?.globalPosition, 1n);
  // With an infinite polling interval a lost wake-up would hang here until tap's timeout.
  t.equal((await iterator.next()).value?.globalPosition, 2n);
  await subscription.close();
});

t.test('a consumer that breaks out closes the source once; close() is idempotent', async (t) => {
  const log = fakeLog();
  log.append(3);
  const subscription = new PagedSubscription(log.source, { pageSize: 2 });
  for await (const event of subscription) if (event.globalPosition === 1n) break;
  t.equal(log.closes, 1);
  t.equal(subscription.bufferedCount(), 0, 'the buffer is dropped');
  await subscription.close();
  t.equal(log.closes, 1);
  t.throws(() => subscription[Symbol.asyncIterator](), TypeError, 'iterated only once');
});

t.test('an aborted signal ends a waiting subscription and one created aborted', async (t) => {
  const log = fakeLog();
  const controller = new AbortController();
  const subscription = new PagedSubscription(log.source, {
    pageSize: 2,
    signal: controller.signal,
  });
  const pending = subscription[Symbol.asyncIterator]().next();
  await new Promise((resolve) => setImmediate(resolve));
  controller.abort();
  t.equal((await pending).done, true);
  t.equal(log.closes, 1);
  const early = new PagedSubscription(log.source, { pageSize: 2, signal: controller.signal });
  t.equal((await early[Symbol.asyncIterator]().next()).done, true);
  t.equal(log.reads, 1, 'the one created aborted read nothing');
});

t.test('a failing read ends the iteration with its error and closes the source', async (t) => {
  const log = fakeLog();
  const failing = { ...log.source, readPage: () => Promise.reject(new Error('store failed')) };
  const subscription = new PagedSubscription(failing, { pageSize: 2 });
  await t.rejects(subscription[Symbol.asyncIterator]().next(), { message: 'store failed' });
  t.equal(log.closes, 1);
});
