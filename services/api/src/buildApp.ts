import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Logger } from 'pino';
import { errorHandler } from './errorHandler.js';
import { healthRoutes, type HealthCheck } from './routes/health.js';

/** What the app needs from the outside; built by `main.ts`, or by a test. */
export interface AppDeps {
  readonly logger: Logger;
  readonly checks: readonly HealthCheck[];
}

export interface AppOptions {
  readonly version: string;
  /** Largest accepted JSON body, in bytes. */
  readonly bodyLimit?: number;
}

/** Builds the API without listening; tests drive it with `app.inject()`. */
export async function buildApp(deps: AppDeps, options: AppOptions): Promise<FastifyInstance> {
  const serverOptions: FastifyServerOptions = {
    loggerInstance: deps.logger,
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    // Fastify's defaults strip unknown properties and coerce types silently; input from devices
    // is refused instead (params and query strings are declared as strings and parsed).
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false } },
  };
  const app = Fastify(serverOptions);
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({
      error: {
        code: 'RATSFACH_ROUTE_NOT_FOUND',
        message: `no route ${request.method} ${request.url.split('?')[0]}`,
        hint: 'see the API reference in the README',
      },
    }),
  );
  await app.register(healthRoutes, { checks: deps.checks, version: options.version });
  return app;
}
