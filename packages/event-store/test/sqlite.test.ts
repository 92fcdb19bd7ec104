import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import t from 'tap';
import { isRatsfachError } from '@ratsfach/kernel';
import { NO_STREAM, StoreUnavailableError } from '../src/index.js';
import { openSqliteEventStore } from '../src/sqlite/index.js';
import { runEventStoreContract } from './contract.js';
import { openSqliteBackend } from './sqliteBackend.js';

t.test('SQLite adapter passes the event-store contract', async (t) => {
  runEventStoreContract(t, {
    open: (options) => openSqliteBackend('openSqliteEventStore', options),
  });
});

t.test('refuses to open a database in a directory that does not exist', async (t) => {
  const path = join(tmpdir(), 'ratsfach-missing-dir-' + process.pid, 'sub', 'events.sqlite');
  await t.rejects(openSqliteEventStore({ path }), StoreUnavailableError);
  await t.rejects(openSqliteEventStore({ path }), { code: 'RATSFACH_EVENT_STORE_UNAVAILABLE' });
});

t.test('stores events with WAL and synchronous=FULL', async (t) => {
  const backend = await openSqliteBackend('openSqliteEventStore');
  t.teardown(() => backend.destroy());
  const db = new Database((backend.child?.arg as { path: string }).path, { readonly: true });
  t.teardown(() => db.close());
  t.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  const columns = (
    db.prepare("SELECT name, type FROM pragma_table_info('events')").all() as {
      name: string;
      type: string;
    }[]
  )
    .filter((c) => ['data', 'metadata', 'hash', 'prev_hash'].includes(c.name))
    .map((c) => c.type);
  t.same(columns, ['BLOB', 'BLOB', 'BLOB', 'BLOB'], 'event bytes are stored as BLOBs');
});

t.test(
  'wakes a subscription for appends made through another connection to the same file',
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'ratsfach-es-sqlite-'));
    const path = join(dir, 'events.sqlite');
    const reader = await openSqliteEventStore({ path, pollIntervalMs: 20 });
    const writer = await openSqliteEventStore({ path });
    t.teardown(async () => {
      await reader.close();
      await writer.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const subscription = reader.subscribeToAll();
    const iterator = subscription[Symbol.asyncIterator]();
    const next = iterator.next();
    const appended = await writer.append(
      'document-t1-other',
      [{ type: 'A.v1', data: new Uint8Array([1]), metadata: new Uint8Array() }],
      NO_STREAM,
      { commandId: 'elsewhere' },
    );
    const received = await next;
    t.equal(received.done, false);
    t.equal(received.done === false ? received.value.eventId : undefined, appended.eventIds[0]);
    await subscription.close();
  },
);

t.test('commits appends that arrive together in one transaction, acknowledging each', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ratsfach-es-sqlite-'));
  const store = await openSqliteEventStore({ path: join(dir, 'events.sqlite') });
  t.teardown(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const results = await Promise.all(
    Array.from({ length: 64 }, (_, i) =>
      store.append(
        `document-t1-g${i}`,
        [{ type: 'A.v1', data: new Uint8Array([i]), metadata: new Uint8Array() }],
        NO_STREAM,
        { commandId: `g${i}` },
      ),
    ),
  );
  t.equal(results.length, 64);
  t.same(store.groupCommitStats(), { transactions: 1, appends: 64 }, '64 appends, one transaction');
  await store.append(
    'document-t1-g0',
    [{ type: 'A.v1', data: new Uint8Array(), metadata: new Uint8Array() }],
    0n,
    {
      commandId: 'alone',
    },
  );
  t.same(store.groupCommitStats(), { transactions: 2, appends: 65 });
});

t.test(
  'a write that fails inside a group refuses only its own append: the others commit',
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'ratsfach-es-sqlite-'));
    const path = join(dir, 'events.sqlite');
    const store = await openSqliteEventStore({ path });
    t.teardown(async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    });
    // The database itself refuses the third event of one append, after two rows were written:
    // the group's first, savepoint-free try must be rolled back and run again with savepoints.
    const db = new Database(path);
    db.exec(`CREATE TRIGGER poison BEFORE INSERT ON events
      WHEN NEW.type = 'Poison.v1' AND NEW.revision = 2
      BEGIN SELECT RAISE(ABORT, 'poisoned by the test'); END`);
    db.close();
    const event = (type: string, i: number) => ({
      type,
      data: new Uint8Array([i]),
      metadata: new Uint8Array(),
    });
    const outcomes = await Promise.allSettled([
      store.append('document-t1-ok1', [event('A.v1', 1)], NO_STREAM, { commandId: 'ok1' }),
      store.append(
        'document-t1-poisoned',
        [0, 1, 2].map((i) => event('Poison.v1', i)),
        NO_STREAM,
        { commandId: 'poisoned' },
      ),
      store.append('document-t1-ok2', [event('A.v1', 2)], NO_STREAM, { commandId: 'ok2' }),
      store.append('document-t1-ok3', [event('A.v1', 3)], NO_STREAM, { commandId: 'ok3' }),
    ]);
    t.same(
      outcomes.map((o) => o.status),
      ['fulfilled', 'rejected', 'fulfilled', 'fulfilled'],
    );
    const refused = outcomes[1];
    t.ok(refused?.status === 'rejected' && isRatsfachError(refused.reason), 'a typed error');
    t.same(store.groupCommitStats(), { transactions: 1, appends: 4 }, 'still one group commit');
    const poisoned: unknown[] = [];
    for await (const e of store.readStream('document-t1-poisoned')) poisoned.push(e);
    t.equal(poisoned.length, 0, 'none of the refused append was written');
    for (const stream of ['document-t1-ok1', 'document-t1-ok2', 'document-t1-ok3']) {
      t.same(await store.streamHead(stream).then((h) => h?.revision), 0n, `${stream} committed`);
    }
    t.equal((await store.verify()).firstProblem, null, 'the log still verifies');
  },
);
