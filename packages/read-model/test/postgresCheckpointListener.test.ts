// The scale-out push's wake-up: each projector batch committed to the PostgreSQL read models is
// notified to every listener; a listener whose connection the server kills reconnects and reports
// what was committed while it was away.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import t, { type Test } from 'tap';
import {
  checkpointChannel,
  openPostgresReadModelStore,
  PostgresCheckpointListener,
} from '../src/postgres/index.js';
import type { ProjectedEvent } from '../src/index.js';
import { LoggedScenario } from './loggedScenario.js';

const url = process.env['RATSFACH_TEST_PG_URL'] ?? '';
if (url === '') {
  throw new Error(
    'RATSFACH_TEST_PG_URL is not set: start PostgreSQL with scripts/pg.sh and export its URL',
  );
}

const admin = async (sql: string, params: unknown[] = []) => {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(sql, params);
  } finally {
    await client.end();
  }
};

async function setup(t: Test) {
  const schema = `rm_test_${randomBytes(6).toString('hex')}`;
  const store = await openPostgresReadModelStore({
    connection: { connectionString: url, max: 2 },
    schema,
  });
  t.teardown(async () => {
    await store.close();
    await admin(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  });
  const s = new LoggedScenario().withDocument();
  s.exec(s.commitVersion('doc1', 'alice', 'a1'));
  s.exec(s.commitVersion('doc1', 'alice', 'a1'));
  const events = s.logged;
  const seen: bigint[] = [];
  const waiters: (() => void)[] = [];
  const errors: unknown[] = [];
  const listen = (options: { checkMs?: number; retryMs?: number } = {}) => {
    const listener = new PostgresCheckpointListener({
      connection: { connectionString: url, application_name: `listener_${schema}` },
      schema,
      retryMs: 20,
      maxRetryMs: 200,
      ...options,
      onCheckpoint: (checkpoint) => {
        seen.push(checkpoint);
        for (const wake of waiters.splice(0)) wake();
      },
      onError: (error) => errors.push(error),
    });
    t.teardown(() => listener.close());
    return listener;
  };
  /** Resolves once `checkpoint` was reported (fails the test after 5 s). */
  const reported = async (checkpoint: bigint) => {
    const deadline = Date.now() + 5_000;
    while (!seen.includes(checkpoint)) {
      if (Date.now() > deadline) throw new Error(`checkpoint ${checkpoint} was not reported`);
      await new Promise<void>((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  };
  const apply = (from: number, to: number) => {
    const batch = events.slice(from, to);
    return store.apply(batch, (batch.at(-1) as ProjectedEvent).position);
  };
  return { schema, store, events, seen, errors, listen, reported, apply };
}

t.test(
  'every committed batch is notified; the first report is the stored checkpoint',
  async (t) => {
    const w = await setup(t);
    await w.apply(0, 5);
    const listener = w.listen();
    await listener.connected();
    t.same(w.seen, [w.events[4]!.position], 'on connect: what was committed before');
    await w.apply(5, 8);
    await w.reported(w.events[7]!.position);
    await w.apply(8, w.events.length);
    await w.reported(w.events.at(-1)!.position);
    t.same(
      w.seen,
      [w.events[4]!.position, w.events[7]!.position, w.events.at(-1)!.position],
      'one report per batch, in order, nothing twice',
    );
    t.equal(listener.connections, 1);
  },
);

t.test('a batch that rolls back notifies nothing', async (t) => {
  const w = await setup(t);
  const listener = w.listen();
  await listener.connected();
  await w.apply(0, 3);
  await w.reported(w.events[2]!.position);
  // A batch out of order is refused: its transaction rolls back.
  await t.rejects(w.store.apply([w.events[4]!, w.events[3]!], w.events[4]!.position));
  await new Promise((resolve) => setTimeout(resolve, 150));
  t.same(w.seen, [w.events[2]!.position], 'no notification from the refused batch');
});

t.test('a terminated LISTEN connection reconnects and misses no change', async (t) => {
  const w = await setup(t);
  // Long periodic checks and a reconnect after 300 ms: the batch committed right after the kill
  // lands while no one listens, so only the reconnect's read can report it.
  const listener = w.listen({ checkMs: 60_000, retryMs: 300 });
  await listener.connected();
  await w.apply(0, 4);
  await w.reported(w.events[3]!.position);

  const pid = listener.backendPid;
  t.type(pid, 'number');
  await w.apply(4, 6);
  const killed = await admin('SELECT pg_terminate_backend($1) AS done', [pid]);
  t.equal(
    (killed.rows[0] as { done: boolean }).done,
    true,
    'the server ended the LISTEN connection',
  );
  // Committed while the listener is (about to be) disconnected: its NOTIFY may be lost.
  await w.apply(6, 9);
  await w.reported(w.events[8]!.position);
  const deadline = Date.now() + 5_000;
  while (listener.connections < 2 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  t.equal(listener.connections, 2, 'it reconnected');
  t.not(listener.backendPid, pid, 'on a new connection');
  t.ok(w.errors.length >= 1, 'the drop was reported');
  await w.apply(9, w.events.length);
  await w.reported(w.events.at(-1)!.position);
  t.ok(
    w.seen.every((c, i) => i === 0 || c > w.seen[i - 1]!),
    'reports only ever move forward',
  );
});

t.test('a change while the database is unreachable is reported once it is back', async (t) => {
  const w = await setup(t);
  const listener = w.listen({ checkMs: 60_000 });
  await listener.connected();
  // Keep killing every new LISTEN connection of this listener while three batches commit.
  const kill = () =>
    admin('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [
      `listener_${w.schema}`,
    ]);
  await kill();
  for (const [from, to] of [
    [0, 2],
    [2, 4],
    [4, 7],
  ] as const) {
    await w.apply(from, to);
    await kill();
  }
  await w.reported(w.events[6]!.position);
  t.ok(listener.connections >= 2, 'it kept reconnecting');
});

t.test('a bad schema name; a long one gets a hashed channel; close while down', async (t) => {
  t.throws(
    () =>
      new PostgresCheckpointListener({
        connection: { connectionString: url },
        schema: 'x"; DROP',
        onCheckpoint: () => undefined,
      }),
    { code: 'RATSFACH_READ_MODEL_OPTIONS_INVALID' },
  );
  const long = 'a'.repeat(64);
  t.ok(checkpointChannel(long).length <= 63);
  t.not(checkpointChannel(long), checkpointChannel('a'.repeat(63)));
  t.equal(checkpointChannel('rm'), 'ratsfach_rm_rm');

  const errors: unknown[] = [];
  const listener = new PostgresCheckpointListener({
    connection: { connectionString: 'postgres://nobody@127.0.0.1:1/none' },
    schema: 'rm_nowhere',
    retryMs: 10,
    onCheckpoint: () => undefined,
    onError: (error) => errors.push(error),
  });
  await new Promise((resolve) => setTimeout(resolve, 100));
  t.ok(errors.length >= 1, 'each failed connect is reported');
  t.equal(listener.backendPid, null);
  await listener.close();
  await listener.connected();
  t.pass('close ends the retries and releases waiters');
});
