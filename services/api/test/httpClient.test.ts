import t from 'tap';
import {
  ApiErrorCode,
  getHealth,
  getSession,
  login,
  logout,
  requestLoginChallenge,
} from '@ratsfach/api-contract';
import { ApiClient, ApiProblemError } from '@ratsfach/client';
import {
  createLoginProof,
  cryptoReady,
  fingerprint,
  generateSigningKeyPair,
} from '@ratsfach/crypto';
import type { ReadModelStore } from '@ratsfach/read-model';
import { buildTestApp } from './helpers/buildTestApp.js';

await cryptoReady();

t.test('the typed client logs in over real HTTP and gets problems as typed errors', async (t) => {
  const keys = generateSigningKeyPair();
  const readModel = {
    deviceStanding: async (tenantId: string, deviceId: string) =>
      deviceId === 'd1'
        ? {
            tenantId,
            userId: 'u1',
            deviceId,
            admin: false,
            fingerprint: fingerprint(keys.publicKey),
            notBefore: 0,
            notAfter: 4_000_000_000,
            revoked: false,
            certifiedAt: 1n,
            revokedAt: null,
          }
        : null,
  } as unknown as ReadModelStore;
  const app = await buildTestApp(t, {
    readModel,
    checks: [{ name: 'self', check: async () => {} }],
  });
  const baseUrl = await app.listen({ host: '127.0.0.1', port: 0 });
  const client = new ApiClient({ baseUrl });

  const health = await client.call(getHealth);
  t.equal(health.status, 'ok');

  const { challengeId, challenge } = await client.call(requestLoginChallenge, {
    params: { tenantId: 't1' },
    body: { deviceId: 'd1' },
  });
  const proof = createLoginProof(
    {
      tenantId: 't1',
      deviceId: 'd1',
      challenge: new Uint8Array(Buffer.from(challenge, 'base64url')),
    },
    keys,
  );
  const granted = await client.call(login, {
    params: { tenantId: 't1' },
    body: { deviceId: 'd1', challengeId, proof: Buffer.from(proof).toString('base64url') },
  });
  t.equal(granted.session.userId, 'u1');
  const device = client.withToken(granted.token);
  const session = await device.call(getSession, { params: { tenantId: 't1' } });
  t.same(session, granted.session);

  await t.rejects(client.call(getSession, { params: { tenantId: 't1' } }), {
    constructor: ApiProblemError,
    status: 401,
    code: ApiErrorCode.unauthenticated,
  });
  await t.rejects(
    client.call(login, {
      params: { tenantId: 't1' },
      body: { deviceId: 'd1', challengeId, proof: 'AAAA' },
    }),
    { code: ApiErrorCode.unauthenticated, message: 'login refused' },
    'a replayed challenge',
  );
  t.equal(await device.call(logout, { params: { tenantId: 't1' } }), null);
  await t.rejects(device.call(getSession, { params: { tenantId: 't1' } }), {
    status: 401,
    code: ApiErrorCode.unauthenticated,
  });
});
