/**
 * Issue 8 part A (the trust model): each test plays the attack the review ran — a malicious
 * server, and where noted a malicious or revoked member device or an admin — and asserts the
 * specific typed error the device answers with. FORMAT.md "Threats and their tests" maps each
 * test to its property and attacker.
 */
import { readFileSync } from 'node:fs';
import t from 'tap';
import type { Purpose, RecordBodies } from '@ratsfach/kernel';
import { World, day, headOf } from './support/world.js';
import { expectError } from './support/expectError.js';
import {
  ChainError,
  CommitteeState,
  CryptoErrorCode,
  CryptoValidationError,
  DocumentState,
  firstSync,
  EpochDueError,
  ForkError,
  KeyStoreError,
  KeySlotError,
  StaleCommitteeStateError,
  TrustError,
  TrustView,
  checkHeadsSeen,
  certifyEnrolledDevice,
  createEnrolmentCode,
  createEnrolmentRequest,
  wrapEpochKey,
  fingerprint,
  generateDeviceKeys,
  generateEpochKey,
  minimumArgon2id,
  openKeySlot,
  openKeysWithPassphrase,
  requireFresh,
  requireWritable,
  startEpoch,
  wrapForNewDevices,
  sealKeySlot,
  sealKeysWithPassphrase,
  SeenHeads,
  signRecord,
  sodium,
  type DeviceKeys,
} from '../src/index.js';
import { encodeBinding } from '../src/content/binding.js';
import { BindingLabel } from '../src/content/contentFormat.js';

/** A document chain builder: records signed by `by` at the world's current or given positions. */
const documentOf = (world: World) => {
  const chain: Uint8Array[] = [];
  const here = () => ({
    tenantId: 'city',
    committeeId: 'finance',
    documentId: 'doc_1',
    tenantPosition: world.tenantPosition,
    committeeHead: world.state().head,
  });
  const add = <P extends Purpose>(purpose: P, body: RecordBodies[P], by: string): void => {
    chain.push(signRecord(purpose, headOf(chain), body, (world.devices[by] as DeviceKeys).signing));
  };
  const version = (
    at: ReturnType<typeof here>,
    n: number,
    parent: number | null,
    epoch: number,
    author: string,
  ): RecordBodies['version'] => ({
    ...at,
    version: n,
    parentVersion: parent,
    epoch,
    contentHash: new Uint8Array(64).fill(n),
    size: n,
    keySlotHash: new Uint8Array(64),
    authorDeviceId: author,
    encryptedMetadata: new Uint8Array(40).fill(n),
  });
  return { chain, here, add, version };
};

t.test(
  'item 3: a document chain never goes back to older positions (revoked device + server)',
  async (t) => {
    const { world, epoch0 } = await World.scene();
    world.enrol('alice', 'a2');
    world.confirm('alice', 'a2', 'a1'); // a2 starts epoch 1 below: only a confirmed device may
    world.heartbeat();
    world.wrapForNew('a1', epoch0);
    const doc = documentOf(world);
    const before = doc.here();
    doc.add('document-created', { ...before, epoch: 0 }, 'a1');
    // The stolen tablet a1 is revoked; a2 starts a new epoch and writes version 1.
    world.revoke('alice', 'a1');
    world.heartbeat();
    world.startEpoch('a2', 'revocation', epoch0);
    doc.add('version', doc.version(doc.here(), 1, null, 1, 'a2'), 'a2');
    const honest = [...doc.chain];
    t.equal(DocumentState.fold(world.state(), honest, firstSync).versions.length, 1);

    // a1, with the server's help, appends a version under epoch 0 at pre-revocation positions.
    doc.add('version', doc.version(before, 2, 1, 0, 'a1'), 'a1');
    expectError(
      t,
      () => DocumentState.fold(world.state(), doc.chain, firstSync),
      ChainError,
      CryptoErrorCode.chainBroken,
    );
    // ... or an erasure record, which makes devices delete their files.
    doc.chain.splice(honest.length);
    doc.add('document-erased', before, 'a1');
    expectError(
      t,
      () => DocumentState.fold(world.state(), doc.chain, firstSync),
      ChainError,
      CryptoErrorCode.chainBroken,
    );
    // A committee head older than the predecessor's is refused on its own too (valid signer).
    doc.chain.splice(honest.length);
    doc.add('document-deleted', { ...doc.here(), committeeHead: before.committeeHead }, 'a2');
    expectError(
      t,
      () => DocumentState.fold(world.state(), doc.chain, firstSync),
      ChainError,
      CryptoErrorCode.chainBroken,
    );
    // The same positions as the predecessor are fine.
    doc.chain.splice(honest.length);
    doc.add('document-deleted', doc.here(), 'a2');
    t.ok(DocumentState.fold(world.state(), doc.chain, firstSync).deleted);
  },
);

t.test(
  'item 7: a future-dated heartbeat counts as stale and never blocks later honest ones',
  async (t) => {
    const { world, epoch0 } = await World.scene();
    const now = world.now;
    // An admin device with a clock a month ahead (or a record replayed from a test tenant).
    world.heartbeat(now + 30 * day);
    expectError(
      t,
      () => requireFresh(world.trust(), now),
      StaleCommitteeStateError,
      CryptoErrorCode.staleCommitteeState,
    );
    expectError(
      t,
      () => world.startEpoch('a1', 'rotation', epoch0),
      StaleCommitteeStateError,
      CryptoErrorCode.staleCommitteeState,
    );
    // The next honest heartbeat is accepted and makes the state fresh again.
    world.heartbeat(now + 60);
    const trust = world.trust();
    t.equal(trust.latestHeartbeat?.time, now + 60);
    requireFresh(trust, now + 61);
    t.ok(world.startEpoch('a1', 'rotation', epoch0));
    // Within the allowed skew, a heartbeat slightly ahead of this device's clock is fresh.
    world.heartbeat(now + 120);
    requireFresh(world.trust(), now + 61);
  },
);

t.test('item 9: a committee chain is bound to the trust view’s tenant', async (t) => {
  const world = await World.create();
  world.appendCommittee(
    'committee-created',
    { tenantId: 'other', committeeId: 'finance', tenantPosition: world.tenantPosition },
    world.admin.signing,
  );
  expectError(
    t,
    () => CommitteeState.fold(world.trust(), world.committee),
    TrustError,
    CryptoErrorCode.untrustedKey,
  );
});

t.test(
  'item 9: a device revocation counts only in the device’s own user chain (admin)',
  async (t) => {
    const { world } = await World.scene();
    // An admin device revokes alice's a1 through bob's chain.
    world.revoke('alice', 'a1', 'bob');
    expectError(t, () => world.trust(), TrustError, CryptoErrorCode.untrustedKey);
    world.users.bob!.pop();
    world.revoke('alice', 'a1');
    t.ok(world.trust().device(fingerprint(world.devices.a1!.signing.publicKey))?.revokedAt);
  },
);

t.test('item 9: a renewal carrying another KEM key is refused, never ignored', async (t) => {
  const { world } = await World.scene();
  const a1 = world.devices.a1!;
  const renew = (kemKey: Uint8Array) =>
    world.appendUser(
      'alice',
      'device-certificate',
      {
        tenantId: 'city',
        userId: 'alice',
        deviceId: 'a1',
        signingKey: a1.signing.publicKey,
        kemKey,
        notBefore: world.now,
        notAfter: world.now + 60 * day,
        tenantPosition: world.tenantPosition,
        enrolmentCodeId: null,
      },
      world.admin.signing,
    );
  renew(generateDeviceKeys().kem.publicKey);
  expectError(t, () => world.trust(), TrustError, CryptoErrorCode.untrustedKey);
  world.users.alice!.pop();
  renew(a1.kem.publicKey);
  t.equal(
    world.trust().device(fingerprint(a1.signing.publicKey))?.notAfter,
    world.now + 60 * day,
    'a renewal with the same keys extends validity',
  );
});

t.test('item 9: a version’s author field must be its signer (staff device)', async (t) => {
  const { world } = await World.scene();
  world.enrol('alice', 'a2');
  world.heartbeat();
  const doc = documentOf(world);
  doc.add('document-created', { ...doc.here(), epoch: 0 }, 'a1');
  doc.add('version', doc.version(doc.here(), 1, null, 0, 'a2'), 'a1');
  expectError(
    t,
    () => DocumentState.fold(world.state(), doc.chain, firstSync),
    TrustError,
    CryptoErrorCode.unauthorisedSigner,
  );
  doc.chain.pop();
  doc.add('version', doc.version(doc.here(), 1, null, 0, 'a1'), 'a1');
  t.equal(
    DocumentState.fold(world.state(), doc.chain, firstSync).latest?.body.authorDeviceId,
    'a1',
  );
});

t.test('item 9: a heads-seen record names its own signer’s tenant, user and device', async (t) => {
  const { world } = await World.scene();
  world.enrol('alice', 'a2');
  const headsSeen = (userId: string, deviceId: string, by: string, tenantId = 'city') =>
    signRecord(
      'heads-seen',
      headOf(world.users[userId]!),
      { tenantId, userId, deviceId, tenantPosition: world.tenantPosition, heads: [] },
      world.devices[by]!.signing,
    );
  // In the user's own chain: a1 signs heads-seen naming a2.
  world.users.alice!.push(headsSeen('alice', 'a2', 'a1'));
  expectError(t, () => world.trust(), TrustError, CryptoErrorCode.unauthorisedSigner);
  world.users.alice!.pop();
  const trust = world.trust();
  const mine = new SeenHeads();
  // Presented on its own: bob's device signing for alice, for a2, or for another tenant.
  for (const bytes of [
    headsSeen('alice', 'b1', 'b1'),
    headsSeen('alice', 'a2', 'a1'),
    headsSeen('alice', 'a1', 'a1', 'other'),
  ]) {
    expectError(
      t,
      () => checkHeadsSeen(bytes, trust, mine),
      TrustError,
      CryptoErrorCode.unauthorisedSigner,
    );
  }
  t.same(checkHeadsSeen(headsSeen('alice', 'a1', 'a1'), trust, mine), []);
});

t.test(
  'item 9: sealing refuses Argon2id parameters that opening refuses, upper bounds too',
  async (t) => {
    await World.create();
    const keys = generateDeviceKeys();
    await t.rejects(
      sealKeysWithPassphrase(keys, 'pw', {
        opslimit: 11,
        memlimitKiB: minimumArgon2id.memlimitKiB,
      }),
      { code: CryptoErrorCode.kdfParametersOutOfRange },
    );
    await t.rejects(sealKeysWithPassphrase(keys, 'pw', { opslimit: 3, memlimitKiB: 512 * 1024 }), {
      code: CryptoErrorCode.kdfParametersOutOfRange,
    });
    // A tampered header demanding more is refused before any derivation (no gigabytes).
    const sealed = await sealKeysWithPassphrase(keys, 'pw');
    for (const [offset, value] of [
      [2, 11],
      [6, 0xffffffff],
      [6, 512 * 1024],
    ] as const) {
      const changed = Uint8Array.from(sealed);
      new DataView(changed.buffer).setUint32(offset, value);
      const err = (await openKeysWithPassphrase(changed, 'pw').catch((e: unknown) => e)) as {
        code?: string;
      };
      t.ok(err instanceof KeyStoreError);
      t.equal(err.code, CryptoErrorCode.kdfParametersOutOfRange);
    }
  },
);

t.test('item 9: the epoch key itself is not the key-slot key (derived subkey)', async (t) => {
  await World.create();
  const s = sodium();
  const epochKey = s.randombytes_buf(32);
  const contentKey = s.randombytes_buf(32);
  const binding = {
    tenantId: 'city',
    committeeId: 'finance',
    documentId: 'doc_1',
    version: 1,
    epoch: 0,
  };
  const slot = sealKeySlot({ epochKey, contentKey, binding });
  // A slot sealed directly under the epoch key (as before) no longer opens ...
  const nonce = s.randombytes_buf(24);
  const direct = new Uint8Array([
    ...slot.subarray(0, 2),
    ...nonce,
    ...s.crypto_aead_xchacha20poly1305_ietf_encrypt(
      contentKey,
      encodeBinding(BindingLabel.keySlot, 1, binding, binding.committeeId),
      null,
      nonce,
      epochKey,
    ),
  ]);
  expectError(
    t,
    () => openKeySlot(direct, { epochKey, binding }),
    KeySlotError,
    CryptoErrorCode.decryptionFailed,
  );
  // ... and a slot sealKeySlot made does not open under the raw epoch key.
  t.throws(() =>
    s.crypto_aead_xchacha20poly1305_ietf_decrypt(
      null,
      slot.subarray(26),
      encodeBinding(BindingLabel.keySlot, 1, binding, binding.committeeId),
      slot.subarray(2, 26),
      epochKey,
    ),
  );
  t.same(openKeySlot(slot, { epochKey, binding }), contentKey);
});

t.test(
  'item 8: the deterministic-randomness switch is test-only; generation refuses it outside tests',
  async (t) => {
    await World.create();
    const publicApi: Record<string, unknown> = await import('../src/index.js');
    t.notOk('useDeterministicRandomnessForTests' in publicApi, 'not in the public entry point');
    const manifest = JSON.parse(
      readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
    ) as { exports: Record<string, Record<string, string>> };
    t.same(
      Object.keys(manifest.exports['./testing'] ?? {}),
      ['ratsfach-source'],
      'the test-only entry point resolves from source only, never from a build',
    );
    // Armed by code that is not a test (a built module), key and nonce generation refuse.
    const { armDeterministicRandomness } = await import('../src/randomSeam.js');
    const disarm = armDeterministicRandomness(
      new Uint8Array(32).fill(1),
      'file:///srv/app/node_modules/@ratsfach/crypto/dist/testing.js',
    );
    try {
      for (const generate of [
        () => generateDeviceKeys(),
        () => generateEpochKey(),
        () =>
          sealKeySlot({
            epochKey: new Uint8Array(32),
            contentKey: new Uint8Array(32),
            binding: {
              tenantId: 'city',
              committeeId: 'finance',
              documentId: 'd',
              version: 1,
              epoch: 0,
            },
          }),
      ]) {
        expectError(t, generate, CryptoValidationError, CryptoErrorCode.deterministicRandomness);
      }
    } finally {
      disarm();
    }
    t.equal(generateEpochKey().length, 32, 'real randomness again once disarmed');
    // Through the test-only entry point (loaded from source by the test runner) it works.
    const { useDeterministicRandomnessForTests } = await import('../src/testing.js');
    const restore = useDeterministicRandomnessForTests(new Uint8Array(32).fill(2));
    const first = generateEpochKey();
    restore();
    const again = useDeterministicRandomnessForTests(new Uint8Array(32).fill(2));
    t.same(generateEpochKey(), first);
    again();
  },
);

/** What a device holding `deviceId`'s keys sees when the server serves `committee` and `users`. */
const deviceView = (
  world: World,
  deviceId: string,
  served: { committee?: Uint8Array[]; users?: Record<string, Uint8Array[]> } = {},
) => {
  const trust = TrustView.build({
    rootPin: world.code.rootPin,
    tenantChain: world.tenant,
    userChains: served.users ?? world.users,
  });
  const committee = CommitteeState.fold(trust, served.committee ?? world.committee);
  return {
    trust,
    committee,
    context: { trust, committee, self: world.devices[deviceId]!, now: world.now },
  };
};

const withoutLast = (chain: readonly Uint8Array[]): Uint8Array[] => chain.slice(0, -1);

t.test(
  'item 1: a withheld removal stops wrapping and writing once a fresh heartbeat names the committee head',
  async (t) => {
    const { world, epoch0 } = await World.scene();
    world.addUser('carol');
    world.enrol('carol', 'c1');
    world.cosign(world.addMember('carol', 'reader'), 'a1');
    world.confirm('carol', 'c1', 'a1', world.committeeId);
    world.heartbeat();
    world.wrapForNew('a1', epoch0);
    // The admin removes bob; the admin agent's next heartbeat names the committee head after it.
    world.removeMember('bob');
    world.now += day;
    world.heartbeat();
    // The server withholds the removal from a1 (and keeps serving fresh heartbeats).
    const withheld = withoutLast(world.committee);
    const view = deviceView(world, 'a1', { committee: withheld });
    t.ok(view.committee.keyHolders().includes('bob'), 'a1 still sees bob as a key holder');
    expectError(
      t,
      () => startEpoch(view.context, 'rotation', epoch0),
      StaleCommitteeStateError,
      CryptoErrorCode.staleCommitteeState,
    );
    expectError(
      t,
      () => wrapForNewDevices(view.context, epoch0),
      StaleCommitteeStateError,
      CryptoErrorCode.staleCommitteeState,
    );
    // Writing: a version to an existing document, or a new document, both pass requireWritable.
    expectError(
      t,
      () =>
        requireWritable(
          view.trust,
          view.committee,
          fingerprint(world.devices.a1!.signing.publicKey),
          world.now,
        ),
      StaleCommitteeStateError,
      CryptoErrorCode.staleCommitteeState,
    );
    // Changed rather than withheld: the server serves another record at the removal's place.
    const changed = [
      ...withheld,
      signRecord(
        'retention',
        headOf(withheld),
        {
          tenantId: 'city',
          committeeId: 'finance',
          tenantPosition: world.tenantPosition,
          retentionDays: 5,
        },
        world.devices.a1!.signing,
      ),
    ];
    const forked = deviceView(world, 'a1', { committee: changed });
    expectError(
      t,
      () => startEpoch(forked.context, 'rotation', epoch0),
      ForkError,
      CryptoErrorCode.fork,
    );
    // A committee the newest heartbeat does not name (a new committee chain) is stale too.
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
    expectError(
      t,
      () => startEpoch(deviceView(world, 'a1').context, 'rotation', epoch0),
      StaleCommitteeStateError,
      CryptoErrorCode.staleCommitteeState,
    );
    // The full chain, named by a fresh heartbeat: a new epoch without bob.
    world.heartbeat();
    const full = deviceView(world, 'a1');
    const { record } = startEpoch(full.context, 'removal', epoch0);
    world.committee.push(record);
    const holders = [...world.state().epoch(1)!.wrapped.keys()].map(
      (fp) => world.trust().device(fp)!.userId,
    );
    t.same([...new Set(holders)].sort(), ['alice', 'carol']);
  },
);

t.test(
  'item 2: a withheld device revocation stops writing under the epoch the revoked device holds',
  async (t) => {
    for (const stolen of ['b1', 'a2'] as const) {
      // b1: a reader's tablet; a2: a staff member's second device.
      const { world, epoch0 } = await World.scene();
      world.enrol('alice', 'a2');
      world.confirm('alice', 'a2', 'a1');
      world.heartbeat();
      world.wrapForNew('a1', epoch0);
      const owner = stolen === 'b1' ? 'bob' : 'alice';
      world.revoke(owner, stolen);
      world.now += day;
      world.heartbeat();
      const served = { ...world.users, [owner]: withoutLast(world.users[owner]!) };
      const view = deviceView(world, 'a1', { users: served });
      t.notOk(view.committee.needsNewEpoch(), `${stolen}'s revocation is hidden from a1`);
      expectError(
        t,
        () =>
          requireWritable(
            view.trust,
            view.committee,
            fingerprint(world.devices.a1!.signing.publicKey),
            world.now,
          ),
        StaleCommitteeStateError,
        CryptoErrorCode.staleCommitteeState,
      );
      // With the revocation served, a new epoch is due before anyone writes.
      const full = deviceView(world, 'a1');
      expectError(
        t,
        () =>
          requireWritable(
            full.trust,
            full.committee,
            fingerprint(world.devices.a1!.signing.publicKey),
            world.now,
          ),
        EpochDueError,
        CryptoErrorCode.epochDue,
      );
    }
  },
);

t.test('item 2: a heartbeat that names no key holder refuses writing', async (t) => {
  const { world } = await World.scene();
  world.appendTenant(
    'heartbeat',
    {
      tenantId: 'city',
      signerDeviceId: 'admin1',
      time: world.now,
      userHeads: {},
      committeeHeads: {
        finance: { length: world.committee.length, hash: headOf(world.committee).previousHash },
      },
    },
    world.admin.signing,
  );
  const view = deviceView(world, 'a1');
  expectError(
    t,
    () =>
      requireWritable(
        view.trust,
        view.committee,
        fingerprint(world.devices.a1!.signing.publicKey),
        world.now,
      ),
    StaleCommitteeStateError,
    CryptoErrorCode.staleCommitteeState,
  );
});

t.test(
  'item 4: writing rights end with revocation, removal and expiry, also for new documents',
  async (t) => {
    const setup = async () => {
      const { world, epoch0 } = await World.scene();
      world.enrol('alice', 'a2');
      world.addUser('dave');
      world.enrol('dave', 'd1', 40 * day);
      world.cosign(world.addMember('dave', 'staff'), 'a1');
      // Both writers are confirmed (document records need it), so what refuses them below is
      // the revocation, the removal or the expiry.
      world.confirm('alice', 'a2', 'a1');
      world.confirm('dave', 'd1', 'a1', world.committeeId);
      world.heartbeat();
      world.wrapForNew('a1', epoch0);
      // A device keeps the floor of its last complete sync.
      const floor = world.trust().judgingFloor('finance');
      const before = documentOf(world).here();
      return { world, epoch0, floor, before };
    };
    const newDocument = (world: World, at: RecordBodies['document-created'], by: string) => {
      const doc = documentOf(world);
      doc.add('document-created', at, by);
      doc.add('version', doc.version({ ...at }, 1, null, at.epoch, by), by);
      return doc.chain;
    };

    // Revocation: the stolen a2 starts a new document at pre-revocation positions.
    {
      const { world, before } = await setup();
      const honestOld = newDocument(world, { ...before, documentId: 'doc_old', epoch: 0 }, 'a2');
      world.revoke('alice', 'a2');
      world.heartbeat();
      const floor = world.trust().judgingFloor('finance');
      const forged = newDocument(world, { ...before, documentId: 'doc_new', epoch: 0 }, 'a2');
      expectError(
        t,
        () => DocumentState.fold(world.state(), forged, { accepted: 0, floor }),
        TrustError,
        CryptoErrorCode.revoked,
      );
      // The same record, accepted by this device before the revocation, stays history.
      t.equal(
        DocumentState.fold(world.state(), honestOld, { accepted: honestOld.length, floor }).versions
          .length,
        1,
      );
      // Appended to an existing chain, past what this device accepted: refused as well.
      const doc = documentOf(world);
      doc.chain.push(...honestOld);
      doc.add('document-deleted', { ...before, documentId: 'doc_old' }, 'a2');
      expectError(
        t,
        () => DocumentState.fold(world.state(), doc.chain, { accepted: honestOld.length, floor }),
        TrustError,
        CryptoErrorCode.revoked,
      );
    }
    // Removal: dave is removed from the committee, then starts a document at old heads.
    {
      const { world, before } = await setup();
      world.removeMember('dave');
      world.heartbeat();
      const floor = world.trust().judgingFloor('finance');
      const forged = newDocument(world, { ...before, documentId: 'doc_new', epoch: 0 }, 'd1');
      expectError(
        t,
        () => DocumentState.fold(world.state(), forged, { accepted: 0, floor }),
        TrustError,
        CryptoErrorCode.unauthorisedSigner,
      );
    }
    // Expiry: d1's certificate ran out; it names a position from its valid days.
    {
      const { world, before } = await setup();
      world.now += 45 * day;
      world.heartbeat();
      const floor = world.trust().judgingFloor('finance');
      const forged = newDocument(world, { ...before, documentId: 'doc_new', epoch: 0 }, 'd1');
      expectError(
        t,
        () => DocumentState.fold(world.state(), forged, { accepted: 0, floor }),
        TrustError,
        CryptoErrorCode.certificateNotValid,
      );
    }
    // An honest record written after the floor the device kept is accepted.
    {
      const { world, floor } = await setup();
      const at = documentOf(world).here();
      world.revoke('bob', 'b1');
      world.heartbeat();
      const honest = newDocument(world, { ...at, documentId: 'doc_2', epoch: 0 }, 'a2');
      t.equal(DocumentState.fold(world.state(), honest, { accepted: 0, floor }).versions.length, 1);
    }
  },
);

t.test(
  'item 5: an unusable KEM key is refused at enrolment and skipped, never aborting an epoch',
  async (t) => {
    const { world, epoch0 } = await World.scene();
    // A malicious member's device enrols with a KEM key no encapsulation accepts.
    const broken = { ...generateDeviceKeys() };
    const bad = { ...broken, kem: { ...broken.kem, publicKey: new Uint8Array(1216).fill(0xff) } };
    const code = createEnrolmentCode(world.root.publicKey);
    const request = createEnrolmentRequest(
      code,
      { tenantId: 'city', userId: 'bob', deviceId: 'b2' },
      bad,
    );
    expectError(
      t,
      () =>
        certifyEnrolledDevice(
          request,
          code,
          {
            issuedFor: { tenantId: 'city', userId: 'bob' },
            notBefore: world.now,
            notAfter: world.now + day,
            tenantPosition: world.tenantPosition,
            link: headOf(world.users.bob!),
          },
          world.admin.signing,
        ),
      TrustError,
      CryptoErrorCode.unusableKey,
    );
    // Certified anyway (an admin device that skipped the check): the fold marks it unusable,
    // a new epoch skips and reports it, and everyone else gets the key.
    world.appendUser(
      'bob',
      'device-certificate',
      {
        tenantId: 'city',
        userId: 'bob',
        deviceId: 'b2',
        signingKey: bad.signing.publicKey,
        kemKey: bad.kem.publicKey,
        notBefore: world.now,
        notAfter: world.now + day,
        tenantPosition: world.tenantPosition,
        enrolmentCodeId: null,
      },
      world.admin.signing,
    );
    world.devices.b2 = bad;
    world.confirm('bob', 'b2', 'b1');
    world.heartbeat();
    const view = deviceView(world, 'a1');
    const b2 = fingerprint(bad.signing.publicKey);
    t.equal(view.trust.device(b2)?.usableKemKey, false);
    const started = startEpoch(view.context, 'rotation', epoch0);
    t.same(
      started.skipped.map((d) => d.deviceId),
      ['b2'],
      'the unusable recipient is reported',
    );
    world.committee.push(started.record);
    const wrappedFor = [...world.state().epoch(1)!.wrapped.keys()];
    t.ok(wrappedFor.includes(fingerprint(world.devices.b1!.signing.publicKey)));
    t.notOk(wrappedFor.includes(b2));
    // Wrapping for it directly is a typed error, not libsodium's "invalid usage".
    expectError(
      t,
      () =>
        wrapEpochKey({ tenantId: 'city', committeeId: 'finance', epoch: 1 }, epoch0, {
          fingerprint: b2,
          kemKey: bad.kem.publicKey,
        }),
      TrustError,
      CryptoErrorCode.unusableKey,
    );
  },
);

t.test(
  'item 4: committee records new to a device are judged at its floor, not where they say',
  async (t) => {
    const { world, epoch0 } = await World.scene();
    world.enrol('alice', 'a2');
    world.confirm('alice', 'a2', 'a1');
    world.heartbeat();
    t.ok(world.wrapForNew('a1', epoch0), 'a2 holds epoch 0');
    const oldPosition = world.tenantPosition;
    // bob's device syncs: it accepted the committee chain so far and stores its floor later.
    const accepted = world.committee.length;
    // alice's a2 is stolen and revoked; the admin agent signs a heartbeat after it.
    world.revoke('alice', 'a2');
    world.now += day;
    world.heartbeat();
    const floor = world.trust().judgingFloor('finance');
    t.ok(floor.tenantPosition > oldPosition);
    // The thief, with the server, appends a key record naming the position before revocation
    // (the chain's last named position, so the chain itself does not go back).
    world.appendCommittee(
      'epoch-keys',
      {
        tenantId: 'city',
        committeeId: 'finance',
        epoch: 0,
        tenantPosition: oldPosition,
        wrappedKeys: [
          wrapEpochKey({ tenantId: 'city', committeeId: 'finance', epoch: 0 }, epoch0, {
            fingerprint: fingerprint(world.devices.b1!.signing.publicKey),
            kemKey: world.devices.b1!.kem.publicKey,
          }),
        ],
      },
      world.devices.a2!.signing,
    );
    t.ok(CommitteeState.fold(world.trust(), world.committee), 'without a floor it passes');
    expectError(
      t,
      () => CommitteeState.fold(world.trust(), world.committee, { accepted, floor }),
      TrustError,
      CryptoErrorCode.revoked,
    );
    // Records the device had accepted stay judged where they say; an honest record after the
    // floor is accepted.
    world.committee.pop();
    world.heartbeat();
    t.notOk(world.wrapForNew('a1', epoch0), 'nothing new to wrap');
    world.appendCommittee(
      'retention',
      {
        tenantId: 'city',
        committeeId: 'finance',
        tenantPosition: world.tenantPosition,
        retentionDays: 30,
      },
      world.devices.a1!.signing,
    );
    t.equal(
      CommitteeState.fold(world.trust(), world.committee, { accepted, floor }).retentionDays,
      30,
    );
    // A floor beyond the tenant chain this device holds is refused, typed.
    expectError(
      t,
      () =>
        CommitteeState.fold(world.trust(), world.committee, {
          accepted,
          floor: { tenantPosition: world.tenantPosition + 5, committeeLength: 0 },
        }),
      ChainError,
      CryptoErrorCode.chainBroken,
    );
  },
);
