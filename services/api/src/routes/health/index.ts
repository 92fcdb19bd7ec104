import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  getHealth,
  getReadiness,
  type HealthReply,
  type ProjectionReport,
} from '@ratsfach/api-contract';
import { ApiErrorCode } from '@ratsfach/api-contract';
import { isRatsfachError } from '@ratsfach/domain';
import { contractRoute } from '../contractRoute.js';

/** A part of the service whose health the route reports. */
export interface HealthCheck {
  readonly name: string;
  /** Resolves when the part works; rejects with the reason otherwise. */
  check(): Promise<void>;
}

/** Reads how far the read models trail the log. */
export interface Readiness {
  projection(): Promise<ProjectionReport>;
  /** Ready while `pending` is at most this. */
  readonly maxLag: number;
}

export interface HealthRouteOptions {
  readonly checks: readonly HealthCheck[];
  readonly version: string;
  /** Absent when the process projects nothing (tests of the HTTP layer): always ready. */
  readonly readiness?: Readiness;
}

/**
 * GET /healthz: 200 when every component answers, 503 otherwise. It is unauthenticated, so it
 * names a failing component's error code only, never its message, and says nothing of tenants.
 */
export const healthRoutes: FastifyPluginAsync<HealthRouteOptions> = async (app, options) => {
  app.withTypeProvider<TypeBoxTypeProvider>().route({
    ...contractRoute(getHealth),
    handler: async (request, reply) => {
      const components: HealthReply['components'] = {};
      await Promise.all(
        options.checks.map(async ({ name, check }) => {
          try {
            await check();
            components[name] = { status: 'ok' };
          } catch (error) {
            request.log.warn({ err: error, component: name }, 'health check failed');
            components[name] = {
              status: 'failing',
              code: isRatsfachError(error) ? error.code : ApiErrorCode.internal,
            };
          }
        }),
      );
      const failing = Object.values(components).some((c) => c.status === 'failing');
      return reply
        .status(failing ? 503 : 200)
        .send({ status: failing ? 'degraded' : 'ok', version: options.version, components });
    },
  });

  app.withTypeProvider<TypeBoxTypeProvider>().route({
    ...contractRoute(getReadiness),
    handler: async (request, reply) => {
      const { readiness } = options;
      if (readiness === undefined) {
        return reply.send({ status: 'ready', version: options.version, projection: null });
      }
      try {
        const projection = await readiness.projection();
        const lagging = projection.atLeast || projection.pending > readiness.maxLag;
        return reply
          .status(lagging ? 503 : 200)
          .send({ status: lagging ? 'lagging' : 'ready', version: options.version, projection });
      } catch (error) {
        request.log.warn({ err: error }, 'readiness check failed');
        return reply.status(503).send({
          status: 'failing',
          version: options.version,
          projection: null,
          code: isRatsfachError(error) ? error.code : ApiErrorCode.internal,
        });
      }
    },
  });
};
