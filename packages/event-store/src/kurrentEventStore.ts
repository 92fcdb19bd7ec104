import type * as KurrentClientModule from '@kurrent/kurrentdb-client';
import type {
  AllStreamResolvedEvent,
  AllStreamSubscription,
  Filter,
  KurrentDBClient,
  ResolvedEvent,
} from '@kurrent/kurrentdb-client';
import {
  validateAppend,
  validateReadAll,
  validateReadStream,
  type ValidatedAppend,
} from './appendValidation.js';
import { chainEvents } from './chainEvents.js';
import { ChainVerifier } from './chainVerifier.js';
import { replayedResult } from './commandReplay.js';
import {
  CommandIdReusedError,
  ConcurrencyError,
  InvalidReadOptionsError,
  StoreIntegrityError,
  StoreUnavailableError,
} from './errors.js';
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
  type VerifyProblem,
  type VerifyReport,
} from './eventStore.js';
import {
  ANY,
  describeExpected,
  NO_STREAM,
  satisfiesExpected,
  STREAM_EXISTS,
  type ExpectedRevision,
} from './expectedRevision.js';
import { decodeKurrentEnvelope, encodeKurrentEnvelope } from './kurrentEnvelope.js';
import {
  isStreamNotFound,
  isWrongExpectedVersion,
  KurrentConnectionStringError,
  KURRENTDB_URL_HINT,
  toStoreError,
  type KurrentErrorContext,
} from './kurrentErrors.js';
import { fromGlobalPosition, isSystemEvent, toGlobalPosition } from './kurrentPosition.js';

export { KurrentAppendTooLargeError, KurrentConnectionStringError } from './kurrentErrors.js';

export interface KurrentEventStoreOptions {
  /** Connection string, for example `kurrentdb://127.0.0.1:2113?tls=false` (services read it from KURRENTDB_URL). */
  readonly connectionString: string;
  /**
   * Keeps this store's streams apart from others on the same server: streams are stored as
   * `<namespace>:<stream>` and reads see only the namespace. Without one, the store owns every
   * stream whose name has no `:` (a database of its own). Lowercase letters, digits and `_`.
   */
  readonly namespace?: string;
  readonly limits?: Partial<EventStoreLimits>;
  /**
   * Deadline of every call to the server, in milliseconds (default 10,000). A server that does
   * not answer within it makes the call fail with StoreUnavailableError.
   */
  readonly deadlineMs?: number;
  /**
   * How many of a stream's newest events an append searches for an earlier run of its command
   * (default 64). A retry with the same expected revision is recognised at any distance; a retry
   * with `any`, `stream_exists` or another revision only within this window.
   */
  readonly idempotencyWindow?: number;
  /** Events per page when reading the log, and a subscription's default page (default 500). */
  readonly readPageSize?: number;
  /** How often an `any` or `stream_exists` append re-reads the head after losing a race (default 50). */
  readonly maxHeadRetries?: number;
  /** Probe the server when opening, so a wrong URL fails at start-up (default true). */
  readonly probe?: boolean;
}

interface Settings {
  readonly limits: EventStoreLimits;
  readonly deadlineMs: number;
  readonly idempotencyWindow: number;
  readonly readPageSize: number;
  readonly maxHeadRetries: number;
}

/** The official client's module, loaded only when a KurrentDB store is opened. */
type KurrentModule = typeof KurrentClientModule;

/** The kind of record the client yields from stream and log reads. */
export type KurrentRecord = NonNullable<ResolvedEvent['event']>;

const namespacePattern = /^[a-z0-9_]{1,64}$/;
/** Every ratsfach stream name starts with its kind in lowercase letters. */
const ownStreamWithoutNamespace = /^[a-z][^:!]*$/;
const CLAIM_TYPE = 'ratsfach.CommandClaimed';

const positiveInteger = (value: number | undefined, fallback: number, name: string): number => {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`${name} must be a positive integer`);
  }
  return value;
};

/**
 * How ratsfach stream names map to KurrentDB stream ids: `<namespace>:<stream>` for data,
 * `<namespace>!command-<first event id>` for the command claims that make a command id
 * single-stream. Claims never match the data prefix, so reads of the log skip them.
 */
export class KurrentStreamNames {
  readonly #prefix: string;
  readonly #claimPrefix: string;

  constructor(namespace: string | undefined) {
    if (namespace !== undefined && !namespacePattern.test(namespace)) {
      throw new RangeError('namespace must be 1 to 64 of [a-z0-9_]');
    }
    this.#prefix = namespace === undefined ? '' : `${namespace}:`;
    this.#claimPrefix = `${namespace ?? ''}!command-`;
  }

  toKurrent(stream: string): string {
    return `${this.#prefix}${stream}`;
  }

  claimOf(firstEventId: string): string {
    return `${this.#claimPrefix}${firstEventId}`;
  }

  /** The ratsfach stream name of a KurrentDB stream id, or null when it is not one of ours. */
  fromKurrent(streamId: string): string | null {
    if (this.#prefix === '') return ownStreamWithoutNamespace.test(streamId) ? streamId : null;
    return streamId.startsWith(this.#prefix) ? streamId.slice(this.#prefix.length) : null;
  }

  /** A server-side filter for subscriptions; readers still check every event themselves. */
  serverFilter(): Filter {
    // The shape the client's streamNameFilter() builds, without loading the client for it.
    return this.#prefix === ''
      ? { filterOn: 'streamName', checkpointInterval: 1, regex: ownStreamWithoutNamespace.source }
      : { filterOn: 'streamName', checkpointInterval: 1, prefixes: [this.#prefix] };
  }
}

/**
 * Converts a record read from KurrentDB into the store's RecordedEvent, unwrapping the chain
 * envelope. Throws StoreIntegrityError when the metadata is not an envelope (or the event is
 * not binary), StoreUnavailableError when the server gives no log position.
 */
export function fromKurrentRecord(
  record: KurrentRecord,
  stream: string = record.streamId,
): RecordedEvent {
  if (record.isJson || !(record.data instanceof Uint8Array)) {
    // A JSON event was not written by this adapter; the client hands its data back re-parsed.
    throw new StoreIntegrityError(
      `event ${record.revision} of stream ${stream} is a JSON event, not one of ratsfach's binary events`,
      { details: { reason: 'undecodable', stream } },
    );
  }
  const envelope = decodeKurrentEnvelope(record.metadata);
  return {
    stream,
    revision: record.revision,
    globalPosition: toGlobalPosition(
      record.position,
      `event ${record.revision} of stream ${stream}`,
    ),
    eventId: record.id.toLowerCase(),
    type: record.type,
    data: new Uint8Array(record.data),
    metadata: envelope.metadata,
    hash: envelope.hash,
    prevHash: envelope.prevHash,
  };
}

/** One page of the log: our records after a position, and how far the page read. */
interface LogPage {
  readonly records: ReadonlyArray<{ readonly stream: string; readonly record: KurrentRecord }>;
  /** Global position of the last record the server returned (ours or not). */
  readonly last: bigint | undefined;
  /** True when the server had nothing more after this page. */
  readonly exhausted: boolean;
}

/**
 * The event store on KurrentDB through the official client (`@kurrent/kurrentdb-client`).
 *
 * - Events are binary events with the caller's data as is; their metadata is the caller's
 *   metadata inside a fixed envelope that adds `prevHash` and `hash` (kurrentEnvelope.ts).
 * - Event ids are the UUIDv5 ids of `eventId.ts`. Before appending, the adapter looks for an
 *   earlier run of the command and returns its stored result; the first append of a command
 *   claims its id in a claim stream, so the same id on another stream is refused.
 * - Every append names an exact expected revision on the wire (or no stream), also for `any`:
 *   the adapter reads the head, chains onto it and retries when another writer won, so a
 *   stream's hash chain never forks. Appends to one stream from one process queue up in order.
 * - Global positions are KurrentDB commit positions; KurrentDB's own events (`$` streams and
 *   types) and other namespaces' streams are left out of readAll, subscriptions and verify.
 *
 * Not exercised by CI here (no KurrentDB server can run on the build machines): see KURRENTDB.md.
 */
export class KurrentEventStore implements EventStore {
  readonly #kurrent: KurrentModule;
  readonly #client: KurrentDBClient;
  readonly #settings: Settings;
  readonly #names: KurrentStreamNames;
  readonly #subscriptions = new Set<KurrentSubscription>();
  readonly #streamQueues = new Map<string, Promise<void>>();
  readonly #inFlight = new Set<Promise<unknown>>();
  #closed = false;

  constructor(
    kurrent: KurrentModule,
    client: KurrentDBClient,
    settings: Settings,
    names: KurrentStreamNames,
  ) {
    this.#kurrent = kurrent;
    this.#client = client;
    this.#settings = settings;
    this.#names = names;
  }

  get limits(): EventStoreLimits {
    return this.#settings.limits;
  }

  append(
    stream: string,
    events: readonly NewEvent[],
    expected: ExpectedRevision,
    options: AppendOptions,
  ): Promise<AppendResult> {
    try {
      this.#assertOpen();
      const validated = validateAppend(stream, events, expected, options, this.#settings.limits);
      // close() waits for appends in flight, so an acknowledged append is never reported lost.
      const running = this.#inStreamOrder(stream, () => this.#append(validated));
      this.#inFlight.add(running);
      void running.then(
        () => this.#inFlight.delete(running),
        () => this.#inFlight.delete(running),
      );
      return running;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  readStream(stream: string, options: ReadStreamOptions = {}): AsyncIterable<RecordedEvent> {
    this.#assertOpen();
    validateReadStream(stream, options);
    const direction = options.direction ?? 'forwards';
    const fromRevision = options.fromRevision ?? (direction === 'forwards' ? 'start' : 'end');
    return this.#readStream(stream, direction, fromRevision, options.maxCount);
  }

  readAll(options: ReadAllOptions = {}): AsyncIterable<RecordedEvent> {
    this.#assertOpen();
    validateReadAll(options);
    return this.#readAll(options.after, options.maxCount);
  }

  subscribeToAll(options: SubscribeOptions = {}): Subscription {
    this.#assertOpen();
    validateReadAll({ after: options.after });
    const pageSize = options.pageSize ?? this.#settings.readPageSize;
    if (!Number.isSafeInteger(pageSize) || pageSize < 1) {
      throw new InvalidReadOptionsError('pageSize is not a positive integer');
    }
    const subscription = new KurrentSubscription({
      after: options.after,
      pageSize,
      signal: options.signal,
      readPage: (after, count) => this.#readPage(after, count),
      toRecorded: (page) => fromKurrentRecord(page.record, page.stream),
      watch: (after, wake, fail) => this.#watch(after, wake, fail),
      onClose: () => this.#subscriptions.delete(subscription),
    });
    this.#subscriptions.add(subscription);
    return subscription;
  }

  async streamHead(stream: string): Promise<StreamHead | null> {
    this.#assertOpen();
    validateReadStream(stream);
    const [head] = await this.#readTail(stream, 1);
    return head === undefined ? null : { revision: head.revision, hash: head.hash };
  }

  async verify(options: { readonly stream?: string } = {}): Promise<VerifyReport> {
    this.#assertOpen();
    if (options.stream !== undefined) validateReadStream(options.stream);
    const verifier = new ChainVerifier();
    const records: AsyncIterable<{ stream: string; record: KurrentRecord }> =
      options.stream === undefined
        ? this.#rawAll(undefined)
        : this.#rawStream(options.stream, 'forwards', 'start', undefined);
    for await (const { stream, record } of records) {
      let event: RecordedEvent;
      try {
        event = fromKurrentRecord(record, stream);
      } catch (error) {
        if (!(error instanceof StoreIntegrityError)) throw error;
        const problem: VerifyProblem = {
          stream,
          revision: record.revision,
          globalPosition: record.position?.commit ?? -1n,
          reason: 'undecodable',
        };
        return { eventsChecked: verifier.eventsChecked + 1, firstProblem: problem };
      }
      const problem = verifier.check(event);
      if (problem !== null) return { eventsChecked: verifier.eventsChecked, firstProblem: problem };
    }
    return { eventsChecked: verifier.eventsChecked, firstProblem: null };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.allSettled([...this.#inFlight]);
    await Promise.all([...this.#subscriptions].map((subscription) => subscription.close()));
    try {
      await this.#client.dispose();
    } catch {
      // The channel may never have connected; there is nothing left to release then.
    }
  }

  #assertOpen(): void {
    if (this.#closed) {
      throw new StoreUnavailableError('the KurrentDB event store is closed', {
        hint: 'open a new store; a closed one stays closed',
        details: { backend: 'kurrentdb' },
      });
    }
  }

  /**
   * Runs appends to one stream one after the other. Correctness does not depend on it (the
   * server checks every expected revision), but two copies of a command in flight in one
   * process then resolve as one write and one replay instead of racing.
   */
  async #inStreamOrder<T>(stream: string, action: () => Promise<T>): Promise<T> {
    const previous = this.#streamQueues.get(stream) ?? Promise.resolve();
    let release: () => void = () => undefined;
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => mine);
    this.#streamQueues.set(stream, tail);
    await previous;
    try {
      return await action();
    } finally {
      release();
      if (this.#streamQueues.get(stream) === tail) this.#streamQueues.delete(stream);
    }
  }

  async #append(validated: ValidatedAppend): Promise<AppendResult> {
    const { stream, expected } = validated;
    const context: KurrentErrorContext = {
      operation: 'append',
      stream,
      expected: describeExpected(expected),
    };
    const attempts =
      expected === ANY || expected === STREAM_EXISTS ? this.#settings.maxHeadRetries : 2;
    let claimed = false;
    let actual: bigint | null = null;
    for (let attempt = 0; attempt < attempts; attempt += 1) {
      const tail = await this.#readTail(stream, this.#settings.idempotencyWindow);
      const head: RecordedEvent | null = tail[0] ?? null;
      actual = head === null ? null : head.revision;
      const earlier = await this.#findEarlierRun(validated, tail, head);
      if (earlier !== null) return earlier;
      if (!satisfiesExpected(expected, actual)) {
        throw new ConcurrencyError(stream, describeExpected(expected), actual);
      }
      if (!claimed) {
        await this.#claim(validated);
        claimed = true;
      }
      const wire = chainEvents(
        validated,
        head === null ? null : { revision: head.revision, hash: head.hash },
      ).map((event) =>
        this.#kurrent.binaryEvent({
          id: event.eventId,
          type: event.type,
          data: event.data,
          metadata: encodeKurrentEnvelope({
            prevHash: event.prevHash,
            hash: event.hash,
            metadata: event.metadata,
          }),
        }),
      );
      let result: Awaited<ReturnType<KurrentDBClient['appendToStream']>>;
      try {
        result = await this.#client.appendToStream(this.#names.toKurrent(stream), wire, {
          streamState: head === null ? NO_STREAM : head.revision,
          deadline: this.#settings.deadlineMs,
        });
      } catch (error) {
        // Another writer moved the head between our read and our append: read it again. For an
        // exact revision the next read either finds this very command (a concurrent retry) or
        // refuses with ConcurrencyError.
        if (isWrongExpectedVersion(error)) continue;
        throw toStoreError(error, context);
      }
      return {
        nextExpectedRevision: result.nextExpectedRevision,
        lastGlobalPosition: await this.#lastPositionOf(
          stream,
          result.nextExpectedRevision,
          result.position,
          wire.length,
        ),
        eventIds: [...validated.eventIds],
        replayed: false,
      };
    }
    throw new ConcurrencyError(stream, describeExpected(expected), actual, {
      hint: `the stream kept moving during ${attempts} attempts: reload it and retry later`,
    });
  }

  /**
   * Makes a command id single-stream: the first append of a command writes a claim naming its
   * stream (a stream of its own, created only if absent); a later append of the same id to
   * another stream finds the claim and is refused. A claim left by a process that died before
   * appending only means the id stays bound to that stream, where a retry still works.
   */
  async #claim(append: ValidatedAppend): Promise<void> {
    const claimStream = this.#names.claimOf(append.eventIds[0] as string);
    const context: KurrentErrorContext = {
      operation: 'append (command claim)',
      stream: append.stream,
    };
    try {
      await this.#client.appendToStream(
        claimStream,
        this.#kurrent.binaryEvent({
          type: CLAIM_TYPE,
          data: new TextEncoder().encode(append.stream),
        }),
        { streamState: NO_STREAM, deadline: this.#settings.deadlineMs },
      );
      return;
    } catch (error) {
      if (!isWrongExpectedVersion(error)) throw toStoreError(error, context);
    }
    let claimedFor: string | undefined;
    try {
      for await (const resolved of this.#client.readStream(claimStream, { maxCount: 1 })) {
        const data = resolved.event?.data;
        if (data instanceof Uint8Array) claimedFor = new TextDecoder().decode(data);
      }
    } catch (error) {
      throw toStoreError(error, context);
    }
    if (claimedFor !== undefined && claimedFor !== append.stream) {
      throw new CommandIdReusedError(
        append.commandId,
        append.stream,
        'for another stream',
        claimedFor,
      );
    }
  }

  /** The newest `count` events of a stream, newest first; empty when the stream does not exist. */
  async #readTail(stream: string, count: number): Promise<RecordedEvent[]> {
    return collect(this.#readStream(stream, 'backwards', 'end', count));
  }

  /**
   * An earlier run of this command on this stream, or null. Looks in the tail (up to the
   * window), then where a retry with the same expected revision (or no stream) would have put
   * it, which needs no window at all.
   */
  async #findEarlierRun(
    append: ValidatedAppend,
    tail: readonly RecordedEvent[],
    head: RecordedEvent | null,
  ): Promise<AppendResult | null> {
    const ids = new Map(append.eventIds.map((id, index) => [id, index]));
    for (const event of tail) {
      const index = ids.get(event.eventId);
      if (index !== undefined) return this.#replay(append, event.revision - BigInt(index));
    }
    if (head === null) return null;
    const expected = append.expected;
    const slot = expected === NO_STREAM ? 0n : typeof expected === 'bigint' ? expected + 1n : null;
    if (slot === null || slot > head.revision) return null;
    const [atSlot] = await collect(this.#readStream(append.stream, 'forwards', slot, 1));
    if (atSlot !== undefined && atSlot.eventId === append.eventIds[0])
      return this.#replay(append, slot);
    return null;
  }

  async #replay(append: ValidatedAppend, firstRevision: bigint): Promise<AppendResult> {
    const from = firstRevision < 0n ? 0n : firstRevision;
    const stored = await collect(
      this.#readStream(append.stream, 'forwards', from, append.events.length + 1),
    );
    if (stored.length === 0) {
      throw new StoreUnavailableError(
        `events of stream ${append.stream} vanished while being read`,
        {
          hint: KURRENTDB_URL_HINT,
        },
      );
    }
    return replayedResult(append, stored);
  }

  /**
   * The global position of the last event of an append. A single event's commit position is in
   * the append's reply; for several events the reply's position is not documented to be the
   * last event's, so the adapter reads that event back.
   */
  async #lastPositionOf(
    stream: string,
    revision: bigint,
    position: { commit: bigint; prepare: bigint } | undefined,
    count: number,
  ): Promise<bigint> {
    if (count === 1 && position !== undefined && position.commit === position.prepare) {
      return toGlobalPosition(position, `the event appended to ${stream}`);
    }
    const [last] = await collect(this.#readStream(stream, 'forwards', revision, 1));
    if (last === undefined) {
      throw new StoreUnavailableError(`the event just appended to ${stream} cannot be read back`, {
        hint: KURRENTDB_URL_HINT,
      });
    }
    return last.globalPosition;
  }

  async *#readStream(
    stream: string,
    direction: 'forwards' | 'backwards',
    fromRevision: 'start' | 'end' | bigint,
    maxCount: number | undefined,
  ): AsyncGenerator<RecordedEvent> {
    for await (const { record } of this.#rawStream(stream, direction, fromRevision, maxCount)) {
      yield fromKurrentRecord(record, stream);
    }
  }

  async *#rawStream(
    stream: string,
    direction: 'forwards' | 'backwards',
    fromRevision: 'start' | 'end' | bigint,
    maxCount: number | undefined,
  ): AsyncGenerator<{ stream: string; record: KurrentRecord }> {
    const context: KurrentErrorContext = { operation: 'readStream', stream };
    let iterator: AsyncIterator<ResolvedEvent>;
    try {
      const events = this.#client.readStream(this.#names.toKurrent(stream), {
        direction,
        fromRevision,
        ...(maxCount === undefined ? {} : { maxCount }),
        deadline: this.#settings.deadlineMs,
      });
      iterator = events[Symbol.asyncIterator]();
    } catch (error) {
      if (isStreamNotFound(error)) return;
      throw toStoreError(error, context);
    }
    for (;;) {
      let step: IteratorResult<ResolvedEvent>;
      try {
        step = await iterator.next();
      } catch (error) {
        if (isStreamNotFound(error)) return;
        throw toStoreError(error, context);
      }
      if (step.done === true) return;
      if (step.value.event !== undefined) yield { stream, record: step.value.event };
    }
  }

  /**
   * One page of the log after `after`. KurrentDB reads $all from a position inclusively, so the
   * page asks for one more than it needs and drops what is at or before `after`.
   */
  async #readPage(after: bigint | undefined, count: number): Promise<LogPage> {
    const requested = count + 1;
    const page: AllStreamResolvedEvent[] = [];
    try {
      for await (const resolved of this.#client.readAll({
        fromPosition: fromGlobalPosition(after),
        maxCount: requested,
        deadline: this.#settings.deadlineMs,
      })) {
        page.push(resolved);
      }
    } catch (error) {
      throw toStoreError(error, { operation: 'readAll' });
    }
    const records: Array<{ stream: string; record: KurrentRecord }> = [];
    let last = after;
    for (const { event: record } of page) {
      if (record === undefined) continue;
      const position = toGlobalPosition(record.position, `an event of stream ${record.streamId}`);
      if (after !== undefined && position <= after) continue;
      last = position;
      if (isSystemEvent(record.streamId, record.type)) continue;
      const stream = this.#names.fromKurrent(record.streamId);
      if (stream !== null) records.push({ stream, record });
    }
    return { records, last, exhausted: page.length < requested };
  }

  async *#rawAll(
    after: bigint | undefined,
  ): AsyncGenerator<{ stream: string; record: KurrentRecord }> {
    let from = after;
    for (;;) {
      const page = await this.#readPage(from, this.#settings.readPageSize);
      yield* page.records;
      if (page.exhausted || page.last === from) return;
      from = page.last;
    }
  }

  async *#readAll(
    after: bigint | undefined,
    maxCount: number | undefined,
  ): AsyncGenerator<RecordedEvent> {
    let yielded = 0;
    for await (const { stream, record } of this.#rawAll(after)) {
      if (maxCount !== undefined && yielded >= maxCount) return;
      yield fromKurrentRecord(record, stream);
      yielded += 1;
    }
  }

  /**
   * Wakes a caught-up subscription: a live catch-up subscription from `after` whose events are
   * dropped on arrival (the data itself is read in pages), so it buffers nothing however slow
   * the consumer. Returns a function that stops it.
   */
  #watch(
    after: bigint | undefined,
    wake: () => void,
    fail: (error: Error) => void,
  ): () => Promise<void> {
    let live: AllStreamSubscription;
    try {
      live = this.#client.subscribeToAll({
        fromPosition: fromGlobalPosition(after),
        filter: this.#names.serverFilter(),
      });
    } catch (error) {
      fail(toStoreError(error, { operation: 'subscribeToAll' }));
      return async () => undefined;
    }
    let stopped = false;
    live.on('data', () => wake());
    live.on('error', (error: Error) => {
      if (!stopped) fail(toStoreError(error, { operation: 'subscribeToAll' }));
    });
    return async () => {
      stopped = true;
      try {
        await live.unsubscribe();
      } catch {
        // Already failed or ended: nothing left to cancel.
      }
      live.destroy();
    };
  }
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

interface SubscriptionSource {
  readonly after: bigint | undefined;
  readonly pageSize: number;
  readonly signal: AbortSignal | undefined;
  readPage(after: bigint | undefined, count: number): Promise<LogPage>;
  toRecorded(entry: { stream: string; record: KurrentRecord }): RecordedEvent;
  watch(
    after: bigint | undefined,
    wake: () => void,
    fail: (error: Error) => void,
  ): () => Promise<void>;
  onClose(): void;
}

/**
 * A subscription to the whole log. It reads the log in pages by global position and fetches the
 * next page only when the consumer has taken the last one, so at most one page waits in memory
 * (back-pressure). Once caught up it starts a watch from the last position it read and sleeps
 * until the watch sees something after it: positions carry it from catch-up to live, so nothing
 * is missed or repeated across the switch.
 */
class KurrentSubscription implements Subscription {
  readonly #source: SubscriptionSource;
  #page: RecordedEvent[] = [];
  #closed = false;
  #started = false;
  #pendingWake = false;
  #failure: Error | undefined;
  #waiter: (() => void) | undefined;
  #stopWatch: (() => Promise<void>) | undefined;
  readonly #onAbort = (): void => {
    void this.close();
  };

  constructor(source: SubscriptionSource) {
    this.#source = source;
    if (source.signal?.aborted === true) this.#closed = true;
    else source.signal?.addEventListener('abort', this.#onAbort, { once: true });
  }

  bufferedCount(): number {
    return this.#page.length;
  }

  [Symbol.asyncIterator](): AsyncIterator<RecordedEvent> {
    if (this.#started) throw new RangeError('a subscription can be iterated once');
    this.#started = true;
    return this.#events();
  }

  async *#events(): AsyncGenerator<RecordedEvent> {
    let after = this.#source.after;
    try {
      while (!this.#closed) {
        const next = this.#page.shift();
        if (next !== undefined) {
          yield next;
          continue;
        }
        const page = await this.#source.readPage(after, this.#source.pageSize);
        if (this.#closed) return;
        after = page.last;
        this.#page = page.records.map((entry) => this.#source.toRecorded(entry));
        if (this.#page.length > 0 || !page.exhausted) continue;
        await this.#sleepUntilWoken(after);
      }
    } finally {
      await this.close();
    }
  }

  /** Caught up: start the watch once, then wait for it to see an event, or for close. */
  async #sleepUntilWoken(after: bigint | undefined): Promise<void> {
    if (this.#stopWatch === undefined) {
      this.#stopWatch = this.#source.watch(
        after,
        () => this.#wake(),
        (error) => {
          this.#failure = error;
          this.#wake();
        },
      );
    }
    if (!this.#pendingWake && this.#failure === undefined && !this.#closed) {
      await new Promise<void>((resolve) => {
        this.#waiter = resolve;
      });
    }
    this.#pendingWake = false;
    if (this.#failure !== undefined && !this.#closed) throw this.#failure;
  }

  #wake(): void {
    this.#pendingWake = true;
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.();
  }

  async close(): Promise<void> {
    const first = !this.#closed;
    this.#closed = true;
    this.#page = [];
    if (first) {
      this.#source.signal?.removeEventListener('abort', this.#onAbort);
      this.#source.onClose();
    }
    this.#wake();
    const stop = this.#stopWatch;
    this.#stopWatch = undefined;
    await stop?.();
  }
}

/**
 * Opens the KurrentDB event store. With `probe` (the default) it reads once from the server, so
 * an unreachable server or a wrong URL fails here with StoreUnavailableError, whose hint names
 * KURRENTDB_URL. The options are plain JSON, so a child process can open the same store.
 */
export async function openKurrentEventStore(
  options: KurrentEventStoreOptions,
): Promise<KurrentEventStore> {
  const settings: Settings = {
    limits: Object.freeze({ ...defaultLimits, ...options.limits }),
    deadlineMs: positiveInteger(options.deadlineMs, 10_000, 'deadlineMs'),
    idempotencyWindow: positiveInteger(options.idempotencyWindow, 64, 'idempotencyWindow'),
    readPageSize: positiveInteger(options.readPageSize, 500, 'readPageSize'),
    maxHeadRetries: positiveInteger(options.maxHeadRetries, 50, 'maxHeadRetries'),
  };
  const names = new KurrentStreamNames(options.namespace);
  // Loaded here, not at import: the client loads a native addon that SQLite-only installations
  // (and every package importing the event store) should never need.
  const kurrent: KurrentModule = await import('@kurrent/kurrentdb-client');
  let client: KurrentDBClient;
  try {
    client = kurrent.KurrentDBClient.connectionString(
      withDeadline(options.connectionString, settings.deadlineMs),
    );
  } catch (error) {
    throw new KurrentConnectionStringError(error);
  }
  const store = new KurrentEventStore(kurrent, client, settings, names);
  if (options.probe ?? true) {
    try {
      await store.streamHead('tenant-ratsfach_probe');
    } catch (error) {
      await store.close();
      throw error;
    }
  }
  return store;
}

/**
 * Reads through the client's native bridge take their deadline from the connection string, not
 * from per-call options: add `defaultDeadline` unless the operator set one.
 */
function withDeadline(connectionString: string, deadlineMs: number): string {
  if (/[?&]defaultdeadline=/i.test(connectionString)) return connectionString;
  return `${connectionString}${connectionString.includes('?') ? '&' : '?'}defaultDeadline=${deadlineMs}`;
}
