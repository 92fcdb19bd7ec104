import pg from 'pg';
import t from 'tap';
import { ValidationError } from '@ratsfach/kernel';
import {
  ANY,
  ConcurrencyError,
  NO_STREAM,
  StoreUnavailableError,
  chainEvents,
  defaultLimits,
  validateAppend,
  type NewEvent,
  type RecordedEvent,
} from '../src/index.js';
import {
  openPostgresEventStore,
  type PostgresEventStore,
} from '../src/postgres/postgresEventStore.js';
import { runEventStoreContract, type TestContext } from './contract.js';
import {
  adminQuery,
  dropSchema,
  postgresContractFactory,
  randomSchema,
  testPostgresUrl,
} from './postgresBackend.js';
import { PostgresProxy } from './postgresProxy.js';

const text = new TextEncoder();
const event = (type: string, data: string): NewEvent => ({
  type,
  data: text.encode(data),
  metadata: text.encode('{}'),
});
const unavailable = 'RATSFACH_EVENT_STORE_UNAVAILABLE';

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

let url = '';
try {
  url = testPostgresUrl();
} catch (error) {
  t.fail((error as Error).message);
}

/** A store on a schema of its own, closed and dropped at the end of the test. */
async function freshStore(
  t: TestContext,
  options: {
    schema?: string;
    url?: string;
    pollIntervalMs?: number;
    applicationName?: string;
  } = {},
): Promise<PostgresEventStore> {
  const schema = options.schema ?? randomSchema();
  const store = await openPostgresEventStore({
    connection: {
      connectionString: options.url ?? url,
      max: 8,
      connectionTimeoutMillis: 3000,
      ...(options.applicationName === undefined
        ? {}
        : { application_name: options.applicationName }),
    },
    schema,
    pollIntervalMs: options.pollIntervalMs ?? 100,
  });
  t.teardown(async () => {
    await store.close();
    await dropSchema(url, schema);
  });
  return store;
}

/** A promise that reports whether it has settled yet. */
function watch<T>(promise: Promise<T>): { promise: Promise<T>; settled: () => boolean } {
  let done = false;
  void promise.then(
    () => (done = true),
    () => (done = true),
  );
  return { promise, settled: () => done };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Fails instead of hanging when an expected event never comes (a broken adapter). */
function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not arrive within 20 s`)), 20_000);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

if (url !== '') {
  t.test('the shared event-store contract on PostgreSQL', async (t) => {
    runEventStoreContract(t, postgresContractFactory(url));
  });

  t.test(
    'a subscription never passes a position whose transaction is still in flight',
    async (t) => {
      const schema = randomSchema();
      const store = await freshStore(t, { schema });
      const before: string[] = [];
      for (let i = 0; i < 3; i += 1) {
        const r = await store.append(`document-town-pre${i}`, [event('A.v1', `${i}`)], NO_STREAM, {
          commandId: `pre-${i}`,
        });
        before.push(...r.eventIds);
      }
      const live = store.subscribeToAll({ pageSize: 4 });
      const liveIterator = live[Symbol.asyncIterator]();
      for (const id of before) t.equal((await liveIterator.next()).value?.eventId, id);

      // An append of another process, held open after it took its position.
      const slow = new pg.Client({ connectionString: url });
      await slow.connect();
      t.teardown(() => slow.end());
      await slow.query('BEGIN');
      const slowAppend = validateAppend(
        'document-town-slow',
        [event('Slow.v1', 'slow')],
        NO_STREAM,
        { commandId: 'slow' },
        defaultLimits,
      );
      const [chained] = chainEvents(slowAppend, null);
      if (chained === undefined) throw new Error('no chained event');
      const { rows } = await slow.query<{ outcome: string; last_position: string }>(
        `SELECT outcome, last_position FROM "${schema}".append_batch(
           $1::int[], $2::text[], $3::bigint[], $4::uuid[], $5::text[],
           $6::bytea[], $7::bytea[], $8::bytea[], $9::bytea[], $10::text[])`,
        [
          [0],
          [slowAppend.stream],
          [chained.revision],
          [chained.eventId],
          [chained.type],
          [chained.data],
          [chained.metadata],
          [chained.hash],
          [chained.prevHash],
          ['slow'],
        ],
      );
      t.equal(rows[0]?.outcome, 'ok', 'the slow append took its position');
      const slowPosition = BigInt(rows[0]?.last_position ?? -1);

      const pendingLive = watch(liveIterator.next());
      const later: string[] = [];
      for (let i = 0; i < 5; i += 1) {
        const r = await store.append(`document-town-later${i}`, [event('B.v1', `${i}`)], ANY, {
          commandId: `later-${i}`,
        });
        t.ok(r.lastGlobalPosition > slowPosition, `later append ${i} commits above the gap`);
        later.push(...r.eventIds);
      }
      const committed = await collect(store.readAll());
      t.same(
        committed.map((e) => e.eventId),
        [...before, ...later],
        'the later positions are committed while the lower one is still in flight',
      );
      const catchingUp = store.subscribeToAll({ pageSize: 2 });
      const catchUpIterator = catchingUp[Symbol.asyncIterator]();
      const caughtUp: string[] = [];
      for (let i = 0; i < before.length; i += 1) {
        caughtUp.push((await catchUpIterator.next()).value?.eventId as string);
      }
      t.same(caughtUp, before, 'a new subscription catches up to the gap');
      const pendingCatchUp = watch(catchUpIterator.next());

      // Several polling intervals and notifications pass: nothing may come past the gap.
      await store.append('document-town-nudge', [event('C.v1', 'nudge')], NO_STREAM, {
        commandId: 'nudge',
      });
      await sleep(800);
      t.notOk(pendingLive.settled(), 'the live subscription waits at the gap');
      t.notOk(pendingCatchUp.settled(), 'the catching-up subscription waits at the gap');

      await slow.query('COMMIT');
      const expectedOrder = [slowAppend.eventIds[0], ...later];
      const check = async (
        iterator: AsyncIterator<RecordedEvent>,
        first: Promise<IteratorResult<RecordedEvent>>,
        name: string,
      ): Promise<void> => {
        const got: RecordedEvent[] = [(await within(first, name)).value as RecordedEvent];
        while (got.length < expectedOrder.length + 1) {
          got.push((await within(iterator.next(), name)).value as RecordedEvent);
        }
        t.same(
          got.slice(0, expectedOrder.length).map((e) => e.eventId),
          expectedOrder,
          `${name}: the slow event first, then the later ones, no gap and no duplicate`,
        );
        t.equal(
          got[expectedOrder.length]?.stream,
          'document-town-nudge',
          `${name}: then the nudge`,
        );
        t.ok(
          got.every(
            (e, i) => i === 0 || e.globalPosition > (got[i - 1] as RecordedEvent).globalPosition,
          ),
          `${name}: in position order`,
        );
      };
      await check(liveIterator, pendingLive.promise, 'live');
      await check(catchUpIterator, pendingCatchUp.promise, 'catching up');
      await live.close();
      await catchingUp.close();
      t.equal((await store.verify()).firstProblem, null);
    },
  );

  t.test(
    'wakes a live subscription by NOTIFY, without waiting for the polling interval',
    async (t) => {
      const store = await freshStore(t, { pollIntervalMs: 600_000 });
      const subscription = store.subscribeToAll();
      const iterator = subscription[Symbol.asyncIterator]();
      const first = await store.append('document-town-n0', [event('A.v1', '0')], NO_STREAM, {
        commandId: 'n0',
      });
      t.equal((await within(iterator.next(), 'the first event')).value?.eventId, first.eventIds[0]);
      const pending = iterator.next();
      const second = await store.append('document-town-n1', [event('A.v1', '1')], NO_STREAM, {
        commandId: 'n1',
      });
      t.equal(
        (await within(pending, 'the live event')).value?.eventId,
        second.eventIds[0],
        'delivered long before the ten-minute polling interval',
      );
      await subscription.close();
    },
  );

  t.test('falls back to polling when the LISTEN connection is lost', async (t) => {
    const applicationName = `ratsfach_test_${randomSchema()}`;
    const store = await freshStore(t, { pollIntervalMs: 100, applicationName });
    const subscription = store.subscribeToAll();
    const iterator = subscription[Symbol.asyncIterator]();
    const first = await store.append('document-town-p0', [event('A.v1', '0')], NO_STREAM, {
      commandId: 'p0',
    });
    t.equal((await within(iterator.next(), 'the first event')).value?.eventId, first.eventIds[0]);
    const pending = iterator.next();
    const killed = await adminQuery(
      url,
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE application_name = $1 AND query LIKE 'LISTEN%'`,
      [applicationName],
    );
    t.equal(killed.rowCount, 1, 'the listening connection was cut');
    const later = await store.append('document-town-p1', [event('A.v1', '1')], NO_STREAM, {
      commandId: 'p1',
    });
    t.equal((await within(pending, 'the event after the cut')).value?.eventId, later.eventIds[0]);
    await subscription.close();
  });

  t.test('groups concurrent appends into few transactions and acknowledges each', async (t) => {
    const schema = randomSchema();
    const store = await freshStore(t, { schema });
    const results = await Promise.all(
      Array.from({ length: 64 }, (_, w) =>
        store.append(`user-town-w${w}`, [event('A.v1', `${w}`)], NO_STREAM, {
          commandId: `w-${w}`,
        }),
      ),
    );
    t.equal(new Set(results.map((r) => r.lastGlobalPosition)).size, 64, 'distinct positions');
    const { rows } = await adminQuery(
      url,
      `SELECT count(*)::int AS events, count(DISTINCT xid)::int AS transactions
         FROM "${schema}".events`,
    );
    t.equal(rows[0].events, 64);
    t.ok(
      rows[0].transactions < 16,
      `64 concurrent appends shared ${rows[0].transactions} transactions`,
    );
    t.same(
      store.groupCommitStats(),
      { transactions: rows[0].transactions, appends: 64 },
      'the store counts the same transactions',
    );
  });

  t.test('stores events as bytea and migrates idempotently', async (t) => {
    const schema = randomSchema();
    const [a, b] = await Promise.all([freshStore(t, { schema }), freshStore(t, { schema })]);
    await a.append('document-town-x', [event('A.v1', '{"b":1,"a":2}')], NO_STREAM, {
      commandId: 'x',
    });
    const again = await freshStore(t, { schema });
    t.equal((await again.streamHead('document-town-x'))?.revision, 0n, 'reopening keeps events');
    t.equal((await b.streamHead('document-town-x'))?.revision, 0n);
    const { rows } = await adminQuery(
      url,
      `SELECT column_name, data_type FROM information_schema.columns
        WHERE table_schema = $1 AND table_name = 'events' ORDER BY column_name`,
      [schema],
    );
    const types = Object.fromEntries(rows.map((r) => [r.column_name, r.data_type]));
    t.match(types, {
      data: 'bytea',
      metadata: 'bytea',
      hash: 'bytea',
      prev_hash: 'bytea',
      global_position: 'bigint',
      revision: 'bigint',
      event_id: 'uuid',
      xid: 'xid8',
    });
    t.notOk(
      Object.values(types).some((type) => /json/.test(String(type))),
      'no JSON column',
    );
    const [stored] = await collect(again.readStream('document-town-x'));
    t.equal(
      new TextDecoder().decode(stored?.data),
      '{"b":1,"a":2}',
      'key order kept byte for byte',
    );
  });

  t.test('two stores on one schema (two processes) never fork a chain', async (t) => {
    const schema = randomSchema();
    const a = await freshStore(t, { schema });
    const b = await freshStore(t, { schema });
    const stream = 'committee-town-shared';
    await a.append(stream, [event('A.v1', '0')], NO_STREAM, { commandId: 'a0' });
    await b.append(stream, [event('A.v1', '1')], 0n, { commandId: 'b1' });
    const r = await a.append(stream, [event('A.v1', '2')], 1n, { commandId: 'a2' });
    t.equal(r.nextExpectedRevision, 2n, 'a stale remembered head does not refuse a right revision');
    const stale = await a
      .append(stream, [event('A.v1', 'x')], 1n, { commandId: 'a-stale' })
      .catch((error: unknown) => error);
    t.type(stale, ConcurrencyError, 'a wrong revision is still refused');
    t.match((stale as ConcurrencyError).details, { actual: '2' });
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        (i % 2 === 0 ? a : b).append(stream, [event('B.v1', `${i}`)], ANY, {
          commandId: `race-${i}`,
        }),
      ),
    );
    t.same(
      results.map((x) => Number(x.nextExpectedRevision)).sort((x, y) => x - y),
      Array.from({ length: 40 }, (_, i) => i + 3),
      'every "any" append got its own revision',
    );
    t.equal((await a.verify()).firstProblem, null, 'the chain verifies');
    t.equal((await b.verify({ stream })).eventsChecked, 43);

    const same = [event('C.v1', 'once')];
    const both = await Promise.all([
      a.append(stream, same, ANY, { commandId: 'both' }),
      b.append(stream, same, ANY, { commandId: 'both' }),
    ]);
    t.same(
      both.map((x) => x.replayed).sort(),
      [false, true],
      'one command sent to two processes at once is written once and replayed once',
    );
    t.equal(both[0]?.lastGlobalPosition, both[1]?.lastGlobalPosition);
    t.equal((await collect(a.readStream(stream))).length, 44);
  });

  t.test('works on a pool the caller owns and leaves it open on close', async (t) => {
    const pool = new pg.Pool({ connectionString: url, max: 6 });
    pool.on('error', () => undefined);
    const schema = randomSchema();
    t.teardown(async () => {
      await dropSchema(url, schema);
      await pool.end();
    });
    const store = await openPostgresEventStore({ connection: { pool }, schema });
    const result = await store.append('tenant-town', [event('A.v1', 'x')], NO_STREAM, {
      commandId: 'own-pool',
    });
    t.equal(result.nextExpectedRevision, 0n);
    await store.close();
    const { rows } = await pool.query(`SELECT count(*)::int AS n FROM "${schema}".events`);
    t.equal(rows[0].n, 1, 'the pool still works after the store closed');
  });

  t.test(
    'refuses a schema name that is not a plain identifier and options out of range',
    async (t) => {
      for (const schema of ['Bad', 'x; DROP TABLE y', '', 'a'.repeat(49), '1abc']) {
        const error = await openPostgresEventStore({
          connection: { connectionString: url },
          schema,
        }).catch((e: unknown) => e);
        t.type(error, ValidationError, JSON.stringify(schema));
        t.equal((error as ValidationError).code, 'RATSFACH_EVENT_STORE_PG_SCHEMA_INVALID');
      }
      const badOption = await openPostgresEventStore({
        connection: { connectionString: url },
        schema: randomSchema(),
        groupCommit: { maxConcurrentBatches: 0 },
      }).catch((e: unknown) => e);
      t.type(badOption, ValidationError, 'a tuning option out of range');
      t.equal((badOption as ValidationError).code, 'RATSFACH_EVENT_STORE_PG_OPTIONS_INVALID');
      for (const notifyDelayMs of [-1, 1.5, Number.NaN]) {
        const badDelay = await openPostgresEventStore({
          connection: { connectionString: url },
          schema: randomSchema(),
          groupCommit: { notifyDelayMs },
        }).catch((e: unknown) => e);
        t.type(badDelay, ValidationError, `notifyDelayMs ${notifyDelayMs}`);
        t.equal((badDelay as ValidationError).code, 'RATSFACH_EVENT_STORE_PG_OPTIONS_INVALID');
      }
    },
  );

  t.test('a database that is gone gives StoreUnavailableError with a hint', async (t) => {
    const refused = await openPostgresEventStore({
      connection: { connectionString: 'postgres://postgres@127.0.0.1:1/ratsfach' },
      schema: randomSchema(),
    }).catch((error: unknown) => error);
    t.type(refused, StoreUnavailableError, 'opening on a port nobody listens on');
    t.equal((refused as StoreUnavailableError).code, unavailable);
    t.match((refused as StoreUnavailableError).hint, /scripts\/pg\.sh start/);

    const proxy = new PostgresProxy(url);
    await proxy.start();
    t.teardown(() => proxy.stop());
    const store = await freshStore(t, { url: proxy.urlFor(url) });
    const stream = 'document-town-gone';
    await store.append(stream, [event('A.v1', '0')], NO_STREAM, { commandId: 'g0' });
    const subscription = store.subscribeToAll();
    const iterator = subscription[Symbol.asyncIterator]();
    t.equal((await iterator.next()).value?.stream, stream);

    await proxy.stop();
    const failed = await store
      .append(stream, [event('A.v1', '1')], 0n, { commandId: 'g1' })
      .catch((error: unknown) => error);
    t.type(failed, StoreUnavailableError, 'append');
    t.equal((failed as StoreUnavailableError).code, unavailable);
    t.match((failed as StoreUnavailableError).hint, /PostgreSQL is running/);
    const head = await store.streamHead(stream).catch((error: unknown) => error);
    t.type(head, StoreUnavailableError, 'streamHead');
    const live = await iterator.next().catch((error: unknown) => error);
    t.type(live, StoreUnavailableError, 'a live subscription reports the outage');
    await subscription.close();

    await proxy.start();
    const retried = await store.append(stream, [event('A.v1', '1')], 0n, { commandId: 'g1' });
    t.equal(
      retried.nextExpectedRevision,
      1n,
      'the same command succeeds once the database is back',
    );
    t.equal(retried.replayed, false, 'the failed attempt had written nothing');
    t.equal((await collect(store.readStream(stream))).length, 2);
  });
}
