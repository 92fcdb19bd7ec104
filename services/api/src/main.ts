import { mkdir } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FsBlobStore } from '@ratsfach/blob-store/fs';
import { isRatsfachError, ValidationError } from '@ratsfach/domain';
import { openSqliteEventStoreInWorker } from '@ratsfach/event-store/sqlite';
import { openSqliteReadModelStore } from '@ratsfach/read-model/sqlite';
import { projectionLag, startProjectorWorker } from '@ratsfach/projector';
import { buildApp } from './buildApp.js';
import { loadConfig } from './config.js';
import { eventStoreCheck } from './eventStoreCheck.js';
import { lockDataDir } from './dataDirLock.js';
import { createLogger } from './logger.js';
import { openFileLimit } from './openFileLimit.js';
import { SqliteServiceState } from './state/sqliteServiceState.js';

const version = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

async function main(): Promise<void> {
  const config = loadConfig(process.env, process.cwd());
  const logger = createLogger({ level: config.logLevel, format: config.logFormat });
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

  const files = openFileLimit();
  logger.info(
    { openFiles: files, maxConnectionsPerAddress: config.maxConnectionsPerAddress },
    'open-file budget',
  );
  if (files.soft !== null && files.soft < 4096) {
    logger.warn(
      { openFiles: files },
      'the open-file soft limit is low: every connection and event stream needs one; raise it (ulimit -n)',
    );
  }

  // The embedded default: the event log in one SQLite file (its writer on a worker thread, so an
  // fsync never stalls the event loop) and blobs in a directory, both under the data directory.
  const eventStore = await openSqliteEventStoreInWorker({
    path: join(config.dataDir, 'events.sqlite'),
  });
  const blobStore = await FsBlobStore.open({ root: join(config.dataDir, 'blobs') });
  // Empties blobs/.tmp and sweeps sessions: only safe while this process holds the data
  // directory's exclusive lock (taken above by lockDataDir).
  await blobStore.recover();
  // Written by the projector; the API reads device standing, memberships and feeds from it.
  // Enrolment codes and the directory: the service's own state, outside the log.
  const serviceState = SqliteServiceState.open(join(config.dataDir, 'service-state.sqlite'));
  const readModelPath = join(config.dataDir, 'read-model.sqlite');
  const readModel = await openSqliteReadModelStore({ path: readModelPath });
  // The projector feeds the read models from the log on a thread of its own, with its own
  // connections to both files, so its disk work never stalls this event loop; it restarts
  // itself after a failure.
  // Each batch the projector applies tells the live-push notifier at once (it polls the
  // checkpoint too, so nothing is lost before the app exists or if a report goes astray).
  let projected: (checkpoint: bigint | null) => void = () => undefined;
  const projector = startProjectorWorker({
    eventStorePath: join(config.dataDir, 'events.sqlite'),
    readModelPath,
    logger: logger.child({ component: 'projector' }),
    onStatus: (status) => projected(status.checkpoint),
  });

  const app = await buildApp(
    {
      logger,
      stores: { eventStore, blobStore },
      readModel,
      serviceState,
      readiness: {
        maxLag: config.readyMaxLag,
        projection: async () => {
          const lag = await projectionLag(eventStore, readModel);
          return {
            checkpoint: lag.checkpoint === null ? null : lag.checkpoint.toString(),
            pending: lag.pending,
            atLeast: lag.atLeast,
            restarts: projector.restarts(),
          };
        },
      },
      checks: [
        eventStoreCheck(eventStore),
        {
          name: 'readModel',
          check: async () => {
            await readModel.checkpoint();
          },
        },
        {
          name: 'blobStore',
          // Any well-formed key will do: the check is that the store answers, not what it holds.
          check: async () => {
            await blobStore.head({ tenant: 'health', kind: 'keyslot', hash: '0'.repeat(128) });
          },
        },
      ],
    },
    {
      version,
      bodyLimit: config.bodyLimit,
      trustedProxies: config.trustedProxies,
      timeouts: {
        headersMs: config.headersTimeoutMs,
        requestMs: config.requestTimeoutMs,
        idleMs: config.idleTimeoutMs,
        keepAliveMs: config.keepAliveTimeoutMs,
      },
      maxConnectionsPerAddress: config.maxConnectionsPerAddress,
      bootstrapToken: config.bootstrapToken,
    },
  );
  const { feedNotifier } = app;
  if (feedNotifier) {
    projected = (checkpoint) => {
      feedNotifier
        .advance(checkpoint)
        .catch((error: unknown) => logger.warn({ err: error }, 'push notifier pass failed'));
    };
  }

  const shutdown = async (signal: string): Promise<void> => {
    logger.info({ signal }, 'shutting down');
    await app.close();
    await projector.stop();
    await eventStore.close();
    await blobStore.close();
    await readModel.close();
    await serviceState.close();
    lock.release();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));

  const address = await app.listen({ host: config.host, port: config.port });
  logger.info({ address, dataDir: config.dataDir }, 'ratsfach is listening');
  process.stdout.write(`ratsfach ${version} listening on ${address} (data in ${config.dataDir})\n`);
}

main().catch((error: unknown) => {
  const hint = isRatsfachError(error) && error.hint ? `\nhint: ${error.hint}` : '';
  process.stderr.write(
    `ratsfach failed to start: ${error instanceof Error ? error.message : String(error)}${hint}\n`,
  );
  process.exit(1);
});
