import type * as KurrentClientModule from '@kurrent/kurrentdb-client';
import type {
  AllStreamResolvedEvent,
  AllStreamSubscription,
  KurrentDBClient,
  ResolvedEvent,
} from '@kurrent/kurrentdb-client';
import {
  validateAppend,
  validateReadAll,
  validateReadStream,
  type ValidatedAppend,
} from '../shared/appendValidation.js';
import { chainEvents } from '../shared/chainEvents.js';
import { ChainVerifier } from '../shared/chainVerifier.js';
import { replayedResult } from '../shared/commandReplay.js';
import {
  CommandIdReusedError,
  ConcurrencyError,
  InvalidReadOptionsError,
  StoreIntegrityError,
  StoreUnavailableError,
} from '../errors.js';
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
} from '../eventStore.js';
import {
  ANY,
  describeExpected,
  NO_STREAM,
  satisfiesExpected,
  STREAM_EXISTS,
  type ExpectedRevision,
} from '../expectedRevision.js';
import { decodeKurrentEnvelope, encodeKurrentEnvelope } from './kurrentEnvelope.js';
import {
  isStreamNotFound,
  isWrongExpectedVersion,
  KurrentConnectionStringError,
  KURRENTDB_URL_HINT,
  toStoreError,
  type KurrentErrorContext,
} from './kurrentErrors.js';
import {
  toLogPage,
  type KurrentEntry,
  type KurrentLogPage,
  type KurrentRecord,
} from './kurrentLogPage.js';
import { fromGlobalPosition, toGlobalPosition } from './kurrentPosition.js';
import { KurrentStreamNames } from './kurrentStreamNames.js';
import { KurrentSubscription } from './kurrentSubscription.js';

export { KurrentAppendTooLargeError, KurrentConnectionStringError } from './kurrentErrors.js';
export { KurrentStreamNames } from './kurrentStreamNames.js';
export type { KurrentRecord } from './kurrentLogPage.js';

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

const CLAIM_TYPE = 'ratsfach.CommandClaimed';

const positiveInteger = (value: number | undefined, fallback: number, name: string): number => {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`${name} must be a positive integer`);
  }
  return value;
};

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
  readonly #subscriptions = new Set<KurrentSubscription<KurrentEntry>>();
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
    const subscription: KurrentSubscription<KurrentEntry> = new KurrentSubscription<KurrentEntry>({
      after: options.after,
      pageSize,
      signal: options.signal,
      readPage: (after, count) => this.#readPage(after, count),
      toRecorded: (page) => fromKurrentRecord(page.record, page.stream),
      watch: (after, wake, fail) => this.#watch(after, wake, fail),
      onClose: () => this.#subscriptions.delete(subscription),
    });
    // One created with an aborted signal is closed from the start and never registers.
    if (options.signal?.aborted !== true) this.#subscriptions.add(subscription);
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
    const records: AsyncIterable<KurrentEntry> =
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
        // Should this read fail, the append is reported unavailable although written; a retry of
        // the same command then returns the stored result, as for any lost acknowledgement.
        lastGlobalPosition: await this.#lastPositionOf(stream, result.nextExpectedRevision),
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
   * The global position of the last event of an append, read back from the stream. The append's
   * reply carries a position too, but what it names for a transaction (its start, its commit
   * record, the last event) is not part of the client's contract; the stored event's own position
   * is what readAll and subscriptions report, so results and reads always agree.
   */
  async #lastPositionOf(stream: string, revision: bigint): Promise<bigint> {
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
  ): AsyncGenerator<KurrentEntry> {
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
  async #readPage(after: bigint | undefined, count: number): Promise<KurrentLogPage> {
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
    return toLogPage(page, after, count, requested, this.#names);
  }

  async *#rawAll(after: bigint | undefined): AsyncGenerator<KurrentEntry> {
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

/**
 * Opens the KurrentDB event store. With `probe` (the default) it reads once from the server, so
 * an unreachable server or a wrong URL fails here with StoreUnavailableError, whose hint names
 * KURRENTDB_URL. The options are plain JSON, so a child process can open the same store.
 */
export async function openKurrentEventStore(
  options: KurrentEventStoreOptions,
): Promise<KurrentEventStore> {
  // Loaded here, not at import: the client loads a native addon that SQLite-only installations
  // (and every package importing the event store) should never need.
  const kurrent: KurrentModule = await import('@kurrent/kurrentdb-client');
  const deadlineMs = positiveInteger(options.deadlineMs, 10_000, 'deadlineMs');
  // Checked before a client exists, so a bad namespace leaves no connection behind.
  new KurrentStreamNames(options.namespace);
  let client: KurrentDBClient;
  try {
    client = kurrent.KurrentDBClient.connectionString(
      withDeadline(options.connectionString, deadlineMs),
    );
  } catch (error) {
    throw new KurrentConnectionStringError(error);
  }
  const store = await kurrentEventStoreOnClient(client, options);
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
 * The event store on a client the caller built (with a credentials provider, say, or in tests a
 * stand-in with the client's interface). The store owns the client from then on and disposes of
 * it on close. `connectionString` and `probe` are ignored.
 */
export async function kurrentEventStoreOnClient(
  client: KurrentDBClient,
  options: Omit<KurrentEventStoreOptions, 'connectionString' | 'probe'> = {},
): Promise<KurrentEventStore> {
  const settings: Settings = {
    limits: Object.freeze({ ...defaultLimits, ...options.limits }),
    deadlineMs: positiveInteger(options.deadlineMs, 10_000, 'deadlineMs'),
    idempotencyWindow: positiveInteger(options.idempotencyWindow, 64, 'idempotencyWindow'),
    readPageSize: positiveInteger(options.readPageSize, 500, 'readPageSize'),
    maxHeadRetries: positiveInteger(options.maxHeadRetries, 50, 'maxHeadRetries'),
  };
  const kurrent: KurrentModule = await import('@kurrent/kurrentdb-client');
  return new KurrentEventStore(
    kurrent,
    client,
    settings,
    new KurrentStreamNames(options.namespace),
  );
}

/**
 * Reads through the client's native bridge take their deadline from the connection string, not
 * from per-call options: add `defaultDeadline` unless the operator set one.
 */
function withDeadline(connectionString: string, deadlineMs: number): string {
  if (/[?&]defaultdeadline=/i.test(connectionString)) return connectionString;
  return `${connectionString}${connectionString.includes('?') ? '&' : '?'}defaultDeadline=${deadlineMs}`;
}
