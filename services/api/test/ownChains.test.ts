// POST …/login/chains: a device proves its key like a login and reads the tenant chain and its
// own user chain whatever its standing, so a revoked device can verify its revocation itself.
import t from 'tap';
import { ApiErrorCode, login, ownChains, type OwnChainsReply } from '@ratsfach/api-contract';
import { ApiClient, ApiProblemError } from '@ratsfach/client';
import { fingerprint, openAnyRecord, TrustView, type SigningKeyPair } from '@ratsfach/crypto';
import { councilWorld } from './helpers/documentWorld.js';
import { loginProofBody } from './helpers/logIn.js';

const proofBody = (api: ApiClient, deviceId: string, signing: SigningKeyPair) =>
  loginProofBody(api, 't1', deviceId, signing);

const refusal = async (work: Promise<unknown>): Promise<ApiProblemError> => {
  try {
    await work;
  } catch (error) {
    if (error instanceof ApiProblemError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
};

const bytesOf = (reply: OwnChainsReply, chain: 'tenant' | 'user') =>
  reply[chain].map((r) => new Uint8Array(Buffer.from(r.record, 'base64url')));

t.test('a revoked device reads the record that revoked it and can verify it', async (t) => {
  const { w, alice, bob } = await councilWorld(t);
  await w.revokeDevice(bob, 'stolen');
  const api = new ApiClient({ baseUrl: w.baseUrl });
  const refused = await refusal(
    api.call(login, {
      params: { tenantId: 't1' },
      body: await proofBody(api, 'b1', bob.keys.signing),
    }),
  );
  t.equal(refused.code, ApiErrorCode.deviceNotInGoodStanding, 'the login is refused');

  const reply = await api.call(ownChains, {
    params: { tenantId: 't1' },
    body: await proofBody(api, 'b1', bob.keys.signing),
  });
  t.same(
    reply.user.map((r) => r.type),
    ['UserCreated', 'DeviceCertified', 'DeviceConfirmed', 'DeviceRevoked'],
  );
  t.equal(reply.tenant[0]?.type, 'TenantCreated');
  t.same(Object.keys(reply.signers), ['alice'], 'the staff member who confirmed the device');
  const trust = TrustView.build({
    rootPin: fingerprintPin(w.rootKey('t1')),
    tenantChain: bytesOf(reply, 'tenant'),
    userChains: {
      bob: bytesOf(reply, 'user'),
      ...Object.fromEntries(
        Object.entries(reply.signers).map(([id, records]) => [
          id,
          records.map((r) => new Uint8Array(Buffer.from(r.record, 'base64url'))),
        ]),
      ),
    },
  });
  t.not(trust.device(fingerprint(bob.keys.signing.publicKey))?.revokedAt, undefined);

  // Another user's device gets its own user chain, never bob's.
  const mine = await api.call(ownChains, {
    params: { tenantId: 't1' },
    body: await proofBody(api, 'a1', alice.keys.signing),
  });
  for (const record of bytesOf(mine, 'user')) {
    t.equal((openAnyRecord(record).body as { userId: string }).userId, 'alice');
  }
});

t.test('a proof of another key, a replayed or another tenant`s challenge is refused', async (t) => {
  const { w, alice, bob } = await councilWorld(t);
  const api = new ApiClient({ baseUrl: w.baseUrl });
  const forged = await refusal(
    api.call(ownChains, {
      params: { tenantId: 't1' },
      body: await proofBody(api, 'b1', alice.keys.signing),
    }),
  );
  t.equal(forged.code, ApiErrorCode.unauthenticated);
  const body = await proofBody(api, 'b1', bob.keys.signing);
  await api.call(ownChains, { params: { tenantId: 't1' }, body });
  const replayed = await refusal(api.call(ownChains, { params: { tenantId: 't1' }, body }));
  t.equal(replayed.code, ApiErrorCode.unauthenticated);
  t.equal(replayed.message, forged.message, 'one answer for both');
  const elsewhere = await refusal(
    api.call(ownChains, {
      params: { tenantId: 't2' },
      body: await proofBody(api, 'b1', bob.keys.signing),
    }),
  );
  t.equal(elsewhere.code, ApiErrorCode.unauthenticated);
  const unknown = await refusal(
    api.call(ownChains, {
      params: { tenantId: 't1' },
      body: await proofBody(api, 'zz', bob.keys.signing),
    }),
  );
  t.equal(unknown.code, ApiErrorCode.unauthenticated);
});

t.test('the chains route is rate limited per device like a login', async (t) => {
  const { w, alice } = await councilWorld(t);
  const api = new ApiClient({ baseUrl: w.baseUrl });
  const attempt = (deviceId: string) =>
    refusal(
      api.call(ownChains, {
        params: { tenantId: 't1' },
        body: { deviceId, challengeId: 'none', proof: 'AAAA' },
      }),
    );
  for (let i = 0; i < 10; i++) t.equal((await attempt('b1')).code, ApiErrorCode.unauthenticated);
  t.equal((await attempt('b1')).code, ApiErrorCode.rateLimited, 'guessing stops');
  const reply = await api.call(ownChains, {
    params: { tenantId: 't1' },
    body: await proofBody(api, 'a1', alice.keys.signing),
  });
  t.equal(reply.user[0]?.type, 'UserCreated', 'another device is not locked out');
});

/** The pin an enrolment code carries: the first 20 bytes of the root key's fingerprint. */
function fingerprintPin(rootKey: Uint8Array): Uint8Array {
  return new Uint8Array(Buffer.from(fingerprint(rootKey).slice(0, 40), 'hex'));
}
