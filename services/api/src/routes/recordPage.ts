import type { StoredRecord } from '@ratsfach/api-contract';
import { decodeEvent, type DomainEvent } from '@ratsfach/domain';
import type { EventStore } from '@ratsfach/event-store';

/** The signed record an event carries, as devices fetch it, or null for an event without one. */
export const storedRecordOf = (event: DomainEvent): StoredRecord | null => {
  const data = event.data as { record?: Uint8Array; sequence?: number };
  if (data.record === undefined || data.sequence === undefined) return null;
  return {
    sequence: data.sequence,
    type: event.type,
    record: Buffer.from(data.record).toString('base64url'),
  };
};

/** A page of a chain's signed records, as the records and document-records routes answer. */
export interface RecordPage {
  readonly stream: string;
  readonly records: StoredRecord[];
  /** The chain's length when read. */
  readonly length: number;
  /** The `from` of the next page, or null when this page reaches the head. */
  readonly next: number | null;
}

/**
 * Reads up to `limit` signed records of `stream` from sequence `from`: the exact bytes each
 * event carries, for the device to verify. `next` follows the last event read, so an event
 * without a record (none of the chain kinds has one today) could never end paging early.
 */
export async function readRecordPage(
  eventStore: EventStore,
  stream: string,
  from: number,
  limit: number,
): Promise<RecordPage> {
  const head = await eventStore.streamHead(stream);
  const length = head === null ? 0 : Number(head.revision) + 1;
  const records: StoredRecord[] = [];
  let after = from;
  for await (const recorded of eventStore.readStream(stream, {
    fromRevision: BigInt(from),
    maxCount: limit,
  })) {
    after = Number(recorded.revision) + 1;
    const record = storedRecordOf(decodeEvent(recorded));
    if (record !== null) records.push(record);
  }
  return { stream, records, length, next: after > from && after < length ? after : null };
}
