/**
 * docs/security.md properties 1 to 7 (keys and identity), each with the server as the attacker: it
 * hands the device tampered chains, records, key lists or stored keys, and the device refuses
 * with a specific typed error.
 */
import t from 'tap';
import { World, day, headOf } from './support/world.js';
import {
  ChainError,
  CommitteeState,
  CryptoErrorCode,
  DecryptionError,
  ForkError,
  KeyListError,
  KeyStoreError,
  SeenHeads,
  SignatureError,
  StaleCommitteeStateError,
  TrustError,
  TrustView,
  checkHeadsSeen,
  createEnrolmentCode,
  createEnrolmentRequest,
  certifyEnrolledDevice,
  generateDeviceKeys,
  generateSigningKeyPair,
  headsCode,
  linkChain,
  minimumArgon2id,
  openAnyRecord,
  openEpochKeys,
  openKeysWithDeviceSecret,
  openKeysWithPassphrase,
  openRecord,
  requireEpochKey,
  sealKeysWithDeviceSecret,
  sealKeysWithPassphrase,
  signRecord,
  unchained,
  unwrapEpochKey,
  wrapEpochKey,
  fingerprint,
  type DeviceKeys,
} from '../src/index.js';
import { openPreviousEpochKey } from '../src/committee/epochKeyWrap.js';
import { expectError } from './support/expectError.js';

t.test('property 1: unauthenticated public keys', async (t) => {
  t.test('a device certificate signed by a key the server made is refused', async (t) => {
    const world = await World.create();
    world.addUser('alice');
    const server = generateSigningKeyPair();
    const fake = generateDeviceKeys();
    world.appendUser(
      'alice',
      'device-certificate',
      {
        tenantId: 'city',
        userId: 'alice',
        deviceId: 'evil',
        signingKey: fake.signing.publicKey,
        kemKey: fake.kem.publicKey,
        notBefore: world.now,
        notAfter: world.now + day,
        tenantPosition: world.tenantPosition,
        enrolmentCodeId: null,
      },
      server,
    );
    expectError(t, () => world.trust(), TrustError, CryptoErrorCode.untrustedKey);
  });

  t.test('a self-certified device key is refused', async (t) => {
    const world = await World.create();
    world.addUser('alice');
    const self = generateDeviceKeys();
    world.appendUser(
      'alice',
      'device-certificate',
      {
        tenantId: 'city',
        userId: 'alice',
        deviceId: 'self',
        signingKey: self.signing.publicKey,
        kemKey: self.kem.publicKey,
        notBefore: world.now,
        notAfter: world.now + day,
        tenantPosition: world.tenantPosition,
        enrolmentCodeId: null,
      },
      self.signing,
    );
    expectError(t, () => world.trust(), TrustError, CryptoErrorCode.untrustedKey);
  });

  t.test('a key swapped into a certificate breaks its signature', async (t) => {
    const world = await World.create();
    world.addUser('alice');
    world.enrol('alice', 'a1');
    const chain = world.users.alice!;
    const cert = Uint8Array.from(chain[1]!);
    // The X-Wing key sits after the signing key; flip one of its bytes.
    cert[200] = (cert[200] as number) ^ 0xff;
    chain[1] = cert;
    expectError(t, () => world.trust(), SignatureError, CryptoErrorCode.badSignature);
  });

  t.test('an admin device certified by a root other than the pinned one is refused', async (t) => {
    const world = await World.create();
    const otherRoot = generateSigningKeyPair();
    const tenant = [
      signRecord(
        'tenant-created',
        unchained,
        { tenantId: 'city', createdAt: world.now },
        otherRoot,
      ),
    ];
    expectError(
      t,
      () => TrustView.build({ rootPin: world.code.rootPin, tenantChain: tenant, userChains: {} }),
      TrustError,
      CryptoErrorCode.untrustedRoot,
    );
    // An admin certificate signed by another key inside the real tenant chain.
    world.appendTenant(
      'admin-device-certificate',
      {
        tenantId: 'city',
        userId: 'admin',
        deviceId: 'admin2',
        signingKey: generateSigningKeyPair().publicKey,
        kemKey: generateDeviceKeys().kem.publicKey,
        notBefore: world.now,
        notAfter: world.now + day,
      },
      otherRoot,
    );
    expectError(t, () => world.trust(), TrustError, CryptoErrorCode.untrustedKey);
  });

  t.test(
    'enrolment keys swapped in transit fail the MAC before anything is certified',
    async (t) => {
      const world = await World.create();
      const code = createEnrolmentCode(world.root.publicKey);
      const honest = generateDeviceKeys();
      const request = createEnrolmentRequest(
        code,
        { tenantId: 'city', userId: 'alice', deviceId: 'a1' },
        honest,
      );
      const body = openRecord(request, 'enrolment-request').body;
      const server = generateDeviceKeys();
      // The server swaps in its own keys and re-signs with its own key: the MAC no longer matches.
      const swapped = signRecord(
        'enrolment-request',
        unchained,
        { ...body, signingKey: server.signing.publicKey, kemKey: server.kem.publicKey },
        server.signing,
      );
      const terms = {
        issuedFor: { tenantId: 'city', userId: 'alice' },
        notBefore: world.now,
        notAfter: world.now + day,
        tenantPosition: 2,
        link: unchained,
      };
      expectError(
        t,
        () => certifyEnrolledDevice(swapped, code, terms, world.admin.signing),
        TrustError,
        CryptoErrorCode.enrolmentMac,
      );
      // Or it changes the user the device enrols for.
      const otherUser = signRecord(
        'enrolment-request',
        unchained,
        { ...body, userId: 'mallory' },
        honest.signing,
      );
      expectError(
        t,
        () => certifyEnrolledDevice(otherUser, code, terms, world.admin.signing),
        TrustError,
        CryptoErrorCode.enrolmentMac,
      );
      // The honest request passes.
      t.ok(certifyEnrolledDevice(request, code, terms, world.admin.signing));
      // A genuine request by a holder of the code, for someone else than it was issued for.
      const forBob = createEnrolmentRequest(
        code,
        { tenantId: 'city', userId: 'bob', deviceId: 'x' },
        honest,
      );
      expectError(
        t,
        () => certifyEnrolledDevice(forBob, code, terms, world.admin.signing),
        TrustError,
        CryptoErrorCode.enrolmentMac,
      );
    },
  );

  t.test(
    'a revoked device is neither a signer nor a recipient, and an expired one is refused',
    async (t) => {
      const { world } = await World.scene();
      const b1 = world.devices.b1!;
      world.appendUser(
        'bob',
        'device-revocation',
        {
          tenantId: 'city',
          userId: 'bob',
          deviceId: 'b1',
          fingerprint: fingerprint(b1.signing.publicKey),
          tenantPosition: world.tenantPosition,
          reason: 'lost',
        },
        world.admin.signing,
      );
      world.heartbeat();
      const trust = world.trust();
      expectError(
        t,
        () =>
          trust.requireDeviceAt(fingerprint(b1.signing.publicKey), trust.tenantHead.length, 'user'),
        TrustError,
        CryptoErrorCode.revoked,
      );
      t.notOk(trust.recipientsAt(['alice', 'bob']).some((d) => d.deviceId === 'b1'));
      t.ok(world.state().needsNewEpoch(), 'a revocation calls for a new epoch');
      world.now += 40 * day;
      world.heartbeat();
      const later = world.trust();
      expectError(
        t,
        () =>
          later.requireDeviceAt(
            fingerprint(world.devices.a1!.signing.publicKey),
            later.tenantHead.length,
            'user',
          ),
        TrustError,
        CryptoErrorCode.certificateNotValid,
      );
    },
  );
});

t.test('property 2: fork consistency through signed seen heads and a short code', async (t) => {
  const { world } = await World.scene();
  const common = [...world.committee];
  // The server accepts two different records at the same position and shows each to one device.
  world.enrol('alice', 'a2');
  const a2 = world.devices.a2!;
  const branchA = [
    ...common,
    signRecord(
      'retention',
      headOf(common),
      {
        tenantId: 'city',
        committeeId: 'finance',
        tenantPosition: world.tenantPosition,
        retentionDays: 30,
      },
      world.devices.a1!.signing,
    ),
  ];
  const branchB = [
    ...common,
    signRecord(
      'retention',
      headOf(common),
      {
        tenantId: 'city',
        committeeId: 'finance',
        tenantPosition: world.tenantPosition,
        retentionDays: 90,
      },
      world.devices.a1!.signing,
    ),
  ];
  const stream = 'committee-city-finance';
  const device1 = new SeenHeads();
  device1.accept(
    stream,
    linkChain(
      branchA.map((b) => openAnyRecord(b)),
      stream,
    ),
  );
  const device2 = new SeenHeads();
  device2.accept(
    stream,
    linkChain(
      branchB.map((b) => openAnyRecord(b)),
      stream,
    ),
  );
  t.not(headsCode(device1.heads()), headsCode(device2.heads()), 'the short codes differ');
  const headsOf2 = signRecord(
    'heads-seen',
    headOf(world.users.alice!),
    {
      tenantId: 'city',
      userId: 'alice',
      deviceId: 'a2',
      tenantPosition: world.tenantPosition,
      heads: device2.heads(),
    },
    a2.signing,
  );
  world.users.alice!.push(headsOf2);
  const trust = world.trust();
  const err = t.throws(() => checkHeadsSeen(headsOf2, trust, device1), ForkError) as ForkError;
  t.equal(err.code, CryptoErrorCode.fork);
  // The same history shown to both: no fork, and equal codes.
  const device3 = new SeenHeads();
  device3.accept(
    stream,
    linkChain(
      branchA.map((b) => openAnyRecord(b)),
      stream,
    ),
  );
  t.equal(headsCode(device1.heads()), headsCode(device3.heads()));
  t.same(device3.compare(device1.heads()), []);
  // A shorter common prefix is not a fork: it is behind.
  const device4 = new SeenHeads();
  device4.accept(
    stream,
    linkChain(
      common.map((b) => openAnyRecord(b)),
      stream,
    ),
  );
  t.same(device1.compare(device4.heads()), []);
  t.equal(device4.compare(device1.heads()).length, 1, 'device4 is behind and must sync');
  // Offered the older common prefix again, device1 refuses the rollback.
  expectError(
    t,
    () =>
      device1.accept(
        stream,
        linkChain(
          common.map((b) => openAnyRecord(b)),
          stream,
        ),
      ),
    ChainError,
    CryptoErrorCode.rollback,
  );
  // Offered the other branch, device1 refuses the fork.
  expectError(
    t,
    () =>
      device1.accept(
        stream,
        linkChain(
          branchB.map((b) => openAnyRecord(b)),
          stream,
        ),
      ),
    ForkError,
    CryptoErrorCode.fork,
  );
});

t.test(
  'property 2: a device behind the other settles the head by the chain the server serves',
  async (t) => {
    const { world } = await World.scene();
    const stream = 'committee-city-finance';
    const common = [...world.committee];
    const retention = (days: number) =>
      signRecord(
        'retention',
        headOf(common),
        {
          tenantId: 'city',
          committeeId: 'finance',
          tenantPosition: world.tenantPosition,
          retentionDays: days,
        },
        world.devices.a1!.signing,
      );
    const branchA = [...common, retention(30)];
    const branchB = [...common, retention(90)];
    const hashes = (chain: Uint8Array[]) =>
      linkChain(
        chain.map((b) => openAnyRecord(b)),
        stream,
      );
    const behind = new SeenHeads();
    behind.accept(stream, hashes(common));
    const other = new SeenHeads();
    other.accept(stream, hashes(branchB));
    const [ahead] = behind.compare(other.heads());
    t.ok(ahead, 'the other device is ahead');
    // The server serves branch A to this device: it does not contain the other device's head.
    expectError(t, () => behind.confirm(ahead!, hashes(branchA)), ForkError, CryptoErrorCode.fork);
    // Served the same branch the other device saw, this device catches up.
    behind.confirm(ahead!, hashes(branchB));
    t.equal(headsCode(behind.heads()), headsCode(other.heads()));
  },
);

t.test(
  'property 3: stored private keys are authenticated; any change is a hard failure',
  async (t) => {
    await World.create();
    const keys = generateDeviceKeys();
    const secret = new Uint8Array(32).fill(5);
    const blob = sealKeysWithDeviceSecret(keys, secret);
    t.same(openKeysWithDeviceSecret(blob, secret), keys);
    for (const at of [1, 2, 10, 30, blob.length - 1]) {
      const bad = Uint8Array.from(blob);
      bad[at] = (bad[at] as number) ^ 0x01;
      expectError(
        t,
        () => openKeysWithDeviceSecret(bad, secret),
        KeyStoreError,
        CryptoErrorCode.keyStoreTampered,
      );
    }
    expectError(
      t,
      () => openKeysWithDeviceSecret(blob, new Uint8Array(32).fill(6)),
      KeyStoreError,
      CryptoErrorCode.keyStoreTampered,
    );
    expectError(
      t,
      () => openKeysWithDeviceSecret(blob.subarray(0, 100), secret),
      KeyStoreError,
      CryptoErrorCode.keyStoreTampered,
    );
    const sealed = await sealKeysWithPassphrase(keys, 'correct horse battery staple');
    t.same(await openKeysWithPassphrase(sealed, 'correct horse battery staple'), keys);
    const flipped = Uint8Array.from(sealed);
    flipped[sealed.length - 5] = (flipped[sealed.length - 5] as number) ^ 1;
    await t.rejects(openKeysWithPassphrase(flipped, 'correct horse battery staple'), {
      code: CryptoErrorCode.keyStoreTampered,
    });
    await t.rejects(openKeysWithPassphrase(sealed, 'wrong'), KeyStoreError);
  },
);

t.test('property 4: purpose separation of signatures and keys', async (t) => {
  const { world, epoch0 } = await World.scene();
  const a1 = world.devices.a1!;
  const proof = signRecord(
    'login-proof',
    unchained,
    { tenantId: 'city', deviceId: 'a1', challenge: new Uint8Array(32).fill(1) },
    a1.signing,
  );
  expectError(
    t,
    () => openRecord(proof, 'document-deleted'),
    SignatureError,
    CryptoErrorCode.wrongPurpose,
  );
  // A login proof slipped into a committee chain is refused too.
  world.committee.push(
    signRecord(
      'login-proof',
      headOf(world.committee),
      { tenantId: 'city', deviceId: 'a1', challenge: new Uint8Array(32) },
      a1.signing,
    ),
  );
  expectError(t, () => world.state(), SignatureError, CryptoErrorCode.wrongPurpose);
  world.committee.pop();
  // A membership record presented as its co-signature.
  const membership = world.committee[1]!;
  expectError(
    t,
    () => openRecord(membership, 'membership-cosignature'),
    SignatureError,
    CryptoErrorCode.wrongPurpose,
  );
  // A sealed previous-epoch key is not a wrapped key: each derived key has its own context.
  const ref = { tenantId: 'city', committeeId: 'finance', epoch: 0 };
  const wrapped = wrapEpochKey(ref, epoch0, {
    fingerprint: fingerprint(a1.signing.publicKey),
    kemKey: a1.kem.publicKey,
  });
  expectError(
    t,
    () => openPreviousEpochKey(ref, epoch0, { nonce: wrapped.nonce, sealedKey: wrapped.sealedKey }),
    DecryptionError,
    CryptoErrorCode.decryptionFailed,
  );
  // A key wrapped for one committee does not open as another's.
  expectError(
    t,
    () =>
      unwrapEpochKey({ ...ref, committeeId: 'other' }, wrapped, {
        fingerprint: fingerprint(a1.signing.publicKey),
        kem: a1.kem,
      }),
    DecryptionError,
    CryptoErrorCode.decryptionFailed,
  );
});

t.test(
  'property 5: wrapped keys and membership only from the right signers; no empty key lists',
  async (t) => {
    t.test('a key-epoch record signed by a reader device is refused', async (t) => {
      const { world, epoch0 } = await World.scene();
      world.heartbeat();
      // Bob (reader) tries to start an epoch: the fold refuses his record.
      const trust = world.trust();
      const state = world.state();
      const ref = { tenantId: 'city', committeeId: 'finance', epoch: 1 };
      const b1 = world.devices.b1!;
      world.appendCommittee(
        'key-epoch',
        {
          tenantId: 'city',
          committeeId: 'finance',
          epoch: 1,
          reason: 'rotation',
          tenantPosition: trust.tenantHead.length,
          keyCommitment: new Uint8Array(64),
          previousKey: { nonce: new Uint8Array(24), sealedKey: new Uint8Array(48) },
          wrappedKeys: [
            wrapEpochKey(ref, epoch0, {
              fingerprint: fingerprint(b1.signing.publicKey),
              kemKey: b1.kem.publicKey,
            }),
          ],
        },
        b1.signing,
      );
      void state;
      expectError(t, () => world.state(), TrustError, CryptoErrorCode.unauthorisedSigner);
    });

    t.test('wrapped keys from a certified device of a non-member are refused', async (t) => {
      const { world, epoch0 } = await World.scene();
      world.addUser('carol');
      const c1 = world.enrol('carol', 'c1');
      world.heartbeat();
      world.appendCommittee(
        'epoch-keys',
        {
          tenantId: 'city',
          committeeId: 'finance',
          epoch: 0,
          tenantPosition: world.tenantPosition,
          wrappedKeys: [
            wrapEpochKey({ tenantId: 'city', committeeId: 'finance', epoch: 0 }, epoch0, {
              fingerprint: fingerprint(c1.signing.publicKey),
              kemKey: c1.kem.publicKey,
            }),
          ],
        },
        c1.signing,
      );
      expectError(t, () => world.state(), TrustError, CryptoErrorCode.unauthorisedSigner);
    });

    t.test('a key-epoch record signed by a key the server made is refused', async (t) => {
      const { world } = await World.scene();
      const server = generateDeviceKeys();
      world.appendCommittee(
        'epoch-keys',
        {
          tenantId: 'city',
          committeeId: 'finance',
          epoch: 0,
          tenantPosition: world.tenantPosition,
          wrappedKeys: [
            wrapEpochKey(
              { tenantId: 'city', committeeId: 'finance', epoch: 0 },
              new Uint8Array(32),
              { fingerprint: fingerprint(server.signing.publicKey), kemKey: server.kem.publicKey },
            ),
          ],
        },
        server.signing,
      );
      expectError(t, () => world.state(), TrustError, CryptoErrorCode.untrustedKey);
    });

    t.test('an empty key list is an error, never "no encryption"', async (t) => {
      const { world } = await World.scene();
      world.appendCommittee(
        'epoch-keys',
        {
          tenantId: 'city',
          committeeId: 'finance',
          epoch: 0,
          tenantPosition: world.tenantPosition,
          wrappedKeys: [],
        },
        world.devices.a1!.signing,
      );
      expectError(t, () => world.state(), KeyListError, CryptoErrorCode.emptyKeyList);
    });

    t.test('a device with no key in the list gets noWrappedKey', async (t) => {
      const world = await World.create();
      world.addUser('alice');
      world.enrol('alice', 'a1');
      world.createCommittee();
      world.cosign(world.addMember('alice', 'staff'), 'a1');
      world.heartbeat();
      world.startEpoch('a1', 'initial', null);
      const stranger = generateDeviceKeys();
      expectError(
        t,
        () => openEpochKeys(world.state(), stranger),
        KeyListError,
        CryptoErrorCode.noWrappedKey,
      );
    });

    t.test(
      'a membership record signed by a staff device instead of an admin device is refused',
      async (t) => {
        const { world } = await World.scene();
        world.addUser('mallory');
        world.appendCommittee(
          'membership',
          {
            tenantId: 'city',
            committeeId: 'finance',
            userId: 'mallory',
            change: 'add',
            role: 'staff',
            tenantPosition: world.tenantPosition,
          },
          world.devices.a1!.signing,
        );
        expectError(t, () => world.state(), TrustError, CryptoErrorCode.untrustedKey);
      },
    );
  },
);

t.test('property 6: removal, revocation, staleness and co-signature', async (t) => {
  t.test('a removed member cannot open an epoch started after the removal', async (t) => {
    const { world, epoch0 } = await World.scene();
    world.removeMember('bob');
    world.heartbeat();
    world.startEpoch('a1', 'removal', epoch0);
    const keys = openEpochKeys(world.state(), world.devices.b1!);
    expectError(t, () => requireEpochKey(keys, 1), KeyListError, CryptoErrorCode.noWrappedKey);
    // Even with the full record, bob's device cannot unwrap alice's key.
    const epoch1 = world.state().epoch(1)!;
    const [wrapped] = [...epoch1.wrapped.values()];
    expectError(
      t,
      () =>
        unwrapEpochKey(
          { tenantId: 'city', committeeId: 'finance', epoch: 1 },
          { ...wrapped!, recipient: fingerprint(world.devices.b1!.signing.publicKey) },
          {
            fingerprint: fingerprint(world.devices.b1!.signing.publicKey),
            kem: world.devices.b1!.kem,
          },
        ),
      DecryptionError,
      CryptoErrorCode.decryptionFailed,
    );
  });

  t.test(
    'a stale committee state refuses to wrap or write; only admin heartbeats reset it',
    async (t) => {
      const { world, epoch0 } = await World.scene();
      world.now += 8 * day;
      // Staff activity is not a heartbeat.
      world.appendCommittee(
        'retention',
        {
          tenantId: 'city',
          committeeId: 'finance',
          tenantPosition: world.tenantPosition,
          retentionDays: 10,
        },
        world.devices.a1!.signing,
      );
      const err = t.throws(
        () => world.startEpoch('a1', 'rotation', epoch0),
        StaleCommitteeStateError,
      ) as StaleCommitteeStateError;
      t.equal(err.code, CryptoErrorCode.staleCommitteeState);
      t.throws(() => world.wrapForNew('a1', epoch0), { code: CryptoErrorCode.staleCommitteeState });
      world.heartbeat();
      t.ok(world.startEpoch('a1', 'rotation', epoch0));
    },
  );

  t.test('a heartbeat that does not name a member leaves the state stale', async (t) => {
    const { world, epoch0 } = await World.scene();
    world.appendTenant(
      'heartbeat',
      {
        tenantId: 'city',
        signerDeviceId: 'admin1',
        time: world.now,
        userHeads: {},
        committeeHeads: {},
      },
      world.admin.signing,
    );
    t.throws(() => world.startEpoch('a1', 'rotation', epoch0), StaleCommitteeStateError);
  });

  t.test(
    'an addition without staff co-signature gets no keys; an admin cannot co-sign it',
    async (t) => {
      const { world, epoch0 } = await World.scene();
      world.addUser('mallory');
      const m1 = world.enrol('mallory', 'm1');
      const addition = world.addMember('mallory', 'reader');
      world.heartbeat();
      t.same(world.state().keyHolders(), ['alice', 'bob']);
      t.notOk(world.wrapForNew('a1', epoch0), 'nothing is wrapped for mallory');
      expectError(
        t,
        () => openEpochKeys(world.state(), m1),
        KeyListError,
        CryptoErrorCode.noWrappedKey,
      );
      // The admin device co-signs: refused (an admin device is not a user device).
      world.appendCommittee(
        'membership-cosignature',
        {
          tenantId: 'city',
          committeeId: 'finance',
          membershipSequence: addition.sequence,
          membershipHash: addition.hash,
          tenantPosition: world.tenantPosition,
        },
        world.admin.signing,
      );
      expectError(t, () => world.state(), TrustError, CryptoErrorCode.untrustedKey);
      world.committee.pop();
      // Mallory's own device co-signs her addition while staff exists: refused.
      world.cosign(addition, 'm1');
      expectError(t, () => world.state(), TrustError, CryptoErrorCode.unauthorisedSigner);
      world.committee.pop();
      // A staff device wraps for her anyway in a hand-made record: refused on fold.
      world.appendCommittee(
        'epoch-keys',
        {
          tenantId: 'city',
          committeeId: 'finance',
          epoch: 0,
          tenantPosition: world.tenantPosition,
          wrappedKeys: [
            wrapEpochKey({ tenantId: 'city', committeeId: 'finance', epoch: 0 }, epoch0, {
              fingerprint: fingerprint(m1.signing.publicKey),
              kemKey: m1.kem.publicKey,
            }),
          ],
        },
        world.devices.a1!.signing,
      );
      expectError(t, () => world.state(), TrustError, CryptoErrorCode.untrustedKey);
      world.committee.pop();
      // With alice's co-signature she becomes a key holder; her first device, once a staff
      // device confirms it, gets the key.
      world.cosign(addition, 'a1');
      world.heartbeat();
      t.notOk(world.wrapForNew('a1', epoch0), 'm1 is not confirmed yet');
      world.confirm('mallory', 'm1', 'a1', 'finance');
      world.heartbeat();
      t.ok(world.wrapForNew('a1', epoch0));
      t.same(openEpochKeys(world.state(), m1).get(0), epoch0);
    },
  );

  t.test(
    'an admin cannot promote a member to staff alone, nor re-bootstrap a committee',
    async (t) => {
      const { world, epoch0 } = await World.scene();
      const promote = world.appendCommittee(
        'membership',
        {
          tenantId: 'city',
          committeeId: 'finance',
          userId: 'bob',
          change: 'changeRole',
          role: 'staff',
          tenantPosition: world.tenantPosition,
        },
        world.admin.signing,
      );
      world.heartbeat();
      t.same(world.state().staff(), ['alice'], 'bob stays a reader until staff co-signs');
      expectError(
        t,
        () => world.startEpoch('b1', 'rotation', epoch0),
        TrustError,
        CryptoErrorCode.unauthorisedSigner,
      );
      // Bob's own device accepting his promotion is refused: the committee has staff.
      const { sequence, hash } = openAnyRecord(promote);
      world.cosign({ sequence, hash }, 'b1');
      expectError(t, () => world.state(), TrustError, CryptoErrorCode.unauthorisedSigner);
      world.committee.pop();
      world.cosign({ sequence, hash }, 'a1');
      t.same(world.state().staff(), ['alice', 'bob'], 'with alice co-signing, bob is staff');

      // Once every staff member is removed, a new staff member cannot accept their own addition.
      const other = await World.scene();
      other.world.removeMember('alice');
      other.world.removeMember('bob');
      other.world.addUser('mallory');
      other.world.enrol('mallory', 'm1');
      other.world.cosign(other.world.addMember('mallory', 'staff'), 'm1');
      expectError(t, () => other.world.state(), TrustError, CryptoErrorCode.unauthorisedSigner);
    },
  );

  t.test("a user's other devices see every device certified for the user", async (t) => {
    const { world } = await World.scene();
    world.enrol('alice', 'a2');
    t.same(
      world
        .trust()
        .devicesOf('alice')
        .map((d) => d.deviceId),
      ['a1', 'a2'],
    );
  });
});

t.test(
  'property 7: Argon2id below the pinned minimum is refused, never retried weaker',
  async (t) => {
    await World.create();
    const keys: DeviceKeys = generateDeviceKeys();
    await t.rejects(
      sealKeysWithPassphrase(keys, 'pw', { opslimit: 1, memlimitKiB: minimumArgon2id.memlimitKiB }),
      {
        code: CryptoErrorCode.weakKdfParameters,
      },
    );
    const sealed = await sealKeysWithPassphrase(keys, 'pw');
    // Header: suite (1), mode (1), opslimit (4), memlimit KiB (4), salt (16).
    const weakOps = Uint8Array.from(sealed);
    new DataView(weakOps.buffer).setUint32(2, 1);
    await t.rejects(openKeysWithPassphrase(weakOps, 'pw'), KeyStoreError);
    await t.rejects(openKeysWithPassphrase(weakOps, 'pw'), {
      code: CryptoErrorCode.weakKdfParameters,
    });
    const weakMem = Uint8Array.from(sealed);
    new DataView(weakMem.buffer).setUint32(6, 8 * 1024);
    await t.rejects(openKeysWithPassphrase(weakMem, 'pw'), {
      code: CryptoErrorCode.weakKdfParameters,
    });
    // Stronger parameters than stored are a change too: a hard failure, not a retry.
    const stronger = Uint8Array.from(sealed);
    new DataView(stronger.buffer).setUint32(2, 4);
    await t.rejects(openKeysWithPassphrase(stronger, 'pw'), {
      code: CryptoErrorCode.keyStoreTampered,
    });
  },
);

void CommitteeState;
