import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { buildApp, type AppDeps, type AppOptions } from '../../src/buildApp.js';
import { createLogger } from '../../src/logger.js';

/** A logger that writes JSON lines into an array, for tests that read the log. */
export function capturingLogger(level = 'trace') {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { logger: createLogger({ level, format: 'json', destination: sink }), lines };
}

/** An app with a silent logger and no stores, closed when the test ends. */
export async function buildTestApp(
  t: { teardown(fn: () => unknown): void },
  deps: Partial<AppDeps> = {},
  options: Partial<AppOptions> = {},
): Promise<FastifyInstance> {
  const app = await buildApp(
    { logger: createLogger({ level: 'silent', format: 'json' }), checks: [], ...deps },
    { version: '1', ...options },
  );
  t.teardown(() => app.close());
  return app;
}
