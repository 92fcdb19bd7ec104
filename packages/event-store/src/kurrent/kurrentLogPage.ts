import type { AllStreamResolvedEvent, ResolvedEvent } from '@kurrent/kurrentdb-client';
import { isSystemEvent, toGlobalPosition } from './kurrentPosition.js';
import type { KurrentStreamNames } from './kurrentStreamNames.js';

/** The kind of record the client yields from stream and log reads. */
export type KurrentRecord = NonNullable<ResolvedEvent['event']>;

/** A record of ours with its ratsfach stream name. */
export interface KurrentEntry {
  readonly stream: string;
  readonly record: KurrentRecord;
}

/** One page of the log: our records after a position, and how far the page read. */
export interface KurrentLogPage {
  readonly records: readonly KurrentEntry[];
  /** Global position of the last record the page consumed (ours or not), or the start position. */
  readonly last: bigint | undefined;
  /** True when the server had nothing more after this page. */
  readonly exhausted: boolean;
}

/**
 * Turns what one `readAll` call returned into a page of the store's log. The read started at
 * `after` inclusively and asked for `requested` records (`count + 1`, since the record at `after`
 * itself comes back), so this drops records at or before `after`, KurrentDB's own events and
 * other namespaces' streams, and keeps at most `count` of ours.
 */
export function toLogPage(
  resolved: readonly AllStreamResolvedEvent[],
  after: bigint | undefined,
  count: number,
  requested: number,
  names: KurrentStreamNames,
): KurrentLogPage {
  const records: KurrentEntry[] = [];
  let last = after;
  let exhausted = resolved.length < requested;
  for (const { event: record } of resolved) {
    if (record === undefined) continue;
    if (records.length === count) {
      // The rest comes with the next page, read from `last`.
      exhausted = false;
      break;
    }
    const position = toGlobalPosition(record.position, `an event of stream ${record.streamId}`);
    if (after !== undefined && position <= after) continue;
    last = position;
    if (isSystemEvent(record.streamId, record.type)) continue;
    const stream = names.fromKurrent(record.streamId);
    if (stream !== null) records.push({ stream, record });
  }
  return { records, last, exhausted };
}
