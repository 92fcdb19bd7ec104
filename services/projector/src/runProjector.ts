import type { EventStore, RecordedEvent } from '@ratsfach/event-store';
import type { ProjectedEvent, ReadModelStore } from '@ratsfach/read-model';
import type { Logger } from 'pino';
import { toProjectedEvent } from './toProjectedEvent.js';

/** What a running projector reports after every batch (the API's /readyz reads it). */
export interface ProjectorStatus {
  /** The last log position applied, or null before the first batch. */
  readonly checkpoint: bigint | null;
  /** True when the last batch was flushed because the log had nothing more: caught up. */
  readonly caughtUp: boolean;
  /** Events applied since this projector started. */
  readonly applied: number;
  /** Wall-clock time of the last batch (ms since the epoch), or null. */
  readonly lastBatchAt: number | null;
}

export interface ProjectorOptions {
  readonly eventStore: EventStore;
  readonly readModel: ReadModelStore;
  /** A pino child of the service's logger; the projector creates none. */
  readonly logger?: Logger;
  /** Most events per batch (one read-model transaction). Default 1,000. */
  readonly batchSize?: number;
  /**
   * When the log has nothing more to give, a partly filled batch is applied after this long
   * (ms), so live changes reach the read models quickly. Default 20.
   */
  readonly flushDelayMs?: number;
  /** Events the subscription fetches ahead (one page of the store). Default the batch size. */
  readonly pageSize?: number;
  readonly signal?: AbortSignal;
  /** Called after every applied batch. */
  readonly onStatus?: (status: ProjectorStatus) => void;
}

const idle = Symbol('idle');

/**
 * Runs the projector until `signal` aborts: subscribes to the whole log after the read
 * model's stored checkpoint, groups events into batches and applies each with its checkpoint
 * in one transaction (`ReadModelStore.apply`). A crash at any point loses nothing: the next run
 * starts again from the checkpoint that committed with the last batch.
 *
 * Throws what the stores throw (a conflict with another projector, an event this code cannot
 * read, an outage); the caller (the worker supervisor, `main`) restarts it.
 */
export async function runProjector(options: ProjectorOptions): Promise<ProjectorStatus> {
  const { eventStore, readModel, logger, signal } = options;
  const batchSize = options.batchSize ?? 1000;
  const flushDelayMs = options.flushDelayMs ?? 20;
  let checkpoint = await readModel.checkpoint();
  let status: ProjectorStatus = { checkpoint, caughtUp: false, applied: 0, lastBatchAt: null };
  logger?.info({ checkpoint: checkpoint?.toString() ?? null }, 'projector starting');
  const subscription = eventStore.subscribeToAll({
    ...(checkpoint === null ? {} : { after: checkpoint }),
    pageSize: options.pageSize ?? batchSize,
    ...(signal === undefined ? {} : { signal }),
  });
  const iterator = subscription[Symbol.asyncIterator]();
  let batch: ProjectedEvent[] = [];
  let pending: Promise<IteratorResult<RecordedEvent>> | null = null;
  let timer: NodeJS.Timeout | undefined;

  const flush = async (caughtUp: boolean): Promise<void> => {
    const last = batch.at(-1);
    if (last === undefined) return;
    await readModel.apply(batch, last.position);
    checkpoint = last.position;
    status = {
      checkpoint,
      caughtUp,
      applied: status.applied + batch.length,
      lastBatchAt: Date.now(),
    };
    logger?.debug({ checkpoint: checkpoint.toString(), events: batch.length }, 'batch applied');
    batch = [];
    options.onStatus?.(status);
  };

  const onAbort = (): void => void subscription.close();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    while (signal?.aborted !== true) {
      pending ??= iterator.next();
      let result: IteratorResult<RecordedEvent> | typeof idle;
      if (batch.length === 0) {
        result = await pending;
      } else {
        // Wait for more only briefly: a quiet log means the batch is as full as it gets.
        result = await Promise.race([
          pending,
          new Promise<typeof idle>(
            (resolve) => (timer = setTimeout(() => resolve(idle), flushDelayMs)),
          ),
        ]);
        clearTimeout(timer);
      }
      if (result === idle) {
        await flush(true);
        continue;
      }
      pending = null;
      if (result.done === true) break;
      batch.push(toProjectedEvent(result.value));
      if (batch.length >= batchSize) await flush(false);
    }
    // Stopping: what was read is applied, so a restart need not read it again.
    if (signal?.aborted !== true) await flush(false);
    else await flush(false).catch(() => undefined);
  } catch (error) {
    if (signal?.aborted === true && isAbort(error)) return status;
    throw error;
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
    await subscription.close();
  }
  logger?.info({ checkpoint: checkpoint?.toString() ?? null }, 'projector stopped');
  return status;
}

const isAbort = (error: unknown): boolean =>
  error instanceof Error && (error.name === 'AbortError' || /abort/i.test(error.message));
