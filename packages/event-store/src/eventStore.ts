import type { ExpectedRevision } from './expectedRevision.js';

/** An event as the caller hands it to `append`: the domain has already encoded it to bytes. */
export interface NewEvent {
  /** Versioned event type, for example `DocumentCreated.v1`. */
  readonly type: string;
  /** The exact bytes to store and hash; never re-serialised by the store. */
  readonly data: Uint8Array;
  readonly metadata: Uint8Array;
}

/** An event as stored: the caller's bytes plus the store's position, id and hash chain. */
export interface RecordedEvent {
  readonly stream: string;
  /** Position in its stream, from 0. */
  readonly revision: bigint;
  /** Position in the whole log; strictly increasing in commit order, gaps allowed. */
  readonly globalPosition: bigint;
  /** UUIDv5 of (tenant, command id, index in the command). */
  readonly eventId: string;
  readonly type: string;
  readonly data: Uint8Array;
  readonly metadata: Uint8Array;
  /** BLAKE2b-512 of the canonical encoding (see `eventHash`), including `prevHash`. */
  readonly hash: Uint8Array;
  /** Hash of the stream's previous event; 64 zero bytes for revision 0. */
  readonly prevHash: Uint8Array;
}

export interface AppendOptions {
  /** Client-chosen id of the command that produced these events; makes retries idempotent. */
  readonly commandId: string;
}

export interface AppendResult {
  /** Revision of the last event appended (or stored by the earlier run of this command). */
  readonly nextExpectedRevision: bigint;
  /** Global position of the last event appended. */
  readonly lastGlobalPosition: bigint;
  readonly eventIds: readonly string[];
  /** True when the command id had already been appended and nothing was written now. */
  readonly replayed: boolean;
}

export interface ReadStreamOptions {
  readonly direction?: 'forwards' | 'backwards';
  /** Inclusive start revision; defaults to the start (forwards) or the end (backwards). */
  readonly fromRevision?: bigint;
  readonly maxCount?: number;
}

export interface ReadAllOptions {
  /** Exclusive: events with a global position greater than this. Defaults to the start. */
  readonly after?: bigint;
  readonly maxCount?: number;
}

export interface SubscribeOptions {
  /** Exclusive checkpoint: the last global position the subscriber has processed. */
  readonly after?: bigint;
  readonly signal?: AbortSignal;
  /**
   * Most events the subscription fetches ahead of its consumer (one page). Adapters have a
   * default; the contract suite sets a small one to check back-pressure.
   */
  readonly pageSize?: number;
}

/**
 * A subscription to the whole log: an async iterable that catches up and then follows live,
 * with no gap and no duplicate across the switch. It pulls pages only as the consumer asks
 * for more, so a slow consumer never makes memory grow.
 */
export interface Subscription extends AsyncIterable<RecordedEvent> {
  close(): Promise<void>;
  /**
   * Events fetched from the store but not yet handed to the consumer: never more than one page.
   * Optional in the type so that adding it broke no adapter; the contract suite requires it.
   */
  bufferedCount?(): number;
}

export interface StreamHead {
  readonly revision: bigint;
  readonly hash: Uint8Array;
}

export interface VerifyProblem {
  readonly stream: string;
  readonly revision: bigint;
  readonly globalPosition: bigint;
  readonly reason: 'hash_mismatch' | 'prev_hash_mismatch' | 'revision_gap' | 'undecodable';
}

export interface VerifyReport {
  readonly eventsChecked: number;
  /** The first event that breaks its chain, or null when everything verifies. */
  readonly firstProblem: VerifyProblem | null;
}

/**
 * The event log. Every adapter (SQLite, PostgreSQL, KurrentDB) passes the shared contract suite
 * in `test/contract.ts`. Errors are the typed errors of `errors.ts`.
 */
export interface EventStore {
  /**
   * Appends events to one stream atomically if the stream is at `expected`. With `any`, the
   * adapter reads the head and appends at that exact revision, so a stream's chain never forks.
   * A command id that was already appended returns the stored result and writes nothing.
   */
  append(
    stream: string,
    events: readonly NewEvent[],
    expected: ExpectedRevision,
    options: AppendOptions,
  ): Promise<AppendResult>;
  readStream(stream: string, options?: ReadStreamOptions): AsyncIterable<RecordedEvent>;
  readAll(options?: ReadAllOptions): AsyncIterable<RecordedEvent>;
  subscribeToAll(options?: SubscribeOptions): Subscription;
  /** The last event's revision and hash, or null when the stream does not exist. */
  streamHead(stream: string): Promise<StreamHead | null>;
  /** Walks one stream (or the whole log) and names the first event that breaks its chain. */
  verify(options?: { readonly stream?: string }): Promise<VerifyReport>;
  close(): Promise<void>;
}

export interface EventStoreLimits {
  /** Largest accepted `data.length + metadata.length + type.length` of one event, in bytes. */
  readonly maxEventBytes: number;
  /** Largest number of events in one append. */
  readonly maxEventsPerAppend: number;
}

export const defaultLimits: EventStoreLimits = Object.freeze({
  maxEventBytes: 1024 * 1024,
  maxEventsPerAppend: 10_000,
});
