import type pg from 'pg';
import type { ValidatedAppend } from '../shared/appendValidation.js';
import { chainEvents, type ChainedEvent } from '../shared/chainEvents.js';
import { replayedResult } from '../shared/commandReplay.js';
import { ConcurrencyError } from '../errors.js';
import type { AppendResult, StreamHead } from '../eventStore.js';
import {
  ANY,
  describeExpected,
  NO_STREAM,
  STREAM_EXISTS,
  satisfiesExpected,
} from '../expectedRevision.js';
import {
  binaryByteaArray,
  binaryInt4Array,
  binaryInt8Array,
  binaryTextArray,
  binaryUuidArray,
} from './postgresBinaryArray.js';
import { toPostgresStoreError } from './postgresErrors.js';
import { postgresEventColumns, toRecordedEvent, type PostgresEventRow } from './postgresRows.js';
import { PostgresConstraint, type PostgresNames } from './postgresSchema.js';

/** Tuning of group commit; the defaults suit one store per process. */
export interface PostgresGroupCommitOptions {
  /** Most events in one batch transaction (default 10,000). */
  readonly maxBatchEvents?: number;
  /**
   * Batch transactions in flight at once, each on its own connection (default 4). A second
   * batch starts only while a full batch is waiting: smaller batches side by side would pay
   * more transactions for the same events.
   */
  readonly maxConcurrentBatches?: number;
  /** Streams whose head (revision, hash) is remembered to save a read (default 10,000). */
  readonly headCacheSize?: number;
  /**
   * How long after a commit the NOTIFY that wakes subscriptions may wait, so that the commits
   * within this window share one (default 5 ms). Each NOTIFY is a transaction of its own; one
   * per append cost a sequential writer about a third of its speed. Subscriptions see the
   * events once they wake (or at their poll interval if a NOTIFY is lost); 0 sends at once.
   */
  readonly notifyDelayMs?: number;
}

interface Pending {
  readonly append: ValidatedAppend;
  readonly resolve: (result: AppendResult) => void;
  readonly reject: (error: Error) => void;
  /** How often a lost race of `any`/`stream_exists` has been retried. */
  retries: number;
}

interface Planned {
  readonly pending: Pending;
  readonly ix: number;
  readonly chained: ChainedEvent[];
}

/**
 * `any` and `stream_exists` only lose a race when another process wrote the stream first, so
 * every lost race is someone's progress; the bound only stops a pathological starvation. It is
 * high because a process that lost must re-read the head and so tends to lose the next race too.
 */
const maxRaceRetries = 200;
const retryableSqlStates: ReadonlySet<string> = new Set(['40P01', '40001']);

/**
 * Group commit for the PostgreSQL store. Appends that arrive while a batch is in flight wait
 * and then go together into the next one: one statement (the schema's `append_batch` function,
 * one savepoint per append inside) and one COMMIT, so 64 concurrent writers pay one WAL flush,
 * not 64. Each append's promise settles only after its batch's COMMIT has returned
 * (synchronous_commit on), so an acknowledged append is durable.
 *
 * A stream is in at most one batch in flight, and at most once per batch, so heads never race
 * inside this process; against other processes the UNIQUE (stream, revision) constraint decides.
 */
export class PostgresGroupCommit {
  readonly #pool: pg.Pool;
  readonly #names: PostgresNames;
  readonly #maxBatchEvents: number;
  readonly #maxConcurrent: number;
  readonly #headCacheSize: number;
  readonly #queue: Pending[] = [];
  #queuedEvents = 0;
  readonly #busyStreams = new Set<string>();
  /**
   * Heads this process has read or written. Possibly stale when another process writes too:
   * a stale head makes the insert hit UNIQUE (stream, revision), and a refusal is only given
   * after reading the head again, so staleness costs a retry, never a wrong answer.
   */
  readonly #heads = new Map<string, StreamHead>();
  #inFlight = 0;
  #transactions = 0;
  #appendsCommitted = 0;
  /** A NOTIFY is being sent; `#notifyAgain` asks for one more once it is done. */
  #notifying = false;
  #notifyAgain = false;
  /** The delayed NOTIFY (see `notifyDelayMs`), or null when none is waiting. */
  #notifyTimer: ReturnType<typeof setTimeout> | null = null;
  #notifySent: Promise<void> = Promise.resolve();
  readonly #notifyDelayMs: number;
  readonly #idle = new Set<() => void>();

  constructor(pool: pg.Pool, names: PostgresNames, options: PostgresGroupCommitOptions = {}) {
    this.#pool = pool;
    this.#names = names;
    this.#maxBatchEvents = options.maxBatchEvents ?? 10_000;
    this.#maxConcurrent = options.maxConcurrentBatches ?? 4;
    this.#headCacheSize = options.headCacheSize ?? 10_000;
    this.#notifyDelayMs = options.notifyDelayMs ?? 5;
  }

  append(append: ValidatedAppend): Promise<AppendResult> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ append, resolve, reject, retries: 0 });
      this.#queuedEvents += append.events.length;
      this.#pump();
    });
  }

  /**
   * How well group commit groups: committed batch transactions and the appends they carried
   * (refused ones included). For metrics; `appends / transactions` is the mean group size.
   */
  stats(): { readonly transactions: number; readonly appends: number } {
    return { transactions: this.#transactions, appends: this.#appendsCommitted };
  }

  /** Resolves once nothing is queued or in flight. */
  drain(): Promise<void> {
    if (this.#inFlight === 0 && this.#queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.add(resolve));
  }

  #pump(): void {
    while (this.#inFlight < this.#maxConcurrent && this.#queue.length > 0) {
      if (this.#inFlight > 0 && this.#queuedEvents < this.#maxBatchEvents) break;
      const batch = this.#take();
      if (batch.length === 0) break;
      this.#inFlight += 1;
      for (const p of batch) this.#busyStreams.add(p.append.stream);
      void this.#runBatch(batch).finally(() => {
        this.#inFlight -= 1;
        for (const p of batch) this.#busyStreams.delete(p.append.stream);
        this.#pump();
        if (this.#inFlight === 0 && this.#queue.length === 0) {
          for (const resolve of this.#idle) resolve();
          this.#idle.clear();
        }
      });
    }
  }

  /** Takes queued appends in arrival order, skipping streams already busy; order per stream holds. */
  #take(): Pending[] {
    const batch: Pending[] = [];
    const streams = new Set<string>();
    let events = 0;
    const rest: Pending[] = [];
    for (const p of this.#queue) {
      const { stream } = p.append;
      const size = p.append.events.length;
      const fits = batch.length === 0 || events + size <= this.#maxBatchEvents;
      if (fits && !this.#busyStreams.has(stream) && !streams.has(stream)) {
        batch.push(p);
        streams.add(stream);
        events += size;
      } else {
        rest.push(p);
        // A later append of a skipped stream must not overtake it.
        streams.add(stream);
      }
    }
    this.#queue.length = 0;
    this.#queue.push(...rest);
    this.#queuedEvents -= events;
    // One lock order for every batch of every process: no deadlock between inserting batches.
    return batch.sort((a, b) => (a.append.stream < b.append.stream ? -1 : 1));
  }

  #remember(stream: string, head: StreamHead): void {
    this.#heads.delete(stream);
    this.#heads.set(stream, head);
    if (this.#heads.size > this.#headCacheSize) {
      const oldest = this.#heads.keys().next();
      if (oldest.done !== true) this.#heads.delete(oldest.value);
    }
  }

  async #runBatch(batch: Pending[]): Promise<void> {
    let planned: Planned[];
    try {
      planned = await this.#plan(batch);
    } catch (error) {
      for (const p of batch) p.reject(toPostgresStoreError(error, 'reading stream heads'));
      return;
    }
    if (planned.length === 0) return;
    let outcomes: Map<number, { outcome: string; lastPosition: bigint | null }>;
    try {
      outcomes = await this.#insert(planned);
    } catch (error) {
      // Whether an interrupted COMMIT took effect is unknown: forget the heads, and let the
      // caller retry with the same command id, which returns the stored result if it did.
      for (const { pending } of planned) this.#heads.delete(pending.append.stream);
      const code = (error as { code?: unknown }).code;
      if (typeof code === 'string' && retryableSqlStates.has(code)) {
        for (const { pending } of planned) this.#requeue(pending, error);
        return;
      }
      for (const { pending } of planned) {
        pending.reject(toPostgresStoreError(error, 'appending'));
      }
      return;
    }
    this.#transactions += 1;
    this.#appendsCommitted += planned.length;
    let written = false;
    for (const item of planned) {
      const result = outcomes.get(item.ix);
      written ||= result?.outcome === 'ok';
      void this.#settle(item, result?.outcome ?? 'missing', result?.lastPosition ?? null);
    }
    if (written) this.#notify();
  }

  /**
   * Wakes live subscriptions of every process, after the batch is committed and acknowledged.
   * At most one NOTIFY is in flight; appends meanwhile fold into one more. It needs no
   * durability, so it does not wait for a WAL flush; if it fails, subscriptions poll.
   */
  #notify(): void {
    if (this.#notifyTimer !== null) return; // the waiting NOTIFY covers this commit too
    if (this.#notifyDelayMs === 0) {
      this.#sendNotify();
      return;
    }
    this.#notifyTimer = setTimeout(() => {
      this.#notifyTimer = null;
      this.#sendNotify();
    }, this.#notifyDelayMs);
  }

  #sendNotify(): void {
    if (this.#notifying) {
      this.#notifyAgain = true;
      return;
    }
    this.#notifying = true;
    this.#notifyAgain = false;
    this.#notifySent = this.#pool
      .query(`BEGIN; SET LOCAL synchronous_commit TO off; NOTIFY "${this.#names.channel}"; COMMIT`)
      .then(
        () => undefined,
        () => undefined,
      )
      .finally(() => {
        this.#notifying = false;
        if (this.#notifyAgain) this.#sendNotify();
      });
  }

  /** Sends a NOTIFY still waiting for its delay now, and waits for the one in flight. */
  async flushNotify(): Promise<void> {
    if (this.#notifyTimer !== null) {
      clearTimeout(this.#notifyTimer);
      this.#notifyTimer = null;
      this.#sendNotify();
    }
    while (this.#notifying) await this.#notifySent;
  }

  #requeue(pending: Pending, cause: unknown): void {
    pending.retries += 1;
    if (pending.retries > maxRaceRetries) {
      pending.reject(toPostgresStoreError(cause, 'appending (too many lost races)'));
      return;
    }
    this.#queue.unshift(pending);
    this.#queuedEvents += pending.append.events.length;
    queueMicrotask(() => this.#pump());
  }

  /** Reads unknown heads, decides expected revisions, and chains the events of each append. */
  async #plan(batch: Pending[]): Promise<Planned[]> {
    const unknown = batch
      .filter((p) => !this.#heads.has(p.append.stream) && p.append.expected !== NO_STREAM)
      .map((p) => p.append.stream);
    const read = unknown.length === 0 ? new Map() : await this.#readHeads(unknown);
    const planned: Planned[] = [];
    batch.forEach((pending, ix) => {
      const { append } = pending;
      const head =
        this.#heads.get(append.stream) ??
        (append.expected === NO_STREAM ? null : (read.get(append.stream) ?? null));
      if (!satisfiesExpected(append.expected, head?.revision ?? null)) {
        // The head may be stale (another process appended) or this may be a retried command:
        // both are answered by the careful path, off the batch.
        void this.#refuseOrReplay(pending);
        return;
      }
      planned.push({ pending, ix, chained: chainEvents(append, head) });
    });
    return planned;
  }

  async #readHeads(streams: readonly string[]): Promise<Map<string, StreamHead>> {
    const { rows } = await this.#pool.query<{ stream: string; revision: string; hash: Buffer }>(
      `SELECT s.stream, h.revision, h.hash
         FROM unnest($1::text[]) AS s(stream)
         JOIN LATERAL (SELECT revision, hash FROM ${this.#names.events} e
                        WHERE e.stream = s.stream ORDER BY revision DESC LIMIT 1) h ON true`,
      [streams],
    );
    const heads = new Map<string, StreamHead>();
    for (const row of rows) {
      const head = { revision: BigInt(row.revision), hash: row.hash };
      heads.set(row.stream, head);
      this.#remember(row.stream, head);
    }
    return heads;
  }

  async #insert(
    planned: readonly Planned[],
  ): Promise<Map<number, { outcome: string; lastPosition: bigint | null }>> {
    const cols = {
      append: [] as number[],
      stream: [] as string[],
      revision: [] as bigint[],
      eventId: [] as string[],
      type: [] as string[],
      data: [] as Uint8Array[],
      metadata: [] as Uint8Array[],
      hash: [] as Uint8Array[],
      prevHash: [] as Uint8Array[],
      commandId: [] as string[],
    };
    for (const { pending, ix, chained } of planned) {
      for (const event of chained) {
        cols.append.push(ix);
        cols.stream.push(pending.append.stream);
        cols.revision.push(event.revision);
        cols.eventId.push(event.eventId);
        cols.type.push(event.type);
        cols.data.push(event.data);
        cols.metadata.push(event.metadata);
        cols.hash.push(event.hash);
        cols.prevHash.push(event.prevHash);
        cols.commandId.push(pending.append.commandId);
      }
    }
    // One statement in its own implicit transaction: node-postgres resolves it only at
    // ReadyForQuery, which the server sends after the COMMIT has been flushed.
    const { rows } = await this.#pool.query<{
      append_ix: number;
      outcome: string;
      last_position: string | null;
    }>({
      // Named: each pooled connection parses and plans it once, not on every append. Unique
      // per schema (stores may share a pool) and under PostgreSQL's 63-byte name limit.
      name: `ratsfach_ab_${this.#names.schema}`,
      text: `SELECT append_ix, outcome, last_position FROM ${this.#names.appendBatch}(
         $1::int[], $2::text[], $3::bigint[], $4::uuid[], $5::text[],
         $6::bytea[], $7::bytea[], $8::bytea[], $9::bytea[], $10::text[])`,
      // Binary arrays: as text, every bytea would travel as hex and be escaped and parsed on
      // both sides, which cost more than the insert itself (see postgresBinaryArray.ts).
      values: [
        binaryInt4Array(cols.append),
        binaryTextArray(cols.stream),
        binaryInt8Array(cols.revision),
        binaryUuidArray(cols.eventId),
        binaryTextArray(cols.type),
        binaryByteaArray(cols.data),
        binaryByteaArray(cols.metadata),
        binaryByteaArray(cols.hash),
        binaryByteaArray(cols.prevHash),
        binaryTextArray(cols.commandId),
      ],
    });
    const outcomes = new Map<number, { outcome: string; lastPosition: bigint | null }>();
    for (const row of rows) {
      outcomes.set(row.append_ix, {
        outcome: row.outcome,
        lastPosition: row.last_position === null ? null : BigInt(row.last_position),
      });
    }
    return outcomes;
  }

  async #settle(item: Planned, outcome: string, lastPosition: bigint | null): Promise<void> {
    const { pending, chained } = item;
    const { append } = pending;
    if (outcome === 'ok' && lastPosition !== null) {
      const last = chained[chained.length - 1] as ChainedEvent;
      this.#remember(append.stream, { revision: last.revision, hash: last.hash });
      pending.resolve({
        nextExpectedRevision: last.revision,
        lastGlobalPosition: lastPosition,
        eventIds: [...append.eventIds],
        replayed: false,
      });
      return;
    }
    this.#heads.delete(append.stream);
    if (
      outcome === PostgresConstraint.streamRevision &&
      (append.expected === ANY || append.expected === STREAM_EXISTS)
    ) {
      // Lost a race against another process: the head moved. Check for a replay first, so a
      // retried command is not appended a second time, then try again on the new head.
      try {
        if (await this.#replay(pending)) return;
      } catch (error) {
        pending.reject(toPostgresStoreError(error, 'looking up a command id'));
        return;
      }
      this.#requeue(pending, new Error(`lost ${maxRaceRetries} races for ${append.stream}`));
      return;
    }
    await this.#refuseOrReplay(pending);
  }

  /**
   * The careful path for an append that did not go through: a stored command with this id
   * gives the stored result (or CommandIdReusedError); otherwise the fresh head decides between
   * a retry (a stale cached head) and a ConcurrencyError.
   */
  async #refuseOrReplay(pending: Pending): Promise<void> {
    const { append } = pending;
    try {
      if (await this.#replay(pending)) return;
      this.#heads.delete(append.stream);
      const heads = await this.#readHeads([append.stream]);
      const actual = heads.get(append.stream)?.revision ?? null;
      if (satisfiesExpected(append.expected, actual)) {
        this.#requeue(pending, new Error(`lost ${maxRaceRetries} races for ${append.stream}`));
        return;
      }
      pending.reject(
        new ConcurrencyError(append.stream, describeExpected(append.expected), actual),
      );
    } catch (error) {
      pending.reject(toPostgresStoreError(error, 'checking a refused append'));
    }
  }

  /** Settles `pending` with the stored result if its command id was already appended. */
  async #replay(pending: Pending): Promise<boolean> {
    const { append } = pending;
    const { rows } = await this.#pool.query<PostgresEventRow>(
      `SELECT ${postgresEventColumns} FROM ${this.#names.events}
        WHERE stream = (SELECT stream FROM ${this.#names.events} WHERE event_id = $1::uuid)
          AND revision >= (SELECT revision FROM ${this.#names.events} WHERE event_id = $1::uuid)
        ORDER BY revision LIMIT $2`,
      [append.eventIds[0], append.events.length + 1],
    );
    if (rows.length === 0) return false;
    try {
      pending.resolve(replayedResult(append, rows.map(toRecordedEvent)));
    } catch (error) {
      pending.reject(error as Error);
    }
    return true;
  }
}
