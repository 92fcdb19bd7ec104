import fp from 'fastify-plugin';
import type { FastifyRequest } from 'fastify';
import { ApiErrorCode, RouteAuth } from '@ratsfach/api-contract';
import { cryptoReady, hash512, sodium } from '@ratsfach/crypto';
import { deviceStatusAt, type ReadModelStore } from '@ratsfach/read-model';
import { ApiError } from '../apiError.js';
import type { TokenGrant, TokenStore } from '../auth/tokenStore.js';

/** The device a request speaks for, once its token and standing are checked. */
export interface AuthenticatedDevice {
  readonly tenantId: string;
  readonly userId: string;
  readonly deviceId: string;
  readonly admin: boolean;
  /** Unix milliseconds. */
  readonly expiresAt: number;
  /** The hex hash the token is stored under (to end it at logout). */
  readonly tokenHash: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set on routes whose contract needs a device; null elsewhere. */
    device: AuthenticatedDevice | null;
  }
}

export interface AuthOptions {
  readonly readModel: ReadModelStore;
  readonly tokens: TokenStore;
  /** Unix milliseconds. */
  readonly now: () => number;
}

/** The hex BLAKE2b-512 hash a token is stored and looked up under. */
export const tokenHash = (token: string): string =>
  sodium().to_hex(hash512(new TextEncoder().encode(token)));

const unauthenticated = (why: string) =>
  // One answer for every bad token: a caller learns nothing about which part was wrong, nor
  // whether the tenant or device exists.
  new ApiError(ApiErrorCode.unauthenticated, 'the bearer token is missing, unknown or expired', {
    hint: 'log in again (POST /v1/tenants/{tenantId}/login)',
    headers: { 'www-authenticate': 'Bearer' },
    cause: why,
  });

/**
 * Checks the bearer token of every route whose contract needs a device: the token's hash must
 * name an unexpired grant of the tenant in the path, and the device's standing in the read model
 * must be valid at this moment (so a revocation refuses a token issued before it at once); admin
 * routes also need the device's admin certificate.
 */
export const authPlugin = fp<AuthOptions>(
  async (app, options) => {
    await cryptoReady();
    app.decorateRequest('device', null);
    app.addHook('onRequest', async (request: FastifyRequest) => {
      const needs = request.routeOptions.config.auth ?? RouteAuth.none;
      if (needs === RouteAuth.none) return;
      const header = request.headers.authorization ?? '';
      const match = /^Bearer ([A-Za-z0-9_-]{20,200})$/.exec(header);
      if (!match) throw unauthenticated('no bearer token');
      const hash = tokenHash(match[1]!);
      const grant: TokenGrant | null = await options.tokens.get(hash);
      const now = options.now();
      if (grant === null || grant.expiresAt <= now) throw unauthenticated('unknown or expired');
      const pathTenant = (request.params as { tenantId?: unknown }).tenantId;
      if (pathTenant !== grant.tenantId) throw unauthenticated('token of another tenant');
      const standing = await options.readModel.deviceStanding(grant.tenantId, grant.deviceId);
      if (standing === null || standing.userId !== grant.userId) {
        throw unauthenticated('device no longer known');
      }
      const status = deviceStatusAt(standing, Math.floor(now / 1000));
      if (status !== 'valid') {
        await options.tokens.delete(hash);
        throw new ApiError(
          ApiErrorCode.deviceNotInGoodStanding,
          `this device's certificate is ${status === 'notYetValid' ? 'not yet valid' : status}`,
          { hint: 'ask an administrator of the tenant to certify this device again' },
        );
      }
      if (needs === RouteAuth.admin && !standing.admin) {
        throw new ApiError(ApiErrorCode.adminRequired, 'this route needs an admin device', {
          hint: 'use a device certified as an admin device by the tenant root',
        });
      }
      request.device = {
        tenantId: grant.tenantId,
        userId: grant.userId,
        deviceId: grant.deviceId,
        admin: standing.admin,
        expiresAt: grant.expiresAt,
        tokenHash: hash,
      };
    });
  },
  { name: 'ratsfach-auth' },
);
