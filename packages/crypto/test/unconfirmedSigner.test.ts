/**
 * Issue 8 item 6, the signer's side: a key-epoch record (a new epoch, or keys wrapped into the
 * current one) counts only when its signer is a device confirmed for the committee in the
 * folding device's view. Otherwise an admin alone could certify a new device for an existing
 * staff member, start an epoch from it with a key it chose, wrap that key for every member
 * device, and read everything written afterwards. Each test plays that admin (with the server)
 * and asserts the typed refusal, on the device that folds the chain and on the device that
 * would sign.
 */
import t, { type Test } from 'tap';
import type { WrappedKey } from '@ratsfach/kernel';
import { World, headOf } from './support/world.js';
import { expectError } from './support/expectError.js';
import {
  CommitteeState,
  CryptoErrorCode,
  TrustError,
  epochKeyCommitment,
  fingerprint,
  generateEpochKey,
  openEpochKeys,
  sealPreviousEpochKey,
  signRecord,
  startEpoch,
  wrapEpochKey,
  wrapForNewDevices,
  type DeviceKeys,
} from '../src/index.js';

const signerNotConfirmed = CryptoErrorCode.signerNotConfirmed;

/** What `deviceId` would sign with: its wrap context on the honest chains. */
const contextOf = (world: World, deviceId: string) => {
  const trust = world.trust();
  return {
    trust,
    committee: CommitteeState.fold(trust, world.committee),
    self: world.devices[deviceId] as DeviceKeys,
    now: world.now,
  };
};

const wrapFor = (world: World, epoch: number, key: Uint8Array, deviceIds: readonly string[]) =>
  deviceIds.map((id): WrappedKey =>
    wrapEpochKey({ tenantId: world.tenantId, committeeId: world.committeeId, epoch }, key, {
      fingerprint: fingerprint((world.devices[id] as DeviceKeys).signing.publicKey),
      kemKey: (world.devices[id] as DeviceKeys).kem.publicKey,
    }),
  );

/**
 * The attacker's key-epoch record, signed by `byDevice` without any of startEpoch's checks: a
 * key it chose, wrapped for `recipients`, sealing `previousKey` (what it knows of the last one).
 */
const forgeEpoch = (
  world: World,
  byDevice: string,
  epoch: number,
  recipients: readonly string[],
  previousKey: Uint8Array | null,
): Uint8Array => {
  const ref = { tenantId: world.tenantId, committeeId: world.committeeId, epoch };
  const key = generateEpochKey();
  const record = signRecord(
    'key-epoch',
    headOf(world.committee),
    {
      ...ref,
      reason: 'rotation',
      tenantPosition: world.tenantPosition,
      keyCommitment: epochKeyCommitment(ref, key),
      previousKey: previousKey === null ? null : sealPreviousEpochKey(ref, key, previousKey),
      wrappedKeys: wrapFor(world, epoch, key, recipients),
    },
    (world.devices[byDevice] as DeviceKeys).signing,
  );
  world.committee.push(record);
  return key;
};

/** The attacker's epoch-keys record: `key` wrapped into `epoch` for `recipients`. */
const forgeWrap = (
  world: World,
  byDevice: string,
  epoch: number,
  key: Uint8Array,
  recipients: readonly string[],
): void => {
  world.committee.push(
    signRecord(
      'epoch-keys',
      headOf(world.committee),
      {
        tenantId: world.tenantId,
        committeeId: world.committeeId,
        epoch,
        tenantPosition: world.tenantPosition,
        wrappedKeys: wrapFor(world, epoch, key, recipients),
      },
      (world.devices[byDevice] as DeviceKeys).signing,
    ),
  );
};

/** Every device's verdict on the chain: each refuses it as signed by an unconfirmed device. */
const everyoneRefuses = (t: Test, world: World, what: string): void => {
  expectError(t, () => world.state(), TrustError, signerNotConfirmed);
  t.comment(what);
};

t.test(
  'an unconfirmed device of a staff member starts no epoch in an existing committee',
  async (t) => {
    const { world, epoch0 } = await World.scene();
    // The admin alone certifies a2 for alice (staff); it holds a2's keys, alice never saw it.
    world.enrol('alice', 'a2');
    world.heartbeat();
    expectError(
      t,
      () => startEpoch(contextOf(world, 'a2'), 'rotation', null),
      TrustError,
      signerNotConfirmed,
    );
    expectError(
      t,
      () => wrapForNewDevices(contextOf(world, 'a2'), epoch0),
      TrustError,
      signerNotConfirmed,
    );
    // Signed by hand: epoch 1 with a key the admin chose, wrapped for every confirmed device.
    forgeEpoch(world, 'a2', 1, ['a1', 'b1', 'a2'], generateEpochKey());
    everyoneRefuses(t, world, 'a new epoch from a2 is refused');
    world.committee.pop();
    // Keys wrapped into the current epoch from a2 (for its own user's devices, say).
    forgeWrap(world, 'a2', 0, generateEpochKey(), ['a2']);
    everyoneRefuses(t, world, 'a wrap into the current epoch from a2 is refused');
    world.committee.pop();
    // Confirmed by alice's own device (same-user chain), a2 is legitimate: it starts epoch 1
    // and every member opens it.
    world.confirm('alice', 'a2', 'a1');
    world.heartbeat();
    const started = startEpoch(contextOf(world, 'a2'), 'rotation', epoch0);
    world.committee.push(started.record);
    const state = world.state();
    t.equal(state.currentEpoch, 1);
    t.same(openEpochKeys(state, world.devices.b1!).get(1), started.epochKey);
    t.same(openEpochKeys(state, world.devices.b1!).get(0), epoch0);
  },
);

t.test('an unconfirmed device starts no epoch 0 in a newly founded committee', async (t) => {
  // No previous key to seal: without the rule, members would accept the admin's epoch 0.
  const world = await World.create();
  world.addUser('alice');
  world.enrol('alice', 'a1');
  world.addUser('bob');
  world.enrol('bob', 'b1');
  world.createCommittee();
  world.cosign(world.addMember('alice', 'staff'), 'a1');
  world.cosign(world.addMember('bob', 'reader'), 'a1');
  world.confirm('bob', 'b1', 'a1', world.committeeId);
  world.enrol('alice', 'a2');
  world.heartbeat();
  expectError(
    t,
    () => startEpoch(contextOf(world, 'a2'), 'initial', null),
    TrustError,
    signerNotConfirmed,
  );
  forgeEpoch(world, 'a2', 0, ['a1', 'b1'], null);
  everyoneRefuses(t, world, 'epoch 0 from the unconfirmed a2 is refused');
  world.committee.pop();
  // The founding device starts epoch 0 (the bootstrap).
  const epoch0 = world.startEpoch('a1', 'initial', null);
  t.same(openEpochKeys(world.state(), world.devices.b1!).get(0), epoch0);
});

t.test(
  'a staff device confirmed only by another unconfirmed device counts for nothing',
  async (t) => {
    const { world, epoch0 } = await World.scene();
    world.enrol('alice', 'a2');
    world.enrol('alice', 'a3');
    world.confirm('alice', 'a3', 'a2');
    world.heartbeat();
    expectError(
      t,
      () => wrapForNewDevices(contextOf(world, 'a3'), epoch0),
      TrustError,
      signerNotConfirmed,
    );
    forgeEpoch(world, 'a3', 1, ['a1', 'b1'], generateEpochKey());
    everyoneRefuses(t, world, 'a3 vouched for by the unconfirmed a2 is refused');
    world.committee.pop();
    // Once alice's a1 confirms a2, the chain a1 → a2 → a3 holds and a3 may wrap.
    world.confirm('alice', 'a2', 'a1');
    world.heartbeat();
    const started = startEpoch(contextOf(world, 'a3'), 'rotation', epoch0);
    world.committee.push(started.record);
    t.equal(world.state().currentEpoch, 1);
  },
);

t.test(
  'a staff member’s first device confirmed by the committee’s staff may start epochs',
  async (t) => {
    // carol, added and co-signed as staff by the founder a1, whose first device a1 confirmed.
    const { world, epoch0 } = await World.scene();
    world.addUser('carol');
    world.enrol('carol', 'c1');
    world.cosign(world.addMember('carol', 'staff'), 'a1');
    world.heartbeat();
    expectError(
      t,
      () => startEpoch(contextOf(world, 'c1'), 'rotation', epoch0),
      TrustError,
      signerNotConfirmed,
    );
    world.confirm('carol', 'c1', 'a1', world.committeeId);
    world.heartbeat();
    t.ok(world.wrapForNew('a1', epoch0), 'a1 wraps epoch 0 for c1');
    world.heartbeat();
    const started = startEpoch(contextOf(world, 'c1'), 'rotation', epoch0);
    world.committee.push(started.record);
    t.same(openEpochKeys(world.state(), world.devices.b1!).get(1), started.epochKey);
  },
);

t.test('a revoked or demoted staff device starts no epoch, confirmed or not', async (t) => {
  const { world, epoch0 } = await World.scene();
  world.enrol('alice', 'a2');
  world.confirm('alice', 'a2', 'a1');
  world.revoke('alice', 'a2');
  world.heartbeat();
  expectError(
    t,
    () => startEpoch(contextOf(world, 'a2'), 'rotation', epoch0),
    TrustError,
    CryptoErrorCode.revoked,
  );
  forgeEpoch(world, 'a2', 1, ['a1', 'b1'], epoch0);
  expectError(t, () => world.state(), TrustError, CryptoErrorCode.revoked);
  world.committee.pop();
  // alice demoted to reader: her confirmed founding device a1 no longer starts epochs.
  world.appendCommittee(
    'membership',
    {
      tenantId: world.tenantId,
      committeeId: world.committeeId,
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
    () => startEpoch(contextOf(world, 'a1'), 'rotation', epoch0),
    TrustError,
    CryptoErrorCode.unauthorisedSigner,
  );
  forgeEpoch(world, 'a1', 1, ['a1', 'b1'], epoch0);
  expectError(t, () => world.state(), TrustError, CryptoErrorCode.unauthorisedSigner);
});
