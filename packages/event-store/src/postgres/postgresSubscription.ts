import type pg from 'pg';
import { PagedSubscription } from '../shared/pagedSubscription.js';
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
 * The shared PagedSubscription over settled pages: read settled rows after the checkpoint; when
 * a page comes back short (or stops at an unsettled row), wait for a NOTIFY (or the polling
 * interval) and read again.
 */
export class PostgresSubscription extends PagedSubscription<number> {
  constructor(
    pool: pg.Pool,
    names: PostgresNames,
    notifier: PostgresNotifier,
    options: PostgresSubscriptionOptions,
  ) {
    const sql = settledPageSql(names);
    super(
      {
        // The generation is read once the LISTEN is in place, so no NOTIFY after it is missed.
        mark: async () => {
          await notifier.ensureListening();
          return notifier.generation;
        },
        readPage: async (after, limit) => {
          let rows: SettledRow[];
          try {
            ({ rows } = await pool.query<SettledRow>(sql, [after ?? 0n, limit]));
          } catch (error) {
            throw toPostgresStoreError(error, 'reading the log for a subscription');
          }
          const unsettled = rows.findIndex((row) => !row.settled);
          const events = (unsettled === -1 ? rows : rows.slice(0, unsettled)).map(toRecordedEvent);
          return {
            events,
            next: events[events.length - 1]?.globalPosition ?? after,
            caughtUp: rows.length < limit || unsettled !== -1,
          };
        },
        waitForMore: (generation, _after, signal) =>
          notifier.wait(generation, options.pollIntervalMs, signal),
        close: () => options.onClose?.(),
      },
      { after: options.after, pageSize: options.pageSize, signal: options.signal },
    );
  }
}
