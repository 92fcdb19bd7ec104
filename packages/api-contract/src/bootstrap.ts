import Type, { type Static } from 'typebox';
import { TenantParams } from './auth.js';
import { commandBodyOf } from './commandBody.js';
import { apiPrefix } from './paths.js';
import { defineRoute, RouteAuth } from './route.js';

export const BootstrapRequest = Type.Object(
  {
    /** `CreateTenant`: the tenant-created record, signed by the root, at sequence 0. */
    createTenant: commandBodyOf(['CreateTenant']),
    /** `CertifyAdminDevice`: the first admin device's certificate, signed by the root, at 1. */
    certifyAdminDevice: commandBodyOf(['CertifyAdminDevice']),
    /**
     * The operator's bootstrap token (RATSFACH_BOOTSTRAP_TOKEN). Without one configured, the
     * service accepts bootstraps from its own host (loopback) only.
     */
    bootstrapToken: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  },
  { additionalProperties: false },
);
export type BootstrapRequest = Static<typeof BootstrapRequest>;

export const BootstrapReply = Type.Object(
  {
    tenantId: Type.String(),
    /** The root's fingerprint as the service read it from the genesis record (64 hex digits). */
    rootFingerprint: Type.String(),
    /** The first admin device, which can now log in. */
    adminDeviceId: Type.String(),
    adminUserId: Type.String(),
    /** The tenant chain's length after the bootstrap (2). */
    tenantLength: Type.Integer(),
  },
  { additionalProperties: false },
);
export type BootstrapReply = Static<typeof BootstrapReply>;

/**
 * POST …/bootstrap: creates a tenant from its root-signed genesis and the first admin device's
 * certificate, both made offline. Refused with the domain's 409 RATSFACH_DOMAIN_TENANT_EXISTS once the
 * tenant exists (the same bootstrap again, same command ids, returns its result); 403 RATSFACH_API_BOOTSTRAP_FORBIDDEN without the operator's token (or, with none
 * configured, from anywhere but loopback).
 */
export const bootstrapTenant = defineRoute({
  method: 'POST',
  url: `${apiPrefix}/tenants/:tenantId/bootstrap`,
  operationId: 'bootstrapTenant',
  summary: 'Create a tenant with its root and first admin device',
  area: 'bootstrap',
  auth: RouteAuth.none,
  schemas: {
    params: TenantParams,
    body: BootstrapRequest,
    response: { 201: BootstrapReply },
  },
});
