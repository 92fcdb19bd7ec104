/**
 * The projector as a process of its own (scale-out: one active projector per read model).
 *   node main.js [run|rebuild|lag]   (default run; configuration from the environment)
 */
import { mkdir } from 'node:fs/promises';
import { pino } from 'pino';
import { isRatsfachError } from '@ratsfach/domain';
import { loadProjectorConfig } from './config.js';
import { openStores } from './stores.js';
import { runProjector } from './runProjector.js';
import { rebuild } from './rebuild.js';
import { projectionLag } from './lag.js';

async function main(command: string): Promise<void> {
  const config = loadProjectorConfig(process.env, process.cwd());
  const logger = pino({ level: config.logLevel, name: 'projector' });
  if (config.eventStore === 'sqlite' || config.readModel === 'sqlite') {
    await mkdir(config.dataDir, { recursive: true });
  }
  const { eventStore, readModel } = await openStores(config);
  const controller = new AbortController();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => controller.abort());
  }
  try {
    switch (command) {
      case 'run': {
        // A failed run (an outage, a conflict after a rebuild) starts again from the checkpoint.
        let delay = 500;
        while (!controller.signal.aborted) {
          try {
            await runProjector({
              eventStore,
              readModel,
              logger,
              batchSize: config.batchSize,
              signal: controller.signal,
              onStatus: () => (delay = 500),
            });
          } catch (error) {
            if (
              !isRatsfachError(error) ||
              error.kind === 'validation' ||
              error.kind === 'integrity'
            ) {
              throw error;
            }
            logger.warn({ err: error, retryInMs: delay }, 'projector run failed; retrying');
            await new Promise((resolve) => setTimeout(resolve, delay));
            delay = Math.min(delay * 2, 30_000);
          }
        }
        return;
      }
      case 'rebuild': {
        const count = await rebuild({ eventStore, readModel, logger, signal: controller.signal });
        logger.info({ events: count }, 'rebuilt');
        return;
      }
      case 'lag': {
        const lag = await projectionLag(eventStore, readModel);
        process.stdout.write(
          `${JSON.stringify({ checkpoint: lag.checkpoint?.toString() ?? null, pending: lag.pending, atLeast: lag.atLeast })}\n`,
        );
        return;
      }
      default:
        throw new Error(`unknown command ${command}: use run, rebuild or lag`);
    }
  } finally {
    await readModel.close();
    await eventStore.close();
  }
}

main(process.argv[2] ?? 'run').catch((error: unknown) => {
  const e = error as { code?: string; message?: string; hint?: string };
  process.stderr.write(
    `projector: ${e.code ?? 'error'}: ${e.message ?? String(error)}${e.hint ? `\n  hint: ${e.hint}` : ''}\n`,
  );
  process.exitCode = 1;
});
