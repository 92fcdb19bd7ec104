import {
  EventStoreErrorCode,
  StoreIntegrityError,
  StoreUnavailableError,
  type EventStore,
} from '@ratsfach/event-store';
import type { HealthCheck } from './routes/health/index.js';

/** What the SQLite stores report of themselves (`health()` on both the in-process and the writer-thread store). */
interface ReportsHealth {
  health(): { readonly healthy: boolean; readonly code?: string; readonly message?: string };
}

const reportsHealth = (store: object): store is ReportsHealth =>
  typeof (store as Partial<ReportsHealth>).health === 'function';

/**
 * The event store's /healthz check. Reading one event is not enough: when the SQLite writer thread
 * has died, reads still answer from their own connection while every append fails, so a store that
 * reports its own health is asked first and a dead writer or a damaged file fails the check.
 */
export const eventStoreCheck = (store: EventStore): HealthCheck => ({
  name: 'eventStore',
  check: async () => {
    if (reportsHealth(store)) {
      const health = store.health();
      if (!health.healthy) {
        const message = health.message ?? 'the event store reports itself unhealthy';
        throw health.code === EventStoreErrorCode.integrity
          ? new StoreIntegrityError(message)
          : new StoreUnavailableError(message);
      }
    }
    for await (const _ of store.readAll({ maxCount: 1 })) break;
  },
});
