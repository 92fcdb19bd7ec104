import t from 'tap';
import { openSqliteEventStoreInWorker, StoreUnavailableError } from '../src/index.js';
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
