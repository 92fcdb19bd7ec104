/**
 * The KurrentDB adapter's own logic (command claims, replays, retries at the head, paging,
 * subscriptions, verify, close) on an in-memory imitation of the client: see
 * kurrentFakeServer.ts for what it reproduces. The real server is the contract suite's job
 * (kurrent.test.ts, with KURRENTDB_URL set).
 */
import { bytesEqual } from '@ratsfach/kernel';
import t, { type Test } from 'tap';
import {
  ANY,
  CommandIdReusedError,
  ConcurrencyError,
  NO_STREAM,
  STREAM_EXISTS,
  StoreUnavailableError,
  eventIdFor,
  type EventStore,
  type NewEvent,
  type RecordedEvent,
} from '../src/index.js';
import {
  kurrentEventStoreOnClient,
  type KurrentEventStore,
} from '../src/kurrent/kurrentEventStore.js';
import { FakeKurrentServer } from './kurrentFakeServer.js';

const text = new TextEncoder();
const event = (type: string, data: string, metadata = '{}'): NewEvent => ({
  type,
  data: text.encode(data),
  metadata: text.encode(metadata),
});

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

const thrown = async (action: Promise<unknown>): Promise<unknown> => {
  try {
    await action;
  } catch (error) {
    return error;
  }
  return undefined;
};

async function setup(
  t: Test,
  options: { namespace?: string; readPageSize?: number; idempotencyWindow?: number } = {},
): Promise<{
  server: FakeKurrentServer;
  store: KurrentEventStore;
  open: () => Promise<KurrentEventStore>;
}> {
  const server = new FakeKurrentServer();
  const opened: EventStore[] = [];
  const open = async () => {
    const store = await kurrentEventStoreOnClient(server.client(), { namespace: 'ns', ...options });
    opened.push(store);
    return store;
  };
  const store = await open();
  t.teardown(async () => {
    for (const s of opened) await s.close();
  });
  return { server, store, open };
}

t.test('stores binary events with the envelope and reads back the exact bytes', async (t) => {
  const { server, store } = await setup(t);
  const data = new Uint8Array([0, 255, 0x7b, 0x22]);
  const metadata = new Uint8Array([9, 8, 7]);
  const result = await store.append(
    'document-t1-d1',
    [{ type: 'DocumentCreated.v1', data, metadata }, event('DocumentMoved.v1', 'm')],
    NO_STREAM,
    { commandId: 'create' },
  );
  t.equal(result.nextExpectedRevision, 1n);
  t.equal(result.replayed, false);
  const stored = server.streams.get('ns:document-t1-d1') ?? [];
  t.equal(stored.length, 2, 'kept under the namespace');
  t.equal(stored[0]?.id, eventIdFor('t1', 'create', 0), 'event ids are the derived UUIDv5 ids');
  t.ok(bytesEqual(stored[0]?.data ?? new Uint8Array(), data), 'data stored as is');
  const [first, second] = (await collect(store.readStream('document-t1-d1'))) as [
    RecordedEvent,
    RecordedEvent,
  ];
  t.equal(first.stream, 'document-t1-d1');
  t.ok(bytesEqual(first.metadata, metadata), 'metadata comes back byte for byte');
  t.ok(bytesEqual(second.prevHash, first.hash));
  t.equal(
    result.lastGlobalPosition,
    second.globalPosition,
    'the last event of a batch is read back for its position',
  );
  t.ok(second.globalPosition > first.globalPosition);
  t.same(await store.streamHead('document-t1-d1'), { revision: 1n, hash: second.hash });
  t.equal(await store.streamHead('document-t1-nothing'), null);
});

t.test('a retried command is replayed from the stream, also after later appends', async (t) => {
  const { server, store } = await setup(t);
  const events = [event('A.v1', 'one'), event('B.v1', 'two')];
  const first = await store.append('document-t1-r', events, NO_STREAM, { commandId: 'retry' });
  const again = await store.append('document-t1-r', events, NO_STREAM, { commandId: 'retry' });
  t.same(again, { ...first, replayed: true });
  await store.append('document-t1-r', [event('C.v1', 'three')], 1n, { commandId: 'later' });
  const late = await store.append('document-t1-r', events, 0n, { commandId: 'retry' });
  t.equal(late.replayed, true);
  t.equal(late.nextExpectedRevision, 1n);
  t.equal(server.streams.get('ns:document-t1-r')?.length, 3, 'nothing written twice');
});

t.test('a retry beyond the window is still found where its expected revision put it', async (t) => {
  const { server, store } = await setup(t, { idempotencyWindow: 2 });
  const events = [event('A.v1', 'x')];
  const first = await store.append('document-t1-w', events, NO_STREAM, { commandId: 'old' });
  for (let i = 0; i < 5; i += 1) {
    await store.append('document-t1-w', [event('B.v1', `${i}`)], ANY, { commandId: `n${i}` });
  }
  const again = await store.append('document-t1-w', events, NO_STREAM, { commandId: 'old' });
  t.same(again, { ...first, replayed: true });
  t.equal(server.streams.get('ns:document-t1-w')?.length, 6);
});

t.test('two copies of a command in flight in one process: one writes, one replays', async (t) => {
  const { server, store } = await setup(t);
  const events = [event('A.v1', 'a'), event('B.v1', 'b')];
  const results = await Promise.all([
    store.append('document-t1-twice', events, ANY, { commandId: 'dup' }),
    store.append('document-t1-twice', events, ANY, { commandId: 'dup' }),
  ]);
  t.same(results.map((r) => r.replayed).sort(), [false, true]);
  t.equal(server.streams.get('ns:document-t1-twice')?.length, 2);
});

t.test('a command id claimed for one stream is refused on another', async (t) => {
  const { server, store, open } = await setup(t);
  await store.append('document-t1-one', [event('A.v1', 'a')], NO_STREAM, { commandId: 'once' });
  const claim = `ns!command-${eventIdFor('t1', 'once', 0)}`;
  t.equal(server.streams.get(claim)?.length, 1, 'the first append claimed the id');
  const other = await open();
  const error = await thrown(
    other.append('document-t1-two', [event('A.v1', 'a')], NO_STREAM, { commandId: 'once' }),
  );
  t.type(error, CommandIdReusedError);
  t.match((error as CommandIdReusedError).details, {
    stream: 'document-t1-two',
    storedStream: 'document-t1-one',
  });
  t.equal(server.streams.get('ns:document-t1-two'), undefined, 'nothing written');
  const changed = await thrown(
    store.append('document-t1-one', [event('A.v1', 'CHANGED')], ANY, { commandId: 'once' }),
  );
  t.type(changed, CommandIdReusedError, 'same id, other data');
  const more = await thrown(
    store.append('document-t1-one', [event('A.v1', 'a'), event('B.v1', 'b')], ANY, {
      commandId: 'once',
    }),
  );
  t.type(more, CommandIdReusedError, 'same id, more events');
  t.equal(server.streams.get('ns:document-t1-one')?.length, 1);
});

t.test(
  'two processes racing to create a stream: one wins, one gets ConcurrencyError',
  async (t) => {
    const { server, store, open } = await setup(t);
    const other = await open();
    const settled = await Promise.allSettled([
      store.append('document-t1-race', [event('A.v1', 'left')], NO_STREAM, { commandId: 'l' }),
      other.append('document-t1-race', [event('A.v1', 'right')], NO_STREAM, { commandId: 'r' }),
    ]);
    t.equal(settled.filter((s) => s.status === 'fulfilled').length, 1);
    const lost = settled.find((s) => s.status === 'rejected') as PromiseRejectedResult | undefined;
    t.type(lost?.reason, ConcurrencyError);
    t.equal((lost?.reason as ConcurrencyError).actual, 0n);
    t.equal(server.streams.get('ns:document-t1-race')?.length, 1);
  },
);

t.test('"any" from two processes chains every append onto the head', async (t) => {
  const { server, store, open } = await setup(t);
  const other = await open();
  const results = await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      (i % 2 === 0 ? store : other).append('delivery-t1-20260101', [event('D.v1', `${i}`)], ANY, {
        commandId: `any-${i}`,
      }),
    ),
  );
  t.same(
    results.map((r) => r.nextExpectedRevision).sort((a, b) => (a < b ? -1 : 1)),
    Array.from({ length: 20 }, (_, i) => BigInt(i)),
  );
  t.equal(server.streams.get('ns:delivery-t1-20260101')?.length, 20);
  t.equal((await store.verify({ stream: 'delivery-t1-20260101' })).firstProblem, null, 'no fork');
});

t.test('expected-revision refusals carry the actual revision and write nothing', async (t) => {
  const { server, store } = await setup(t);
  const missing = await thrown(
    store.append('user-t1-u', [event('A.v1', 'x')], STREAM_EXISTS, { commandId: 'a' }),
  );
  t.type(missing, ConcurrencyError);
  t.match((missing as ConcurrencyError).details, { expected: 'stream_exists', actual: null });
  await store.append('user-t1-u', [event('A.v1', '0')], NO_STREAM, { commandId: 'b' });
  await store.append('user-t1-u', [event('A.v1', '1')], 0n, { commandId: 'c' });
  const stale = await thrown(
    store.append('user-t1-u', [event('A.v1', 'x')], 0n, { commandId: 'd' }),
  );
  t.type(stale, ConcurrencyError);
  t.match((stale as ConcurrencyError).details, { expected: 'revision 0', actual: '1' });
  t.equal(server.streams.get('ns:user-t1-u')?.length, 2);
});

t.test('readAll pages through the log after a position, skipping what is not ours', async (t) => {
  const { server, store } = await setup(t, { readPageSize: 3 });
  const ids: string[] = [];
  const foreign = await kurrentEventStoreOnClient(server.client(), { namespace: 'other' });
  t.teardown(() => foreign.close());
  for (let i = 0; i < 10; i += 1) {
    ids.push(
      ...(
        await store.append(`document-t1-s${i % 3}`, [event('A.v1', `${i}`)], ANY, {
          commandId: `c${i}`,
        })
      ).eventIds,
    );
    await foreign.append('document-t1-x', [event('A.v1', `${i}`)], ANY, { commandId: `f${i}` });
  }
  const all = await collect(store.readAll());
  t.same(
    all.map((e) => e.eventId),
    ids,
    'in order, without KurrentDB events, claims or other namespaces',
  );
  const after = await collect(store.readAll({ after: all[3]?.globalPosition ?? 0n, maxCount: 4 }));
  t.same(
    after.map((e) => e.eventId),
    ids.slice(4, 8),
    'exclusive of the position, at most maxCount',
  );
  t.same(await collect(store.readAll({ after: all[9]?.globalPosition ?? 0n })), []);
});

t.test('a subscription catches up, then follows appends of another process live', async (t) => {
  const { store, open } = await setup(t, { readPageSize: 4 });
  const writer = await open();
  const expected: string[] = [];
  for (let i = 0; i < 10; i += 1) {
    expected.push(
      ...(
        await writer.append(`document-t1-p${i}`, [event('A.v1', `${i}`)], NO_STREAM, {
          commandId: `p${i}`,
        })
      ).eventIds,
    );
  }
  const subscription = store.subscribeToAll({ pageSize: 4 });
  const iterator = subscription[Symbol.asyncIterator]();
  const seen: string[] = [];
  const writing = (async () => {
    for (let i = 0; i < 10; i += 1) {
      expected.push(
        ...(
          await writer.append('user-t1-live', [event('B.v1', `${i}`)], ANY, { commandId: `l${i}` })
        ).eventIds,
      );
      await new Promise((resolve) => setImmediate(resolve));
    }
  })();
  let most = 0;
  while (seen.length < 20) {
    const next = await iterator.next();
    if (next.done === true) break;
    seen.push(next.value.eventId);
    most = Math.max(most, subscription.bufferedCount?.() ?? Infinity);
  }
  await writing;
  t.same(seen, expected, 'every event once, in log order');
  t.ok(most <= 4, `at most one page held (${most})`);
  await subscription.close();
  t.equal((await iterator.next()).done, true);
});

t.test('verify names a changed event and an undecodable one', async (t) => {
  const { server, store } = await setup(t);
  await store.append(
    'committee-t1-a',
    [event('A.v1', 'a0'), event('A.v1', 'a1'), event('A.v1', 'a2')],
    NO_STREAM,
    {
      commandId: 'a',
    },
  );
  t.equal((await store.verify()).firstProblem, null);
  server.tamper('ns:committee-t1-a', 1n, (record) => {
    record.data = Uint8Array.from([...record.data, 0]);
  });
  const report = await store.verify();
  t.match(report.firstProblem, { stream: 'committee-t1-a', revision: 1n, reason: 'hash_mismatch' });
  server.tamper('ns:committee-t1-a', 0n, (record) => {
    record.metadata = new Uint8Array([1, 2, 3]);
  });
  t.match((await store.verify({ stream: 'committee-t1-a' })).firstProblem, {
    revision: 0n,
    reason: 'undecodable',
  });
});

t.test('close waits for an append in flight, then refuses everything', async (t) => {
  const { store, open } = await setup(t);
  const inFlight = store.append('document-t1-c', [event('A.v1', 'x')], NO_STREAM, {
    commandId: 'c',
  });
  await store.close();
  t.equal((await inFlight).nextExpectedRevision, 0n, 'the append in flight completed');
  const after = await thrown(
    store.append('document-t1-c', [event('A.v1', 'y')], ANY, { commandId: 'd' }),
  );
  t.type(after, StoreUnavailableError);
  t.throws(() => store.subscribeToAll(), StoreUnavailableError);
  const reopened = await open();
  t.equal((await collect(reopened.readStream('document-t1-c'))).length, 1);
});
