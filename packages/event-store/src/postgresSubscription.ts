import type pg from 'pg';
import type { RecordedEvent, Subscription } from './eventStore.js';
import { toPostgresStoreError } from './postgresErrors.js';
import type { PostgresNotifier } from './postgresNotifier.js';
import { postgresEventColumns, toRecordedEvent, type PostgresEventRow } from './postgresRows.js';
import type { PostgresNames } from './postgresSchema.js';

export interface PostgresSubscriptionOptions {
  readonly after: bigint;
  readonly pageSize: number;
  readonly pollIntervalMs: number;
  readonly signal?: AbortSignal;
  /** Called once when the subscription closes, so the store can forget it. */
  readonly onClose?: () => void;
}

/**
 * Rows that are safe to hand out: only those whose transaction is older than the oldest
 * transaction still running. Every transaction still running (or not yet started) gets its
 * positions above all of them (see `append_batch`), so no later read can find a position below
 * one already delivered. The price: an unrelated long transaction on the same server holds the
 * subscription back until it ends.
 */
export const settledPageSql = (names: PostgresNames): string =>
  `SELECT ${postgresEventColumns} FROM ${names.events}
    WHERE global_position > $1 AND xid < pg_snapshot_xmin(pg_current_snapshot())
    ORDER BY global_position LIMIT $2`;

/**
 * Catch-up and live in one loop: read a page of settled rows after the checkpoint; when the
 * page comes back short, wait for a NOTIFY (or the polling interval) and read again. It reads
 * the next page only when the consumer has taken the last event of the previous one, so a slow
 * consumer holds at most one page in memory.
 */
export class PostgresSubscription implements Subscription {
  readonly #pool: pg.Pool;
  readonly #notifier: PostgresNotifier;
  readonly #sql: string;
  readonly #options: PostgresSubscriptionOptions;
  readonly #closer = new AbortController();
  #buffer: RecordedEvent[] = [];
  #started = false;

  constructor(
    pool: pg.Pool,
    names: PostgresNames,
    notifier: PostgresNotifier,
    options: PostgresSubscriptionOptions,
  ) {
    this.#pool = pool;
    this.#notifier = notifier;
    this.#sql = settledPageSql(names);
    this.#options = options;
    this.#closer.signal.addEventListener('abort', () => options.onClose?.(), { once: true });
    options.signal?.addEventListener('abort', () => this.#closer.abort(), { once: true });
    if (options.signal?.aborted === true) this.#closer.abort();
  }

  bufferedCount(): number {
    return this.#buffer.length;
  }

  async close(): Promise<void> {
    if (!this.#closer.signal.aborted) this.#closer.abort();
    this.#buffer = [];
  }

  [Symbol.asyncIterator](): AsyncIterator<RecordedEvent> {
    if (this.#started) throw new TypeError('a subscription can be iterated only once');
    this.#started = true;
    return this.#iterate();
  }

  async *#iterate(): AsyncGenerator<RecordedEvent> {
    const closed = this.#closer.signal;
    let after = this.#options.after;
    try {
      while (!closed.aborted) {
        await this.#notifier.ensureListening();
        const generation = this.#notifier.generation;
        let rows: PostgresEventRow[];
        try {
          ({ rows } = await this.#pool.query<PostgresEventRow>(this.#sql, [
            after,
            this.#options.pageSize,
          ]));
        } catch (error) {
          throw toPostgresStoreError(error, 'reading the log for a subscription');
        }
        this.#buffer = rows.map(toRecordedEvent);
        while (this.#buffer.length > 0 && !closed.aborted) {
          const event = this.#buffer.shift() as RecordedEvent;
          after = event.globalPosition;
          yield event;
        }
        if (rows.length < this.#options.pageSize && !closed.aborted) {
          await this.#notifier.wait(generation, this.#options.pollIntervalMs, closed);
        }
      }
    } finally {
      this.#buffer = [];
    }
  }
}
