import Database from 'better-sqlite3';
import { isRatsfachError } from '@ratsfach/kernel';
import { StoreIntegrityError, StoreUnavailableError } from '../errors.js';
import type { RecordedEvent } from '../eventStore.js';

/**
 * `events` holds the exact bytes; `commands` makes appends idempotent. Event ids are unique by
 * construction (UUIDv5 of tenant, command id and index; one command id is stored once per
 * tenant), so the only random-keyed index is one row per append in `commands`: a UNIQUE index
 * on every event id would dirty one random B-tree page per event, and a 100-event append would
 * write some 100 extra pages to the WAL.
 */
export const sqliteSchema = `
CREATE TABLE IF NOT EXISTS events (
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
);
CREATE TABLE IF NOT EXISTS commands (
  first_event_id TEXT PRIMARY KEY,
  stream TEXT NOT NULL,
  first_revision INTEGER NOT NULL
) WITHOUT ROWID;
`;

/** SQLite's name for the index of `UNIQUE (stream, revision)`: every per-stream read uses it. */
export const streamIndex = 'sqlite_autoindex_events_1';

/**
 * What a read selects: the four byte columns come back concatenated in one BLOB, with their
 * lengths, and are handed out as views of it. The driver copies every BLOB into a fresh Buffer of
 * its own, and those four allocations were most of a replay's cost (about 230,000 rows/s with
 * four BLOBs, 410,000 with one). `||` joins the bytes as they are (the file is UTF-8, so no text
 * conversion happens) and the CAST only relabels them as a BLOB.
 */
export const eventColumns =
  'global_position, stream, revision, event_id, type, length(hash), length(prev_hash), length(data), CAST(hash || prev_hash || data || metadata AS BLOB)';

/** A row of `eventColumns` as the driver returns it (raw, safe integers). */
export type EventRow = [bigint, string, bigint, string, string, bigint, bigint, bigint, Buffer];

const damagedHint =
  'the database file is damaged: stop the service, restore the event log from the last backup and run verify on the restored copy; serving or appending from a damaged file could lose or fork events';

/** The typed error for a damaged file: always says to restore from a backup. */
export function damagedFileError(
  what: string,
  details: Readonly<Record<string, unknown>> = {},
  cause?: unknown,
): StoreIntegrityError {
  return new StoreIntegrityError(`SQLite event store: the database file is damaged (${what})`, {
    hint: damagedHint,
    details: { reason: 'file_damaged', ...details },
    ...(cause === undefined ? {} : { cause }),
  });
}

/**
 * A stored row as an event. The row's shape is checked, not assumed: a damaged record can hand
 * back a NULL or a number where a string or BLOB belongs, and that must be a typed error.
 */
export function toRecorded(row: EventRow): RecordedEvent {
  const [position, stream, revision, eventId, type, hashLength, prevLength, dataLength, bytes] =
    row;
  if (
    typeof position !== 'bigint' ||
    typeof stream !== 'string' ||
    typeof revision !== 'bigint' ||
    typeof eventId !== 'string' ||
    typeof type !== 'string' ||
    typeof hashLength !== 'bigint' ||
    typeof prevLength !== 'bigint' ||
    typeof dataLength !== 'bigint' ||
    !(bytes instanceof Uint8Array) ||
    hashLength + prevLength + dataLength > BigInt(bytes.length)
  ) {
    throw damagedFileError('an event row has the wrong shape', {
      globalPosition: typeof position === 'bigint' ? position.toString() : null,
    });
  }
  const hashEnd = Number(hashLength);
  const prevHashEnd = hashEnd + Number(prevLength);
  const dataEnd = prevHashEnd + Number(dataLength);
  return {
    globalPosition: position,
    stream,
    revision,
    eventId,
    type,
    data: bytes.subarray(prevHashEnd, dataEnd),
    metadata: bytes.subarray(dataEnd),
    hash: bytes.subarray(0, hashEnd),
    prevHash: bytes.subarray(hashEnd, prevHashEnd),
  };
}

/**
 * Translates a driver failure into the store's typed errors; ours pass through, and so do
 * programming errors (a TypeError of our own is a bug to see, not an outage to retry).
 */
export function sqliteStoreError(error: unknown, action: string): Error {
  if (isRatsfachError(error)) return error;
  const closed =
    error instanceof TypeError && /database connection is not open/.test(error.message);
  if (!(error instanceof Database.SqliteError) && !closed) return error as Error;
  const code = closed ? 'closed' : (error as InstanceType<typeof Database.SqliteError>).code;
  // SQLITE_CORRUPT has extended codes (SQLITE_CORRUPT_INDEX, ...); NOTADB is a damaged header.
  if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') {
    return damagedFileError(action, { sqliteCode: code }, error);
  }
  return new StoreUnavailableError(
    `SQLite event store: ${action} failed: ${(error as Error).message}`,
    { cause: error, details: { sqliteCode: code } },
  );
}
