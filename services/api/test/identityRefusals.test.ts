// The refusals of the identity routes: enrolment codes and submissions, the directory, the
// records route and /readyz, each failure path with its stable code and nothing changed.
import t from 'tap';
import {
  bootstrapTenant,
  listEnrolmentCodes,
  listEnrolments,
  listRecords,
  registerEnrolmentCode,
  submitEnrolment,
  submitRecord,
  withdrawEnrolmentCode,
  getDirectoryEntry,
  eraseDirectoryEntry,
} from '@ratsfach/api-contract';
import {
  ApiClient,
  ApiProblemError,
  certifyAdminDeviceCommand,
  certifyDeviceCommand,
  changeMembershipCommand,
  createCommitteeCommand,
  createTenantCommand,
  createUserCommand,
  nextLink,
} from '@ratsfach/client';
import {
  createEnrolmentCode,
  createEnrolmentRequest,
  cryptoReady,
  generateDeviceKeys,
  generateSigningKeyPair,
  hash512,
} from '@ratsfach/crypto';
import { buildTestApp } from './helpers/buildTestApp.js';
import { logIn } from './helpers/logIn.js';
import { startTestService } from './helpers/startTestService.js';

await cryptoReady();

const tenantId = 'city';
const params = { tenantId };
const nowS = () => Math.floor(Date.now() / 1000);
const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');

const codeOf = async (call: Promise<unknown>): Promise<string> =>
  call.then(
    () => 'ok',
    (error: unknown) => (error instanceof ApiProblemError ? error.code : String(error)),
  );

async function tenantWithAlice(t: Parameters<typeof startTestService>[0]) {
  const service = await startTestService(t);
  const api = new ApiClient({ baseUrl: await service.app.listen({ host: '127.0.0.1', port: 0 }) });
  const root = generateSigningKeyPair();
  const admin = generateDeviceKeys();
  // One clock reading: a second ticking between the two would put the admin device's
  // validity after the genesis it is certified at.
  const createdAt = nowS() - 60;
  const genesis = createTenantCommand({ tenantId, createdAt, root });
  await api.call(bootstrapTenant, {
    params,
    body: {
      createTenant: genesis,
      certifyAdminDevice: certifyAdminDeviceCommand({
        tenantId,
        userId: 'office',
        deviceId: 'adm1',
        signingKey: admin.signing.publicKey,
        kemKey: admin.kem.publicKey,
        notBefore: createdAt,
        notAfter: nowS() + 86400,
        link: {
          sequence: 1,
          previousHash: hash512(new Uint8Array(Buffer.from(genesis.data.record, 'base64url'))),
        },
        root,
      }),
    },
  });
  await service.settle();
  const adminApi = await logIn(api, tenantId, 'adm1', admin.signing);
  const asAdmin = { tenantId, tenantPosition: 2, signerDeviceId: 'adm1', signer: admin.signing };
  const alice = await adminApi.call(submitRecord, {
    params,
    body: createUserCommand({ ...asAdmin, userId: 'alice' }),
  });
  await service.settle();
  return { service, api, adminApi, root, admin, asAdmin, aliceHead: alice.head };
}

t.test('enrolment codes and submissions refuse what does not fit', async (t) => {
  const { service, api, adminApi, root, admin } = await tenantWithAlice(t);
  const inDays = (days: number) => new Date(Date.now() + days * 86400_000).toISOString();
  const register = (codeId: string, userId: string, expiresAt: string) =>
    adminApi.call(registerEnrolmentCode, { params, body: { codeId, userId, expiresAt } });
  const code = createEnrolmentCode(root.publicKey);
  const codeId = b64(code.codeId);
  t.equal(await codeOf(register(codeId, 'alice', inDays(-1))), 'RATSFACH_API_REQUEST_INVALID');
  t.equal(await codeOf(register(codeId, 'alice', inDays(31))), 'RATSFACH_API_REQUEST_INVALID');
  t.equal(await codeOf(register(codeId, 'alice', 'soon')), 'RATSFACH_API_REQUEST_INVALID');
  t.equal(await codeOf(register(codeId, 'nobody', inDays(7))), 'RATSFACH_API_NOT_FOUND');
  t.same((await adminApi.call(listEnrolmentCodes, { params })).codes, [], 'nothing registered');
  await register(codeId, 'alice', inDays(7));

  const submit = (request: Uint8Array, id = codeId) =>
    api.call(submitEnrolment, { params, body: { codeId: id, request: b64(request) } });
  const device = generateDeviceKeys();
  const request = createEnrolmentRequest(
    code,
    { tenantId, userId: 'alice', deviceId: 'a1' },
    device,
  );
  const unknown = b64(createEnrolmentCode(root.publicKey).codeId);
  t.equal(await codeOf(submit(request, unknown)), 'RATSFACH_API_ENROLMENT_CODE_INVALID');
  const broken = request.slice();
  broken[broken.length - 1]! ^= 1;
  t.equal(await codeOf(submit(broken)), 'RATSFACH_API_ENROLMENT_REQUEST_INVALID', 'bad signature');
  const other = createEnrolmentRequest(
    createEnrolmentCode(root.publicKey),
    { tenantId, userId: 'alice', deviceId: 'a1' },
    device,
  );
  t.equal(await codeOf(submit(other)), 'RATSFACH_API_ENROLMENT_REQUEST_INVALID', 'other code');
  const bob = createEnrolmentRequest(code, { tenantId, userId: 'bob', deviceId: 'b1' }, device);
  t.equal(await codeOf(submit(bob)), 'RATSFACH_API_ENROLMENT_CODE_INVALID', 'another person');
  const town = createEnrolmentRequest(
    code,
    { tenantId: 'town', userId: 'alice', deviceId: 'a1' },
    device,
  );
  t.equal(await codeOf(submit(town)), 'RATSFACH_API_ENROLMENT_CODE_INVALID', 'another tenant');
  const foreign = await service.app.inject({
    method: 'POST',
    url: '/v1/tenants/town/enrolments',
    payload: { codeId, request: b64(request) },
  });
  t.equal(
    foreign.json().code,
    'RATSFACH_API_ENROLMENT_CODE_INVALID',
    "another tenant's path learns nothing of this tenant's code",
  );

  const first = await submit(request);
  t.same(await submit(request), first, 'the same submission again is the same answer');
  const swapped = createEnrolmentRequest(
    code,
    { tenantId, userId: 'alice', deviceId: 'a1' },
    generateDeviceKeys(),
  );
  t.equal(
    await codeOf(submit(swapped)),
    'RATSFACH_API_ENROLMENT_REQUEST_INVALID',
    'other keys for a device id that submitted',
  );
  const crowded = createEnrolmentCode(root.publicKey);
  const crowdedId = b64(crowded.codeId);
  await register(crowdedId, 'alice', inDays(7));
  const attempt = (deviceId: string) =>
    codeOf(
      submit(
        createEnrolmentRequest(crowded, { tenantId, userId: 'alice', deviceId }, device),
        crowdedId,
      ),
    );
  for (let i = 1; i <= 5; i++) t.equal(await attempt(`c${i}`), 'ok');
  t.equal(await attempt('c6'), 'RATSFACH_API_ENROLMENT_CODE_FULL', 'a code takes five devices');
  for (let i = 7; i <= 10; i++) await attempt(`c${i}`);
  t.equal(
    await attempt('c11'),
    'RATSFACH_API_RATE_LIMITED',
    'ten submissions a minute per code id, from wherever they come',
  );
  t.equal((await adminApi.call(listEnrolments, { params })).submissions.length, 6);

  const brief = createEnrolmentCode(root.publicKey);
  await register(b64(brief.codeId), 'alice', new Date(Date.now() + 1800_000).toISOString());
  service.setNow(Date.now() + 3600_000);
  const later = await logIn(api, tenantId, 'adm1', admin.signing);
  t.match(
    (await later.call(listEnrolmentCodes, { params })).codes.find(
      (c) => c.codeId === b64(brief.codeId),
    ),
    { status: 'expired' },
  );
  t.equal(
    await codeOf(
      submit(
        createEnrolmentRequest(brief, { tenantId, userId: 'alice', deviceId: 'x1' }, device),
        b64(brief.codeId),
      ),
    ),
    'RATSFACH_API_ENROLMENT_CODE_INVALID',
    'an expired code takes no submission',
  );
  service.setNow(Date.now());
  await later.call(withdrawEnrolmentCode, { params: { tenantId, codeId: b64(brief.codeId) } });

  t.equal(
    await codeOf(later.call(withdrawEnrolmentCode, { params: { tenantId, codeId: unknown } })),
    'RATSFACH_API_NOT_FOUND',
  );
  await later.call(withdrawEnrolmentCode, { params: { tenantId, codeId } });
  t.equal(
    await codeOf(submit(request)),
    'RATSFACH_API_ENROLMENT_CODE_INVALID',
    'a withdrawn code is closed',
  );
  t.match((await later.call(listEnrolmentCodes, { params })).codes, [{ codeId: crowdedId }]);
});

t.test('records and directory refuse what the device may not see or send', async (t) => {
  const { service, api, adminApi, asAdmin, aliceHead } = await tenantWithAlice(t);
  const records = (stream: string, query: Record<string, string> = {}) =>
    adminApi.call(listRecords, { params, query: { stream, ...query } });
  t.equal(await codeOf(records('user-town-alice')), 'RATSFACH_API_NOT_FOUND', 'other tenant');
  t.equal(await codeOf(records('user-city-bob')), 'RATSFACH_API_NOT_FOUND', 'no such chain');
  t.equal(await codeOf(records('user-city')), 'RATSFACH_API_NOT_FOUND', 'not a stream name');
  const page = await records('tenant-city', { limit: '1' });
  t.match(page, { length: 2, next: 1, records: [{ sequence: 0, type: 'TenantCreated' }] });
  t.match(await records('tenant-city', { from: '5' }), { records: [], next: null });

  const phone = generateDeviceKeys();
  const certificate = (enrolmentCodeId: Uint8Array | null) =>
    certifyDeviceCommand({
      ...asAdmin,
      userId: 'alice',
      deviceId: 'a1',
      signingKey: phone.signing.publicKey,
      kemKey: phone.kem.publicKey,
      notBefore: nowS() - 60,
      notAfter: nowS() + 86400,
      enrolmentCodeId,
      link: nextLink(aliceHead),
    });
  t.equal(
    await codeOf(
      adminApi.call(submitRecord, { params, body: certificate(new Uint8Array(10).fill(7)) }),
    ),
    'RATSFACH_API_ENROLMENT_CODE_INVALID',
    'a certificate naming a code this tenant never issued',
  );
  // A certificate under a registered code that the domain refuses (a stale chain position)
  // gives the code back: the next, correct certificate may still use it.
  const code = createEnrolmentCode(generateSigningKeyPair().publicKey);
  await adminApi.call(registerEnrolmentCode, {
    params,
    body: {
      codeId: b64(code.codeId),
      userId: 'alice',
      expiresAt: new Date(Date.now() + 86400_000).toISOString(),
    },
  });
  const stale = certifyDeviceCommand({
    ...asAdmin,
    userId: 'alice',
    deviceId: 'a1',
    signingKey: phone.signing.publicKey,
    kemKey: phone.kem.publicKey,
    notBefore: nowS() - 60,
    notAfter: nowS() + 86400,
    enrolmentCodeId: code.codeId,
    link: { sequence: 0, previousHash: new Uint8Array(64) },
  });
  t.equal(
    await codeOf(adminApi.call(submitRecord, { params, body: stale })),
    'RATSFACH_DOMAIN_CHAIN_STALE',
  );
  t.match((await adminApi.call(listEnrolmentCodes, { params })).codes, [{ status: 'open' }]);
  await adminApi.call(submitRecord, { params, body: certificate(code.codeId) });
  t.match(
    (await adminApi.call(listEnrolmentCodes, { params })).codes,
    [{ status: 'used' }],
    'the certificate that landed used the code',
  );
  await service.settle();
  const alice = await logIn(api, tenantId, 'a1', phone.signing);
  const asAlice = (body: unknown) =>
    codeOf(alice.call(submitRecord, { params, body: body as never }));
  t.equal(
    await asAlice(
      certifyDeviceCommand({
        ...asAdmin,
        userId: 'alice',
        deviceId: 'a9',
        signingKey: phone.signing.publicKey,
        kemKey: phone.kem.publicKey,
        notBefore: 0,
        notAfter: 1,
        enrolmentCodeId: null,
        link: nextLink(aliceHead),
      }),
    ),
    'RATSFACH_API_ADMIN_REQUIRED',
  );
  const seen = (userId: string, deviceId: string) =>
    ({
      type: 'RecordHeadsSeen',
      data: { tenantId, userId, deviceId, record: 'AA' },
      metadata: { commandId: 'seen-1', now: new Date().toISOString() },
    }) as const;
  t.equal(
    await asAlice(seen('alice', 'a2')),
    'RATSFACH_API_SUBMITTER_NOT_ALLOWED',
    'another device',
  );
  t.equal(await asAlice(seen('bob', 'a1')), 'RATSFACH_API_SUBMITTER_NOT_ALLOWED', 'another user');
  t.equal(
    await codeOf(alice.call(getDirectoryEntry, { params: { tenantId, userId: 'alice' } })),
    'RATSFACH_API_NOT_FOUND',
  );
  await adminApi.call(eraseDirectoryEntry, { params: { tenantId, userId: 'nobody' } });
  t.pass('erasing an entry that is not there is no error');
});

t.test(
  'two certificates racing for the last use of a code: one lands, the code stays used',
  async (t) => {
    const { service, api, adminApi, asAdmin, aliceHead } = await tenantWithAlice(t);
    const code = createEnrolmentCode(generateSigningKeyPair().publicKey);
    await adminApi.call(registerEnrolmentCode, {
      params,
      body: {
        codeId: b64(code.codeId),
        userId: 'alice',
        expiresAt: new Date(Date.now() + 86400_000).toISOString(),
      },
    });
    const keys = { a1: generateDeviceKeys(), a2: generateDeviceKeys() };
    const certify = (deviceId: 'a1' | 'a2', head: { length: number; hash: string }) =>
      adminApi
        .call(submitRecord, {
          params,
          body: certifyDeviceCommand({
            ...asAdmin,
            userId: 'alice',
            deviceId,
            signingKey: keys[deviceId].signing.publicKey,
            kemKey: keys[deviceId].kem.publicKey,
            notBefore: nowS() - 60,
            notAfter: nowS() + 86400,
            enrolmentCodeId: code.codeId,
            link: nextLink(head),
          }),
        })
        .then(
          (reply) => ({ code: 'ok', head: reply.head }),
          async (error: unknown) => ({ code: await codeOf(Promise.reject(error)), head: null }),
        );
    const raced = await Promise.all([certify('a1', aliceHead), certify('a2', aliceHead)]);
    t.same(
      raced.map((r) => r.code).sort(),
      ['RATSFACH_API_ENROLMENT_CODE_USED', 'ok'],
      'one certificate lands; the other is told the code is used',
    );
    const winner = raced[0]!.code === 'ok' ? 'a1' : 'a2';
    const loser = winner === 'a1' ? 'a2' : 'a1';
    const landed = raced.find((r) => r.code === 'ok')!.head!;
    t.equal(landed.length, aliceHead.length + 1, 'one certificate on the chain');
    t.match(
      (await adminApi.call(listEnrolmentCodes, { params })).codes,
      [{ status: 'used' }],
      'the refused one did not give back the code the other used',
    );
    t.equal(
      (await certify(loser, landed)).code,
      'RATSFACH_API_ENROLMENT_CODE_USED',
      'nor may it use the code at the next position',
    );
    t.equal(
      (await adminApi.call(listRecords, { params, query: { stream: 'user-city-alice' } })).length,
      aliceHead.length + 1,
      'nothing more appended',
    );
    await service.settle();
    t.ok(await logIn(api, tenantId, winner, keys[winner].signing), 'the device that won logs in');
    t.equal(
      await codeOf(logIn(api, tenantId, loser, keys[loser].signing)),
      'RATSFACH_API_UNAUTHENTICATED',
      'the other is no device of the tenant',
    );
  },
);

t.test('a removed member no longer reads the committee chain', async (t) => {
  const { service, api, adminApi, asAdmin, aliceHead } = await tenantWithAlice(t);
  const submit = (body: unknown) => adminApi.call(submitRecord, { params, body: body as never });
  const committee = await submit(createCommitteeCommand({ ...asAdmin, committeeId: 'council' }));
  const member = (change: 'add' | 'remove', head: { length: number; hash: string }) =>
    changeMembershipCommand({
      ...asAdmin,
      committeeId: 'council',
      userId: 'alice',
      change,
      role: 'reader',
      link: nextLink(head),
    });
  const added = await submit(member('add', committee.head));
  const phone = generateDeviceKeys();
  await submit(
    certifyDeviceCommand({
      ...asAdmin,
      userId: 'alice',
      deviceId: 'a1',
      signingKey: phone.signing.publicKey,
      kemKey: phone.kem.publicKey,
      notBefore: nowS() - 60,
      notAfter: nowS() + 86400,
      enrolmentCodeId: null,
      link: nextLink(aliceHead),
    }),
  );
  await service.settle();
  const alice = await logIn(api, tenantId, 'a1', phone.signing);
  const query = { stream: 'committee-city-council' };
  t.equal((await alice.call(listRecords, { params, query })).length, 2, 'a member reads it');
  await submit(member('remove', added.head));
  await service.settle();
  t.equal(
    await codeOf(alice.call(listRecords, { params, query })),
    'RATSFACH_API_NOT_FOUND',
    'once removed, the chain is hidden from her',
  );
  t.equal(
    await codeOf(alice.call(listRecords, { params, query: { stream: 'committee-city-nosuch' } })),
    'RATSFACH_API_NOT_FOUND',
    'as a committee that does not exist is',
  );
  t.equal(
    (await adminApi.call(listRecords, { params, query })).length,
    3,
    'the chain itself is there',
  );
});

t.test('/readyz reports the projection lag', async (t) => {
  const report = { checkpoint: '7', pending: 3, atLeast: false, restarts: 1 };
  const lagging = await buildTestApp(t, {
    readiness: { maxLag: 2, projection: async () => report },
  });
  const answer = await lagging.inject({ method: 'GET', url: '/readyz' });
  t.equal(answer.statusCode, 503);
  t.match(answer.json(), { status: 'lagging', projection: report });
  const ready = await buildTestApp(t, {
    readiness: { maxLag: 3, projection: async () => report },
  });
  t.equal((await ready.inject({ method: 'GET', url: '/readyz' })).statusCode, 200);
  const failing = await buildTestApp(t, {
    readiness: {
      maxLag: 3,
      projection: async () => {
        throw new Error('read-model file gone');
      },
    },
  });
  const failed = await failing.inject({ method: 'GET', url: '/readyz' });
  t.equal(failed.statusCode, 503);
  t.same(failed.json().code, 'RATSFACH_API_INTERNAL', 'the code only, never the message');
  const none = await buildTestApp(t);
  t.match((await none.inject({ method: 'GET', url: '/readyz' })).json(), {
    status: 'ready',
    projection: null,
  });
});
