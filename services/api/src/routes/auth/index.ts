import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  ApiErrorCode,
  getSession,
  login,
  logout,
  ownChains,
  requestLoginChallenge,
  type Session,
  type StoredRecord,
} from '@ratsfach/api-contract';
import { fingerprint, openRecord, verifyLoginProof } from '@ratsfach/crypto';
import { decodeEvent } from '@ratsfach/domain';
import type { EventStore } from '@ratsfach/event-store';
import { deviceStatusAt, type DeviceStanding, type ReadModelStore } from '@ratsfach/read-model';
import { ApiError } from '../../apiError.js';
import type { LoginChallengeStore } from '../../auth/loginChallenges.js';
import type { TokenStore } from '../../auth/tokenStore.js';
import { tokenHash, type AuthenticatedDevice } from '../../plugins/auth.js';
import { contractRoute } from '../contractRoute.js';
import { storedRecordOf } from '../recordPage.js';
import { randomBytes } from 'node:crypto';

export interface AuthRouteOptions {
  readonly readModel: ReadModelStore;
  readonly tokens: TokenStore;
  /** Open login challenges (shared by every API process in scale-out). */
  readonly challenges: LoginChallengeStore;
  readonly now: () => number;
  /** Lifetime of a bearer token (short: the device logs in again with its key). */
  readonly tokenTtlMs: number;
  /** Login attempts per device (and challenge requests, twice that) per minute. */
  readonly loginsPerMinute: number;
  /** The log, for `ownChains`; without it that route is not offered. */
  readonly eventStore?: EventStore;
}

const loginRefused = (why: string) =>
  // The same answer for an unknown device, a wrong key, a forged or replayed proof and a stale
  // challenge: a caller without the device's key learns nothing about which it was.
  new ApiError(ApiErrorCode.unauthenticated, 'login refused', {
    hint: 'request a fresh challenge and sign it with this device key',
    cause: why,
  });

/**
 * Every signed record of a chain, read once, with the users whose devices signed in it. The
 * signer is named by the event (a confirmation's signed body names only the device it confirms).
 */
const wholeChain = async (
  eventStore: EventStore,
  stream: string,
): Promise<{ records: StoredRecord[]; signerUserIds: Set<string> }> => {
  const records: StoredRecord[] = [];
  const signerUserIds = new Set<string>();
  for await (const recorded of eventStore.readStream(stream, { fromRevision: 0n })) {
    const event = decodeEvent(recorded);
    const record = storedRecordOf(event);
    if (record !== null) records.push(record);
    const signer = (event.data as { signerUserId?: unknown }).signerUserId;
    if (typeof signer === 'string') signerUserIds.add(signer);
  }
  return { records, signerUserIds };
};

/** Rate limits key on tenant and device, so one device cannot be locked out from elsewhere by IP. */
const byDevice = (request: FastifyRequest): string => {
  const { tenantId } = request.params as { tenantId: string };
  const { deviceId } = (request.body ?? {}) as { deviceId?: string };
  return `${tenantId}\u0000${deviceId ?? ''}`;
};

const sessionOf = (device: AuthenticatedDevice): Session => ({
  tenantId: device.tenantId,
  userId: device.userId,
  deviceId: device.deviceId,
  admin: device.admin,
  expiresAt: new Date(device.expiresAt).toISOString(),
});

/** Login challenge, login, session and logout (docs/security.md 17: tokens are opaque and short-lived). */
export const authRoutes: FastifyPluginAsync<AuthRouteOptions> = async (app, options) => {
  const { challenges } = options;
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  const rateLimit = (max: number) => ({
    max,
    timeWindow: 60_000,
    // After body parsing, so the key can be the device the request names.
    hook: 'preHandler' as const,
    keyGenerator: byDevice,
  });

  const challengeRoute = contractRoute(requestLoginChallenge);
  typed.route({
    ...challengeRoute,
    config: { ...challengeRoute.config, rateLimit: rateLimit(options.loginsPerMinute * 2) },
    handler: async (request) => {
      const { id, entry } = await challenges.issue(request.params.tenantId, request.body.deviceId);
      return {
        challengeId: id,
        challenge: Buffer.from(entry.challenge).toString('base64url'),
        expiresAt: new Date(entry.expiresAt).toISOString(),
      };
    },
  });

  /** The standing of the device whose login proof over a challenge it was given verifies. */
  const provenStanding = async (
    tenantId: string,
    body: { deviceId: string; challengeId: string; proof: string },
  ): Promise<DeviceStanding> => {
    const { deviceId, challengeId, proof } = body;
    const challenge = await challenges.take(challengeId);
    if (challenge === null || challenge.tenantId !== tenantId || challenge.deviceId !== deviceId) {
      throw loginRefused('challenge unknown, used, expired or of another device');
    }
    const standing = await options.readModel.deviceStanding(tenantId, deviceId);
    if (standing === null) throw loginRefused('no such device');
    const bytes = new Uint8Array(Buffer.from(proof, 'base64url'));
    try {
      const signerKey = openRecord(bytes, 'login-proof').signerKey;
      if (fingerprint(signerKey) !== standing.fingerprint) throw new Error('another key');
      verifyLoginProof(bytes, { tenantId, deviceId, challenge: challenge.challenge }, signerKey);
    } catch (error) {
      throw loginRefused(`proof: ${(error as Error).message}`);
    }
    return standing;
  };

  const loginRoute = contractRoute(login);
  typed.route({
    ...loginRoute,
    config: { ...loginRoute.config, rateLimit: rateLimit(options.loginsPerMinute) },
    handler: async (request) => {
      const { tenantId } = request.params;
      const { deviceId } = request.body;
      const standing = await provenStanding(tenantId, request.body);
      const now = options.now();
      const status = deviceStatusAt(standing, Math.floor(now / 1000));
      if (status !== 'valid') {
        throw new ApiError(
          ApiErrorCode.deviceNotInGoodStanding,
          `this device's certificate is ${status === 'notYetValid' ? 'not yet valid' : status}`,
          { hint: 'ask an administrator of the tenant to certify this device again' },
        );
      }
      const token = randomBytes(32).toString('base64url');
      const expiresAt = Math.min(now + options.tokenTtlMs, standing.notAfter * 1000);
      await options.tokens.put(tokenHash(token), {
        tenantId,
        userId: standing.userId,
        deviceId,
        expiresAt,
      });
      request.log.info({ tenantId, deviceId, userId: standing.userId }, 'device logged in');
      return {
        token,
        session: sessionOf({
          tenantId,
          userId: standing.userId,
          deviceId,
          admin: standing.admin,
          expiresAt,
          tokenHash: '',
        }),
      };
    },
  });

  typed.route({
    ...contractRoute(getSession),
    handler: async (request) => sessionOf(request.device!),
  });

  typed.route({
    ...contractRoute(logout),
    handler: async (request, reply) => {
      await options.tokens.delete(request.device!.tokenHash);
      return reply.status(204).send(null);
    },
  });

  const { eventStore } = options;
  if (eventStore === undefined) return;
  const chainsRoute = contractRoute(ownChains);
  typed.route({
    ...chainsRoute,
    config: { ...chainsRoute.config, rateLimit: rateLimit(options.loginsPerMinute) },
    handler: async (request) => {
      const { tenantId } = request.params;
      // Whatever the standing: a revoked device must be able to read the record that revoked it.
      const standing = await provenStanding(tenantId, request.body);
      const user = await wholeChain(eventStore, `user-${tenantId}-${standing.userId}`);
      // The chains of users whose devices signed in these chains, transitively, so the device can
      // verify every record. Each chain is read once: the walk is bounded by the tenant's users
      // (the domain accepts only an existing user as a signer).
      const signers: Record<string, StoredRecord[]> = {};
      const queue = [user.signerUserIds];
      for (let named = queue.pop(); named !== undefined; named = queue.pop()) {
        for (const signer of named) {
          if (signer === standing.userId || signer in signers) continue;
          const chain = await wholeChain(eventStore, `user-${tenantId}-${signer}`);
          signers[signer] = chain.records;
          queue.push(chain.signerUserIds);
        }
      }
      const tenant = await wholeChain(eventStore, `tenant-${tenantId}`);
      return { tenant: tenant.records, user: user.records, signers };
    },
  });
};
