/**
 * Issue 8 item 6: no epoch keys for a device the user never saw. Each test plays an attacker (an
 * admin certifying devices alone, a member confirming for someone else, a revoked device, a
 * server replaying records) and asserts what the device answers: a typed refusal when the trust
 * view folds the record, or a device left out of the key list.
 */
import t from 'tap';
import type { CommitteeRole } from '@ratsfach/kernel';
import { World, day, headOf } from './support/world.js';
import { createEnrolmentCode } from '../src/identity/enrolmentCode.js';
import { certifyEnrolledDevice, createEnrolmentRequest } from '../src/identity/enrolment.js';
import { expectError } from './support/expectError.js';
import {
  ChainError,
  CommitteeState,
  CryptoErrorCode,
  TrustError,
  confirmedDevices,
  fingerprint,
  generateDeviceKeys,
  openAnyRecord,
  openEpochKeys,
  signDeviceConfirmation,
  signRecord,
  splitConfirmed,
  startEpoch,
  wrapForNewDevices,
  KeyListError,
  type DeviceKeys,
} from '../src/index.js';

const fp = (keys: DeviceKeys): string => fingerprint(keys.signing.publicKey);

/** What `deviceId` sees: trust view, committee, wrap context. */
const view = (
  world: World,
  deviceId: string,
  committee: readonly Uint8Array[] = world.committee,
) => {
  const trust = world.trust();
  const state = CommitteeState.fold(trust, committee);
  return {
    trust,
    committee: state,
    context: { trust, committee: state, self: world.devices[deviceId]!, now: world.now },
  };
};

/**
 * A second committee, `audit`, founded by an admin alone: it creates the committee and names
 * `founder` (a user it certified) founding staff, whose device `founderDevice` accepts it.
 */
const auditCommittee = (
  world: World,
  founder: string,
  founderDevice: string,
  more: readonly [string, CommitteeRole][] = [],
): Uint8Array[] => {
  const chain: Uint8Array[] = [];
  const append = (purpose: Parameters<typeof signRecord>[0], body: never, by: DeviceKeys) => {
    const bytes = signRecord(purpose, headOf(chain), body, by.signing);
    chain.push(bytes);
    return openAnyRecord(bytes);
  };
  const base = { tenantId: 'city', committeeId: 'audit' };
  append(
    'committee-created',
    { ...base, tenantPosition: world.tenantPosition } as never,
    world.admin,
  );
  const members: [string, CommitteeRole][] = [[founder, 'staff'], ...more];
  for (const [userId, role] of members) {
    const added = append(
      'membership',
      { ...base, userId, change: 'add', role, tenantPosition: world.tenantPosition } as never,
      world.admin,
    );
    append(
      'membership-cosignature',
      {
        ...base,
        membershipSequence: added.sequence,
        membershipHash: added.hash,
        tenantPosition: world.tenantPosition,
      } as never,
      world.devices[founderDevice]!,
    );
  }
  return chain;
};

t.test('item 6: a device an admin certified alone gets no epoch key until confirmed', async (t) => {
  const { world, epoch0 } = await World.scene();
  // The admin certifies a device for bob that bob never saw (the admin holds its keys).
  world.enrol('bob', 'b2');
  world.heartbeat();
  const before = view(world, 'a1');
  t.notOk(wrapForNewDevices(before.context, epoch0), 'nothing is wrapped for b2');
  const started = startEpoch(before.context, 'rotation', epoch0);
  t.same(
    started.unconfirmed.map((d) => d.deviceId),
    ['b2'],
    'a new epoch leaves b2 out and reports it',
  );
  world.committee.push(started.record);
  const b2Keys = world.devices.b2!;
  expectError(
    t,
    () => openEpochKeys(world.state(), b2Keys),
    KeyListError,
    CryptoErrorCode.noWrappedKey,
  );
  t.same(
    splitConfirmed(
      before.trust,
      before.committee,
      before.trust.recipientsAt(['bob']),
    ).unconfirmed.map((d) => d.deviceId),
    ['b2'],
    'the client can show b2 as waiting',
  );
  // A second admin-made device confirming the first proves nothing: neither is confirmed.
  world.enrol('bob', 'b3');
  world.confirm('bob', 'b3', 'b2');
  world.heartbeat();
  const chained = view(world, 'a1');
  const confirmed = confirmedDevices(chained.trust, chained.committee);
  t.notOk(confirmed.has(fp(world.devices.b3!)), 'b3, confirmed by unconfirmed b2, is not');
  t.notOk(confirmed.has(fp(b2Keys)));
  // Bob's own device confirms b2: from then on b2 (and b3 through it) get the key.
  world.confirm('bob', 'b2', 'b1');
  world.heartbeat();
  const after = view(world, 'a1');
  t.ok(confirmedDevices(after.trust, after.committee).has(fp(world.devices.b3!)));
  const record = wrapForNewDevices(after.context, started.epochKey);
  t.ok(record);
  world.committee.push(record!);
  t.same(openEpochKeys(world.state(), b2Keys).get(1), started.epochKey);
  t.same(openEpochKeys(world.state(), world.devices.b3!).get(1), started.epochKey);
});

t.test("item 6: another user's device confirms only as staff, only a first device", async (t) => {
  const { world, epoch0 } = await World.scene();
  world.addUser('carol');
  world.enrol('carol', 'c1');
  world.cosign(world.addMember('carol', 'reader'), 'a1');
  world.confirm('carol', 'c1', 'a1', 'finance');
  world.heartbeat();
  t.ok(world.wrapForNew('a1', epoch0), 'carol, confirmed by staff, gets the key');
  world.addUser('dave');
  world.enrol('dave', 'd1');
  world.cosign(world.addMember('dave', 'reader'), 'a1');
  // carol, a reader, "confirms" dave's first device naming the committee: it does not count.
  world.confirm('dave', 'd1', 'c1', 'finance');
  world.heartbeat();
  let seen = view(world, 'a1');
  t.notOk(confirmedDevices(seen.trust, seen.committee).has(fp(world.devices.d1!)));
  t.notOk(wrapForNewDevices(seen.context, epoch0), 'nothing wrapped for d1');
  // Without naming a committee, another user's device confirms nothing: refused on fold.
  world.users.dave!.pop();
  world.confirm('dave', 'd1', 'c1');
  expectError(t, () => world.trust(), TrustError, CryptoErrorCode.unauthorisedSigner);
  world.users.dave!.pop();
  // Staff may confirm only the first device: a second device of bob is bob's to confirm.
  world.enrol('bob', 'b2');
  world.confirm('bob', 'b2', 'a1', 'finance');
  expectError(t, () => world.trust(), TrustError, CryptoErrorCode.unauthorisedSigner);
  world.users.bob!.pop();
  // ... unless every earlier device of bob was revoked before it was certified.
  world.users.bob!.pop();
  world.revoke('bob', 'b1');
  world.enrol('bob', 'b2');
  world.confirm('bob', 'b2', 'a1', 'finance');
  world.heartbeat();
  seen = view(world, 'a1');
  t.ok(confirmedDevices(seen.trust, seen.committee).has(fp(world.devices.b2!)));
  // bob's own device naming a committee: refused (a same-user confirmation is global).
  world.enrol('bob', 'b4');
  world.confirm('bob', 'b4', 'b2', 'finance');
  expectError(t, () => world.trust(), TrustError, CryptoErrorCode.unauthorisedSigner);
  world.users.bob!.pop();
  // A device cannot confirm itself, and an admin device confirms nothing.
  world.enrol('bob', 'b3');
  world.confirm('bob', 'b3', 'b3');
  expectError(t, () => world.trust(), TrustError, CryptoErrorCode.unauthorisedSigner);
  world.users.bob!.pop();
  world.devices.admin = world.admin;
  world.confirm('bob', 'b3', 'admin');
  expectError(t, () => world.trust(), TrustError, CryptoErrorCode.untrustedKey);
});

t.test('item 6: a revoked device confirms nothing after its revocation', async (t) => {
  const { world } = await World.scene();
  world.enrol('bob', 'b2');
  world.revoke('bob', 'b1');
  // The stolen b1, with the server, names the tenant position its revocation names.
  world.confirm('bob', 'b2', 'b1');
  expectError(t, () => world.trust(), TrustError, CryptoErrorCode.revoked);
  world.users.bob!.pop();
  // ... or a later one.
  world.heartbeat();
  world.confirm('bob', 'b2', 'b1');
  expectError(t, () => world.trust(), TrustError, CryptoErrorCode.revoked);
  world.users.bob!.pop();
  // A confirmation made before the revocation keeps counting (the laptop an old phone vouched for).
  const { world: w2 } = await World.scene();
  w2.enrol('bob', 'b2');
  w2.confirm('bob', 'b2', 'b1');
  w2.revoke('bob', 'b1');
  w2.heartbeat();
  const seen = view(w2, 'a1');
  t.ok(confirmedDevices(seen.trust, seen.committee).has(fp(w2.devices.b2!)));
  // A revoked staff device confirms no first device either.
  world.addUser('erin');
  world.enrol('erin', 'e1');
  world.enrol('alice', 'a2');
  world.confirm('alice', 'a2', 'a1');
  world.revoke('alice', 'a1');
  world.heartbeat();
  world.confirm('erin', 'e1', 'a1', 'finance');
  expectError(t, () => world.trust(), TrustError, CryptoErrorCode.revoked);
});

t.test(
  'item 6: a revoked staff device cannot back-date a confirmation of a first device',
  async (t) => {
    // The stolen staff device a1 is revoked, and the admin agent's heartbeat after it names the
    // revocation. A (rogue) admin device certifies erin's first device e1 and, with the server,
    // a1 confirms it naming a tenant position from before its revocation, where it was valid.
    const scene = async () => {
      const { world } = await World.scene();
      world.addUser('erin');
      world.enrol('erin', 'e1');
      world.enrol('alice', 'a2');
      world.confirm('alice', 'a2', 'a1');
      world.heartbeat();
      return { world, before: world.tenantPosition };
    };
    const backDated = (world: World, at: number) =>
      world.appendUser(
        'erin',
        'device-confirmation',
        {
          tenantId: world.tenantId,
          userId: 'erin',
          deviceId: 'e1',
          fingerprint: fp(world.devices.e1!),
          tenantPosition: at,
          committeeId: world.committeeId,
        },
        world.devices.a1!.signing,
      );
    const { world, before } = await scene();
    world.revoke('alice', 'a1');
    world.heartbeat();
    backDated(world, before);
    expectError(t, () => world.trust(), TrustError, CryptoErrorCode.revoked);
    // A user created after the revocation: the back-dated position breaks that user's chain.
    const late = await scene();
    late.world.revoke('alice', 'a1');
    late.world.heartbeat();
    late.world.addUser('fay');
    late.world.enrol('fay', 'f1');
    late.world.appendUser(
      'fay',
      'device-confirmation',
      {
        tenantId: late.world.tenantId,
        userId: 'fay',
        deviceId: 'f1',
        fingerprint: fp(late.world.devices.f1!),
        tenantPosition: late.before,
        committeeId: late.world.committeeId,
      },
      late.world.devices.a1!.signing,
    );
    expectError(t, () => late.world.trust(), ChainError, CryptoErrorCode.chainBroken);
    // The rogue admin back-dates a whole new user's chain too, which no heartbeat names yet.
    const hidden = await scene();
    hidden.world.revoke('alice', 'a1');
    hidden.world.heartbeat();
    const w = hidden.world;
    w.appendUser(
      'gus',
      'user-created',
      { tenantId: w.tenantId, userId: 'gus', tenantPosition: hidden.before },
      w.admin.signing,
    );
    const g1 = generateDeviceKeys();
    const code = createEnrolmentCode(w.root.publicKey);
    const issuedFor = { tenantId: w.tenantId, userId: 'gus' };
    w.users.gus!.push(
      certifyEnrolledDevice(
        createEnrolmentRequest(code, { ...issuedFor, deviceId: 'g1' }, g1),
        code,
        {
          issuedFor,
          notBefore: w.now,
          notAfter: w.now + day,
          tenantPosition: hidden.before,
          link: headOf(w.users.gus!),
        },
        w.admin.signing,
      ),
    );
    w.appendUser(
      'gus',
      'device-confirmation',
      {
        ...issuedFor,
        deviceId: 'g1',
        fingerprint: fp(g1),
        tenantPosition: hidden.before,
        committeeId: w.committeeId,
      },
      w.devices.a1!.signing,
    );
    expectError(t, () => w.trust(), TrustError, CryptoErrorCode.revoked);
    // The neighbour: a1 confirmed e1 before its revocation; it keeps counting.
    const honest = await scene();
    backDated(honest.world, honest.before);
    honest.world.revoke('alice', 'a1');
    honest.world.heartbeat();
    const seen = view(honest.world, 'a2');
    t.ok(
      confirmedDevices(seen.trust, seen.committee).has(fp(honest.world.devices.e1!)),
      'a confirmation made before the revocation counts',
    );
  },
);

t.test('item 6: a confirmation for a device of another tenant or chain is refused', async (t) => {
  const { world } = await World.scene();
  const other = await World.scene();
  world.enrol('bob', 'b2');
  // Names a device certified in another tenant (its fingerprint is unknown here).
  world.devices.x1 = other.world.devices.b1!;
  world.confirm('bob', 'x1', 'b1');
  expectError(t, () => world.trust(), TrustError, CryptoErrorCode.untrustedKey);
  world.users.bob!.pop();
  // A record of the other tenant replayed into this one: another tenant id.
  other.world.enrol('bob', 'b2');
  other.world.confirm('bob', 'b2', 'b1');
  const foreign = other.world.users.bob!.at(-1)!;
  world.users.bob!.push(foreign);
  t.throws(() => world.trust(), 'a foreign record does not link into this chain');
  world.users.bob!.pop();
  // Names a device of another user of this tenant.
  world.confirm('bob', 'a1', 'b1');
  expectError(t, () => world.trust(), TrustError, CryptoErrorCode.untrustedKey);
  world.users.bob!.pop();
  // bob's confirmation replayed in carol's chain: it names bob, not carol.
  world.confirm('bob', 'b2', 'b1');
  const mine = world.users.bob!.pop()!;
  world.addUser('carol');
  const carol = world.users.carol!;
  const opened = openAnyRecord(mine);
  t.equal(opened.purpose, 'device-confirmation');
  carol.push(mine);
  t.throws(() => world.trust(), ChainError, 'the replay does not link into carol');
  carol.pop();
  // Re-signed at carol's head it still names bob: refused.
  carol.push(
    signRecord(
      'device-confirmation',
      headOf(carol),
      opened.body as never,
      world.devices.b1!.signing,
    ),
  );
  expectError(t, () => world.trust(), ChainError, CryptoErrorCode.chainBroken);
  carol.pop();
});

t.test('item 6: a staff confirmation counts only in the committee it names', async (t) => {
  const { world, epoch0 } = await World.scene();
  // An admin alone makes mallory (its own user) founding staff of a new committee.
  world.addUser('mallory');
  world.enrol('mallory', 'm1');
  world.addUser('dave');
  world.enrol('dave', 'd1');
  world.cosign(world.addMember('dave', 'reader'), 'a1');
  const audit = auditCommittee(world, 'mallory', 'm1', [['dave', 'reader']]);
  // mallory confirms dave's first device as staff of audit.
  world.confirm('dave', 'd1', 'm1', 'audit');
  world.heartbeat();
  const inAudit = CommitteeState.fold(world.trust(), audit);
  t.same([...inAudit.founders], [fp(world.devices.m1!)], 'm1 founded audit');
  t.ok(
    confirmedDevices(world.trust(), inAudit).has(fp(world.devices.d1!)),
    'in audit (which the admin made) d1 counts as confirmed: what an admin alone can do',
  );
  const finance = view(world, 'a1');
  t.notOk(
    confirmedDevices(finance.trust, finance.committee).has(fp(world.devices.d1!)),
    'in finance it does not: mallory is not its staff',
  );
  t.notOk(wrapForNewDevices(finance.context, epoch0), 'a1 wraps nothing for d1');
  // Naming finance does not help mallory either.
  world.confirm('dave', 'd1', 'm1', 'finance');
  world.heartbeat();
  const again = view(world, 'a1');
  t.notOk(confirmedDevices(again.trust, again.committee).has(fp(world.devices.d1!)));
  // finance's own staff confirms: then d1 gets finance's key.
  world.confirm('dave', 'd1', 'a1', 'finance');
  world.heartbeat();
  const done = view(world, 'a1');
  t.ok(wrapForNewDevices(done.context, epoch0));
});

t.test('signDeviceConfirmation signs only what the trust view accepts', async (t) => {
  const { world } = await World.scene();
  world.enrol('bob', 'b2');
  world.addUser('carol');
  world.enrol('carol', 'c1');
  const seen = view(world, 'a1');
  const b2 = seen.trust.device(fp(world.devices.b2!))!;
  const c1 = seen.trust.device(fp(world.devices.c1!))!;
  // bob's own device: no committee.
  world.users.bob!.push(
    signDeviceConfirmation({
      trust: seen.trust,
      device: b2,
      link: headOf(world.users.bob!),
      self: world.devices.b1!.signing,
    }),
  );
  t.equal(world.trust().confirmations.at(-1)?.committeeId, null);
  // alice as staff of finance, for carol's first device.
  world.users.carol!.push(
    signDeviceConfirmation({
      trust: seen.trust,
      device: c1,
      link: headOf(world.users.carol!),
      self: world.devices.a1!.signing,
      committee: seen.committee,
    }),
  );
  t.equal(world.trust().confirmations.at(-1)?.committeeId, 'finance');
  // Refused before signing: another user's device without a committee, a non-staff device,
  // a device confirming itself, an admin device as target, a revoked signer.
  const adminDevice = seen.trust.device(fp(world.admin))!;
  expectError(
    t,
    () =>
      signDeviceConfirmation({
        trust: seen.trust,
        device: adminDevice,
        link: headOf(world.users.bob!),
        self: world.devices.b1!.signing,
      }),
    TrustError,
    CryptoErrorCode.unauthorisedSigner,
  );
  const base = { trust: seen.trust, link: headOf(world.users.carol!) };
  expectError(
    t,
    () => signDeviceConfirmation({ ...base, device: c1, self: world.devices.a1!.signing }),
    TrustError,
    CryptoErrorCode.unauthorisedSigner,
  );
  expectError(
    t,
    () =>
      signDeviceConfirmation({
        ...base,
        device: c1,
        self: world.devices.b1!.signing,
        committee: seen.committee,
      }),
    TrustError,
    CryptoErrorCode.unauthorisedSigner,
  );
  expectError(
    t,
    () => signDeviceConfirmation({ ...base, device: c1, self: world.devices.c1!.signing }),
    TrustError,
    CryptoErrorCode.unauthorisedSigner,
  );
  world.revoke('bob', 'b1');
  world.heartbeat();
  const later = view(world, 'a1');
  expectError(
    t,
    () =>
      signDeviceConfirmation({
        trust: later.trust,
        device: b2,
        link: headOf(world.users.bob!),
        self: world.devices.b1!.signing,
      }),
    TrustError,
    CryptoErrorCode.revoked,
  );
});
