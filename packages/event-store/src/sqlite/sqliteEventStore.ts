import Database from 'better-sqlite3';
import { isRatsfachError } from '@ratsfach/domain';
import {
  validateAppend,
  validateReadAll,
  validateReadStream,
  type ValidatedAppend,
} from '../shared/appendValidation.js';
import { chainEvents } from '../shared/chainEvents.js';
import { verifyChain } from '../shared/chainVerifier.js';
import { replayedResult } from '../shared/commandReplay.js';
import { ConcurrencyError, StoreIntegrityError, StoreUnavailableError } from '../errors.js';
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
import { describeExpected, satisfiesExpected, type ExpectedRevision } from '../expectedRevision.js';

export interface SqliteEventStoreOptions {
  /** Path of the database file; its directory must exist. */
  readonly path: string;
  readonly limits?: EventStoreLimits;
  /** Events per page when reading (readStream, readAll, verify). Default 1000. */
  readonly readPageSize?: number;
  /** Default page of a subscription (events fetched ahead of the consumer). Default 256. */
  readonly subscriptionPageSize?: number;
  /**
   * How often an idle subscription looks for commits made by another process (another
   * connection to the same file). Commits of this store wake it at once. Default 500 ms.
   */
  readonly pollIntervalMs?: number;
  /** Most appends committed in one group transaction. Default 512. */
  readonly maxAppendsPerCommit?: number;
}

/**
 * `events` holds the exact bytes; `commands` makes appends idempotent. Event ids are unique by
 * construction (UUIDv5 of tenant, command id and index; one command id is stored once per
 * tenant), so the only random-keyed index is one row per append in `commands`: a UNIQUE index
 * on every event id would dirty one random B-tree page per event, and a 100-event append would
 * write some 100 extra pages to the WAL.
 */
const schema = `
CREATE TABLE IF NOT EXISTS events (
  global_position INTEGER PRIMARY KEY,
  stream TEXT NOT NULL,
  revision INTEGER NOT NULL,
  event_id TEXT NOT NULL,
  type TEXT NOT NULL,
  data BLOB NOT NULL,
  metadata BLOB NOT NULL,
  hash BLOB NOT NULL,
  prev_hash BLOB NOT NULL,
  UNIQUE (stream, revision)
);
CREATE TABLE IF NOT EXISTS commands (
  first_event_id TEXT PRIMARY KEY,
  stream TEXT NOT NULL,
  first_revision INTEGER NOT NULL
) WITHOUT ROWID;
`;
/**
 * What a read selects: the four byte columns come back concatenated in one BLOB, with their
 * lengths, and are handed out as views of it. The driver copies every BLOB into a fresh Buffer of
 * its own, and those four allocations were most of a replay's cost (about 230,000 rows/s with
 * four BLOBs, 410,000 with one). `||` joins the bytes as they are (the file is UTF-8, so no text
 * conversion happens) and the CAST only relabels them as a BLOB.
 */
const columns =
  'global_position, stream, revision, event_id, type, length(hash), length(prev_hash), length(data), CAST(hash || prev_hash || data || metadata AS BLOB)';

type Row = [bigint, string, bigint, string, string, bigint, bigint, bigint, Buffer];

const toRecorded = (row: Row): RecordedEvent => {
  const bytes = row[8];
  const hashEnd = Number(row[5]);
  const prevHashEnd = hashEnd + Number(row[6]);
  const dataEnd = prevHashEnd + Number(row[7]);
  return {
    globalPosition: row[0],
    stream: row[1],
    revision: row[2],
    eventId: row[3],
    type: row[4],
    data: bytes.subarray(prevHashEnd, dataEnd),
    metadata: bytes.subarray(dataEnd),
    hash: bytes.subarray(0, hashEnd),
    prevHash: bytes.subarray(hashEnd, prevHashEnd),
  };
};

type Outcome = { ok: true; result: AppendResult } | { ok: false; error: unknown };

interface PendingAppend {
  readonly append: ValidatedAppend;
  readonly resolve: (result: AppendResult) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Translates a driver failure into the store's typed errors; ours pass through, and so do
 * programming errors (a TypeError of our own is a bug to see, not an outage to retry).
 */
const storeError = (error: unknown, action: string): Error => {
  if (isRatsfachError(error)) return error;
  const closed =
    error instanceof TypeError && /database connection is not open/.test(error.message);
  if (!(error instanceof Database.SqliteError) && !closed) return error as Error;
  const code = closed ? 'closed' : (error as InstanceType<typeof Database.SqliteError>).code;
  if (code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB') {
    return new StoreIntegrityError(`SQLite event store: database file is damaged (${action})`, {
      cause: error,
      details: { sqliteCode: code },
    });
  }
  return new StoreUnavailableError(
    `SQLite event store: ${action} failed: ${(error as Error).message}`,
    { cause: error, details: { sqliteCode: code } },
  );
};

/**
 * Opens (creating if needed) an SQLite event store: WAL, `synchronous=FULL`, group commit.
 * Throws StoreUnavailableError when the file cannot be opened.
 */
export async function openSqliteEventStore(
  options: SqliteEventStoreOptions,
): Promise<SqliteEventStore> {
  return new SqliteEventStore(options);
}

/**
 * The embedded event store on one SQLite file (better-sqlite3).
 *
 * Group commit: appends that arrive while the event loop is busy are queued and written, on the
 * next turn of the loop, in one transaction with one savepoint each; a refused append (stale
 * revision, reused command id) rolls back to its savepoint and the others commit. Every append
 * is resolved only after COMMIT returned, and with `synchronous=FULL` that means the WAL was
 * fsynced: acknowledged appends survive a crash or power loss. Writes run on the calling thread;
 * one fsync per group keeps the pause short, and a deployment that must never block the API's
 * event loop runs the store in a worker thread as a whole.
 *
 * Reads and subscriptions page through the same connection. A subscription is woken by this
 * store's commits and polls for commits of other processes.
 */
export class SqliteEventStore implements EventStore {
  readonly #db: Database.Database;
  readonly #limits: EventStoreLimits;
  readonly #readPageSize: number;
  readonly #subscriptionPageSize: number;
  readonly #pollIntervalMs: number;
  readonly #maxAppendsPerCommit: number;
  readonly #statements;
  readonly #commitListeners = new Set<() => void>();
  #queue: PendingAppend[] = [];
  #transactions = 0;
  #appendsCommitted = 0;
  #flushScheduled = false;
  #closed = false;

  constructor(options: SqliteEventStoreOptions) {
    this.#limits = options.limits ?? defaultLimits;
    this.#readPageSize = options.readPageSize ?? 1000;
    this.#subscriptionPageSize = options.subscriptionPageSize ?? 256;
    this.#pollIntervalMs = options.pollIntervalMs ?? 500;
    this.#maxAppendsPerCommit = options.maxAppendsPerCommit ?? 512;
    let db: Database.Database | undefined;
    try {
      db = new Database(options.path);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('busy_timeout = 5000');
      db.exec(schema);
      this.#db = db;
    } catch (error) {
      db?.close();
      // The driver reports a missing directory as a TypeError; any failure to open is an outage.
      const mapped = storeError(error, `opening ${options.path}`);
      throw isRatsfachError(mapped)
        ? mapped
        : new StoreUnavailableError(
            `SQLite event store: cannot open ${options.path}: ${mapped.message}`,
            {
              cause: error,
            },
          );
    }
    const reader = (sql: string) => db.prepare(sql).raw(true).safeIntegers(true);
    this.#statements = {
      begin: db.prepare('BEGIN IMMEDIATE'),
      commit: db.prepare('COMMIT'),
      rollback: db.prepare('ROLLBACK'),
      savepoint: db.prepare('SAVEPOINT append'),
      release: db.prepare('RELEASE append'),
      rollbackTo: db.prepare('ROLLBACK TO append'),
      head: db
        .prepare(
          'SELECT revision, hash FROM events WHERE stream = ? ORDER BY revision DESC LIMIT 1',
        )
        .raw(true)
        .safeIntegers(true),
      command: db
        .prepare('SELECT stream, first_revision FROM commands WHERE first_event_id = ?')
        .raw(true)
        .safeIntegers(true),
      insertCommand: db.prepare(
        'INSERT INTO commands (first_event_id, stream, first_revision) VALUES (?, ?, ?)',
      ),
      insert: db.prepare(
        'INSERT INTO events (stream, revision, event_id, type, data, metadata, hash, prev_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      streamForwards: reader(
        `SELECT ${columns} FROM events WHERE stream = ? AND revision >= ? ORDER BY revision LIMIT ?`,
      ),
      streamBackwards: reader(
        `SELECT ${columns} FROM events WHERE stream = ? AND revision <= ? ORDER BY revision DESC LIMIT ?`,
      ),
      all: reader(
        `SELECT ${columns} FROM events WHERE global_position > ? ORDER BY global_position LIMIT ?`,
      ),
    };
  }

  append(
    stream: string,
    events: readonly NewEvent[],
    expected: ExpectedRevision,
    options: AppendOptions,
  ): Promise<AppendResult> {
    if (this.#closed) return Promise.reject(this.#closedError());
    let append: ValidatedAppend;
    try {
      append = validateAppend(stream, events, expected, options, this.#limits);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.appendValidated(append);
  }

  /**
   * Queues an append that already passed `validateAppend` (with this store's limits) for the
   * next group commit. For the writer thread of `openSqliteEventStoreInWorker`, whose caller
   * validated and derived the event ids already; everyone else calls `append`.
   */
  appendValidated(append: ValidatedAppend): Promise<AppendResult> {
    if (this.#closed) return Promise.reject(this.#closedError());
    return new Promise<AppendResult>((resolve, reject) => {
      this.#queue.push({ append, resolve, reject });
      this.#scheduleFlush();
    });
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    // setImmediate, not a microtask: writers whose previous append just resolved get to queue
    // their next one first, so a group collects every writer that is ready.
    setImmediate(() => {
      this.#flushScheduled = false;
      this.#flush();
    });
  }

  /** Writes queued appends in group transactions; resolves each only after its COMMIT. */
  #flush(): void {
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.#maxAppendsPerCommit);
      if (this.#closed) {
        for (const pending of batch) pending.reject(this.#closedError());
        continue;
      }
      const s = this.#statements;
      let outcomes: Outcome[] | null;
      try {
        s.begin.run();
        outcomes = this.#writeGroup(batch, false);
        if (outcomes === null) {
          if (this.#db.inTransaction) s.rollback.run();
          s.begin.run();
          outcomes = this.#writeGroup(batch, true) as Outcome[];
        }
        s.commit.run();
        this.#transactions += 1;
        this.#appendsCommitted += batch.length;
      } catch (error) {
        if (this.#db.inTransaction) {
          try {
            s.rollback.run();
          } catch {
            // The connection is failing as a whole; the appends are refused below either way.
          }
        }
        const failure = storeError(error, 'commit');
        for (const pending of batch) pending.reject(failure);
        continue;
      }
      batch.forEach((pending, index) => {
        const outcome = outcomes[index];
        if (outcome?.ok === true) pending.resolve(outcome.result);
        else pending.reject(outcome?.error);
      });
      this.#notifyCommit();
    }
  }

  /**
   * Runs the appends of a group in the open transaction. The first try uses no savepoints (two
   * statements fewer per append): a refusal of ours can be recorded and the group go on, since
   * every check that refuses runs before the append writes anything. A failure while writing
   * returns null; the caller rolls back and runs the group again with one savepoint per append,
   * so that only the failing append is refused.
   */
  #writeGroup(batch: readonly PendingAppend[], savepoints: boolean): Outcome[] | null {
    const s = this.#statements;
    const outcomes: Outcome[] = [];
    for (const pending of batch) {
      if (savepoints) s.savepoint.run();
      try {
        outcomes.push({ ok: true, result: this.#appendInTransaction(pending.append) });
        if (savepoints) s.release.run();
      } catch (error) {
        if (savepoints) {
          s.rollbackTo.run();
          s.release.run();
        } else if (!isRatsfachError(error)) return null;
        outcomes.push({ ok: false, error: storeError(error, 'append') });
      }
    }
    return outcomes;
  }

  /**
   * Writes one append in the open transaction. Every refusal (a ratsfach error) must be thrown
   * before the first write: #writeGroup relies on it to go on without a savepoint.
   */
  #appendInTransaction(append: ValidatedAppend): AppendResult {
    const s = this.#statements;
    const previous = s.command.get(append.eventIds[0]) as [string, bigint] | undefined;
    if (previous !== undefined) {
      const stored = (
        s.streamForwards.all(previous[0], previous[1], append.events.length + 1) as Row[]
      ).map(toRecorded);
      return replayedResult(append, stored);
    }
    const headRow = s.head.get(append.stream) as [bigint, Buffer] | undefined;
    const head: StreamHead | null =
      headRow === undefined ? null : { revision: headRow[0], hash: headRow[1] };
    const actual = head === null ? null : head.revision;
    if (!satisfiesExpected(append.expected, actual)) {
      throw new ConcurrencyError(append.stream, describeExpected(append.expected), actual);
    }
    let lastPosition = 0n;
    const chained = chainEvents(append, head);
    s.insertCommand.run(
      append.eventIds[0],
      append.stream,
      (chained[0] as { revision: bigint }).revision,
    );
    for (const event of chained) {
      const info = s.insert.run(
        append.stream,
        event.revision,
        event.eventId,
        event.type,
        event.data,
        event.metadata,
        event.hash,
        event.prevHash,
      );
      lastPosition = BigInt(info.lastInsertRowid);
    }
    return {
      nextExpectedRevision: (chained[chained.length - 1] as { revision: bigint }).revision,
      lastGlobalPosition: lastPosition,
      eventIds: append.eventIds,
      replayed: false,
    };
  }

  /**
   * Wakes this store's subscriptions now: another connection to the same file (the writer
   * thread of `openSqliteEventStoreInWorker`) has committed. Without it they find the commit at
   * their next poll.
   */
  notifyExternalCommit(): void {
    this.#notifyCommit();
  }

  #notifyCommit(): void {
    const listeners = [...this.#commitListeners];
    this.#commitListeners.clear();
    for (const listener of listeners) listener();
  }

  /** Resolves at the next commit of this store, after `pollIntervalMs`, or when the store closes. */
  waitForCommit(signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#commitListeners.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, this.#pollIntervalMs);
      this.#commitListeners.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  #closedError(): StoreUnavailableError {
    return new StoreUnavailableError('SQLite event store is closed', {
      details: { reason: 'closed' },
    });
  }

  #query<T>(action: string, run: () => T): T {
    if (this.#closed) throw this.#closedError();
    try {
      return run();
    } catch (error) {
      throw storeError(error, action);
    }
  }

  /** One page of the whole log after `after`, in global order. */
  readAllPage(after: bigint, limit: number): RecordedEvent[] {
    return this.#query('readAll', () =>
      (this.#statements.all.all(after, limit) as Row[]).map(toRecorded),
    );
  }

  async *readStream(stream: string, options: ReadStreamOptions = {}): AsyncIterable<RecordedEvent> {
    validateReadStream(stream, options);
    const backwards = options.direction === 'backwards';
    let remaining = options.maxCount ?? Number.POSITIVE_INFINITY;
    // Revisions fit in SQLite's signed 64 bits; the largest one stands for "from the end".
    let from = options.fromRevision ?? (backwards ? 0x7fffffffffffffffn : 0n);
    while (remaining > 0) {
      const limit = Math.min(remaining, this.#readPageSize);
      const statement = backwards
        ? this.#statements.streamBackwards
        : this.#statements.streamForwards;
      const page = this.#query('readStream', () =>
        (statement.all(stream, from, limit) as Row[]).map(toRecorded),
      );
      for (const event of page) yield event;
      if (page.length < limit) return;
      remaining -= page.length;
      const last = page[page.length - 1] as RecordedEvent;
      if (backwards && last.revision === 0n) return;
      from = backwards ? last.revision - 1n : last.revision + 1n;
    }
  }

  async *readAll(options: ReadAllOptions = {}): AsyncIterable<RecordedEvent> {
    validateReadAll(options);
    let remaining = options.maxCount ?? Number.POSITIVE_INFINITY;
    let after = options.after ?? 0n;
    while (remaining > 0) {
      const limit = Math.min(remaining, this.#readPageSize);
      const page = this.readAllPage(after, limit);
      for (const event of page) yield event;
      if (page.length < limit) return;
      remaining -= page.length;
      after = (page[page.length - 1] as RecordedEvent).globalPosition;
    }
  }

  subscribeToAll(options: SubscribeOptions = {}): Subscription {
    validateReadAll({ after: options.after, pageSize: options.pageSize });
    return new SqliteSubscription(
      this,
      options.after ?? 0n,
      options.pageSize ?? this.#subscriptionPageSize,
      options.signal,
    );
  }

  async streamHead(stream: string): Promise<StreamHead | null> {
    validateReadStream(stream);
    const row = this.#query(
      'streamHead',
      () => this.#statements.head.get(stream) as [bigint, Buffer] | undefined,
    );
    return row === undefined ? null : { revision: row[0], hash: row[1] };
  }

  async verify(options: { readonly stream?: string } = {}): Promise<VerifyReport> {
    return verifyChain(
      options.stream === undefined ? this.readAll() : this.readStream(options.stream),
    );
  }

  /**
   * How well group commit groups: committed transactions and the appends they carried (refused
   * ones included). For metrics; `appends / transactions` is the mean group size.
   */
  groupCommitStats(): { readonly transactions: number; readonly appends: number } {
    return { transactions: this.#transactions, appends: this.#appendsCommitted };
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Writes what is queued, then closes; later calls refuse with StoreUnavailableError. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#flush();
    this.#closed = true;
    this.#notifyCommit();
    this.#db.close();
  }
}

/** Pages through the log on demand: at most one page is ever held ahead of the consumer. */
class SqliteSubscription implements Subscription {
  readonly #store: SqliteEventStore;
  readonly #pageSize: number;
  readonly #abort = new AbortController();
  #after: bigint;
  #page: RecordedEvent[] = [];
  #index = 0;
  #iterator: AsyncGenerator<RecordedEvent> | undefined;

  constructor(
    store: SqliteEventStore,
    after: bigint,
    pageSize: number,
    signal: AbortSignal | undefined,
  ) {
    this.#store = store;
    this.#after = after;
    this.#pageSize = Math.max(1, Math.floor(pageSize));
    if (signal !== undefined) {
      if (signal.aborted) this.#abort.abort();
      else signal.addEventListener('abort', () => this.#abort.abort(), { once: true });
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<RecordedEvent> {
    this.#iterator ??= this.#run();
    return this.#iterator;
  }

  async *#run(): AsyncGenerator<RecordedEvent> {
    const signal = this.#abort.signal;
    while (!signal.aborted) {
      if (this.#index < this.#page.length) {
        const event = this.#page[this.#index] as RecordedEvent;
        this.#index += 1;
        this.#after = event.globalPosition;
        yield event;
        continue;
      }
      this.#page = [];
      this.#index = 0;
      const page = this.#store.readAllPage(this.#after, this.#pageSize);
      if (page.length > 0) this.#page = page;
      else await this.#store.waitForCommit(signal);
    }
  }

  bufferedCount(): number {
    return this.#page.length - this.#index;
  }

  async close(): Promise<void> {
    this.#abort.abort();
    this.#page = [];
    this.#index = 0;
  }
}
