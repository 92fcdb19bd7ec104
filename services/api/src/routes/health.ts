import type { FastifyPluginAsync } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { isRatsfachError } from '@ratsfach/domain';

/** A part of the service whose readiness the health route reports. */
export interface HealthCheck {
  readonly name: string;
  /** Resolves when the part works; rejects with the reason otherwise. */
  check(): Promise<void>;
}

const HealthReply = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('degraded')]),
  version: Type.String(),
  components: Type.Record(
    Type.String(),
    Type.Object({
      status: Type.Union([Type.Literal('ok'), Type.Literal('failing')]),
      /** The error's stable code; the message (paths, hosts) goes to the log only. */
      code: Type.Optional(Type.String()),
    }),
  ),
});
type HealthReply = Static<typeof HealthReply>;

export interface HealthRouteOptions {
  readonly checks: readonly HealthCheck[];
  readonly version: string;
}

/**
 * GET /healthz: 200 when every component answers, 503 otherwise. It is unauthenticated, so it
 * names a failing component's error code only, never its message, and says nothing of tenants.
 */
export const healthRoutes: FastifyPluginAsync<HealthRouteOptions> = async (app, options) => {
  app.get<{ Reply: HealthReply }>(
    '/healthz',
    { schema: { response: { 200: HealthReply, 503: HealthReply } } },
    async (request, reply) => {
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
              code: isRatsfachError(error) ? error.code : 'RATSFACH_INTERNAL',
            };
          }
        }),
      );
      const failing = Object.values(components).some((c) => c.status === 'failing');
      return reply
        .status(failing ? 503 : 200)
        .send({ status: failing ? 'degraded' : 'ok', version: options.version, components });
    },
  );
};
