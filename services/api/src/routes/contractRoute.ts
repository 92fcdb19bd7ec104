import {
  problemResponses,
  RouteAuth,
  type RouteContract,
  type RouteSchemas,
} from '@ratsfach/api-contract';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** What the route needs from its caller; the auth plugin enforces it. */
    auth?: RouteAuth;
  }
}

/**
 * The Fastify route options of a contract route: its method, path and schemas exactly as the
 * client sees them, every error status documented as a problem, and the OpenAPI fields. A route
 * file adds only its handler, so server and client cannot drift.
 */
export function contractRoute<const S extends RouteSchemas>(contract: RouteContract<S>) {
  return {
    method: contract.method,
    url: contract.url,
    schema: {
      ...contract.schemas,
      response: { ...problemResponses, ...contract.schemas.response },
      operationId: contract.operationId,
      summary: contract.summary,
      tags: [contract.area],
      ...(contract.auth === RouteAuth.none ? {} : { security: [{ bearer: [] }] }),
      ...(contract.consumes ? { consumes: [contract.consumes] } : {}),
    },
    config: { auth: contract.auth },
  } as const;
}
