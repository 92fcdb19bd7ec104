import t from 'tap';
import { Worker } from 'node:worker_threads';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StoreUnavailableError } from '@ratsfach/event-store';
import { SqliteEventStore, SqliteWorkerEventStore } from '@ratsfach/event-store/sqlite';
import { eventStoreCheck } from '../src/eventStoreCheck.js';
import { buildTestApp } from './helpers/buildTestApp.js';

t.test('/healthz turns unhealthy when the event store writer thread has died', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'ratsfach-health-writer-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'events.sqlite');
  // A writer that takes requests and never answers: it stands in for the real writer thread
  // until it is terminated, as a crash would end it.
  const silent = new Worker("require('node:worker_threads').parentPort.on('message', () => {});", {
    eval: true,
  });
  const store = new SqliteWorkerEventStore(silent, new SqliteEventStore({ path }), { path });
  t.teardown(() => store.close());
  const app = await buildTestApp(t, { checks: [eventStoreCheck(store)] });

  const before = await app.inject({ method: 'GET', url: '/healthz' });
  t.equal(before.statusCode, 200, 'healthy while the writer lives');
  t.same(before.json().components.eventStore, { status: 'ok' });

  const event = { type: 'Noted', data: new Uint8Array([1]), metadata: new Uint8Array() };
  const pending = store.append('document-t1-health', [event], 'no_stream', { commandId: 'c-1' });
  await silent.terminate();
  // The refused append shows the store has seen its writer go; reads still answer from their
  // own connection, which is why reading one event alone kept /healthz green.
  t.type(await pending.catch((e: unknown) => e), StoreUnavailableError);

  const after = await app.inject({ method: 'GET', url: '/healthz' });
  t.equal(after.statusCode, 503);
  t.same(after.json().components.eventStore, {
    status: 'failing',
    code: 'RATSFACH_EVENT_STORE_UNAVAILABLE',
  });
  t.notMatch(after.body, new RegExp(dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')), 'no path leaks');
});
