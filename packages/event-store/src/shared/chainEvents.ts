import type { ValidatedAppend } from './appendValidation.js';
import { eventHash, GENESIS_PREV_HASH } from './eventHash.js';
import type { StreamHead } from '../eventStore.js';

/** One event ready to be inserted: the caller's bytes plus revision, id and hash chain links. */
export interface ChainedEvent {
  readonly revision: bigint;
  readonly eventId: string;
  readonly type: string;
  readonly data: Uint8Array;
  readonly metadata: Uint8Array;
  readonly hash: Uint8Array;
  readonly prevHash: Uint8Array;
}

/**
 * Numbers and hashes the events of an append on top of the stream's head (null: new stream).
 * Every adapter builds its rows with this, so the chain is the same bytes on every backend.
 */
export function chainEvents(append: ValidatedAppend, head: StreamHead | null): ChainedEvent[] {
  let revision = head === null ? -1n : head.revision;
  let prevHash = head === null ? GENESIS_PREV_HASH : head.hash;
  const { events, eventIds, stream } = append;
  const chained = new Array<ChainedEvent>(events.length);
  for (let index = 0; index < events.length; index += 1) {
    const event = events[index] as (typeof events)[number];
    revision += 1n;
    const eventId = eventIds[index] as string;
    const hash = eventHash({
      stream,
      revision,
      eventId,
      type: event.type,
      data: event.data,
      metadata: event.metadata,
      prevHash,
    });
    chained[index] = {
      revision,
      eventId,
      type: event.type,
      data: event.data,
      metadata: event.metadata,
      hash,
      prevHash,
    };
    prevHash = hash;
  }
  return chained;
}
