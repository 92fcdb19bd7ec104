import t from 'tap';
import {
  createLoginProof,
  cryptoReady,
  fingerprint,
  generateSigningKeyPair,
  type SigningKeyPair,
} from '@ratsfach/crypto';
import type { DeviceStanding, ReadModelStore } from '@ratsfach/read-model';
import { ApiErrorCode, openApiPath } from '@ratsfach/api-contract';
import { buildTestApp, capturingLogger } from './helpers/buildTestApp.js';
import type { FastifyInstance } from 'fastify';

await cryptoReady();

const start = Date.UTC(2026, 11, 3, 9, 0, 0);

/**
 * The read model as the auth routes see it: device standings only. (The routes' other reads do
 * not happen here; the store's own contract suite tests the real stores.)
 */
class Standings {
  readonly byDevice = new Map<string, DeviceStanding>();
  add(
    tenantId: string,
    deviceId: string,
    signing: SigningKeyPair,
    extra: Partial<DeviceStanding> = {},
  ) {
    this.byDevice.set(`${tenantId}/${deviceId}`, {
      tenantId,
      userId: `user-of-${deviceId}`,
      deviceId,
      admin: false,
      fingerprint: fingerprint(signing.publicKey),
      notBefore: start / 1000 - 3600,
      notAfter: start / 1000 + 365 * 86400,
      revoked: false,
      certifiedAt: 1n,
      revokedAt: null,
      ...extra,
    });
  }
  update(tenantId: string, deviceId: string, change: Partial<DeviceStanding>) {
    const key = `${tenantId}/${deviceId}`;
    this.byDevice.set(key, { ...this.byDevice.get(key)!, ...change });
  }
  asReadModel(): ReadModelStore {
    return {
      deviceStanding: async (tenantId: string, deviceId: string) =>
        this.byDevice.get(`${tenantId}/${deviceId}`) ?? null,
    } as unknown as ReadModelStore;
  }
}

const setup = async (
  t: Parameters<typeof buildTestApp>[0],
  logger?: ReturnType<typeof capturingLogger>['logger'],
) => {
  const clock = { now: start };
  const standings = new Standings();
  const app = await buildTestApp(
    t,
    { readModel: standings.asReadModel(), now: () => clock.now, ...(logger ? { logger } : {}) },
    { tokenTtlMs: 15 * 60_000, challengeTtlMs: 60_000, loginsPerMinute: 10 },
  );
  return { app, clock, standings };
};

const challengeFor = async (app: FastifyInstance, tenantId: string, deviceId: string) => {
  const res = await app.inject({
    method: 'POST',
    url: `/v1/tenants/${tenantId}/login/challenge`,
    payload: { deviceId },
  });
  return res.json() as { challengeId: string; challenge: string; expiresAt: string };
};

const proofFor = (tenantId: string, deviceId: string, challenge: string, signing: SigningKeyPair) =>
  Buffer.from(
    createLoginProof(
      { tenantId, deviceId, challenge: new Uint8Array(Buffer.from(challenge, 'base64url')) },
      signing,
    ),
  ).toString('base64url');

const loginWith = (app: FastifyInstance, tenantId: string, body: object) =>
  app.inject({ method: 'POST', url: `/v1/tenants/${tenantId}/login`, payload: body });

const login = async (
  app: FastifyInstance,
  tenantId: string,
  deviceId: string,
  signing: SigningKeyPair,
) => {
  const { challengeId, challenge } = await challengeFor(app, tenantId, deviceId);
  return loginWith(app, tenantId, {
    deviceId,
    challengeId,
    proof: proofFor(tenantId, deviceId, challenge, signing),
  });
};

const session = (app: FastifyInstance, tenantId: string, token: string) =>
  app.inject({
    method: 'GET',
    url: `/v1/tenants/${tenantId}/session`,
    headers: { authorization: `Bearer ${token}` },
  });

t.test('a device logs in with a signed proof and its token speaks for it', async (t) => {
  const { app, standings } = await setup(t);
  const keys = generateSigningKeyPair();
  standings.add('t1', 'd1', keys);
  const res = await login(app, 't1', 'd1', keys);
  t.equal(res.statusCode, 200);
  const { token, session: granted } = res.json();
  t.match(token, /^[A-Za-z0-9_-]{43}$/, '256 random bits');
  t.same(granted, {
    tenantId: 't1',
    userId: 'user-of-d1',
    deviceId: 'd1',
    admin: false,
    expiresAt: new Date(start + 15 * 60_000).toISOString(),
  });
  const me = await session(app, 't1', token);
  t.equal(me.statusCode, 200);
  t.same(me.json(), granted);
});

t.test('forged, replayed, foreign and stale proofs are all refused alike', async (t) => {
  const { app, clock, standings } = await setup(t);
  const keys = generateSigningKeyPair();
  const other = generateSigningKeyPair();
  standings.add('t1', 'd1', keys);
  standings.add('t1', 'd2', other);

  const refused = async (label: string, res: Awaited<ReturnType<typeof loginWith>>) => {
    t.equal(res.statusCode, 401, label);
    t.equal(res.json().code, ApiErrorCode.unauthenticated, label);
    t.equal(res.json().detail, 'login refused', `${label}: says nothing more`);
  };

  const first = await challengeFor(app, 't1', 'd1');
  const proof = proofFor('t1', 'd1', first.challenge, keys);
  t.equal(
    (await loginWith(app, 't1', { deviceId: 'd1', challengeId: first.challengeId, proof }))
      .statusCode,
    200,
  );
  await refused(
    'a replayed proof',
    await loginWith(app, 't1', { deviceId: 'd1', challengeId: first.challengeId, proof }),
  );

  const c2 = await challengeFor(app, 't1', 'd1');
  await refused(
    'signed by another key',
    await loginWith(app, 't1', {
      deviceId: 'd1',
      challengeId: c2.challengeId,
      proof: proofFor('t1', 'd1', c2.challenge, other),
    }),
  );
  const c3 = await challengeFor(app, 't1', 'd1');
  await refused(
    'the challenge is single-use even when the proof failed',
    await loginWith(app, 't1', {
      deviceId: 'd1',
      challengeId: c2.challengeId,
      proof: proofFor('t1', 'd1', c2.challenge, keys),
    }),
  );
  await refused(
    'a proof over another challenge',
    await loginWith(app, 't1', { deviceId: 'd1', challengeId: c3.challengeId, proof }),
  );
  const c4 = await challengeFor(app, 't1', 'd1');
  const bytes = Buffer.from(proofFor('t1', 'd1', c4.challenge, keys), 'base64url');
  bytes[bytes.length - 1]! ^= 1;
  await refused(
    'a proof with a flipped signature bit',
    await loginWith(app, 't1', {
      deviceId: 'd1',
      challengeId: c4.challengeId,
      proof: bytes.toString('base64url'),
    }),
  );
  const c5 = await challengeFor(app, 't1', 'd1');
  await refused(
    "another device's challenge",
    await loginWith(app, 't1', {
      deviceId: 'd2',
      challengeId: c5.challengeId,
      proof: proofFor('t1', 'd2', c5.challenge, other),
    }),
  );
  const c6 = await challengeFor(app, 't1', 'ghost');
  await refused(
    'an unknown device',
    await loginWith(app, 't1', {
      deviceId: 'ghost',
      challengeId: c6.challengeId,
      proof: proofFor('t1', 'ghost', c6.challenge, keys),
    }),
  );
  const c7 = await challengeFor(app, 't1', 'd1');
  await refused(
    'a proof for another tenant',
    await loginWith(app, 't1', {
      deviceId: 'd1',
      challengeId: c7.challengeId,
      proof: proofFor('t2', 'd1', c7.challenge, keys),
    }),
  );
  const c8 = await challengeFor(app, 't1', 'd1');
  clock.now += 61_000;
  await refused(
    'an expired challenge',
    await loginWith(app, 't1', {
      deviceId: 'd1',
      challengeId: c8.challengeId,
      proof: proofFor('t1', 'd1', c8.challenge, keys),
    }),
  );
  await refused(
    'garbage',
    await loginWith(app, 't1', { deviceId: 'd1', challengeId: 'x', proof: 'AAAA' }),
  );
});

t.test(
  'a revoked or expired device is refused at once, also with a token issued before',
  async (t) => {
    const { app, clock, standings } = await setup(t);
    const keys = generateSigningKeyPair();
    standings.add('t1', 'd1', keys);
    const { token } = (await login(app, 't1', 'd1', keys)).json();
    t.equal((await session(app, 't1', token)).statusCode, 200);
    standings.update('t1', 'd1', { revoked: true, revokedAt: 2n });
    const revoked = await session(app, 't1', token);
    t.equal(revoked.statusCode, 403);
    t.equal(revoked.json().code, ApiErrorCode.deviceNotInGoodStanding);
    t.match(revoked.json().detail, /revoked/);
    standings.update('t1', 'd1', { revoked: false, revokedAt: null });
    t.equal((await session(app, 't1', token)).statusCode, 401, 'the token was ended, not paused');
    const relog = await login(app, 't1', 'd1', keys);
    t.equal(relog.statusCode, 200);
    standings.update('t1', 'd1', { notAfter: Math.floor(clock.now / 1000) + 60 });
    clock.now += 61_000;
    const expired = await session(app, 't1', relog.json().token);
    t.equal(expired.statusCode, 403, 'the token never outlives the certificate');
    t.match(expired.json().detail, /expired/);
    const late = await login(app, 't1', 'd1', keys);
    t.equal(late.statusCode, 403, 'nor can an expired device log in');
    t.match(late.json().detail, /expired/);
  },
);

t.test('tokens expire, end at logout and never cross tenants', async (t) => {
  const { app, clock, standings } = await setup(t);
  const keys = generateSigningKeyPair();
  standings.add('t1', 'd1', keys);
  standings.add('t2', 'd1', keys);
  const { token } = (await login(app, 't1', 'd1', keys)).json();
  const bad = await session(app, 't1', 'A'.repeat(43));
  const foreign = await session(app, 't2', token);
  t.equal(foreign.statusCode, 401, "a token of t1 at t2's routes");
  t.equal(foreign.json().detail, bad.json().detail, 'answered exactly like an unknown token');
  t.equal(foreign.headers['www-authenticate'], 'Bearer');
  for (const authorization of ['', 'Bearer', `Basic ${token}`, `Bearer ${token} x`]) {
    const res = await app.inject({
      method: 'GET',
      url: '/v1/tenants/t1/session',
      headers: { authorization },
    });
    t.equal(res.statusCode, 401, JSON.stringify(authorization));
  }
  const out = await app.inject({
    method: 'DELETE',
    url: '/v1/tenants/t1/session',
    headers: { authorization: `Bearer ${token}` },
  });
  t.equal(out.statusCode, 204);
  t.equal((await session(app, 't1', token)).statusCode, 401, 'ended at logout');
  const again = (await login(app, 't1', 'd1', keys)).json().token;
  clock.now += 15 * 60_000;
  t.equal((await session(app, 't1', again)).statusCode, 401, 'expired after 15 minutes');
});

t.test('logins are rate limited per device, not per address', async (t) => {
  const { app, standings } = await setup(t);
  const keys = generateSigningKeyPair();
  standings.add('t1', 'd1', keys);
  standings.add('t1', 'd2', keys);
  const attempt = (deviceId: string) =>
    loginWith(app, 't1', { deviceId, challengeId: 'none', proof: 'AAAA' });
  for (let i = 0; i < 10; i++) t.equal((await attempt('d1')).statusCode, 401);
  const limited = await attempt('d1');
  t.equal(limited.statusCode, 429);
  t.equal(limited.json().code, ApiErrorCode.rateLimited);
  t.ok(Number(limited.headers['retry-after']) > 0, 'says when to retry');
  t.equal((await login(app, 't1', 'd2', keys)).statusCode, 200, 'another device is not locked out');
});

t.test('neither tokens nor login proofs reach the log', async (t) => {
  const { logger, lines } = capturingLogger();
  const { app, standings } = await setup(t, logger);
  const keys = generateSigningKeyPair();
  standings.add('t1', 'd1', keys);
  const { challengeId, challenge } = await challengeFor(app, 't1', 'd1');
  const proof = proofFor('t1', 'd1', challenge, keys);
  const { token } = (await loginWith(app, 't1', { deviceId: 'd1', challengeId, proof })).json();
  await session(app, 't1', token);
  await session(app, 't1', `${token.slice(0, -1)}x`);
  const log = lines.join('');
  t.match(log, /device logged in/);
  t.notOk(log.includes(token), 'no token');
  t.notOk(log.includes(token.slice(0, -1)), 'not even a wrong one');
  t.notOk(log.includes(proof.slice(0, 40)), 'no proof');
});

t.test('the auth routes are in the OpenAPI document with their security', async (t) => {
  const { app } = await setup(t);
  const document = (await app.inject({ method: 'GET', url: openApiPath })).json();
  t.same(document.paths['/v1/tenants/{tenantId}/session'].get.security, [{ bearer: [] }]);
  t.notOk(document.paths['/v1/tenants/{tenantId}/login'].post.security, 'login needs no token');
});
