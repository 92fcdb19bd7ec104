import type { EventStore } from '@ratsfach/event-store';
import type { ReadModelStore } from '@ratsfach/read-model';

/** How far the read models trail the log (for the API's `/readyz`). */
export interface ProjectionLag {
  /** The read models' checkpoint (null: nothing applied yet). */
  readonly checkpoint: bigint | null;
  /** Events in the log after the checkpoint, counted up to `limit`. */
  readonly pending: number;
  /** True when there are at least `limit` pending events (the count stopped there). */
  readonly atLeast: boolean;
}

/**
 * Counts the events after the read models' checkpoint, reading at most `limit` of them
 * (default 10,000), so the check stays cheap however far behind a projector is.
 */
export async function projectionLag(
  eventStore: EventStore,
  readModel: ReadModelStore,
  limit = 10_000,
): Promise<ProjectionLag> {
  const checkpoint = await readModel.checkpoint();
  let pending = 0;
  for await (const _event of eventStore.readAll({
    ...(checkpoint === null ? {} : { after: checkpoint }),
    maxCount: limit,
  })) {
    pending++;
  }
  return { checkpoint, pending, atLeast: pending >= limit };
}
