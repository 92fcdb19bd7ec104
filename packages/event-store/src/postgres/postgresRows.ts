import type { RecordedEvent } from '../eventStore.js';

/** The columns every read selects, in the order `toRecordedEvent` expects. */
export const postgresEventColumns =
  'global_position, stream, revision, event_id, type, data, metadata, hash, prev_hash';

/** A row of `postgresEventColumns` as node-postgres returns it (int8 as text, bytea as Buffer). */
export interface PostgresEventRow {
  readonly global_position: string;
  readonly stream: string;
  readonly revision: string;
  readonly event_id: string;
  readonly type: string;
  readonly data: Buffer;
  readonly metadata: Buffer;
  readonly hash: Buffer;
  readonly prev_hash: Buffer;
}

export const toRecordedEvent = (row: PostgresEventRow): RecordedEvent => ({
  stream: row.stream,
  revision: BigInt(row.revision),
  globalPosition: BigInt(row.global_position),
  eventId: row.event_id,
  type: row.type,
  data: row.data,
  metadata: row.metadata,
  hash: row.hash,
  prevHash: row.prev_hash,
});
