import pg from 'pg';
import { ValidationError } from '@ratsfach/kernel';
import { validateAppend, validateReadAll, validateReadStream } from '../shared/appendValidation.js';
import { verifyChain } from '../shared/chainVerifier.js';
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
import type { ExpectedRevision } from '../expectedRevision.js';
import { toPostgresStoreError } from './postgresErrors.js';
import { PostgresGroupCommit, type PostgresGroupCommitOptions } from './postgresGroupCommit.js';
import { PostgresNotifier } from './postgresNotifier.js';
import { postgresEventColumns, toRecordedEvent, type PostgresEventRow } from './postgresRows.js';
import { postgresMigrationSql, postgresNames, type PostgresNames } from './postgresSchema.js';
import { PostgresSubscription } from './postgresSubscription.js';

export interface PostgresEventStoreOptions {
  /**
   * A pool the caller owns (it stays open after `close`), or the connection settings of a pool
   * the store creates and ends. The pool needs one connection per concurrent batch, one for
   * LISTEN, and some for reads: 10 or more. A caller's pool needs its own 'error' listener, as
   * every pg pool does, or an idle connection dropped by the server ends the process.
   */
  readonly connection: { readonly pool: pg.Pool } | pg.PoolConfig;
  /** Schema holding the store's table and function; created if missing. */
  readonly schema: string;
  readonly limits?: Partial<EventStoreLimits>;
  readonly groupCommit?: PostgresGroupCommitOptions;
  /** Events per read page, for reads, verify and subscriptions (default 1,000). */
  readonly pageSize?: number;
  /** How long a live subscription waits for a NOTIFY before it looks anyway (default 500 ms). */
  readonly pollIntervalMs?: number;
}

// Duck-typed: a pool from another copy of `pg` is still a pool.
const isPoolOption = (c: PostgresEventStoreOptions['connection']): c is { pool: pg.Pool } =>
  'pool' in c && typeof (c.pool as { connect?: unknown } | undefined)?.connect === 'function';

const checkPositive = (name: string, value: number | undefined): void => {
  if (value !== undefined && (!Number.isSafeInteger(value) || value < 1)) {
    throw new ValidationError(
      'RATSFACH_EVENT_STORE_PG_OPTIONS_INVALID',
      `PostgreSQL event store option ${name} is ${String(value)}, not a positive integer`,
      { hint: `pass a positive integer for ${name}, or leave it out for the default` },
    );
  }
};

/**
 * Opens the PostgreSQL event store: creates (or updates) its schema, idempotently, then returns
 * the store. Throws StoreUnavailableError when the database cannot be reached.
 */
export async function openPostgresEventStore(
  options: PostgresEventStoreOptions,
): Promise<PostgresEventStore> {
  const names = postgresNames(options.schema);
  checkPositive('pageSize', options.pageSize);
  checkPositive('pollIntervalMs', options.pollIntervalMs);
  checkPositive('groupCommit.maxBatchEvents', options.groupCommit?.maxBatchEvents);
  checkPositive('groupCommit.maxConcurrentBatches', options.groupCommit?.maxConcurrentBatches);
  checkPositive('groupCommit.headCacheSize', options.groupCommit?.headCacheSize);
  const notifyDelayMs = options.groupCommit?.notifyDelayMs;
  if (notifyDelayMs !== undefined && notifyDelayMs !== 0) {
    checkPositive('groupCommit.notifyDelayMs', notifyDelayMs);
  }
  const owned = !isPoolOption(options.connection);
  const pool = isPoolOption(options.connection)
    ? options.connection.pool
    : new pg.Pool({ max: 12, connectionTimeoutMillis: 10_000, ...options.connection });
  // An idle connection that the server drops emits 'error' on the pool; unhandled, that would
  // end the process. The next query reports the outage as StoreUnavailableError instead.
  if (owned) pool.on('error', () => undefined);
  try {
    await migrate(pool, names);
  } catch (error) {
    if (owned) await pool.end().catch(() => undefined);
    throw toPostgresStoreError(error, 'opening the store (schema migration)');
  }
  return new PostgresEventStore(pool, owned, names, options);
}

async function migrate(pool: pg.Pool, names: PostgresNames): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    // Stores opening at once on one database would race on the catalog otherwise.
    await client.query(`SELECT pg_advisory_xact_lock(hashtextextended('ratsfach.migrate', 0))`);
    await client.query(postgresMigrationSql(names));
    await client.query('COMMIT');
    client.release();
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    client.release(error instanceof Error ? error : true);
    throw error;
  }
}

/**
 * The event log on PostgreSQL (`pg`). Events are bytea, stored as the exact bytes hashed;
 * appends are group-committed (see PostgresGroupCommit); subscriptions never pass a position
 * whose transaction is still in flight (see PostgresSubscription).
 */
export class PostgresEventStore implements EventStore {
  readonly #pool: pg.Pool;
  readonly #ownsPool: boolean;
  readonly #names: PostgresNames;
  readonly #limits: EventStoreLimits;
  readonly #pageSize: number;
  readonly #pollIntervalMs: number;
  readonly #groupCommit: PostgresGroupCommit;
  readonly #notifier: PostgresNotifier;
  readonly #subscriptions = new Set<Subscription>();
  #closed = false;

  constructor(
    pool: pg.Pool,
    ownsPool: boolean,
    names: PostgresNames,
    options: PostgresEventStoreOptions,
  ) {
    this.#pool = pool;
    this.#ownsPool = ownsPool;
    this.#names = names;
    this.#limits = { ...defaultLimits, ...options.limits };
    this.#pageSize = options.pageSize ?? 1000;
    this.#pollIntervalMs = options.pollIntervalMs ?? 500;
    this.#groupCommit = new PostgresGroupCommit(pool, names, options.groupCommit);
    this.#notifier = new PostgresNotifier(pool, names.channel);
  }

  /** The schema this store lives in. */
  get schema(): string {
    return this.#names.schema;
  }

  #checkOpen(): void {
    if (this.#closed) {
      throw new StoreUnavailableError('the PostgreSQL event store is closed', {
        hint: 'open a new store; a closed one accepts no calls',
      });
    }
  }

  async append(
    stream: string,
    events: readonly NewEvent[],
    expected: ExpectedRevision,
    options: AppendOptions,
  ): Promise<AppendResult> {
    this.#checkOpen();
    const append = validateAppend(stream, events, expected, options, this.#limits);
    return this.#groupCommit.append(append);
  }

  async *readStream(stream: string, options: ReadStreamOptions = {}): AsyncIterable<RecordedEvent> {
    validateReadStream(stream, options);
    this.#checkOpen();
    const backwards = options.direction === 'backwards';
    let remaining = options.maxCount ?? Number.POSITIVE_INFINITY;
    // Inclusive bound, moved past each page.
    let from: bigint | null = options.fromRevision ?? null;
    while (remaining > 0) {
      const limit = Math.min(this.#pageSize, remaining);
      const rows = await this.#query<PostgresEventRow>(
        backwards
          ? `SELECT ${postgresEventColumns} FROM ${this.#names.events}
              WHERE stream = $1 AND ($2::bigint IS NULL OR revision <= $2)
              ORDER BY revision DESC LIMIT $3`
          : `SELECT ${postgresEventColumns} FROM ${this.#names.events}
              WHERE stream = $1 AND ($2::bigint IS NULL OR revision >= $2)
              ORDER BY revision LIMIT $3`,
        [stream, from, limit],
        'reading a stream',
      );
      for (const row of rows) yield toRecordedEvent(row);
      remaining -= rows.length;
      const last = rows[rows.length - 1];
      if (rows.length < limit || last === undefined) return;
      const revision = BigInt(last.revision);
      if (backwards && revision === 0n) return;
      from = backwards ? revision - 1n : revision + 1n;
    }
  }

  /**
   * The committed log in position order from `after`. A point-in-time read: a transaction still
   * in flight may later commit positions below the last one returned. Use `subscribeToAll` to
   * follow the log without gaps.
   */
  async *readAll(options: ReadAllOptions = {}): AsyncIterable<RecordedEvent> {
    validateReadAll(options);
    this.#checkOpen();
    let after = options.after ?? 0n;
    let remaining = options.maxCount ?? Number.POSITIVE_INFINITY;
    while (remaining > 0) {
      const limit = Math.min(this.#pageSize, remaining);
      const rows = await this.#query<PostgresEventRow>(
        `SELECT ${postgresEventColumns} FROM ${this.#names.events}
          WHERE global_position > $1 ORDER BY global_position LIMIT $2`,
        [after, limit],
        'reading the log',
      );
      for (const row of rows) yield toRecordedEvent(row);
      remaining -= rows.length;
      const last = rows[rows.length - 1];
      if (rows.length < limit || last === undefined) return;
      after = BigInt(last.global_position);
    }
  }

  subscribeToAll(options: SubscribeOptions = {}): Subscription {
    validateReadAll({ after: options.after });
    this.#checkOpen();
    const pageSize = options.pageSize ?? this.#pageSize;
    if (!Number.isSafeInteger(pageSize) || pageSize < 1) {
      validateReadAll({ maxCount: pageSize });
    }
    const subscription: PostgresSubscription = new PostgresSubscription(
      this.#pool,
      this.#names,
      this.#notifier,
      {
        after: options.after ?? 0n,
        pageSize,
        pollIntervalMs: this.#pollIntervalMs,
        onClose: () => this.#subscriptions.delete(subscription),
        ...(options.signal === undefined ? {} : { signal: options.signal }),
      },
    );
    this.#subscriptions.add(subscription);
    return subscription;
  }

  async streamHead(stream: string): Promise<StreamHead | null> {
    validateReadStream(stream);
    this.#checkOpen();
    const rows = await this.#query<{ revision: string; hash: Buffer }>(
      `SELECT revision, hash FROM ${this.#names.events}
        WHERE stream = $1 ORDER BY revision DESC LIMIT 1`,
      [stream],
      'reading a stream head',
    );
    const row = rows[0];
    return row === undefined ? null : { revision: BigInt(row.revision), hash: row.hash };
  }

  async verify(options: { readonly stream?: string } = {}): Promise<VerifyReport> {
    this.#checkOpen();
    return verifyChain(
      options.stream === undefined ? this.readAll() : this.readStream(options.stream),
    );
  }

  /**
   * How well group commit groups: committed batch transactions and the appends they carried
   * (refused ones included), as the SQLite store reports them.
   */
  groupCommitStats(): { readonly transactions: number; readonly appends: number } {
    return this.#groupCommit.stats();
  }

  /** Waits for appends in flight, stops subscriptions, and ends the pool if the store made it. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#groupCommit.drain();
    await this.#groupCommit.flushNotify();
    await Promise.all([...this.#subscriptions].map((s) => s.close()));
    await this.#notifier.close();
    if (this.#ownsPool) await this.#pool.end().catch(() => undefined);
  }

  async #query<Row extends pg.QueryResultRow>(
    sql: string,
    params: readonly unknown[],
    action: string,
  ): Promise<Row[]> {
    try {
      const result = await this.#pool.query<Row>(sql, params as unknown[]);
      return result.rows;
    } catch (error) {
      throw toPostgresStoreError(error, action);
    }
  }
}
