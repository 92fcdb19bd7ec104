import fp from 'fastify-plugin';
import swagger from '@fastify/swagger';
import { openApiPath } from '@ratsfach/api-contract';

export interface OpenApiOptions {
  readonly version: string;
}

/**
 * Collects every route's schemas into an OpenAPI 3.1 document served at /v1/openapi.json. It must
 * be registered before the routes; internal routes set `schema.hide` to stay out of it, which
 * matters because the tenant-isolation test enumerates the routes from this document.
 */
export const openApiPlugin = fp<OpenApiOptions>(
  async (app, options) => {
    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'ratsfach sync service',
          version: options.version,
          description:
            'Every error is an RFC 9457 problem (application/problem+json) with a stable `code`.',
        },
        components: {
          securitySchemes: {
            bearer: {
              type: 'http',
              scheme: 'bearer',
              description: 'an opaque device token from POST /v1/tenants/{tenantId}/login',
            },
          },
        },
      },
    });
    app.get(openApiPath, { schema: { hide: true } }, async () => app.swagger());
  },
  { name: 'ratsfach-openapi' },
);
