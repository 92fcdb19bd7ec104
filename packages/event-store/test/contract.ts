import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type tap from 'tap';
import { bytesEqual, ValidationError } from '@ratsfach/kernel';
import {
  ANY,
  CommandIdReusedError,
  ConcurrencyError,
  EmptyAppendError,
  EventTooLargeError,
  GENESIS_PREV_HASH,
  InvalidEventError,
  NO_STREAM,
  STREAM_EXISTS,
  StoreUnavailableError,
  eventHash,
  eventIdFor,
  type AppendResult,
  type EventStore,
  type EventStoreLimits,
  type NewEvent,
  type RecordedEvent,
  type Subscription,
} from '../src/index.js';

/** The test object tap hands to a subtest (and the root `t`). */
export type TestContext = Parameters<Parameters<typeof tap.test>[0]>[0];

export interface ContractStoreOptions {
  /** Limits the store must enforce; the contract sets small ones for the size-limit case. */
  readonly limits?: EventStoreLimits;
}

/** How a child process opens the same storage: `(await import(module))[exportName](arg)`. */
export interface ChildOpenSpec {
  /** Absolute path of a module (.ts or .js) that exports the opener. */
  readonly module: string;
  readonly exportName: string;
  /** JSON-serialisable argument for the opener. */
  readonly arg: unknown;
}

/** One store opened for one contract case, with the hooks the suite needs around it. */
export interface ContractBackend {
  /** A store on fresh, empty storage (its own file, database or, for KurrentDB, tenant). */
  readonly store: EventStore;
  /**
   * The tenant used in every stream name of this case. A backend whose storage cannot be fresh
   * (KurrentDB) gives a unique one; others may give any valid id.
   */
  readonly tenant: string;
  /**
   * Global position after which the log holds only this case's events (`0n`-like start for a
   * fresh store: pass undefined). Used as `after` by the read-all and subscription cases.
   */
  readonly startAfter?: bigint;
  /** Opens the same storage again, as a restarted process would (the suite closes `store` first). */
  reopen(): Promise<EventStore>;
  /**
   * How another process opens the same storage, for the SIGKILL case. Absent for a store that
   * keeps nothing beyond its process (memory): that case then does not apply to it.
   */
  readonly child?: ChildOpenSpec;
  /**
   * Flips one byte of the stored event's data behind the store's back. A backend whose stored
   * events are immutable (KurrentDB) forges a broken event instead and returns the revision it
   * wrote; `verify` must name that one.
   */
  corrupt(stream: string, revision: bigint): Promise<void | { readonly revision: bigint }>;
  /** Closes whatever is still open and removes the storage. Called after every case. */
  destroy(): Promise<void>;
}

export interface EventStoreContractFactory {
  open(options?: ContractStoreOptions): Promise<ContractBackend>;
  /**
   * False for a store whose log lives only in its process (memory): the case that kills a
   * writing process and reopens its storage is not run. Every product backend is durable.
   */
  readonly durable?: boolean;
}

const text = new TextEncoder();
const bytes = (value: string): Uint8Array => text.encode(value);
const event = (type: string, data: string, metadata = '{}'): NewEvent => ({
  type,
  data: bytes(data),
  metadata: bytes(metadata),
});

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

async function expectError(
  t: TestContext,
  action: Promise<unknown> | (() => Promise<unknown>),
  errorClass: abstract new (...args: never[]) => Error,
  code: string,
  message?: string,
): Promise<Error | undefined> {
  try {
    await (typeof action === 'function' ? action() : action);
    t.fail(`${message ?? 'expected an error'}: resolved instead of throwing ${errorClass.name}`);
    return undefined;
  } catch (error) {
    t.type(error, errorClass, message ?? `throws ${errorClass.name}`);
    t.equal((error as { code?: unknown }).code, code, message ?? `code ${code}`);
    return error as Error;
  }
}

const runTs = fileURLToPath(new URL('../../../scripts/run-ts.sh', import.meta.url));
const childScript = fileURLToPath(new URL('./contractChild.ts', import.meta.url));

/**
 * The shared contract suite: every EventStore adapter runs it (test/<adapter>.test.ts). Each case
 * opens a fresh backend through `factory` and destroys it afterwards.
 */
export function runEventStoreContract(t: TestContext, factory: EventStoreContractFactory): void {
  const withBackend = (
    name: string,
    body: (t: TestContext, backend: ContractBackend) => Promise<void>,
    options?: ContractStoreOptions,
  ): void => {
    t.test(name, async (t) => {
      const backend = await factory.open(options);
      t.teardown(() => backend.destroy());
      await body(t, backend);
    });
  };
  const streamOf = (backend: ContractBackend, kind: string, id: string): string =>
    `${kind}-${backend.tenant}-${id}`;
  const readAllOf = (backend: ContractBackend, store: EventStore = backend.store) =>
    collect(store.readAll(backend.startAfter === undefined ? {} : { after: backend.startAfter }));

  withBackend(
    'appends to a new stream and reads back the exact bytes with ids and positions',
    async (t, backend) => {
      const stream = streamOf(backend, 'document', 'd1');
      const data = new Uint8Array([0, 255, 1, 254, 0x7b, 0x22]);
      const metadata = new Uint8Array([9, 8, 7]);
      const result = await backend.store.append(
        stream,
        [{ type: 'DocumentCreated.v1', data, metadata }, event('DocumentMoved.v1', 'm')],
        NO_STREAM,
        { commandId: 'cmd-create' },
      );
      t.equal(result.nextExpectedRevision, 1n);
      t.equal(result.replayed, false);
      t.same(result.eventIds, [
        eventIdFor(backend.tenant, 'cmd-create', 0),
        eventIdFor(backend.tenant, 'cmd-create', 1),
      ]);
      const read = await collect(backend.store.readStream(stream));
      t.equal(read.length, 2);
      const [first, second] = read as [RecordedEvent, RecordedEvent];
      t.equal(first.stream, stream);
      t.equal(first.revision, 0n);
      t.equal(second.revision, 1n);
      t.equal(first.type, 'DocumentCreated.v1');
      t.ok(bytesEqual(first.data, data), 'data comes back byte for byte');
      t.ok(bytesEqual(first.metadata, metadata), 'metadata comes back byte for byte');
      t.equal(first.eventId, result.eventIds[0]);
      t.ok(second.globalPosition > first.globalPosition);
      t.equal(second.globalPosition, result.lastGlobalPosition);
      const head = await backend.store.streamHead(stream);
      t.equal(head?.revision, 1n);
      t.ok(head !== null && bytesEqual(head.hash, second.hash));
      t.equal(await backend.store.streamHead(streamOf(backend, 'document', 'none')), null);
    },
  );

  withBackend(
    'links every event to the previous one by hash, from 64 zero bytes',
    async (t, backend) => {
      const stream = streamOf(backend, 'committee', 'c1');
      await backend.store.append(stream, [event('A.v1', 'a'), event('B.v1', 'b')], NO_STREAM, {
        commandId: 'c1',
      });
      await backend.store.append(stream, [event('C.v1', 'c')], 1n, { commandId: 'c2' });
      const read = await collect(backend.store.readStream(stream));
      t.equal(read.length, 3);
      let prev = GENESIS_PREV_HASH;
      for (const recorded of read) {
        t.ok(
          bytesEqual(recorded.prevHash, prev),
          `revision ${recorded.revision} links to its predecessor`,
        );
        t.ok(
          bytesEqual(recorded.hash, eventHash(recorded)),
          `revision ${recorded.revision} hash recomputes`,
        );
        t.equal(recorded.hash.length, 64);
        prev = recorded.hash;
      }
      const report = await backend.store.verify();
      t.equal(report.firstProblem, null);
      t.equal(report.eventsChecked, 3);
    },
  );

  withBackend(
    'stores a view into a larger buffer and empty data as exactly those bytes',
    async (t, backend) => {
      const stream = streamOf(backend, 'document', 'views');
      const buffer = new Uint8Array([9, 9, 1, 2, 3, 9, 9]);
      const view = buffer.subarray(2, 5);
      await backend.store.append(
        stream,
        [{ type: 'A.v1', data: view, metadata: new Uint8Array() }],
        NO_STREAM,
        { commandId: 'views' },
      );
      const [stored] = await collect(backend.store.readStream(stream));
      t.same([...(stored?.data ?? [])], [1, 2, 3], 'only the bytes of the view');
      t.equal(stored?.metadata.length, 0, 'empty metadata stays empty');
      t.ok(
        stored !== undefined && bytesEqual(stored.hash, eventHash(stored)),
        'and the hash covers exactly them',
      );
    },
  );

  withBackend('honours the expected-revision sentinels and exact revisions', async (t, backend) => {
    const store = backend.store;
    const stream = streamOf(backend, 'user', 'u1');
    const missing = streamOf(backend, 'user', 'u2');
    const error = await expectError(
      t,
      store.append(missing, [event('A.v1', 'x')], STREAM_EXISTS, { commandId: 'e1' }),
      ConcurrencyError,
      'RATSFACH_EVENT_STORE_CONCURRENCY',
      'stream_exists on a missing stream',
    );
    t.match((error as ConcurrencyError | undefined)?.details, { stream: missing, actual: null });
    await expectError(
      t,
      store.append(missing, [event('A.v1', 'x')], 0n, { commandId: 'e2' }),
      ConcurrencyError,
      'RATSFACH_EVENT_STORE_CONCURRENCY',
      'exact revision on a missing stream',
    );
    t.equal(await store.streamHead(missing), null, 'refused appends wrote nothing');

    await store.append(stream, [event('A.v1', '0')], NO_STREAM, { commandId: 'n1' });
    const noStream = await expectError(
      t,
      store.append(stream, [event('A.v1', 'x')], NO_STREAM, { commandId: 'n2' }),
      ConcurrencyError,
      'RATSFACH_EVENT_STORE_CONCURRENCY',
      'no_stream on an existing stream',
    );
    t.match((noStream as ConcurrencyError | undefined)?.details, {
      stream,
      expected: 'no_stream',
      actual: '0',
    });
    t.equal(
      (await store.append(stream, [event('A.v1', '1')], STREAM_EXISTS, { commandId: 's1' }))
        .nextExpectedRevision,
      1n,
    );
    t.equal(
      (await store.append(stream, [event('A.v1', '2')], 1n, { commandId: 'x1' }))
        .nextExpectedRevision,
      2n,
    );
    const wrong = await expectError(
      t,
      store.append(stream, [event('A.v1', 'x')], 1n, { commandId: 'x2' }),
      ConcurrencyError,
      'RATSFACH_EVENT_STORE_CONCURRENCY',
      'a stale exact revision',
    );
    t.match((wrong as ConcurrencyError | undefined)?.details, {
      expected: 'revision 1',
      actual: '2',
    });
    await expectError(
      t,
      store.append(stream, [event('A.v1', 'x')], 5n, { commandId: 'x3' }),
      ConcurrencyError,
      'RATSFACH_EVENT_STORE_CONCURRENCY',
      'a revision ahead of the stream',
    );
    t.equal(
      (await store.append(stream, [event('A.v1', '3')], ANY, { commandId: 'a1' }))
        .nextExpectedRevision,
      3n,
    );
    t.equal(
      (
        await store.append(streamOf(backend, 'user', 'u3'), [event('A.v1', '0')], ANY, {
          commandId: 'a2',
        })
      ).nextExpectedRevision,
      0n,
    );
    t.equal((await collect(store.readStream(stream))).length, 4);
  });

  withBackend(
    'lets exactly one of two racing writers win and gives the other a ConcurrencyError',
    async (t, backend) => {
      for (let round = 0; round < 10; round += 1) {
        const stream = streamOf(backend, 'document', `race${round}`);
        const firstRace = await Promise.allSettled([
          backend.store.append(stream, [event('A.v1', 'left')], NO_STREAM, {
            commandId: `l${round}`,
          }),
          backend.store.append(stream, [event('A.v1', 'right')], NO_STREAM, {
            commandId: `r${round}`,
          }),
        ]);
        t.equal(
          firstRace.filter((r) => r.status === 'fulfilled').length,
          1,
          `round ${round}: one creator wins`,
        );
        const lost = firstRace.find((r) => r.status === 'rejected');
        t.type(lost?.reason, ConcurrencyError);
        const secondRace = await Promise.allSettled([
          backend.store.append(stream, [event('A.v1', 'left')], 0n, { commandId: `l2${round}` }),
          backend.store.append(stream, [event('A.v1', 'right')], 0n, { commandId: `r2${round}` }),
        ]);
        t.equal(
          secondRace.filter((r) => r.status === 'fulfilled').length,
          1,
          `round ${round}: one appender wins`,
        );
        t.type(secondRace.find((r) => r.status === 'rejected')?.reason, ConcurrencyError);
        t.equal((await collect(backend.store.readStream(stream))).length, 2);
      }
    },
  );

  withBackend(
    'appends with "any" at the head so concurrent writers never fork a chain',
    async (t, backend) => {
      const stream = streamOf(backend, 'delivery', '20260101');
      const results = await Promise.all(
        Array.from({ length: 24 }, (_, i) =>
          backend.store.append(stream, [event('Delivered.v1', `d${i}`)], ANY, {
            commandId: `any-${i}`,
          }),
        ),
      );
      t.same(
        results.map((r) => r.nextExpectedRevision).sort((a, b) => (a < b ? -1 : 1)),
        Array.from({ length: 24 }, (_, i) => BigInt(i)),
        'every append got its own revision',
      );
      const read = await collect(backend.store.readStream(stream));
      t.same(
        read.map((e) => e.revision),
        Array.from({ length: 24 }, (_, i) => BigInt(i)),
      );
      t.equal((await backend.store.verify({ stream })).firstProblem, null, 'the chain verifies');
    },
  );

  withBackend(
    'refuses one append of a concurrent group without failing the others',
    async (t, backend) => {
      const taken = streamOf(backend, 'document', 'taken');
      await backend.store.append(taken, [event('A.v1', 'x')], NO_STREAM, { commandId: 'first' });
      const settled = await Promise.allSettled([
        ...Array.from({ length: 16 }, (_, i) =>
          backend.store.append(
            streamOf(backend, 'document', `g${i}`),
            [event('A.v1', `${i}`)],
            NO_STREAM,
            { commandId: `g-${i}` },
          ),
        ),
        backend.store.append(taken, [event('A.v1', 'y')], NO_STREAM, { commandId: 'second' }),
      ]);
      t.equal(settled.filter((s) => s.status === 'fulfilled').length, 16);
      t.type((settled[16] as PromiseRejectedResult).reason, ConcurrencyError);
      for (let i = 0; i < 16; i += 1) {
        t.equal(
          (await collect(backend.store.readStream(streamOf(backend, 'document', `g${i}`)))).length,
          1,
        );
      }
      t.equal((await collect(backend.store.readStream(taken))).length, 1);
    },
  );

  withBackend(
    'returns the stored result for a retried command and writes nothing twice',
    async (t, backend) => {
      const stream = streamOf(backend, 'document', 'retry');
      const events = [event('A.v1', 'one'), event('B.v1', 'two')];
      const first = await backend.store.append(stream, events, NO_STREAM, {
        commandId: 'retry-me',
      });
      const again = await backend.store.append(stream, events, NO_STREAM, {
        commandId: 'retry-me',
      });
      t.equal(again.replayed, true);
      t.equal(again.nextExpectedRevision, first.nextExpectedRevision);
      t.equal(again.lastGlobalPosition, first.lastGlobalPosition);
      t.same(again.eventIds, first.eventIds);
      await backend.store.append(stream, [event('C.v1', 'three')], 1n, { commandId: 'later' });
      const late = await backend.store.append(stream, events, 0n, { commandId: 'retry-me' });
      t.equal(late.replayed, true, 'a late retry is replayed whatever revision it expected');
      t.equal(late.nextExpectedRevision, 1n);
      const concurrent = await Promise.all([
        backend.store.append(streamOf(backend, 'document', 'twice'), events, ANY, {
          commandId: 'dup',
        }),
        backend.store.append(streamOf(backend, 'document', 'twice'), events, ANY, {
          commandId: 'dup',
        }),
      ]);
      t.same(
        concurrent.map((r) => r.replayed).sort(),
        [false, true],
        'two copies in flight: one writes, one replays',
      );
      t.equal((await collect(backend.store.readStream(stream))).length, 3);
      t.equal(
        (await collect(backend.store.readStream(streamOf(backend, 'document', 'twice')))).length,
        2,
      );
      t.equal((await readAllOf(backend)).length, 5);
    },
  );

  withBackend(
    'refuses a command id reused for another stream or other events',
    async (t, backend) => {
      const stream = streamOf(backend, 'document', 'one');
      await backend.store.append(stream, [event('A.v1', 'a'), event('B.v1', 'b')], NO_STREAM, {
        commandId: 'once',
      });
      const other = streamOf(backend, 'document', 'two');
      await expectError(
        t,
        backend.store.append(other, [event('A.v1', 'a'), event('B.v1', 'b')], NO_STREAM, {
          commandId: 'once',
        }),
        CommandIdReusedError,
        'RATSFACH_EVENT_STORE_COMMAND_ID_REUSED',
        'another stream',
      );
      await expectError(
        t,
        backend.store.append(stream, [event('A.v1', 'a'), event('B.v1', 'CHANGED')], ANY, {
          commandId: 'once',
        }),
        CommandIdReusedError,
        'RATSFACH_EVENT_STORE_COMMAND_ID_REUSED',
        'other data',
      );
      await expectError(
        t,
        backend.store.append(stream, [event('A.v1', 'a')], ANY, { commandId: 'once' }),
        CommandIdReusedError,
        'RATSFACH_EVENT_STORE_COMMAND_ID_REUSED',
        'fewer events',
      );
      await expectError(
        t,
        backend.store.append(
          stream,
          [event('A.v1', 'a'), event('B.v1', 'b'), event('C.v1', 'c')],
          ANY,
          { commandId: 'once' },
        ),
        CommandIdReusedError,
        'RATSFACH_EVENT_STORE_COMMAND_ID_REUSED',
        'more events',
      );
      t.equal(await backend.store.streamHead(other), null);
      t.equal(
        (await collect(backend.store.readStream(stream))).length,
        2,
        'nothing more was written',
      );
    },
  );

  withBackend(
    'reads a stream forwards and backwards from a revision with a maximum count',
    async (t, backend) => {
      const stream = streamOf(backend, 'committee', 'read');
      await backend.store.append(
        stream,
        Array.from({ length: 10 }, (_, i) => event('A.v1', `${i}`)),
        NO_STREAM,
        { commandId: 'ten' },
      );
      await backend.store.append(
        streamOf(backend, 'committee', 'noise'),
        [event('A.v1', 'n')],
        NO_STREAM,
        { commandId: 'noise' },
      );
      const revisions = async (options: Parameters<EventStore['readStream']>[1]) =>
        (await collect(backend.store.readStream(stream, options))).map((e) => Number(e.revision));
      t.same(await revisions({}), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      t.same(await revisions({ fromRevision: 7n }), [7, 8, 9]);
      t.same(await revisions({ fromRevision: 2n, maxCount: 3 }), [2, 3, 4]);
      t.same(await revisions({ direction: 'backwards' }), [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
      t.same(await revisions({ direction: 'backwards', fromRevision: 4n, maxCount: 2 }), [4, 3]);
      t.same(await revisions({ direction: 'backwards', maxCount: 1 }), [9]);
      t.same(await revisions({ fromRevision: 10n }), []);
      t.same(await collect(backend.store.readStream(streamOf(backend, 'committee', 'absent'))), []);
    },
  );

  withBackend(
    'reads the whole log in global order from a position, exclusive',
    async (t, backend) => {
      const appended: string[] = [];
      for (let i = 0; i < 30; i += 1) {
        const result = await backend.store.append(
          streamOf(backend, 'document', `s${i % 7}`),
          [event('A.v1', `${i}`)],
          ANY,
          { commandId: `all-${i}` },
        );
        appended.push(...result.eventIds);
      }
      const all = await readAllOf(backend);
      t.same(
        all.map((e) => e.eventId),
        appended,
        'the log holds the appends in the order they were acknowledged',
      );
      for (let i = 1; i < all.length; i += 1) {
        t.ok(
          (all[i] as RecordedEvent).globalPosition > (all[i - 1] as RecordedEvent).globalPosition,
        );
      }
      const tenth = all[9] as RecordedEvent;
      const after = await collect(
        backend.store.readAll({ after: tenth.globalPosition, maxCount: 5 }),
      );
      t.same(
        after.map((e) => e.eventId),
        appended.slice(10, 15),
      );
      const last = all[all.length - 1] as RecordedEvent;
      t.same(await collect(backend.store.readAll({ after: last.globalPosition })), []);
    },
  );

  withBackend(
    'subscribes from a position, catches up and follows live without gap or duplicate',
    async (t, backend) => {
      const expected = new Set<string>();
      for (let i = 0; i < 20; i += 1) {
        const r = await backend.store.append(
          streamOf(backend, 'document', `pre${i}`),
          Array.from({ length: 10 }, (_, j) => event('A.v1', `${i}.${j}`)),
          NO_STREAM,
          { commandId: `pre-${i}` },
        );
        r.eventIds.forEach((id) => expected.add(id));
      }
      const subscription = backend.store.subscribeToAll(
        backend.startAfter === undefined
          ? { pageSize: 32 }
          : { after: backend.startAfter, pageSize: 32 },
      );
      const iterator = subscription[Symbol.asyncIterator]();
      const writers = Promise.all(
        Array.from({ length: 8 }, async (_, w) => {
          for (let i = 0; i < 40; i += 1) {
            const r = await backend.store.append(
              streamOf(backend, 'user', `w${w}`),
              [event('B.v1', `${w}.${i}`)],
              ANY,
              { commandId: `live-${w}-${i}` },
            );
            r.eventIds.forEach((id) => expected.add(id));
            if (i % 10 === 0) await new Promise((resolve) => setImmediate(resolve));
          }
        }),
      );
      const seen: RecordedEvent[] = [];
      while (seen.length < 200 + 8 * 40) {
        const next = await iterator.next();
        if (next.done === true) break;
        seen.push(next.value);
      }
      await writers;
      const ids = seen.map((e) => e.eventId);
      t.equal(new Set(ids).size, ids.length, 'no duplicate');
      t.equal(ids.length, 200 + 8 * 40);
      t.same(new Set(ids), expected, 'no gap: every appended event arrived');
      t.ok(
        seen.every(
          (e, i) => i === 0 || e.globalPosition > (seen[i - 1] as RecordedEvent).globalPosition,
        ),
        'in global order',
      );
      const pending = iterator.next();
      const tail = await backend.store.append(
        streamOf(backend, 'user', 'tail'),
        [event('C.v1', 'tail')],
        NO_STREAM,
        { commandId: 'tail' },
      );
      const live = await pending;
      t.equal(live.done, false);
      t.equal(
        live.done === false ? live.value.eventId : undefined,
        tail.eventIds[0],
        'a later append arrives live',
      );
      await subscription.close();
      t.equal((await iterator.next()).done, true, 'a closed subscription ends');
    },
  );

  withBackend(
    'resumes a subscription after a checkpoint without repeating it',
    async (t, backend) => {
      const results: AppendResult[] = [];
      for (let i = 0; i < 6; i += 1) {
        results.push(
          await backend.store.append(
            streamOf(backend, 'document', 'cp'),
            [event('A.v1', `${i}`)],
            ANY,
            { commandId: `cp-${i}` },
          ),
        );
      }
      const checkpoint = (results[2] as AppendResult).lastGlobalPosition;
      const controller = new AbortController();
      const subscription = backend.store.subscribeToAll({
        after: checkpoint,
        signal: controller.signal,
      });
      const got: string[] = [];
      for await (const recorded of subscription) {
        got.push(recorded.eventId);
        if (got.length === 3) controller.abort();
      }
      t.same(
        got,
        results.slice(3).map((r) => r.eventIds[0]),
        'starts right after the checkpoint; abort ends it',
      );
    },
  );

  withBackend('keeps a slow subscriber to one bounded page (back-pressure)', async (t, backend) => {
    const pageSize = 16;
    for (let i = 0; i < 10; i += 1) {
      await backend.store.append(
        streamOf(backend, 'document', `bp${i}`),
        Array.from({ length: 50 }, (_, j) => event('A.v1', `${i}.${j}`)),
        NO_STREAM,
        { commandId: `bp-${i}` },
      );
    }
    const subscription: Subscription = backend.store.subscribeToAll(
      backend.startAfter === undefined ? { pageSize } : { after: backend.startAfter, pageSize },
    );
    t.type(subscription.bufferedCount, 'function', 'the adapter reports what it fetched ahead');
    const iterator = subscription[Symbol.asyncIterator]();
    await iterator.next();
    await new Promise((resolve) => setTimeout(resolve, 50));
    let most = subscription.bufferedCount?.() ?? Infinity;
    t.ok(
      most <= pageSize,
      `a consumer that stops pulling leaves at most one page buffered (${most})`,
    );
    let count = 1;
    while (count < 500) {
      const next = await iterator.next();
      if (next.done === true) break;
      count += 1;
      most = Math.max(most, subscription.bufferedCount?.() ?? Infinity);
    }
    t.equal(count, 500);
    t.ok(most <= pageSize, `never more than one page buffered while consuming (${most})`);
    await subscription.close();
  });

  withBackend(
    'accepts an event of exactly the size limit and refuses one byte more',
    async (t, backend) => {
      const stream = streamOf(backend, 'document', 'big');
      const limit = 64 * 1024;
      const type = 'Big.v1';
      const metadata = bytes('{"k":1}');
      const data = new Uint8Array(limit - type.length - metadata.length).fill(0xab);
      await backend.store.append(stream, [{ type, data, metadata }], NO_STREAM, {
        commandId: 'big-ok',
      });
      const [stored] = await collect(backend.store.readStream(stream));
      t.ok(
        stored !== undefined && bytesEqual(stored.data, data),
        'the largest event comes back whole',
      );
      const over = new Uint8Array(data.length + 1);
      const error = await expectError(
        t,
        backend.store.append(
          stream,
          [event('A.v1', 'small'), { type, data: over, metadata }],
          ANY,
          { commandId: 'big-no' },
        ),
        EventTooLargeError,
        'RATSFACH_EVENT_STORE_EVENT_TOO_LARGE',
      );
      t.match((error as EventTooLargeError | undefined)?.details, {
        index: 1,
        size: limit + 1,
        limit,
      });
      t.equal(
        (await collect(backend.store.readStream(stream))).length,
        1,
        'nothing of the refused append was written',
      );
    },
    { limits: { maxEventBytes: 64 * 1024, maxEventsPerAppend: 1000 } },
  );

  withBackend('stores, reads back and verifies 50,000 events', async (t, backend) => {
    const streams = 100;
    const perStream = 500;
    const payload = (s: number, i: number) => `{"s":${s},"i":${i},"pad":"${'x'.repeat(40)}"}`;
    for (let s = 0; s < streams; s += 10) {
      await Promise.all(
        Array.from({ length: 10 }, (_, k) =>
          backend.store.append(
            streamOf(backend, 'document', `bulk${s + k}`),
            Array.from({ length: perStream }, (_, i) => event('Bulk.v1', payload(s + k, i))),
            NO_STREAM,
            { commandId: `bulk-${s + k}` },
          ),
        ),
      );
    }
    let count = 0;
    let previous = -1n;
    const nextRevision = new Map<string, bigint>();
    let ordered = true;
    let contiguous = true;
    for await (const recorded of backend.store.readAll(
      backend.startAfter === undefined ? {} : { after: backend.startAfter },
    )) {
      count += 1;
      if (recorded.globalPosition <= previous) ordered = false;
      previous = recorded.globalPosition;
      const want = nextRevision.get(recorded.stream) ?? 0n;
      if (recorded.revision !== want) contiguous = false;
      nextRevision.set(recorded.stream, want + 1n);
    }
    t.equal(count, streams * perStream);
    t.ok(ordered, 'global positions strictly increase');
    t.ok(contiguous, 'every stream is contiguous from revision 0');
    const sample = await collect(
      backend.store.readStream(streamOf(backend, 'document', 'bulk42'), { fromRevision: 499n }),
    );
    t.equal(new TextDecoder().decode(sample[0]?.data), payload(42, 499));
    const report = await backend.store.verify();
    t.equal(report.firstProblem, null);
    t.equal(report.eventsChecked, streams * perStream);
  });

  if (factory.durable !== false) {
    withBackend(
      'keeps an acknowledged append when the process is killed with SIGKILL right after',
      async (t, backend) => {
        if (backend.child === undefined) throw new Error('a durable backend needs a child spec');
        const stream = streamOf(backend, 'document', 'killed');
        const child = spawn(
          'bash',
          [
            runTs,
            childScript,
            JSON.stringify({ ...backend.child, stream, commandId: 'before-kill' }),
          ],
          { stdio: ['ignore', 'pipe', 'pipe'] },
        );
        let stderr = '';
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        const acked = await new Promise<string>((resolve, reject) => {
          let out = '';
          child.stdout.on('data', (chunk: Buffer) => {
            out += chunk.toString();
            const line = out.split('\n').find((l) => l.startsWith('acked '));
            if (line !== undefined) {
              child.kill('SIGKILL');
              resolve(line);
            }
          });
          child.on('exit', (code) =>
            reject(new Error(`child exited (${code}) before acking: ${stderr}`)),
          );
        });
        const [, exitSignal] = (await once(child, 'exit')) as [number | null, string | null];
        t.equal(exitSignal, 'SIGKILL', 'the child died by SIGKILL');
        await backend.store.close();
        const store = await backend.reopen();
        t.teardown(() => store.close());
        const read = await collect(store.readStream(stream));
        t.equal(read.length, 3, 'all events of the acknowledged append are there');
        t.equal(read[2]?.eventId, JSON.parse(acked.slice('acked '.length)).eventIds[2]);
        t.equal((await store.verify()).firstProblem, null, 'and their chain verifies');
      },
    );
  }

  withBackend('names exactly the corrupted event when verifying', async (t, backend) => {
    const a = streamOf(backend, 'committee', 'a');
    const b = streamOf(backend, 'committee', 'b');
    await backend.store.append(
      a,
      Array.from({ length: 5 }, (_, i) => event('A.v1', `a${i}`)),
      NO_STREAM,
      { commandId: 'ca' },
    );
    await backend.store.append(
      b,
      Array.from({ length: 3 }, (_, i) => event('B.v1', `b${i}`)),
      NO_STREAM,
      { commandId: 'cb' },
    );
    t.equal((await backend.store.verify()).firstProblem, null, 'clean before');
    const corrupted = (await backend.corrupt(a, 2n)) ?? { revision: 2n };
    const [target] = await collect(
      backend.store.readStream(a, { fromRevision: corrupted.revision, maxCount: 1 }),
    );
    const whole = await backend.store.verify();
    t.same(whole.firstProblem, {
      stream: a,
      revision: corrupted.revision,
      globalPosition: target?.globalPosition,
      reason: 'hash_mismatch',
    });
    t.same((await backend.store.verify({ stream: a })).firstProblem?.revision, corrupted.revision);
    t.equal(
      (await backend.store.verify({ stream: b })).firstProblem,
      null,
      'the other stream still verifies',
    );
  });

  withBackend('refuses bad input with typed errors and writes nothing', async (t, backend) => {
    const stream = streamOf(backend, 'document', 'bad');
    await expectError(
      t,
      backend.store.append('document-only', [event('A.v1', 'x')], ANY, { commandId: 'b1' }),
      ValidationError,
      'RATSFACH_STREAM_NAME_INVALID',
    );
    await expectError(
      t,
      backend.store.append(`Document-${backend.tenant}-x`, [event('A.v1', 'x')], ANY, {
        commandId: 'b2',
      }),
      ValidationError,
      'RATSFACH_STREAM_NAME_INVALID',
    );
    await expectError(
      t,
      () => collect(backend.store.readStream('nope')),
      ValidationError,
      'RATSFACH_STREAM_NAME_INVALID',
    );
    await expectError(
      t,
      backend.store.append(stream, [], ANY, { commandId: 'b3' }),
      EmptyAppendError,
      'RATSFACH_EVENT_STORE_EMPTY_APPEND',
    );
    await expectError(
      t,
      backend.store.append(
        stream,
        [
          event('A.v1', 'ok'),
          event('A.v1', 'ok'),
          { type: '', data: bytes('x'), metadata: bytes('') },
        ],
        ANY,
        { commandId: 'b4' },
      ),
      InvalidEventError,
      'RATSFACH_EVENT_STORE_EVENT_INVALID',
    );
    await expectError(
      t,
      backend.store.append(
        stream,
        [
          event('A.v1', 'ok'),
          { type: 'A.v1', data: 'text' as unknown as Uint8Array, metadata: bytes('') },
        ],
        ANY,
        { commandId: 'b5' },
      ),
      InvalidEventError,
      'RATSFACH_EVENT_STORE_EVENT_INVALID',
    );
    t.equal(
      await backend.store.streamHead(stream),
      null,
      'no event of a refused append was written',
    );
    t.same(await readAllOf(backend), []);
  });

  withBackend(
    'refuses every call on a closed store with StoreUnavailableError',
    async (t, backend) => {
      const stream = streamOf(backend, 'document', 'closed');
      await backend.store.append(stream, [event('A.v1', 'x')], NO_STREAM, {
        commandId: 'before-close',
      });
      const inFlight = backend.store
        .append(stream, [event('A.v1', 'y')], 0n, { commandId: 'in-flight' })
        .then(
          () => 'written',
          (error: unknown) => error,
        );
      await backend.store.close();
      const outcome = await inFlight;
      if (outcome !== 'written')
        t.type(outcome, StoreUnavailableError, 'an append in flight at close is refused, not lost');
      const code = 'RATSFACH_EVENT_STORE_UNAVAILABLE';
      await expectError(
        t,
        backend.store.append(stream, [event('A.v1', 'z')], ANY, { commandId: 'after-close' }),
        StoreUnavailableError,
        code,
        'append',
      );
      await expectError(
        t,
        backend.store.streamHead(stream),
        StoreUnavailableError,
        code,
        'streamHead',
      );
      await expectError(
        t,
        () => collect(backend.store.readStream(stream)),
        StoreUnavailableError,
        code,
        'readStream',
      );
      await expectError(
        t,
        () => collect(backend.store.readAll()),
        StoreUnavailableError,
        code,
        'readAll',
      );
      await expectError(
        t,
        () => collect(backend.store.subscribeToAll()),
        StoreUnavailableError,
        code,
        'subscribeToAll',
      );
      await expectError(t, backend.store.verify(), StoreUnavailableError, code, 'verify');
      await backend.store.close();
      const reopened = await backend.reopen();
      t.teardown(() => reopened.close());
      t.equal(
        (await collect(reopened.readStream(stream))).length,
        outcome === 'written' ? 2 : 1,
        'what was acknowledged is there',
      );
    },
  );
}
