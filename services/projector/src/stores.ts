import type { EventStore } from '@ratsfach/event-store';
import type { ReadModelStore } from '@ratsfach/read-model';
import type { ProjectorConfig } from './config.js';

/** Opens the log and the read models the configuration names (each backend loaded on demand). */
export async function openStores(
  config: ProjectorConfig,
): Promise<{ eventStore: EventStore; readModel: ReadModelStore }> {
  const connection = { connectionString: config.databaseUrl ?? '' };
  const eventStore =
    config.eventStore === 'postgres'
      ? await (
          await import('@ratsfach/event-store/postgres')
        ).openPostgresEventStore({ connection, schema: config.eventStoreSchema })
      : await (
          await import('@ratsfach/event-store/sqlite')
        ).openSqliteEventStore({ path: config.eventStorePath });
  try {
    const readModel =
      config.readModel === 'postgres'
        ? await (
            await import('@ratsfach/read-model/postgres')
          ).openPostgresReadModelStore({ connection, schema: config.readModelSchema })
        : await (
            await import('@ratsfach/read-model/sqlite')
          ).openSqliteReadModelStore({ path: config.readModelPath });
    return { eventStore, readModel };
  } catch (error) {
    await eventStore.close();
    throw error;
  }
}
