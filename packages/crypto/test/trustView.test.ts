import t from 'tap';
import { World, day, headOf } from './support/world.js';
import { expectError } from './support/expectError.js';
import {
  ChainError,
  CryptoErrorCode,
  SignatureError,
  StaleCommitteeStateError,
  TrustError,
  fingerprint,
  requireFresh,
  signRecord,
} from '../src/index.js';

t.test('validity is judged at the tenant position a record names, by heartbeat time', async (t) => {
  const world = await World.create();
  world.addUser('alice');
  const a1 = world.enrol('alice', 'a1', 10 * day);
  world.heartbeat(world.now + 5 * day);
  const position5Days = world.tenantPosition;
  world.heartbeat(world.now + 20 * day);
  const trust = world.trust();
  const fp = fingerprint(a1.signing.publicKey);
  t.equal(trust.requireDeviceAt(fp, position5Days, 'user').deviceId, 'a1');
  expectError(
    t,
    () => trust.requireDeviceAt(fp, trust.tenantHead.length, 'user'),
    TrustError,
    CryptoErrorCode.certificateNotValid,
  );
  expectError(
    t,
    () => trust.requireDeviceAt(fp, position5Days, 'admin'),
    TrustError,
    CryptoErrorCode.untrustedKey,
  );
  expectError(
    t,
    () => trust.timeAt(trust.tenantHead.length + 1),
    ChainError,
    CryptoErrorCode.chainBroken,
  );
});

t.test('a renewed certificate extends the validity of the same key', async (t) => {
  const world = await World.create();
  world.addUser('alice');
  const a1 = world.enrol('alice', 'a1', 10 * day);
  world.now += 9 * day;
  world.appendUser(
    'alice',
    'device-certificate',
    {
      tenantId: 'city',
      userId: 'alice',
      deviceId: 'a1',
      signingKey: a1.signing.publicKey,
      kemKey: a1.kem.publicKey,
      notBefore: world.now,
      notAfter: world.now + 30 * day,
      tenantPosition: world.tenantPosition,
      enrolmentCodeId: null,
    },
    world.admin.signing,
  );
  world.heartbeat(world.now + 20 * day);
  const trust = world.trust();
  t.equal(
    trust.requireDeviceAt(fingerprint(a1.signing.publicKey), trust.tenantHead.length, 'user')
      .deviceId,
    'a1',
  );
});

t.test('a revoked admin device signs nothing after its revocation', async (t) => {
  const world = await World.create();
  world.heartbeat();
  world.appendTenant(
    'admin-device-revocation',
    {
      tenantId: 'city',
      deviceId: 'admin1',
      fingerprint: fingerprint(world.admin.signing.publicKey),
      reason: 'lost',
    },
    world.root,
  );
  world.heartbeat();
  expectError(t, () => world.trust(), TrustError, CryptoErrorCode.revoked);
});

t.test(
  'heartbeat times may go back (issue 8 item 7); one outside its signer validity does not count',
  async (t) => {
    const world = await World.create();
    world.heartbeat(world.now + day);
    world.heartbeat(world.now);
    const trust = world.trust();
    t.equal(trust.latestHeartbeat?.time, world.now, 'the newest heartbeat by position counts');
    t.equal(trust.timeAt(trust.tenantHead.length), world.now);
    t.equal(trust.timeAt(trust.tenantHead.length - 1), world.now + day);
    // Dated after the admin certificate ends: neither the time nor the newest heartbeat moves.
    world.heartbeat(world.now + 400 * day);
    const later = world.trust();
    t.equal(later.latestHeartbeat?.time, world.now);
    t.equal(later.timeAt(later.tenantHead.length), world.now);
  },
);

t.test(
  'a user chain must start with user-created and never name an older tenant position',
  async (t) => {
    const world = await World.create();
    world.enrol('alice', 'a1');
    expectError(t, () => world.trust(), TrustError, CryptoErrorCode.unauthorisedSigner);

    const other = await World.create();
    other.addUser('alice');
    other.heartbeat();
    other.appendUser(
      'alice',
      'device-revocation',
      {
        tenantId: 'city',
        userId: 'alice',
        deviceId: 'x',
        fingerprint: 'ab'.repeat(32),
        tenantPosition: 1,
        reason: '',
      },
      other.admin.signing,
    );
    expectError(t, () => other.trust(), ChainError, CryptoErrorCode.chainBroken);
  },
);

t.test(
  'records of another tenant or of the wrong purpose are refused in the tenant chain',
  async (t) => {
    const world = await World.create();
    world.appendTenant(
      'heartbeat',
      {
        tenantId: 'town',
        signerDeviceId: 'admin1',
        time: world.now,
        userHeads: {},
        committeeHeads: {},
      },
      world.admin.signing,
    );
    expectError(t, () => world.trust(), TrustError, CryptoErrorCode.untrustedKey);
    world.tenant.pop();
    world.tenant.push(
      signRecord(
        'user-created',
        headOf(world.tenant),
        { tenantId: 'city', userId: 'u', tenantPosition: 1 },
        world.admin.signing,
      ),
    );
    expectError(t, () => world.trust(), SignatureError, CryptoErrorCode.wrongPurpose);
  },
);

t.test('the staleness check counts only admin heartbeats against the bound', async (t) => {
  const world = await World.create();
  expectError(
    t,
    () => requireFresh(world.trust(), world.now),
    StaleCommitteeStateError,
    CryptoErrorCode.staleCommitteeState,
  );
  world.heartbeat();
  requireFresh(world.trust(), world.now + 7 * day);
  expectError(
    t,
    () => requireFresh(world.trust(), world.now + 7 * day + 1),
    StaleCommitteeStateError,
    CryptoErrorCode.staleCommitteeState,
  );
  requireFresh(world.trust(), world.now + 20 * day, 30 * day);
});

t.test('recipients are the devices named by the newest heartbeat, not later ones', async (t) => {
  const world = await World.create();
  world.addUser('alice');
  world.enrol('alice', 'a1');
  world.heartbeat();
  world.enrol('alice', 'a2');
  t.same(
    world
      .trust()
      .recipientsAt(['alice'])
      .map((d) => d.deviceId),
    ['a1'],
  );
  world.heartbeat();
  t.same(
    world
      .trust()
      .recipientsAt(['alice'])
      .map((d) => d.deviceId),
    ['a1', 'a2'],
  );
  t.throws(() => world.trust().recipientsAt(['bob']), StaleCommitteeStateError);
});
