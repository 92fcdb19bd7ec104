import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { EventStore } from '../src/index.js';
import { openSqliteEventStore } from '../src/sqlite/index.js';
import type { BenchBackend, RawDriver } from './benchHarness.js';

/** The adapter's events table, written by plain better-sqlite3 with the same pragmas. */
const schema = `
CREATE TABLE events (
  global_position INTEGER PRIMARY KEY,
  stream TEXT NOT NULL,
  revision INTEGER NOT NULL,
  event_id TEXT NOT NULL,
  type TEXT NOT NULL,
  data BLOB NOT NULL,
  metadata BLOB NOT NULL,
  hash BLOB NOT NULL,
  prev_hash BLOB NOT NULL,
  UNIQUE (stream, revision)
);`;

const fixedHash = new Uint8Array(64).fill(7);

/**
 * An SQLite bench backend: `openAdapter` opens the store under test on a fresh file; the raw
 * driver is always plain better-sqlite3 on a file of its own, with the same pragmas.
 */
export function sqliteBench(
  label: string,
  openAdapter: (path: string) => Promise<EventStore>,
): BenchBackend {
  let directory: string | undefined;
  const dir = (): string => (directory ??= mkdtempSync(join(tmpdir(), 'ratsfach-bench-sqlite-')));
  return {
    label,
    openAdapter: () => openAdapter(join(dir(), 'adapter.sqlite')),
    async openRaw(): Promise<RawDriver> {
      const db = new Database(join(dir(), 'raw.sqlite'));
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.exec(schema);
      const insert = db.prepare(
        'INSERT INTO events (stream, revision, event_id, type, data, metadata, hash, prev_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      );
      const appendTx = db.transaction(
        (
          stream: string,
          from: number,
          events: readonly {
            eventId: string;
            type: string;
            data: Uint8Array;
            metadata: Uint8Array;
          }[],
        ) => {
          events.forEach((e, i) =>
            insert.run(
              stream,
              from + i,
              e.eventId,
              e.type,
              e.data,
              e.metadata,
              fixedHash,
              fixedHash,
            ),
          );
        },
      );
      const all = db
        .prepare(
          'SELECT global_position, stream, revision, event_id, type, data, metadata, hash, prev_hash FROM events ORDER BY global_position',
        )
        .raw(true)
        .safeIntegers(true);
      return {
        async append(stream, fromRevision, events) {
          appendTx(stream, fromRevision, events);
        },
        async readAll() {
          let count = 0;
          for (const _row of all.iterate()) count += 1;
          return count;
        },
        async close() {
          db.close();
        },
      };
    },
    async cleanup() {
      if (directory !== undefined) rmSync(directory, { recursive: true, force: true });
      directory = undefined;
    },
  };
}

export const benchBackend: BenchBackend = sqliteBench(
  'SQLite (better-sqlite3 12, WAL, synchronous=FULL)',
  (path) => openSqliteEventStore({ path }),
);
