// GET …/records/chains: the ids of a tenant's user and committee chains, for its admin devices
// only. Another tenant's admin token and a member device's token learn nothing.
import t from 'tap';
import { bootstrapTenant, listTenantChains, submitRecord } from '@ratsfach/api-contract';
import {
  ApiClient,
  ApiProblemError,
  certifyAdminDeviceCommand,
  certifyDeviceCommand,
  createCommitteeCommand,
  createTenantCommand,
  createUserCommand,
  nextLink,
  revokeAdminDeviceCommand,
} from '@ratsfach/client';
import {
  cryptoReady,
  fingerprint,
  generateDeviceKeys,
  generateSigningKeyPair,
  hash512,
  type DeviceKeys,
} from '@ratsfach/crypto';
import { logIn } from './helpers/logIn.js';
import { startTestService } from './helpers/startTestService.js';

await cryptoReady();

const nowS = () => Math.floor(Date.now() / 1000);

const codeOf = async (call: Promise<unknown>): Promise<string> =>
  call.then(
    () => 'ok',
    (error: unknown) => (error instanceof ApiProblemError ? error.code : String(error)),
  );

t.test('admin devices list the tenant chains; nobody else does', async (t) => {
  const service = await startTestService(t);
  const api = new ApiClient({ baseUrl: await service.app.listen({ host: '127.0.0.1', port: 0 }) });

  /** Bootstraps a tenant with two admin devices (adm1 through bootstrap, adm2 by the root). */
  const tenant = async (tenantId: string) => {
    const root = generateSigningKeyPair();
    const adm1 = generateDeviceKeys();
    const adm2 = generateDeviceKeys();
    const createdAt = nowS() - 60;
    const genesis = createTenantCommand({ tenantId, createdAt, root });
    const admin = (userId: string, deviceId: string, keys: DeviceKeys) =>
      ({
        tenantId,
        userId,
        deviceId,
        signingKey: keys.signing.publicKey,
        kemKey: keys.kem.publicKey,
        notBefore: createdAt,
        notAfter: nowS() + 86400,
        root,
      }) as const;
    const first = certifyAdminDeviceCommand({
      ...admin('office', 'adm1', adm1),
      link: {
        sequence: 1,
        previousHash: hash512(new Uint8Array(Buffer.from(genesis.data.record, 'base64url'))),
      },
    });
    await api.call(bootstrapTenant, {
      params: { tenantId },
      body: { createTenant: genesis, certifyAdminDevice: first },
    });
    await service.settle();
    const first1 = await logIn(api, tenantId, 'adm1', adm1.signing);
    const certified = await first1.call(submitRecord, {
      params: { tenantId },
      body: certifyAdminDeviceCommand({
        ...admin('office', 'adm2', adm2),
        link: {
          sequence: 2,
          previousHash: hash512(new Uint8Array(Buffer.from(first.data.record, 'base64url'))),
        },
      }),
    });
    await service.settle();
    const asAdmin = { tenantId, tenantPosition: 3, signerDeviceId: 'adm1', signer: adm1.signing };
    return {
      first: first1,
      second: await logIn(api, tenantId, 'adm2', adm2.signing),
      asAdmin,
      /** Revokes adm2 by the root; its token stays in the hands of whoever holds it. */
      revokeSecond: async () => {
        await first1.call(submitRecord, {
          params: { tenantId },
          body: revokeAdminDeviceCommand({
            tenantId,
            deviceId: 'adm2',
            fingerprint: fingerprint(adm2.signing.publicKey),
            reason: 'lost',
            link: nextLink((certified as { head: { length: number; hash: string } }).head),
            root,
          }),
        });
        await service.settle();
      },
    };
  };

  const city = await tenant('city');
  const town = await tenant('town');
  const chains = (admin: ApiClient, tenantId = 'city') =>
    admin.call(listTenantChains, { params: { tenantId } });
  t.same(await chains(city.first), { users: [], committees: [] }, 'a new tenant lists nothing');

  const params = { tenantId: 'city' };
  const users = ['weber', 'alice', 'mueller'];
  const heads = new Map<string, Awaited<ReturnType<ApiClient['call']>>>();
  for (const userId of users) {
    heads.set(
      userId,
      await city.first.call(submitRecord, {
        params,
        body: createUserCommand({ ...city.asAdmin, userId }),
      }),
    );
  }
  for (const committeeId of ['finance', 'bau']) {
    await city.first.call(submitRecord, {
      params,
      body: createCommitteeCommand({ ...city.asAdmin, committeeId }),
    });
  }
  await town.first.call(submitRecord, {
    params: { tenantId: 'town' },
    body: createUserCommand({ ...town.asAdmin, userId: 'zoe' }),
  });
  await service.settle();

  const expected = { users: ['alice', 'mueller', 'weber'], committees: ['bau', 'finance'] };
  t.same(await chains(city.first), expected, "the tenant's ids, sorted, no other tenant's");
  t.same(await chains(city.second), expected, 'a second admin device lists the same');
  t.same(await chains(town.second, 'town'), { users: ['zoe'], committees: [] });

  t.equal(
    await codeOf(chains(town.first, 'city')),
    'RATSFACH_API_UNAUTHENTICATED',
    "another tenant's admin token is refused",
  );

  // A member device of the tenant: certified, logged in, and still refused.
  const phone = generateDeviceKeys();
  const aliceHead = heads.get('alice') as { head: { length: number; hash: string } };
  await city.first.call(submitRecord, {
    params,
    body: certifyDeviceCommand({
      ...city.asAdmin,
      userId: 'alice',
      deviceId: 'a1',
      signingKey: phone.signing.publicKey,
      kemKey: phone.kem.publicKey,
      notBefore: nowS() - 60,
      notAfter: nowS() + 86400,
      enrolmentCodeId: null,
      link: nextLink(aliceHead.head),
    }),
  });
  await service.settle();
  const alice = await logIn(api, 'city', 'a1', phone.signing);
  t.equal(
    await codeOf(chains(alice)),
    'RATSFACH_API_ADMIN_REQUIRED',
    'a member device is refused with 403',
  );
  t.equal(await codeOf(chains(api)), 'RATSFACH_API_UNAUTHENTICATED', 'no token');

  // A revoked admin device with the token it got before the revocation.
  await city.revokeSecond();
  t.equal(
    await codeOf(chains(city.second)),
    'RATSFACH_API_DEVICE_NOT_IN_GOOD_STANDING',
    "a revoked admin device's old token is refused",
  );
  t.same(await chains(city.first), expected, 'the other admin device still lists');
});
