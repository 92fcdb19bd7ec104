import type { EventStore } from '@ratsfach/event-store';
import type { ProjectedEvent, ReadModelStore } from '@ratsfach/read-model';
import type { Logger } from 'pino';
import { toProjectedEvent } from './toProjectedEvent.js';

export interface RebuildOptions {
  readonly eventStore: EventStore;
  readonly readModel: ReadModelStore;
  readonly logger?: Logger;
  /** Events per read-model transaction. Default 5,000. */
  readonly batchSize?: number;
  readonly signal?: AbortSignal;
}

/**
 * Drops every read model and replays the whole log into them. A projector running on the same
 * read model meanwhile is refused with RATSFACH_READ_MODEL_CHECKPOINT_MOVED at its next batch
 * and restarts from the rebuilt checkpoint. Returns the number of events replayed.
 */
export async function rebuild(options: RebuildOptions): Promise<number> {
  const { eventStore, readModel, logger } = options;
  const batchSize = options.batchSize ?? 5000;
  await readModel.reset();
  logger?.info('read models dropped; replaying the log');
  let batch: ProjectedEvent[] = [];
  let count = 0;
  const flush = async (): Promise<void> => {
    const last = batch.at(-1);
    if (last === undefined) return;
    await readModel.apply(batch, last.position);
    count += batch.length;
    batch = [];
  };
  for await (const recorded of eventStore.readAll()) {
    options.signal?.throwIfAborted();
    batch.push(toProjectedEvent(recorded));
    if (batch.length >= batchSize) await flush();
  }
  await flush();
  logger?.info({ events: count }, 'rebuild done');
  return count;
}
