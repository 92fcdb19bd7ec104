import { mkdir, access, constants } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { isRatsfachError } from '@ratsfach/domain';
import { buildApp } from './buildApp.js';
import { loadConfig } from './config.js';
import { createLogger } from './logger.js';

const version = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

async function main(): Promise<void> {
  const config = loadConfig(process.env, process.cwd());
  const logger = createLogger(config.logLevel);
  await mkdir(config.dataDir, { recursive: true });

  const app = await buildApp(
    {
      logger,
      checks: [{ name: 'dataDir', check: () => access(config.dataDir, constants.W_OK) }],
    },
    { version },
  );

  const shutdown = async (signal: string): Promise<void> => {
    logger.info({ signal }, 'shutting down');
    await app.close();
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
