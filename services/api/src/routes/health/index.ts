import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { getHealth, type HealthReply } from '@ratsfach/api-contract';
import { ApiErrorCode } from '@ratsfach/api-contract';
import { isRatsfachError } from '@ratsfach/domain';
import { contractRoute } from '../contractRoute.js';

/** A part of the service whose health the route reports. */
export interface HealthCheck {
  readonly name: string;
  /** Resolves when the part works; rejects with the reason otherwise. */
  check(): Promise<void>;
}

export interface HealthRouteOptions {
  readonly checks: readonly HealthCheck[];
  readonly version: string;
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
};
