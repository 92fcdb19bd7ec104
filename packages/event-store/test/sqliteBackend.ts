import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import type { EventStore } from '../src/index.js';
import { openSqliteEventStore, openSqliteEventStoreInWorker } from '../src/sqlite/index.js';
import type { ContractBackend, ContractStoreOptions } from './contract.js';

// The child of the SIGKILL case imports only the adapter's own module, not every adapter.
const adapterModules = {
  openSqliteEventStore: fileURLToPath(
    new URL('../src/sqlite/sqliteEventStore.ts', import.meta.url),
  ),
  openSqliteEventStoreInWorker: fileURLToPath(
    new URL('../src/sqlite/worker/sqliteWorkerEventStore.ts', import.meta.url),
  ),
} as const;

/** Which opener of the SQLite store a contract run uses: writes on the caller's thread or a worker. */
export type SqliteOpener = 'openSqliteEventStore' | 'openSqliteEventStoreInWorker';

const openers = { openSqliteEventStore, openSqliteEventStoreInWorker } as const;

/** A fresh SQLite file in a temporary directory, with the contract suite's hooks. */
export async function openSqliteBackend(
  opener: SqliteOpener,
  options: ContractStoreOptions = {},
): Promise<ContractBackend> {
  const dir = mkdtempSync(join(tmpdir(), 'ratsfach-es-sqlite-'));
  const path = join(dir, 'events.sqlite');
  const open = (): Promise<EventStore> =>
    openers[opener]({ path, ...(options.limits ? { limits: options.limits } : {}) });
  const opened: EventStore[] = [];
  const store = await open();
  opened.push(store);
  return {
    store,
    tenant: 't1',
    async reopen() {
      const again = await open();
      opened.push(again);
      return again;
    },
    child: { module: adapterModules[opener], exportName: opener, arg: { path } },
    async corrupt(stream, revision) {
      const db = new Database(path);
      try {
        const row = db
          .prepare('SELECT data FROM events WHERE stream = ? AND revision = ?')
          .get(stream, revision) as { data: Buffer } | undefined;
        if (row === undefined) throw new Error(`no event ${stream}@${revision} to corrupt`);
        const data = Buffer.from(row.data);
        data[0] = (data[0] ?? 0) ^ 0x01;
        db.prepare('UPDATE events SET data = ? WHERE stream = ? AND revision = ?').run(
          data,
          stream,
          revision,
        );
      } finally {
        db.close();
      }
    },
    async destroy() {
      for (const s of opened) await s.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
