import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { BlobStore } from '@ratsfach/blob-store';
import { ValidationError } from '@ratsfach/domain';
import type { EventStore } from '@ratsfach/event-store';
import type { ReadModelStore } from '@ratsfach/read-model';
import type { LoginChallengeStore } from './auth/loginChallenges.js';
import type { TokenStore } from './auth/tokenStore.js';
import type { ApiConfig } from './config.js';
import type { ServiceState } from './state/serviceState.js';

/** Everything the API keeps its data in, opened for one mode; `close` releases all of it. */
export interface Backends {
  readonly eventStore: EventStore;
  readonly blobStore: BlobStore;
  readonly readModel: ReadModelStore;
  readonly serviceState: ServiceState;
  /** Scale-out: shared by every API process. Absent: in this process's memory. */
  readonly tokens?: TokenStore;
  readonly challenges?: LoginChallengeStore;
  /**
   * Starts telling `onCheckpoint` the read models' checkpoint each time the projector commits:
   * embedded from the projector worker this process runs, scale-out from PostgreSQL
   * LISTEN/NOTIFY (the projector is another process).
   */
  follow(onCheckpoint: (checkpoint: bigint) => void): void;
  /** Projector restarts (embedded; scale-out: 0, the projector process restarts itself). */
  restarts(): number;
  close(): Promise<void>;
}

/** Opens the stores the configuration's mode names (each backend loaded on demand). */
export async function openBackends(config: ApiConfig, logger: Logger): Promise<Backends> {
  return config.mode === 'scale-out' ? openScaleOut(config, logger) : openEmbedded(config, logger);
}

async function openEmbedded(config: ApiConfig, logger: Logger): Promise<Backends> {
  const [{ FsBlobStore }, { openSqliteEventStoreInWorker }, { openSqliteReadModelStore }] =
    await Promise.all([
      import('@ratsfach/blob-store/fs'),
      import('@ratsfach/event-store/sqlite'),
      import('@ratsfach/read-model/sqlite'),
    ]);
  const { startProjectorWorker } = await import('@ratsfach/projector');
  const { lockDataDir } = await import('./dataDirLock.js');
  const { SqliteServiceState } = await import('./state/sqliteServiceState.js');
  await mkdir(config.dataDir, { recursive: true }).catch((error: unknown) => {
    throw new ValidationError(
      'RATSFACH_DATA_DIR_UNUSABLE',
      `cannot use ${config.dataDir} as the data directory: ${(error as Error).message}`,
      { hint: 'set RATSFACH_DATA_DIR to a directory this user may create and write', cause: error },
    );
  });
  // Before anything touches the directory: a second process must not empty the first one's
  // blobs/.tmp or open its SQLite files.
  const lock = lockDataDir(config.dataDir);
  // The event log in one SQLite file (its writer on a worker thread, so an fsync never stalls
  // the event loop) and blobs in a directory, both under the data directory.
  const eventStore = await openSqliteEventStoreInWorker({
    path: join(config.dataDir, 'events.sqlite'),
  });
  const blobStore = await FsBlobStore.open({ root: join(config.dataDir, 'blobs') });
  // Empties blobs/.tmp and sweeps sessions: only safe while this process holds the data
  // directory's exclusive lock (taken above by lockDataDir).
  await blobStore.recover();
  // Enrolment codes and the directory: the service's own state, outside the log.
  const serviceState = SqliteServiceState.open(join(config.dataDir, 'service-state.sqlite'));
  // Written by the projector; the API reads device standing, memberships and feeds from it.
  const readModelPath = join(config.dataDir, 'read-model.sqlite');
  const readModel = await openSqliteReadModelStore({ path: readModelPath });
  // The projector feeds the read models from the log on a thread of its own, with its own
  // connections to both files, so its disk work never stalls this event loop; it restarts
  // itself after a failure. Each batch it applies is reported at once (live push).
  let report: (checkpoint: bigint) => void = () => undefined;
  const projector = startProjectorWorker({
    eventStorePath: join(config.dataDir, 'events.sqlite'),
    readModelPath,
    logger: logger.child({ component: 'projector' }),
    onStatus: (status) => {
      if (status.checkpoint !== null) report(status.checkpoint);
    },
  });
  return {
    eventStore,
    blobStore,
    readModel,
    serviceState,
    follow: (onCheckpoint) => {
      report = onCheckpoint;
    },
    restarts: () => projector.restarts(),
    close: async () => {
      await projector.stop();
      await eventStore.close();
      await blobStore.close();
      await readModel.close();
      await serviceState.close();
      lock.release();
    },
  };
}

async function openScaleOut(config: ApiConfig, logger: Logger): Promise<Backends> {
  const database = config.database!;
  const s3 = config.s3!;
  const [{ S3BlobStore }, { openPostgresEventStore }, readModels, { PostgresServiceState }] =
    await Promise.all([
      import('@ratsfach/blob-store/s3'),
      import('@ratsfach/event-store/postgres'),
      import('@ratsfach/read-model/postgres'),
      import('./state/postgresServiceState.js'),
    ]);
  const connection = { connectionString: database.url };
  const opened: { close(): Promise<void> }[] = [];
  try {
    const eventStore = await openPostgresEventStore({
      connection: { ...connection, max: 12 },
      schema: database.eventStoreSchema,
    });
    opened.push(eventStore);
    const blobStore = await S3BlobStore.open(s3);
    opened.push(blobStore);
    const readModel = await readModels.openPostgresReadModelStore({
      connection,
      schema: database.readModelSchema,
    });
    opened.push(readModel);
    const serviceState = await PostgresServiceState.open({
      connection,
      schema: database.serviceStateSchema,
    });
    opened.push(serviceState);
    let listener: { close(): Promise<void> } | null = null;
    return {
      eventStore,
      blobStore,
      readModel,
      serviceState,
      tokens: serviceState,
      challenges: serviceState,
      follow: (onCheckpoint) => {
        listener = new readModels.PostgresCheckpointListener({
          // Named, so an operator can tell it apart in pg_stat_activity.
          connection: { ...connection, application_name: 'ratsfach-api-push' },
          schema: database.readModelSchema,
          onCheckpoint,
          onError: (error) =>
            logger.warn({ err: error }, 'read-model LISTEN connection failed; reconnecting'),
        });
      },
      restarts: () => 0,
      close: async () => {
        await listener?.close();
        for (const store of opened.reverse()) await store.close();
      },
    };
  } catch (error) {
    for (const store of opened.reverse()) await store.close().catch(() => undefined);
    throw error;
  }
}
