import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { FsBlobStore } from '@ratsfach/blob-store/fs';
import { openSqliteEventStore } from '@ratsfach/event-store/sqlite';
import type { EventStore } from '@ratsfach/event-store';
import { projectionLag, runProjector } from '@ratsfach/projector';
import { openSqliteReadModelStore } from '@ratsfach/read-model/sqlite';
import type { ReadModelStore } from '@ratsfach/read-model';
import type { AppOptions } from '../../src/buildApp.js';
import { SqliteServiceState } from '../../src/state/sqliteServiceState.js';
import { buildTestApp } from './buildTestApp.js';

export interface TestService {
  readonly app: FastifyInstance;
  readonly eventStore: EventStore;
  readonly readModel: ReadModelStore;
  readonly dataDir: string;
  /** Moves the service's clock (Unix ms). */
  setNow(ms: number): void;
  /** Resolves once the projector has applied every event in the log. */
  settle(): Promise<void>;
}

/**
 * The embedded service with real stores in a temporary directory (SQLite log, filesystem blobs,
 * SQLite read model and service state) and the real projector feeding the read model, run in
 * this thread so a test can wait for it (`settle`). Closed when the test ends.
 */
export async function startTestService(
  t: { teardown(fn: () => unknown): void },
  options: Partial<AppOptions> & { readonly now?: number } = {},
): Promise<TestService> {
  const dataDir = await mkdtemp(join(tmpdir(), 'ratsfach-ident-'));
  const eventStore = await openSqliteEventStore({ path: join(dataDir, 'events.sqlite') });
  const blobStore = await FsBlobStore.open({ root: join(dataDir, 'blobs') });
  const readModel = await openSqliteReadModelStore({ path: join(dataDir, 'read-model.sqlite') });
  const serviceState = SqliteServiceState.open(join(dataDir, 'service-state.sqlite'));
  let now = options.now ?? Date.now();
  const controller = new AbortController();
  const projector = runProjector({ eventStore, readModel, signal: controller.signal });
  const app = await buildTestApp(
    t,
    {
      stores: { eventStore, blobStore },
      readModel,
      serviceState,
      now: () => now,
      readiness: {
        maxLag: 0,
        projection: async () => {
          const lag = await projectionLag(eventStore, readModel);
          return {
            checkpoint: lag.checkpoint === null ? null : String(lag.checkpoint),
            pending: lag.pending,
            atLeast: lag.atLeast,
            restarts: 0,
          };
        },
      },
    },
    options,
  );
  t.teardown(async () => {
    await app.close();
    controller.abort();
    await projector.catch(() => undefined);
    await serviceState.close();
    await readModel.close();
    await blobStore.close();
    await eventStore.close();
    await rm(dataDir, { recursive: true, force: true });
  });
  return {
    app,
    eventStore,
    readModel,
    dataDir,
    setNow: (ms) => {
      now = ms;
    },
    settle: async () => {
      for (let i = 0; i < 500; i++) {
        if ((await projectionLag(eventStore, readModel)).pending === 0) return;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      throw new Error('the projector did not catch up within 5 s');
    },
  };
}
