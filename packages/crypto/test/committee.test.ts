import t from 'tap';
import { World, day } from './support/world.js';
import { openEpochKeys, requireEpochKey } from '../src/committee/epochKeys.js';
import {
  CryptoErrorCode,
  DecryptionError,
  EncodingError,
  EpochDueError,
  StaleCommitteeStateError,
  requireWritable,
  KeyListError,
  TrustError,
  epochKeyCommitment,
  fingerprint,
  headsCode,
  sealPreviousEpochKey,
  wrapEpochKey,
} from '../src/index.js';
import { expectError } from './support/expectError.js';

t.test('every co-signed member device opens the epoch key the staff device started', async (t) => {
  const { world, epoch0 } = await World.scene();
  const state = world.state();
  t.equal(state.currentEpoch, 0);
  t.same(state.keyHolders(), ['alice', 'bob']);
  t.same(openEpochKeys(state, world.devices.a1!).get(0), epoch0);
  t.same(openEpochKeys(state, world.devices.b1!).get(0), epoch0);
  t.notOk(state.needsNewEpoch());
});

t.test('a new device gets the current key wrapped, and through it the whole history', async (t) => {
  const { world, epoch0 } = await World.scene();
  world.now += day;
  world.heartbeat();
  const epoch1 = world.startEpoch('a1', 'rotation', epoch0);
  world.enrol('bob', 'b2');
  world.heartbeat();
  t.notOk(world.wrapForNew('a1', epoch1), "b2 waits until one of bob's devices confirms it");
  world.confirm('bob', 'b2', 'b1');
  world.heartbeat();
  t.ok(world.wrapForNew('a1', epoch1));
  t.notOk(world.wrapForNew('a1', epoch1), 'nothing left to wrap');
  const keys = openEpochKeys(world.state(), world.devices.b2!);
  t.same(keys.get(1), epoch1);
  t.same(keys.get(0), epoch0);
});

t.test('a removed member cannot open the epoch started after the removal', async (t) => {
  const { world, epoch0 } = await World.scene();
  world.removeMember('bob');
  t.ok(world.state().needsNewEpoch());
  world.heartbeat();
  world.startEpoch('a1', 'removal', epoch0);
  const state = world.state();
  const bobKeys = openEpochKeys(state, world.devices.b1!);
  t.same(bobKeys.get(0), epoch0, 'bob keeps what he had');
  const err = t.throws(() => requireEpochKey(bobKeys, 1), KeyListError) as KeyListError;
  t.equal(err.code, CryptoErrorCode.noWrappedKey);
  t.ok(openEpochKeys(state, world.devices.a1!).get(1));
});

t.test('an epoch that skips a number or lacks its predecessor key is refused', async (t) => {
  const { world, epoch0 } = await World.scene();
  const a1 = world.devices.a1!;
  const ref = { tenantId: 'city', committeeId: 'finance', epoch: 2 };
  const wrapped = wrapEpochKey(ref, epoch0, {
    fingerprint: fingerprint(a1.signing.publicKey),
    kemKey: a1.kem.publicKey,
  });
  const base = {
    tenantId: 'city',
    committeeId: 'finance',
    reason: 'rotation' as const,
    tenantPosition: world.tenantPosition,
    keyCommitment: new Uint8Array(64),
    wrappedKeys: [wrapped],
  };
  world.appendCommittee(
    'key-epoch',
    {
      ...base,
      epoch: 2,
      previousKey: { nonce: new Uint8Array(24), sealedKey: new Uint8Array(48) },
    },
    a1.signing,
  );
  expectError(t, () => world.state(), EncodingError, CryptoErrorCode.malformed);
  world.committee.pop();
  world.appendCommittee('key-epoch', { ...base, epoch: 1, previousKey: null }, a1.signing);
  expectError(t, () => world.state(), EncodingError, CryptoErrorCode.malformed);
});

t.test(
  'a staff device that wraps a key other than the committed one is caught by the commitment',
  async (t) => {
    const { world, epoch0 } = await World.scene();
    const a1 = world.devices.a1!;
    const b1 = world.devices.b1!;
    const ref = { tenantId: 'city', committeeId: 'finance', epoch: 1 };
    const honest = new Uint8Array(32).fill(1);
    const other = new Uint8Array(32).fill(2);
    world.heartbeat();
    world.appendCommittee(
      'key-epoch',
      {
        tenantId: 'city',
        committeeId: 'finance',
        epoch: 1,
        reason: 'rotation',
        tenantPosition: world.tenantPosition,
        keyCommitment: epochKeyCommitment(ref, honest),
        previousKey: sealPreviousEpochKey(ref, honest, epoch0),
        wrappedKeys: [
          wrapEpochKey(ref, honest, {
            fingerprint: fingerprint(a1.signing.publicKey),
            kemKey: a1.kem.publicKey,
          }),
          wrapEpochKey(ref, other, {
            fingerprint: fingerprint(b1.signing.publicKey),
            kemKey: b1.kem.publicKey,
          }),
        ],
      },
      a1.signing,
    );
    const state = world.state();
    t.same(openEpochKeys(state, a1).get(1), honest);
    expectError(t, () => openEpochKeys(state, b1), DecryptionError, CryptoErrorCode.hashMismatch);
  },
);

t.test('removing or changing the role of someone who is not a member is refused', async (t) => {
  const { world } = await World.scene();
  world.addUser('carol');
  world.removeMember('carol');
  expectError(t, () => world.state(), TrustError, CryptoErrorCode.unauthorisedSigner);
  world.committee.pop();
  world.appendCommittee(
    'membership',
    {
      tenantId: 'city',
      committeeId: 'finance',
      userId: 'nobody',
      change: 'add',
      role: 'reader',
      tenantPosition: world.tenantPosition,
    },
    world.admin.signing,
  );
  expectError(t, () => world.state(), TrustError, CryptoErrorCode.untrustedKey);
});

t.test('a role change to reader takes away the right to start epochs', async (t) => {
  const { world, epoch0 } = await World.scene();
  world.appendCommittee(
    'membership',
    {
      tenantId: 'city',
      committeeId: 'finance',
      userId: 'alice',
      change: 'changeRole',
      role: 'reader',
      tenantPosition: world.tenantPosition,
    },
    world.admin.signing,
  );
  world.heartbeat();
  expectError(
    t,
    () => world.startEpoch('a1', 'rotation', epoch0),
    TrustError,
    CryptoErrorCode.unauthorisedSigner,
  );
});

t.test(
  'the heads code is short, stable and independent of the order heads are listed in',
  async (t) => {
    const heads = [
      { stream: 'tenant-city', length: 3, hash: new Uint8Array(64).fill(1) },
      { stream: 'committee-city-finance', length: 5, hash: new Uint8Array(64).fill(2) },
    ];
    const code = headsCode(heads);
    t.match(code, /^[A-Z2-7]{5}-[A-Z2-7]{5}$/);
    t.equal(headsCode([...heads].reverse()), code);
    t.not(headsCode([{ ...heads[0]!, length: 4 }, heads[1]!]), code);
  },
);

t.test('writing needs a fresh heartbeat, a staff device and no epoch due', async (t) => {
  const { world, epoch0 } = await World.scene();
  const a1 = fingerprint(world.devices.a1!.signing.publicKey);
  t.equal(requireWritable(world.trust(), world.state(), a1, world.now), 0);
  expectError(
    t,
    () =>
      requireWritable(
        world.trust(),
        world.state(),
        fingerprint(world.devices.b1!.signing.publicKey),
        world.now,
      ),
    TrustError,
    CryptoErrorCode.unauthorisedSigner,
  );
  world.removeMember('bob');
  expectError(
    t,
    () => requireWritable(world.trust(), world.state(), a1, world.now),
    EpochDueError,
    CryptoErrorCode.epochDue,
  );
  world.heartbeat();
  world.startEpoch('a1', 'removal', epoch0);
  t.equal(requireWritable(world.trust(), world.state(), a1, world.now), 1);
  expectError(
    t,
    () => requireWritable(world.trust(), world.state(), a1, world.now + 30 * day),
    StaleCommitteeStateError,
    CryptoErrorCode.staleCommitteeState,
  );
});

t.test(
  'retention: N days is a rule, null means no rule; an admin or staff device signs it, a reader cannot',
  async (t) => {
    const { world } = await World.scene();
    const retention = (retentionDays: number | null) => ({
      tenantId: 'city',
      committeeId: 'finance',
      tenantPosition: world.tenantPosition,
      retentionDays,
    });
    t.equal(world.state().retentionDays, null, 'no rule before any retention record');
    world.appendCommittee('retention', retention(30), world.admin.signing);
    t.equal(world.state().retentionDays, 30);
    world.appendCommittee('retention', retention(null), world.devices.a1!.signing);
    t.equal(world.state().retentionDays, null, 'null clears the rule: erasure is not blocked');
    world.appendCommittee('retention', retention(7), world.devices.b1!.signing);
    expectError(t, () => world.state(), TrustError, CryptoErrorCode.unauthorisedSigner);
  },
);
