import { timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { ApiErrorCode, bootstrapTenant } from '@ratsfach/api-contract';
import { hash512 } from '@ratsfach/crypto';
import { commandFromJson, streamName, StreamKind } from '@ratsfach/domain';
import { ApiError } from '../../apiError.js';
import { contractRoute } from '../contractRoute.js';
import type { IdentityRouteOptions } from '../identityRouteOptions.js';

const isLoopback = (address: string): boolean =>
  address === '::1' || /^(::ffff:)?127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(address);

/** Compares the presented token with the configured one in constant time (over their hashes). */
const tokenMatches = (presented: string, expected: string): boolean => {
  const utf8 = new TextEncoder();
  return timingSafeEqual(hash512(utf8.encode(presented)), hash512(utf8.encode(expected)));
};

const forbidden = (why: string) =>
  new ApiError(ApiErrorCode.bootstrapForbidden, `creating a tenant here needs ${why}`, {
    hint: 'ask the operator for the bootstrap token (RATSFACH_BOOTSTRAP_TOKEN), or run the bootstrap on the server itself',
  });

/**
 * Who may create a tenant on a server anyone can reach: with RATSFACH_BOOTSTRAP_TOKEN set,
 * whoever presents it; without, only a caller on the server itself (loopback, as the request's
 * address; behind a reverse proxy on the same host list it in RATSFACH_TRUSTED_PROXIES or set a
 * token, else every request looks local).
 */
const requireBootstrapRight = (
  request: FastifyRequest,
  presented: string | undefined,
  expected: string | null,
): void => {
  if (expected !== null) {
    if (presented === undefined || !tokenMatches(presented, expected)) {
      throw forbidden('the operator’s bootstrap token');
    }
    return;
  }
  if (!isLoopback(request.ip)) throw forbidden('a request from the server itself');
};

/**
 * POST …/bootstrap: the tenant's genesis and its first admin device, both signed offline by the
 * root. Both are decided before either is written, so a refused certificate leaves no tenant
 * behind; a retry with the same command ids completes a bootstrap cut short and returns its
 * result; any other bootstrap of an existing tenant is the domain's RATSFACH_DOMAIN_TENANT_EXISTS.
 */
export const bootstrapRoutes: FastifyPluginAsync<IdentityRouteOptions> = async (app, options) => {
  const route = contractRoute(bootstrapTenant);
  app.withTypeProvider<TypeBoxTypeProvider>().route({
    ...route,
    config: {
      ...route.config,
      rateLimit: { max: 10, timeWindow: 60_000 },
    },
    handler: async (request, reply) => {
      const { tenantId } = request.params;
      requireBootstrapRight(request, request.body.bootstrapToken, options.bootstrapToken);
      const create = commandFromJson(request.body.createTenant);
      const certify = commandFromJson(request.body.certifyAdminDevice);
      for (const command of [create, certify]) {
        if (command.data.tenantId !== tenantId) {
          throw new ApiError(
            ApiErrorCode.tenantMismatch,
            `the ${command.type} command names tenant ${command.data.tenantId}, the path ${tenantId}`,
            { hint: 'sign the records for the tenant in the path' },
          );
        }
      }
      const tenantStream = streamName(StreamKind.tenant, tenantId);
      if ((await options.eventStore.streamHead(tenantStream)) === null) {
        await options.commands.check([create, certify]);
      }
      const created = await options.commands.run(create);
      const certified = await options.commands.run(certify);
      const genesis = created.events[0];
      const admin = certified.events[0];
      if (genesis?.type !== 'TenantCreated' || admin?.type !== 'AdminDeviceCertified') {
        throw new Error('bootstrap decided unexpected events');
      }
      request.log.info(
        { tenantId, adminDeviceId: admin.data.deviceId, replayed: created.replayed },
        'tenant bootstrapped',
      );
      return reply.status(201).send({
        tenantId,
        rootFingerprint: genesis.data.rootFingerprint,
        adminDeviceId: admin.data.deviceId,
        adminUserId: admin.data.userId,
        tenantLength: certified.head.length,
      });
    },
  });
};
