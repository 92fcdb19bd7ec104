// End to end through HTTP with the real crypto, the real stores and the real projector feeding
// the read model: a tenant is bootstrapped, its admin device logs in, creates people and a
// committee, enrols a member's device through a one-time code, certifies it, and that device
// logs in; a revocation refuses its earlier token at once; forged and replayed records are
// refused; the bootstrap guard holds.
import t from 'tap';
import {
  bootstrapTenant,
  getSession,
  listDirectory,
  listEnrolmentCodes,
  listEnrolments,
  listRecords,
  putDirectoryEntry,
  registerEnrolmentCode,
  submitEnrolment,
  submitRecord,
  eraseDirectoryEntry,
  getDirectoryEntry,
  type ChainHeadReply,
} from '@ratsfach/api-contract';
import {
  ApiClient,
  ApiProblemError,
  certifyAdminDeviceCommand,
  certifyDeviceCommand,
  certifyEnrolledDeviceCommand,
  changeMembershipCommand,
  createCommitteeCommand,
  createTenantCommand,
  createUserCommand,
  nextLink,
  revokeDeviceCommand,
} from '@ratsfach/client';
import {
  createEnrolmentCode,
  createEnrolmentRequest,
  cryptoReady,
  fingerprint,
  generateDeviceKeys,
  generateSigningKeyPair,
  hash512,
} from '@ratsfach/crypto';
import { logIn } from './helpers/logIn.js';
import { startTestService, type TestService } from './helpers/startTestService.js';

await cryptoReady();

const tenantId = 'city';
const nowS = () => Math.floor(Date.now() / 1000);

/** The problem code a call fails with (or 'ok'). */
const codeOf = async (call: Promise<unknown>): Promise<string> =>
  call.then(
    () => 'ok',
    (error: unknown) => (error instanceof ApiProblemError ? error.code : String(error)),
  );

async function listen(service: TestService): Promise<ApiClient> {
  const address = await service.app.listen({ host: '127.0.0.1', port: 0 });
  return new ApiClient({ baseUrl: address });
}

/** A bootstrapped tenant with its admin device logged in. */
async function bootstrapped(t: Parameters<typeof startTestService>[0]) {
  const service = await startTestService(t);
  const api = await listen(service);
  const root = generateSigningKeyPair();
  const admin = generateDeviceKeys();
  // One clock reading: a second ticking between the two would put the admin device's
  // validity after the genesis it is certified at.
  const createdAt = nowS() - 60;
  const genesis = createTenantCommand({ tenantId, createdAt, root });
  const certificate = certifyAdminDeviceCommand({
    tenantId,
    userId: 'office',
    deviceId: 'adm1',
    signingKey: admin.signing.publicKey,
    kemKey: admin.kem.publicKey,
    notBefore: createdAt,
    notAfter: nowS() + 365 * 86400,
    link: { sequence: 1, previousHash: hashOfRecord(genesis.data.record) },
    root,
  });
  const reply = await api.call(bootstrapTenant, {
    params: { tenantId },
    body: { createTenant: genesis, certifyAdminDevice: certificate },
  });
  await service.settle();
  const adminApi = await logIn(api, tenantId, 'adm1', admin.signing);
  return { service, api, adminApi, root, admin, genesis, certificate, reply };
}

function hashOfRecord(record: string): Uint8Array {
  return hash512(new Uint8Array(Buffer.from(record, 'base64url')));
}

t.test('a tenant from bootstrap to a member device that logs in, and its revocation', async (t) => {
  const { service, api, adminApi, root, admin, reply } = await bootstrapped(t);
  t.same(reply, {
    tenantId,
    rootFingerprint: fingerprint(root.publicKey),
    adminDeviceId: 'adm1',
    adminUserId: 'office',
    tenantLength: 2,
  });
  t.match(await adminApi.call(getSession, { params: { tenantId } }), {
    deviceId: 'adm1',
    admin: true,
  });

  const params = { tenantId };
  const asAdmin = { tenantId, tenantPosition: 2, signerDeviceId: 'adm1', signer: admin.signing };
  const submit = (body: Parameters<typeof adminApi.call<typeof submitRecord.schemas>>[1]) =>
    adminApi.call(submitRecord, body);
  const created = await submit({
    params,
    body: createUserCommand({ ...asAdmin, userId: 'alice' }),
  });
  t.match(created, { stream: 'user-city-alice', events: ['UserCreated'], replayed: false });
  t.equal(created.head.length, 1);
  await submit({ params, body: createUserCommand({ ...asAdmin, userId: 'bob' }) });
  await adminApi.call(putDirectoryEntry, {
    params: { tenantId, userId: 'alice' },
    body: { displayName: 'Alice Amsel', email: 'alice@city.example' },
  });
  const committee = await submit({
    params,
    body: createCommitteeCommand({ ...asAdmin, committeeId: 'council' }),
  });
  await submit({
    params,
    body: changeMembershipCommand({
      ...asAdmin,
      committeeId: 'council',
      userId: 'alice',
      change: 'add',
      role: 'staff',
      link: nextLink(committee.head),
    }),
  });
  await service.settle();

  // Enrolment: the admin registers the code id; the device submits without a token.
  const code = createEnrolmentCode(root.publicKey);
  const codeId = Buffer.from(code.codeId).toString('base64url');
  const expiresAt = new Date(Date.now() + 7 * 86400_000).toISOString();
  const registered = await adminApi.call(registerEnrolmentCode, {
    params,
    body: { codeId, userId: 'alice', expiresAt },
  });
  t.match(registered, { codeId, userId: 'alice', status: 'open', createdBy: 'adm1' });
  t.equal(
    await codeOf(
      adminApi.call(registerEnrolmentCode, { params, body: { codeId, userId: 'bob', expiresAt } }),
    ),
    'RATSFACH_API_ENROLMENT_CODE_EXISTS',
    'a code id is registered once',
  );
  const tablet = generateDeviceKeys();
  const request = createEnrolmentRequest(
    code,
    { tenantId, userId: 'alice', deviceId: 'a1' },
    tablet,
  );
  const submitted = await api.call(submitEnrolment, {
    params,
    body: { codeId, request: Buffer.from(request).toString('base64url') },
  });
  t.match(submitted, { codeId, userId: 'alice', deviceId: 'a1' });
  t.equal(submitted.fingerprint, fingerprint(tablet.signing.publicKey));
  const { submissions } = await adminApi.call(listEnrolments, { params });
  t.equal(submissions.length, 1, 'the admin device sees the submission');
  const listed = submissions[0]!;

  const userHead = async (userId: string): Promise<ChainHeadReply> => {
    const page = await adminApi.call(listRecords, {
      params,
      query: { stream: `user-${tenantId}-${userId}` },
    });
    const last = page.records.at(-1)!;
    return {
      length: page.length,
      hash: Buffer.from(hashOfRecord(last.record)).toString('hex'),
    };
  };
  const terms = {
    issuedFor: { tenantId, userId: 'alice' },
    notBefore: nowS() - 60,
    notAfter: nowS() + 30 * 86400,
    tenantPosition: 2,
    link: nextLink(await userHead('alice')),
  };
  const certify = certifyEnrolledDeviceCommand({
    request: new Uint8Array(Buffer.from(listed.request, 'base64url')),
    code,
    terms,
    signerDeviceId: 'adm1',
    signer: admin.signing,
  });
  const certified = await submit({ params, body: certify });
  t.match(certified, { events: ['DeviceCertified'], replayed: false });
  t.match(
    await submit({ params, body: certify }),
    { replayed: true, events: ['DeviceCertified'] },
    'a retry with the same command id returns the first result',
  );
  const again = certifyEnrolledDeviceCommand({
    request: new Uint8Array(Buffer.from(listed.request, 'base64url')),
    code,
    terms: { ...terms, link: nextLink(certified.head) },
    signerDeviceId: 'adm1',
    signer: admin.signing,
  });
  t.equal(
    await codeOf(submit({ params, body: again })),
    'RATSFACH_API_ENROLMENT_CODE_USED',
    'a second certificate under the same code is refused',
  );
  t.same((await adminApi.call(listEnrolments, { params })).submissions, [], 'nothing pending');
  t.match((await adminApi.call(listEnrolmentCodes, { params })).codes, [
    { codeId, status: 'used' },
  ]);
  t.equal(
    await codeOf(
      api.call(submitEnrolment, {
        params,
        body: { codeId, request: Buffer.from(request).toString('base64url') },
      }),
    ),
    'RATSFACH_API_ENROLMENT_CODE_INVALID',
    'a used code takes no more submissions',
  );
  await service.settle();

  const alice = await logIn(api, tenantId, 'a1', tablet.signing);
  t.match(await alice.call(getSession, { params }), {
    userId: 'alice',
    deviceId: 'a1',
    admin: false,
  });
  const committeeRecords = await alice.call(listRecords, {
    params,
    query: { stream: 'committee-city-council' },
  });
  t.same(
    committeeRecords.records.map((r) => [r.sequence, r.type]),
    [
      [0, 'CommitteeCreated'],
      [1, 'MembershipChanged'],
    ],
    'a member reads her committee chain',
  );
  const tenantPage = await alice.call(listRecords, {
    params,
    query: { stream: 'tenant-city', from: '1', limit: '1' },
  });
  t.match(tenantPage, { length: 2, next: null, records: [{ sequence: 1 }] });
  t.match(
    await alice.call(listDirectory, { params }),
    { entries: [{ userId: 'alice', displayName: 'Alice Amsel' }] },
    'devices read the directory',
  );
  t.equal(
    await codeOf(
      alice.call(submitRecord, { params, body: createUserCommand({ ...asAdmin, userId: 'eve' }) }),
    ),
    'RATSFACH_API_ADMIN_REQUIRED',
    'a member device cannot submit admin records',
  );

  // Bob's device, certified without a code: it reads tenant and user chains, not the committee.
  const phone = generateDeviceKeys();
  await submit({
    params,
    body: certifyDeviceCommand({
      ...asAdmin,
      userId: 'bob',
      deviceId: 'b1',
      signingKey: phone.signing.publicKey,
      kemKey: phone.kem.publicKey,
      notBefore: nowS() - 60,
      notAfter: nowS() + 30 * 86400,
      enrolmentCodeId: null,
      link: nextLink(await userHead('bob')),
    }),
  });
  await service.settle();
  const bob = await logIn(api, tenantId, 'b1', phone.signing);
  t.equal(
    await codeOf(bob.call(listRecords, { params, query: { stream: 'committee-city-council' } })),
    'RATSFACH_API_NOT_FOUND',
    'a committee chain is hidden from non-members',
  );
  t.equal(
    (await bob.call(listRecords, { params, query: { stream: 'user-city-alice' } })).length,
    2,
    'user chains are open to every device of the tenant',
  );

  // Revocation: alice's tablet is refused at once, with the token it already holds.
  await submit({
    params,
    body: revokeDeviceCommand({
      ...asAdmin,
      userId: 'alice',
      deviceId: 'a1',
      fingerprint: fingerprint(tablet.signing.publicKey),
      reason: 'lost on the train',
      link: nextLink(await userHead('alice')),
    }),
  });
  await service.settle();
  t.equal(
    await codeOf(alice.call(getSession, { params })),
    'RATSFACH_API_DEVICE_NOT_IN_GOOD_STANDING',
    'a revoked device is refused with a token issued before',
  );
  t.equal(
    await codeOf(logIn(api, tenantId, 'a1', tablet.signing)),
    'RATSFACH_API_DEVICE_NOT_IN_GOOD_STANDING',
    'and cannot log in again',
  );

  // The directory entry is erased for good.
  await adminApi.call(eraseDirectoryEntry, { params: { tenantId, userId: 'alice' } });
  t.equal(
    await codeOf(bob.call(getDirectoryEntry, { params: { tenantId, userId: 'alice' } })),
    'RATSFACH_API_NOT_FOUND',
  );
});

t.test('forged, replayed and stale records are refused; nothing is appended', async (t) => {
  const { service, adminApi, admin } = await bootstrapped(t);
  const params = { tenantId };
  const asAdmin = { tenantId, tenantPosition: 2, signerDeviceId: 'adm1', signer: admin.signing };
  const genuine = createUserCommand({ ...asAdmin, userId: 'alice' });
  const bytes = Buffer.from(genuine.data.record, 'base64url');
  bytes[bytes.length - 1]! ^= 1;
  const forged = { ...genuine, data: { ...genuine.data, record: bytes.toString('base64url') } };
  const refusal = await adminApi.call(submitRecord, { params, body: forged }).catch((e) => e);
  t.equal(refusal.status, 422, 'a broken signature is an integrity failure');
  t.match(refusal.code, /^RATSFACH_/);
  t.equal(await service.eventStore.streamHead('user-city-alice'), null, 'nothing appended');

  const first = await adminApi.call(submitRecord, { params, body: genuine });
  const device = (deviceId: string, commandId: string) => {
    const keys = generateDeviceKeys();
    return certifyDeviceCommand(
      {
        ...asAdmin,
        userId: 'alice',
        deviceId,
        signingKey: keys.signing.publicKey,
        kemKey: keys.kem.publicKey,
        notBefore: nowS() - 60,
        notAfter: nowS() + 86400,
        enrolmentCodeId: null,
        link: nextLink(first.head),
      },
      { commandId },
    );
  };
  // Two admin requests race for the same chain position: one lands, the other is told the head.
  const raced = await Promise.all([
    adminApi.call(submitRecord, { params, body: device('a1', 'race-1') }).catch((e) => e),
    adminApi.call(submitRecord, { params, body: device('a2', 'race-2') }).catch((e) => e),
  ]);
  const won = raced.find((r) => !(r instanceof ApiProblemError)) as { head: ChainHeadReply };
  const lost = raced.find((r) => r instanceof ApiProblemError) as ApiProblemError;
  t.ok(won && lost, 'exactly one of two racing records lands');
  t.equal(lost.status, 409);
  t.equal(lost.code, 'RATSFACH_DOMAIN_CHAIN_STALE');
  t.same(
    lost.problem.current,
    { stream: 'user-city-alice', length: 2, hash: won.head.hash },
    '409 names the current head so the device can re-sign',
  );
  const replay = device('a3', 'replay-1');
  await adminApi.call(submitRecord, { params, body: replay }).catch(() => undefined);
  const replayedRecord = {
    ...replay,
    metadata: { ...replay.metadata, commandId: 'replay-2' },
  };
  t.equal(
    await codeOf(adminApi.call(submitRecord, { params, body: replayedRecord })),
    'RATSFACH_DOMAIN_CHAIN_STALE',
    'a record replayed under a new command id does not extend the head',
  );
  t.equal(
    (await service.eventStore.streamHead('user-city-alice'))?.revision,
    1n,
    'only the winner was appended',
  );

  const stranger = generateSigningKeyPair();
  const impostor = createUserCommand({ ...asAdmin, userId: 'bob', signer: stranger });
  t.equal(
    (await adminApi.call(submitRecord, { params, body: impostor }).catch((e) => e)).code,
    'RATSFACH_DOMAIN_SIGNER_MISMATCH',
    'a record the named admin device did not sign',
  );
  const otherSigner = createUserCommand({ ...asAdmin, userId: 'bob', signerDeviceId: 'adm2' });
  t.equal(
    await codeOf(adminApi.call(submitRecord, { params, body: otherSigner })),
    'RATSFACH_API_SUBMITTER_NOT_ALLOWED',
    'an admin device carries only the records it signed itself',
  );
  const otherTenant = createUserCommand({ ...asAdmin, tenantId: 'town', userId: 'bob' });
  t.equal(
    await codeOf(adminApi.call(submitRecord, { params, body: otherTenant })),
    'RATSFACH_API_TENANT_MISMATCH',
    'a record of another tenant is refused before the domain sees it',
  );
  const malformed = { ...genuine, data: { ...genuine.data, extra: 1 } };
  t.equal(
    await codeOf(adminApi.call(submitRecord, { params, body: malformed as never })),
    'RATSFACH_DOMAIN_COMMAND_MALFORMED',
    'fields the command does not have',
  );
});

t.test('bootstrap is guarded: an existing tenant, a foreign address, a wrong token', async (t) => {
  const { service, api, genesis, certificate, root } = await bootstrapped(t);
  const params = { tenantId };
  t.match(
    await api.call(bootstrapTenant, {
      params,
      body: { createTenant: genesis, certifyAdminDevice: certificate },
    }),
    { tenantLength: 2 },
    'the same bootstrap again (same command ids) returns its result',
  );
  const other = createTenantCommand({ tenantId, createdAt: nowS(), root });
  t.equal(
    await codeOf(
      api.call(bootstrapTenant, {
        params,
        body: { createTenant: other, certifyAdminDevice: certificate },
      }),
    ),
    'RATSFACH_DOMAIN_TENANT_EXISTS',
    'a tenant that exists is refused',
  );

  const fromAfar = await service.app.inject({
    method: 'POST',
    url: '/v1/tenants/town/bootstrap',
    remoteAddress: '203.0.113.9',
    payload: { createTenant: genesis, certifyAdminDevice: certificate },
  });
  t.equal(fromAfar.statusCode, 403);
  t.equal(
    fromAfar.json().code,
    'RATSFACH_API_BOOTSTRAP_FORBIDDEN',
    'without a token: loopback only',
  );

  const guarded = await startTestService(t, { bootstrapToken: 'operator-secret' });
  const town = createTenantCommand({ tenantId: 'town', createdAt: nowS(), root });
  const townAdmin = generateDeviceKeys();
  const townCertificate = certifyAdminDeviceCommand({
    tenantId: 'town',
    userId: 'office',
    deviceId: 'adm1',
    signingKey: townAdmin.signing.publicKey,
    kemKey: townAdmin.kem.publicKey,
    notBefore: nowS() - 60,
    notAfter: nowS() + 86400,
    link: { sequence: 1, previousHash: hashOfRecord(town.data.record) },
    root,
  });
  const attempt = (bootstrapToken?: string) =>
    guarded.app.inject({
      method: 'POST',
      url: '/v1/tenants/town/bootstrap',
      remoteAddress: '203.0.113.9',
      payload: {
        createTenant: town,
        certifyAdminDevice: townCertificate,
        ...(bootstrapToken === undefined ? {} : { bootstrapToken }),
      },
    });
  t.equal((await attempt()).statusCode, 403, 'a token is configured: none presented');
  t.equal((await attempt('guess')).statusCode, 403, 'a wrong token');
  t.equal(
    await guarded.eventStore.streamHead('tenant-town'),
    null,
    'refused bootstraps append nothing',
  );
  t.equal((await attempt('operator-secret')).statusCode, 201, 'the operator token opens it');

  const badCertificate = certifyAdminDeviceCommand({
    tenantId: 'ville',
    userId: 'office',
    deviceId: 'adm1',
    signingKey: townAdmin.signing.publicKey,
    kemKey: townAdmin.kem.publicKey,
    notBefore: nowS() - 60,
    notAfter: nowS() + 86400,
    link: { sequence: 1, previousHash: new Uint8Array(64) },
    root,
  });
  const ville = await guarded.app.inject({
    method: 'POST',
    url: '/v1/tenants/ville/bootstrap',
    payload: {
      createTenant: createTenantCommand({ tenantId: 'ville', createdAt: nowS(), root }),
      certifyAdminDevice: badCertificate,
      bootstrapToken: 'operator-secret',
    },
  });
  t.equal(ville.json().code, 'RATSFACH_DOMAIN_CHAIN_STALE', 'a certificate off the chain');
  t.equal(
    await guarded.eventStore.streamHead('tenant-ville'),
    null,
    'a refused certificate leaves no tenant behind',
  );
  const mismatch = await guarded.app.inject({
    method: 'POST',
    url: '/v1/tenants/ville/bootstrap',
    payload: {
      createTenant: town,
      certifyAdminDevice: townCertificate,
      bootstrapToken: 'operator-secret',
    },
  });
  t.equal(mismatch.json().code, 'RATSFACH_API_TENANT_MISMATCH');
});
