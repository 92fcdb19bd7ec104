import { readFileSync } from 'node:fs';
import { isRatsfachError } from '@ratsfach/domain';
import { projectionLag } from '@ratsfach/projector';
import { buildApp } from './buildApp.js';
import { loadConfig } from './config.js';
import { eventStoreCheck } from './eventStoreCheck.js';
import { createLogger } from './logger.js';
import { openBackends } from './openBackends.js';
import { openFileLimit } from './openFileLimit.js';

const version = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

async function main(): Promise<void> {
  const config = loadConfig(process.env, process.cwd());
  const logger = createLogger({ level: config.logLevel, format: config.logFormat });

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

  // Embedded: everything under the data directory, the projector on a worker thread.
  // Scale-out: PostgreSQL and S3, the projector a process of its own (openBackends.ts).
  const backends = await openBackends(config, logger);
  const { eventStore, blobStore, readModel, serviceState } = backends;

  const app = await buildApp(
    {
      logger,
      stores: { eventStore, blobStore },
      readModel,
      serviceState,
      ...(backends.tokens ? { tokens: backends.tokens } : {}),
      ...(backends.challenges ? { challenges: backends.challenges } : {}),
      readiness: {
        maxLag: config.readyMaxLag,
        projection: async () => {
          const lag = await projectionLag(eventStore, readModel);
          return {
            checkpoint: lag.checkpoint === null ? null : lag.checkpoint.toString(),
            pending: lag.pending,
            atLeast: lag.atLeast,
            restarts: backends.restarts(),
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
      loadShedding: {
        maxEventLoopDelayMs: config.maxEventLoopDelayMs,
        maxEventLoopUtilization: config.maxEventLoopUtilization,
      },
    },
  );
  // Each batch the projector commits tells the live-push notifier at once (embedded from the
  // worker, scale-out through PostgreSQL LISTEN/NOTIFY); the notifier then stops polling.
  const { feedNotifier } = app;
  if (feedNotifier) {
    backends.follow((checkpoint) => {
      feedNotifier
        .advance(checkpoint)
        .catch((error: unknown) => logger.warn({ err: error }, 'push notifier pass failed'));
    });
  }

  const shutdown = async (signal: string): Promise<void> => {
    logger.info({ signal }, 'shutting down');
    await app.close();
    await backends.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));

  const address = await app.listen({ host: config.host, port: config.port });
  const where = config.mode === 'embedded' ? `data in ${config.dataDir}` : 'scale-out';
  logger.info({ address, mode: config.mode, dataDir: config.dataDir }, 'ratsfach is listening');
  process.stdout.write(`ratsfach ${version} listening on ${address} (${where})\n`);
}

main().catch((error: unknown) => {
  const hint = isRatsfachError(error) && error.hint ? `\nhint: ${error.hint}` : '';
  process.stderr.write(
    `ratsfach failed to start: ${error instanceof Error ? error.message : String(error)}${hint}\n`,
  );
  process.exit(1);
});
