import { StoreUnavailableError } from '../errors.js';
import {
  defaultLimits,
  type AppendOptions,
  type AppendResult,
  type EventStore,
  type EventStoreLimits,
  type NewEvent,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RecordedEvent,
  type StreamHead,
  type SubscribeOptions,
  type Subscription,
  type VerifyReport,
} from '../eventStore.js';
import { ConcurrencyError } from '../errors.js';
import { describeExpected, satisfiesExpected, type ExpectedRevision } from '../expectedRevision.js';
import { validateAppend, validateReadAll, validateReadStream } from '../shared/appendValidation.js';
import { chainEvents } from '../shared/chainEvents.js';
import { verifyChain } from '../shared/chainVerifier.js';
import { replayedResult } from '../shared/commandReplay.js';
import { CommitSignal, PagedSubscription } from '../shared/pagedSubscription.js';

/**
 * The stored content of memory event stores: the log in global order, each stream's events and
 * the command ids. Stores opened on the same log see the same events, as processes on one
 * database would; a test "restarts" by closing one store and opening another on its log.
 */
export class MemoryEventLog {
  /** Every event, in global order. For inspection by tests; change it only to simulate damage. */
  readonly events: RecordedEvent[] = [];
  readonly #streams = new Map<string, RecordedEvent[]>();
  /** First event id of every append, to make retries idempotent. */
  readonly #commands = new Map<string, { readonly stream: string; readonly index: number }>();
  /** Announces every commit to the subscriptions of every store on this log. */
  readonly commits = new CommitSignal(Number.POSITIVE_INFINITY);

  /** The stream's events in revision order (empty when it does not exist); do not change it. */
  stream(stream: string): readonly RecordedEvent[] {
    return this.#streams.get(stream) ?? [];
  }

  /** Where the command whose first event id is `firstEventId` was stored, if it was. */
  command(firstEventId: string): { readonly stream: string; readonly index: number } | undefined {
    return this.#commands.get(firstEventId);
  }

  /** Adds already chained events of one append; the caller checked the expected revision. */
  add(stream: string, events: readonly RecordedEvent[]): void {
    let list = this.#streams.get(stream);
    if (list === undefined) {
      list = [];
      this.#streams.set(stream, list);
    }
    const first = events[0];
    if (first !== undefined) this.#commands.set(first.eventId, { stream, index: list.length });
    list.push(...events);
    this.events.push(...events);
    this.commits.notify();
  }

  /** Global position of the last event, 0 when the log is empty. */
  get lastPosition(): bigint {
    return this.events[this.events.length - 1]?.globalPosition ?? 0n;
  }

  /** Index in `events` of the first event after `after` (binary search: positions increase). */
  indexAfter(after: bigint): number {
    let low = 0;
    let high = this.events.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((this.events[middle] as RecordedEvent).globalPosition <= after) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}

export interface MemoryEventStoreOptions {
  /** The log to serve; a fresh empty one by default. Pass another store's log to share it. */
  readonly log?: MemoryEventLog;
  readonly limits?: EventStoreLimits;
  /** Default page of a subscription (events handed out ahead of the consumer). Default 256. */
  readonly subscriptionPageSize?: number;
}

/** Opens an event store that keeps its log in memory. See MemoryEventStore. */
export async function openMemoryEventStore(
  options: MemoryEventStoreOptions = {},
): Promise<MemoryEventStore> {
  return new MemoryEventStore(options);
}

/** A copy, so that neither the caller's buffer nor a reader's changes reach the stored bytes. */
const copy = (bytes: Uint8Array): Uint8Array => Uint8Array.prototype.slice.call(bytes);

const copyOf = (event: RecordedEvent): RecordedEvent => ({
  ...event,
  data: copy(event.data),
  metadata: copy(event.metadata),
  hash: copy(event.hash),
  prevHash: copy(event.prevHash),
});

/**
 * The event store in memory, for fast tests of the API, the projector and the client: the same
 * validation, hash chain, idempotent command ids, revisions and subscription as the database
 * backends (it passes the same contract suite), and nothing survives the process. Never a
 * product backend.
 */
export class MemoryEventStore implements EventStore {
  /** The stored log; open another store on it to simulate a restart. */
  readonly log: MemoryEventLog;
  readonly #limits: EventStoreLimits;
  readonly #subscriptionPageSize: number;
  #closed = false;

  constructor(options: MemoryEventStoreOptions = {}) {
    this.log = options.log ?? new MemoryEventLog();
    this.#limits = options.limits ?? defaultLimits;
    this.#subscriptionPageSize = options.subscriptionPageSize ?? 256;
  }

  async append(
    stream: string,
    events: readonly NewEvent[],
    expected: ExpectedRevision,
    options: AppendOptions,
  ): Promise<AppendResult> {
    this.#open();
    const append = validateAppend(stream, events, expected, options, this.#limits);
    const previous = this.log.command(append.eventIds[0] as string);
    if (previous !== undefined) {
      const stored = this.log
        .stream(previous.stream)
        .slice(previous.index, previous.index + append.events.length + 1);
      return replayedResult(append, stored);
    }
    const list = this.log.stream(stream);
    const last = list[list.length - 1];
    const head: StreamHead | null =
      last === undefined ? null : { revision: last.revision, hash: last.hash };
    const actual = head === null ? null : head.revision;
    if (!satisfiesExpected(append.expected, actual)) {
      throw new ConcurrencyError(stream, describeExpected(append.expected), actual);
    }
    let position = this.log.lastPosition;
    const recorded = chainEvents(append, head).map((event): RecordedEvent => ({
      ...event,
      stream,
      globalPosition: (position += 1n),
      data: copy(event.data),
      metadata: copy(event.metadata),
    }));
    this.log.add(stream, recorded);
    return {
      nextExpectedRevision: (recorded[recorded.length - 1] as RecordedEvent).revision,
      lastGlobalPosition: position,
      eventIds: append.eventIds,
      replayed: false,
    };
  }

  async *readStream(stream: string, options: ReadStreamOptions = {}): AsyncIterable<RecordedEvent> {
    validateReadStream(stream, options);
    this.#open();
    const list = this.log.stream(stream);
    const count = options.maxCount ?? Number.POSITIVE_INFINITY;
    if (options.direction === 'backwards') {
      const from = options.fromRevision ?? BigInt(list.length - 1);
      let index = Math.min(list.length - 1, Number(from));
      for (let taken = 0; index >= 0 && taken < count; index -= 1, taken += 1) {
        this.#open();
        yield copyOf(list[index] as RecordedEvent);
      }
      return;
    }
    let index = Number(options.fromRevision ?? 0n);
    for (let taken = 0; index < list.length && taken < count; index += 1, taken += 1) {
      this.#open();
      yield copyOf(list[index] as RecordedEvent);
    }
  }

  async *readAll(options: ReadAllOptions = {}): AsyncIterable<RecordedEvent> {
    validateReadAll(options);
    this.#open();
    const count = options.maxCount ?? Number.POSITIVE_INFINITY;
    let index = this.log.indexAfter(options.after ?? 0n);
    for (let taken = 0; index < this.log.events.length && taken < count; index += 1, taken += 1) {
      this.#open();
      yield copyOf(this.log.events[index] as RecordedEvent);
    }
  }

  subscribeToAll(options: SubscribeOptions = {}): Subscription {
    validateReadAll({ after: options.after, pageSize: options.pageSize });
    const log = this.log;
    return new PagedSubscription<number>(
      {
        mark: () => log.commits.generation,
        readPage: (after, limit) => {
          this.#open();
          const start = log.indexAfter(after ?? 0n);
          const events = log.events.slice(start, start + limit).map(copyOf);
          const last = events[events.length - 1];
          return {
            events,
            next: last === undefined ? after : last.globalPosition,
            caughtUp: events.length < limit,
          };
        },
        waitForMore: (mark, _after, signal) => log.commits.wait(mark, signal),
      },
      {
        after: options.after,
        pageSize: options.pageSize ?? this.#subscriptionPageSize,
        signal: options.signal,
      },
    );
  }

  async streamHead(stream: string): Promise<StreamHead | null> {
    validateReadStream(stream);
    this.#open();
    const list = this.log.stream(stream);
    const last = list[list.length - 1];
    return last === undefined ? null : { revision: last.revision, hash: copy(last.hash) };
  }

  async verify(options: { readonly stream?: string } = {}): Promise<VerifyReport> {
    this.#open();
    return verifyChain(
      options.stream === undefined ? this.readAll() : this.readStream(options.stream),
    );
  }

  /** Closes this store (the log stays for other stores); later calls refuse as unavailable. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // Wakes this store's subscriptions, which then find the store closed.
    this.log.commits.notify();
  }

  #open(): void {
    if (this.#closed) {
      throw new StoreUnavailableError('memory event store is closed', {
        details: { reason: 'closed' },
      });
    }
  }
}
