/**
 * The writer thread of `openSqliteEventStoreInWorker`: owns the write connection and runs
 * group commit on its own event loop, so the fsync of every commit waits here, not on the
 * caller's event loop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isRatsfachError } from '@ratsfach/kernel';
import { SqliteEventStore, type SqliteEventStoreOptions } from '../sqliteEventStore.js';
import type { WriterReply, WriterRequest } from './sqliteWorkerProtocol.js';
import { serializeError } from './sqliteWorkerProtocol.js';

const port = parentPort;
if (port === null) throw new Error('sqliteWriterWorker runs only as a worker thread');
const reply = (message: WriterReply): void => port.postMessage(message);

let store: SqliteEventStore;
try {
  store = new SqliteEventStore(workerData as SqliteEventStoreOptions);
  reply({ kind: 'ready' });
} catch (error) {
  reply({ kind: 'failed', error: serializeError(error) });
  throw isRatsfachError(error) ? new Error(error.message) : error;
}

port.on('message', (request: WriterRequest) => {
  if (request.kind === 'close') {
    void store.close().then(() => reply({ kind: 'closed' }));
    return;
  }
  const { id, append } = request;
  store.appendValidated(append).then(
    (result) => reply({ kind: 'appended', id, result }),
    (error: unknown) => reply({ kind: 'refused', id, error: serializeError(error) }),
  );
});
