import { openSqliteEventStoreInWorker } from '../src/sqlite/index.js';
import type { BenchBackend } from './benchHarness.js';
import { sqliteBench } from './sqliteBenchBackend.js';

/** The SQLite adapter with its writer on a worker thread, against the same raw driver. */
export const benchBackend: BenchBackend = sqliteBench(
  'SQLite, writer thread (openSqliteEventStoreInWorker; WAL, synchronous=FULL)',
  (path) => openSqliteEventStoreInWorker({ path }),
);
