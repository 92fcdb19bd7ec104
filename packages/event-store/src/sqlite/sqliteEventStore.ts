import Database from 'better-sqlite3';
import { isRatsfachError } from '@ratsfach/kernel';
import { StoreIntegrityError, StoreUnavailableError } from '../errors.js';
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
import type { ExpectedRevision } from '../expectedRevision.js';
import {
  validateAppend,
  validateReadAll,
  validateReadStream,
  type ValidatedAppend,
} from '../shared/appendValidation.js';
import { verifyChain } from '../shared/chainVerifier.js';
import { CommitSignal, PagedSubscription } from '../shared/pagedSubscription.js';
import { checkSqliteFile } from './sqliteFileCheck.js';
import { SqliteGroupCommit } from './sqliteGroupCommit.js';
import {
  damagedFileError,
  eventColumns,
  sqliteSchema,
  sqliteStoreError,
  toRecorded,
  type EventRow,
} from './sqliteSchema.js';

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
  /**
   * Check the file at open (`quick_check` and every stream's head against the table, see
   * sqliteFileCheck.ts) and refuse a damaged one. Default true; the reading connection of
   * `openSqliteEventStoreInWorker` skips it because its writer thread has just checked the file.
   */
  readonly checkAtOpen?: boolean;
}

/**
 * Whether the store can serve and append now. Unhealthy carries the stable code (and message)
 * that its calls fail with: a writer thread that died, a damaged file, a closed store.
 */
export type SqliteStoreHealth =
  | { readonly healthy: true; readonly writer: 'alive' }
  | {
      readonly healthy: false;
      readonly writer: 'alive' | 'dead' | 'closed';
      readonly code: string;
      readonly message: string;
    };

/**
 * Opens (creating if needed) an SQLite event store: WAL, `synchronous=FULL`, group commit.
 * Throws StoreUnavailableError when the file cannot be opened and StoreIntegrityError (details
 * `reason: 'file_damaged'`, a hint to restore from backup) when it is damaged.
 */
export async function openSqliteEventStore(
  options: SqliteEventStoreOptions,
): Promise<SqliteEventStore> {
  return new SqliteEventStore(options);
}

/** The tables and indexes a store's file must hold, as SQLite records them in sqlite_master. */
let expectedObjects: ReadonlyMap<string, string> | undefined;
const schemaObjects = (db: Database.Database): Map<string, string> =>
  new Map(
    (
      db
        .prepare(
          "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE type IN ('table', 'index')",
        )
        .raw(true)
        .all() as unknown[][]
    ).map((row) => [String(row[1]), JSON.stringify(row)]),
  );

/**
 * Creates the schema in a new file; in an existing one checks that every table and index is
 * there exactly as created. `CREATE TABLE IF NOT EXISTS` alone would, in a file whose schema
 * record was damaged, create a fresh empty table beside the lost one and serve an empty log.
 */
function ensureSchema(db: Database.Database): void {
  const present = schemaObjects(db);
  if (present.size === 0) {
    db.exec(sqliteSchema);
    return;
  }
  if (expectedObjects === undefined) {
    const blank = new Database(':memory:');
    try {
      blank.exec(sqliteSchema);
      expectedObjects = schemaObjects(blank);
    } finally {
      blank.close();
    }
  }
  for (const [name, row] of expectedObjects) {
    if (present.get(name) !== row) {
      throw damagedFileError('the schema does not hold the tables it was created with', {
        check: 'schema',
        object: name,
      });
    }
  }
}

/**
 * The embedded event store on one SQLite file (better-sqlite3).
 *
 * Writes go through group commit (sqliteGroupCommit.ts) on the calling thread; one fsync per
 * group keeps the pause short, and a deployment that must never block the API's event loop runs
 * the writes on a worker thread (`openSqliteEventStoreInWorker`).
 *
 * Reads and subscriptions page through the same connection. A subscription is woken by this
 * store's commits and polls for commits of other processes.
 *
 * Damage: the file is checked at open, and every call fails with a typed error on damage. Once
 * damage is seen (at open, in a read, in verify, in a write) the store refuses everything with
 * that error, which says to restore from backup: serving on could lose events, appending on
 * could fork a stream.
 */
export class SqliteEventStore implements EventStore {
  readonly #db: Database.Database;
  readonly #limits: EventStoreLimits;
  readonly #readPageSize: number;
  readonly #subscriptionPageSize: number;
  readonly #writer: SqliteGroupCommit;
  readonly #readers;
  readonly #commits: CommitSignal;
  #damage: StoreIntegrityError | null = null;
  #closed = false;

  constructor(options: SqliteEventStoreOptions) {
    this.#limits = options.limits ?? defaultLimits;
    this.#readPageSize = options.readPageSize ?? 1000;
    this.#subscriptionPageSize = options.subscriptionPageSize ?? 256;
    this.#commits = new CommitSignal(options.pollIntervalMs ?? 500);
    let db: Database.Database | undefined;
    try {
      db = new Database(options.path);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('busy_timeout = 5000');
      ensureSchema(db);
      if (options.checkAtOpen !== false) checkSqliteFile(db, 'open');
      // Prepared here, inside the mapping: a damaged schema fails on prepare, typed.
      const reader = (sql: string) =>
        (db as Database.Database).prepare(sql).raw(true).safeIntegers(true);
      this.#readers = {
        head: reader(
          'SELECT revision, hash FROM events WHERE stream = ? ORDER BY revision DESC LIMIT 1',
        ),
        streamForwards: reader(
          `SELECT ${eventColumns} FROM events WHERE stream = ? AND revision >= ? ORDER BY revision LIMIT ?`,
        ),
        streamBackwards: reader(
          `SELECT ${eventColumns} FROM events WHERE stream = ? AND revision <= ? ORDER BY revision DESC LIMIT ?`,
        ),
        all: reader(
          `SELECT ${eventColumns} FROM events WHERE global_position > ? ORDER BY global_position LIMIT ?`,
        ),
      };
      this.#writer = new SqliteGroupCommit(db, {
        maxAppendsPerCommit: options.maxAppendsPerCommit ?? 512,
        refusal: () => (this.#closed ? this.#closedError() : this.#damage),
        committed: () => this.#commits.notify(),
        failed: (error) => this.#noteDamage(error),
      });
      this.#db = db;
    } catch (error) {
      db?.close();
      // The driver reports a missing directory as a TypeError; any failure to open is an outage.
      const mapped = sqliteStoreError(error, `opening ${options.path}`);
      throw isRatsfachError(mapped)
        ? mapped
        : new StoreUnavailableError(
            `SQLite event store: cannot open ${options.path}: ${mapped.message}`,
            { cause: error },
          );
    }
  }

  append(
    stream: string,
    events: readonly NewEvent[],
    expected: ExpectedRevision,
    options: AppendOptions,
  ): Promise<AppendResult> {
    let append: ValidatedAppend;
    try {
      this.#usable();
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
    try {
      this.#usable();
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#writer.enqueue(append);
  }

  /**
   * Wakes this store's subscriptions now: another connection to the same file (the writer
   * thread of `openSqliteEventStoreInWorker`) has committed. Without it they find the commit at
   * their next poll.
   */
  notifyExternalCommit(): void {
    this.#commits.notify();
  }

  /**
   * Records damage found elsewhere (the writer thread of `openSqliteEventStoreInWorker`): from
   * now on every call fails with it. Errors that are not about a damaged file are ignored.
   */
  noteDamage(error: unknown): void {
    this.#noteDamage(error);
  }

  #noteDamage(error: unknown): void {
    if (
      this.#damage === null &&
      error instanceof StoreIntegrityError &&
      error.details.reason === 'file_damaged'
    ) {
      this.#damage = error;
    }
  }

  /** Whether the store serves and appends now; see SqliteStoreHealth. */
  health(): SqliteStoreHealth {
    if (this.#closed) {
      const error = this.#closedError();
      return { healthy: false, writer: 'closed', code: error.code, message: error.message };
    }
    if (this.#damage !== null) {
      return {
        healthy: false,
        writer: 'alive',
        code: this.#damage.code,
        message: this.#damage.message,
      };
    }
    return { healthy: true, writer: 'alive' };
  }

  #closedError(): StoreUnavailableError {
    return new StoreUnavailableError('SQLite event store is closed', {
      details: { reason: 'closed' },
    });
  }

  /** Throws why the store cannot serve: closed, or damaged. */
  #usable(): void {
    if (this.#closed) throw this.#closedError();
    if (this.#damage !== null) throw this.#damage;
  }

  #query<T>(action: string, run: () => T): T {
    this.#usable();
    try {
      return run();
    } catch (error) {
      const mapped = sqliteStoreError(error, action);
      this.#noteDamage(mapped);
      throw mapped;
    }
  }

  /** One page of the whole log after `after`, in global order. */
  readAllPage(after: bigint, limit: number): RecordedEvent[] {
    return this.#query('readAll', () =>
      (this.#readers.all.all(after, limit) as EventRow[]).map(toRecorded),
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
      const statement = backwards ? this.#readers.streamBackwards : this.#readers.streamForwards;
      const page = this.#query('readStream', () =>
        (statement.all(stream, from, limit) as EventRow[]).map(toRecorded),
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
    const commits = this.#commits;
    return new PagedSubscription<number>(
      {
        mark: () => commits.generation,
        readPage: (after, limit) => {
          const events = this.readAllPage(after ?? 0n, limit);
          const last = events[events.length - 1];
          return {
            events,
            next: last === undefined ? after : last.globalPosition,
            caughtUp: events.length < limit,
          };
        },
        waitForMore: (mark, _after, signal) => commits.wait(mark, signal),
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
    const row = this.#query('streamHead', () => {
      const found = this.#readers.head.get(stream) as [unknown, unknown] | undefined;
      if (
        found !== undefined &&
        (typeof found[0] !== 'bigint' || !(found[1] instanceof Uint8Array))
      ) {
        throw damagedFileError('the stream head has the wrong shape', { stream });
      }
      return found as [bigint, Uint8Array] | undefined;
    });
    return row === undefined ? null : { revision: row[0], hash: row[1] };
  }

  /**
   * Checks the file (SQLite's `integrity_check`, every stream's index against the table, every
   * command id against its event; for one stream, that stream's index against the table) and
   * throws the typed damaged-file error on a problem; then walks the hash chain and names the
   * first event that breaks it.
   */
  async verify(options: { readonly stream?: string } = {}): Promise<VerifyReport> {
    if (options.stream !== undefined) validateReadStream(options.stream);
    this.#query('verify', () => checkSqliteFile(this.#db, 'full', options.stream));
    return verifyChain(
      options.stream === undefined ? this.readAll() : this.readStream(options.stream),
    );
  }

  /**
   * How well group commit groups: committed transactions and the appends they carried (refused
   * ones included). For metrics; `appends / transactions` is the mean group size.
   */
  groupCommitStats(): { readonly transactions: number; readonly appends: number } {
    return this.#writer.stats();
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Writes what is queued, then closes; later calls refuse with StoreUnavailableError. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#writer.flush();
    this.#closed = true;
    this.#commits.notify();
    this.#db.close();
  }
}
