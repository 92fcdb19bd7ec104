import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import t from 'tap';
import { NO_STREAM, openSqliteEventStore, StoreUnavailableError } from '../src/index.js';
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
  const db = new Database((backend.child.arg as { path: string }).path, { readonly: true });
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
