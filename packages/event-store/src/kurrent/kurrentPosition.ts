import { StoreUnavailableError } from '../errors.js';

/** KurrentDB's position of a record in its transaction log. */
export interface KurrentLogPosition {
  readonly commit: bigint;
  readonly prepare: bigint;
}

/** The client's marker for "position not known" (servers before 22.6 send it on stream reads). */
const UNKNOWN_POSITION = 0xffff_ffff_ffff_ffffn;

/**
 * The store's global position of an event is KurrentDB's commit position. Every append of the
 * adapter is an implicit transaction, and for those the server stores each event as its own
 * committed record with commit = prepare = the record's own log position: strictly increasing
 * in commit order, one per event (gaps allowed), which is what `globalPosition` promises.
 * Throws StoreUnavailableError when the server does not report a position (servers before 22.6).
 */
export function toGlobalPosition(position: KurrentLogPosition | undefined, what: string): bigint {
  if (position === undefined || position.commit < 0n || position.commit >= UNKNOWN_POSITION) {
    throw new StoreUnavailableError(`KurrentDB did not report the log position of ${what}`, {
      hint: 'use KurrentDB (or EventStoreDB) 22.10 or newer, which reports log positions on every read',
      details: { backend: 'kurrentdb' },
    });
  }
  return position.commit;
}

/**
 * The client position from which to read the log so that everything after the store's global
 * position `after` comes back. KurrentDB reads $all from a position inclusively, so the event at
 * `after` itself comes back too; readers drop events at or before `after`. Position 0 is the
 * start: no event of ours sits there (the log opens with the server's own epoch record).
 */
export function fromGlobalPosition(after: bigint | undefined): 'start' | KurrentLogPosition {
  if (after === undefined || after === 0n) return 'start';
  return { commit: after, prepare: after };
}

/**
 * Events of KurrentDB itself (`$`-prefixed streams such as `$settings`, `$`-prefixed types such
 * as `$metadata`, projections' links) are not part of ratsfach's log.
 */
export const isSystemEvent = (streamId: string, type: string): boolean =>
  streamId.startsWith('$') || type.startsWith('$');
