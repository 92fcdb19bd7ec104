import t from 'tap';
import { StoreUnavailableError } from '../src/index.js';
import {
  openSqliteEventStoreInWorker,
  SqliteEventStore,
  SqliteWorkerEventStore,
} from '../src/sqlite/index.js';
import { Worker } from 'node:worker_threads';
import { mkdtemp, rm } from 'node:fs/promises';
import { runEventStoreContract } from './contract.js';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { openSqliteBackend } from './sqliteBackend.js';

t.test('SQLite adapter with its writer thread passes the event-store contract', async (t) => {
  runEventStoreContract(t, {
    open: (options) => openSqliteBackend('openSqliteEventStoreInWorker', options),
  });
});

t.test('refuses to open when the writer thread cannot open the file', async (t) => {
  const path = join(tmpdir(), 'ratsfach-missing-dir-' + process.pid, 'sub', 'events.sqlite');
  const error = await openSqliteEventStoreInWorker({ path }).catch((e: unknown) => e);
  t.type(error, StoreUnavailableError);
  t.match(error, { code: 'RATSFACH_EVENT_STORE_UNAVAILABLE' });
});

t.test(
  'a writer thread that dies refuses its pending and later appends as unavailable',
  async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'ratsfach-worker-gone-'));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    const path = join(dir, 'events.sqlite');
    // A writer that takes requests and never answers, so the append is surely pending when it dies.
    const silent = new Worker(
      "require('node:worker_threads').parentPort.on('message', () => {});",
      {
        eval: true,
      },
    );
    const store = new SqliteWorkerEventStore(silent, new SqliteEventStore({ path }), { path });
    const stream = 'document-t1-gone';
    const event = { type: 'Noted', data: new Uint8Array([1]), metadata: new Uint8Array() };
    const pending = store.append(stream, [event], 'no_stream', { commandId: 'c-1' });
    await silent.terminate();
    for (const refused of [
      pending,
      store.append(stream, [event], 'no_stream', { commandId: 'c-2' }),
    ]) {
      const error = await refused.catch((e: unknown) => e);
      t.type(error, StoreUnavailableError);
      t.match(error, {
        code: 'RATSFACH_EVENT_STORE_UNAVAILABLE',
        details: { reason: 'writer_gone' },
      });
    }
    // close() must not wait for a writer that is gone; reads are refused after it.
    await store.close();
    await t.rejects(store.readAll()[Symbol.asyncIterator]().next(), StoreUnavailableError);
  },
);
