import type pg from 'pg';
import type { RecordedEvent, Subscription } from '../eventStore.js';
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
 * A page after the checkpoint, each row flagged `settled` when its transaction is older than
 * the oldest transaction still running. Every transaction still running (or not yet started)
 * gets its positions above those of every settled one (see `append_batch`), so the reader hands
 * out rows only up to the first unsettled one and never passes a position that may still
 * commit below it. Cutting at the first unsettled row (rather than filtering in SQL) keeps the
 * read a bounded index range scan even with a large backlog behind a slow transaction. The
 * price: an unrelated long transaction on the same server holds subscriptions back until it
 * ends.
 */
export const settledPageSql = (names: PostgresNames): string =>
  `SELECT ${postgresEventColumns}, xid < pg_snapshot_xmin(pg_current_snapshot()) AS settled
     FROM ${names.events}
    WHERE global_position > $1
    ORDER BY global_position LIMIT $2`;

type SettledRow = PostgresEventRow & { readonly settled: boolean };

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
        let rows: SettledRow[];
        try {
          ({ rows } = await this.#pool.query<SettledRow>(this.#sql, [
            after,
            this.#options.pageSize,
          ]));
        } catch (error) {
          throw toPostgresStoreError(error, 'reading the log for a subscription');
        }
        const unsettled = rows.findIndex((row) => !row.settled);
        const settled = unsettled === -1 ? rows : rows.slice(0, unsettled);
        this.#buffer = settled.map(toRecordedEvent);
        while (this.#buffer.length > 0 && !closed.aborted) {
          const event = this.#buffer.shift() as RecordedEvent;
          after = event.globalPosition;
          yield event;
        }
        if ((rows.length < this.#options.pageSize || unsettled !== -1) && !closed.aborted) {
          await this.#notifier.wait(generation, this.#options.pollIntervalMs, closed);
        }
      }
    } finally {
      // A consumer that breaks out or throws ends the subscription: the store must forget it.
      await this.close();
    }
  }
}
