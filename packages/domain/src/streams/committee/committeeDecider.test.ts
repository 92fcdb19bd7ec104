import {
  ConflictError,
  ForbiddenError,
  IntegrityError,
  NotFoundError,
  ValidationError,
} from '@ratsfach/kernel';
import t from 'tap';
import { DomainErrorCode } from '../../domainErrorCode.js';
import { Scenario, fakeHash, fingerprintOf, given } from '../../testing/index.js';
import { committeeDecider } from './committeeDecider.js';
import { streamOfCommand } from '../../routing/deciders.js';

const people = () => {
  const s = new Scenario();
  s.exec(s.createTenant());
  s.exec(s.certifyAdminDevice('adm1'));
  s.exec(s.certifyAdminDevice('adm2'));
  for (const [userId, deviceId] of [
    ['alice', 'a1'],
    ['bob', 'b1'],
  ] as const) {
    s.exec(s.createUser(userId));
    s.exec(s.certifyDevice(userId, deviceId));
  }
  return s;
};
const meta = (s: Scenario, commandId: string) => ({ commandId, occurredAt: s.now });
const members = (s: Scenario) => {
  const committee = s.committee('council');
  return committee.status === 'active' ? committee.members : {};
};
const active = (s: Scenario) => {
  const committee = s.committee('council');
  if (committee.status !== 'active') throw new Error('no committee');
  return committee;
};
const bob = [{ userId: 'bob', deviceId: 'b1' }];

t.test('CreateCommittee', async (t) => {
  t.test('creates a committee signed by an admin device', async (t) => {
    const s = people();
    const command = s.createCommittee('council');
    s.gwt(command).then(t, [
      {
        type: 'CommitteeCreated',
        data: {
          tenantId: 't1',
          committeeId: 'council',
          signerDeviceId: 'adm1',
          record: command.data.record,
          recordHash: fakeHash(command.data.record),
          sequence: 0,
        },
        metadata: meta(s, command.metadata.commandId),
      },
    ]);
  });
  t.test('refuses a committee created twice', async (t) => {
    const s = people();
    s.exec(s.createCommittee('council'));
    s.gwt(
      s.createCommittee('council', { sequence: 0, previousHash: new Uint8Array(64) }),
    ).thenRefuses(t, ConflictError, DomainErrorCode.committeeExists);
  });
  t.test('refuses a committee signed by a user device', async (t) => {
    const s = people();
    s.gwt(s.createCommittee('council', {}, 'a1')).thenRefuses(
      t,
      ForbiddenError,
      DomainErrorCode.signerNotAdmin,
    );
  });
  t.test('refuses without the tenant in its context', async (t) => {
    const s = people();
    given(committeeDecider, [])
      .when(s.createCommittee('council'), { verifier: s.verifier })
      .thenRefuses(t, ValidationError, DomainErrorCode.contextMissing);
  });
  t.test('refuses a committee id of the wrong shape', async (t) => {
    const s = people();
    const command = s.createCommittee('council');
    const bad = { ...command, data: { ...command.data, committeeId: 'a-b' } };
    given(committeeDecider, [])
      .when(bad, { verifier: s.verifier, tenant: s.tenant() })
      .thenRefuses(t, ValidationError, DomainErrorCode.commandMalformed);
  });
});

t.test('ChangeMembership', async (t) => {
  const withCommittee = () => {
    const s = people();
    s.exec(s.createCommittee('council'));
    return s;
  };
  t.test('adds a member, pending until staff co-sign', async (t) => {
    const s = withCommittee();
    const command = s.changeMembership('council', 'add', 'alice', 'staff');
    s.gwt(command).then(t, [
      {
        type: 'MembershipChanged',
        data: {
          change: 'add',
          userId: 'alice',
          role: 'staff',
          signerDeviceId: 'adm1',
          record: command.data.record,
          recordHash: fakeHash(command.data.record),
          sequence: 1,
        },
        metadata: meta(s, command.metadata.commandId),
      },
    ]);
    s.exec(command);
    t.equal(members(s).alice?.cosigned, false, 'the membership is not in effect yet');
    t.equal(
      members(s).alice?.membershipSequence,
      1,
      'the membership record is remembered by its position',
    );
  });
  t.test('refuses a member added twice', async (t) => {
    const s = withCommittee();
    s.exec(s.changeMembership('council', 'add', 'alice', 'staff'));
    s.gwt(s.changeMembership('council', 'add', 'alice', 'reader')).thenRefuses(
      t,
      ConflictError,
      DomainErrorCode.memberExists,
    );
  });
  t.test('refuses to add a user that does not exist', async (t) => {
    const s = withCommittee();
    s.gwt(s.changeMembership('council', 'add', 'zoe', 'reader')).thenRefuses(
      t,
      NotFoundError,
      DomainErrorCode.userUnknown,
    );
  });
  t.test('removes a member who held keys and requires a new epoch', async (t) => {
    const s = new Scenario().standard();
    const command = s.changeMembership('council', 'remove', 'bob', 'reader');
    s.gwt(command).then(t, [
      {
        type: 'MembershipChanged',
        data: {
          change: 'remove',
          userId: 'bob',
          role: 'reader',
          signerDeviceId: 'adm1',
          record: command.data.record,
          recordHash: fakeHash(command.data.record),
          sequence: 7,
        },
        metadata: meta(s, command.metadata.commandId),
      },
    ]);
    s.exec(command);
    t.equal(members(s).bob, undefined, 'bob is no member any more');
    t.equal(active(s).rotationRequired, true, 'a new epoch is required');
  });
  t.test(
    'removing a member whose addition was never co-signed requires no new epoch',
    async (t) => {
      const s = new Scenario().standard();
      s.exec(s.changeMembership('council', 'add', 'carol', 'reader'));
      s.exec(s.changeMembership('council', 'remove', 'carol', 'reader'));
      t.equal(active(s).rotationRequired, false);
    },
  );
  t.test('refuses to remove a non-member', async (t) => {
    const s = withCommittee();
    s.gwt(s.changeMembership('council', 'remove', 'bob', 'reader')).thenRefuses(
      t,
      NotFoundError,
      DomainErrorCode.memberUnknown,
    );
  });
  t.test('changes a role, keeping the co-signature', async (t) => {
    const s = new Scenario().standard();
    s.exec(s.changeMembership('council', 'changeRole', 'bob', 'deputy'));
    t.equal(members(s).bob?.role, 'deputy');
    t.equal(members(s).bob?.cosigned, true);
  });
  t.test('a promotion to staff counts only once a staff device co-signs it', async (t) => {
    // Given bob, a co-signed reader, whom an admin promotes to staff
    const s = new Scenario().standard();
    const promotionAt = active(s).chain.length;
    s.exec(s.changeMembership('council', 'changeRole', 'bob', 'staff'));
    // Then bob is still a reader (no staff right) until the promotion is co-signed
    t.equal(members(s).bob?.role, 'reader');
    t.equal(members(s).bob?.pendingStaff?.sequence, promotionAt);
    s.gwt(s.createDocument('doc1', 'council', 'bob', 'b1')).thenRefuses(
      t,
      ForbiddenError,
      DomainErrorCode.roleLacksRight,
    );
    // When bob co-signs his own promotion, it is refused: the committee has staff
    s.gwt(s.coSignMembership('council', 'bob', 'bob', 'b1')).thenRefuses(
      t,
      ForbiddenError,
      DomainErrorCode.selfCosign,
    );
    // When alice (staff) co-signs the promotion record
    const cosign = s.coSignMembership('council', 'bob', 'alice', 'a1');
    const [event] = s.exec(cosign);
    t.equal(event?.type, 'MembershipCoSigned');
    // Then the co-signature names the promotion record, and bob is staff
    t.equal(event?.type === 'MembershipCoSigned' && event.data.membershipSequence, promotionAt);
    t.equal(members(s).bob?.role, 'staff');
    t.equal(members(s).bob?.pendingStaff, undefined);
    t.equal(members(s).bob?.cosigned, true);
    t.equal(s.exec(s.createDocument('doc1', 'council', 'bob', 'b1'))[0]?.type, 'DocumentCreated');
  });
  t.test('a co-signature naming the old addition does not promote', async (t) => {
    const s = new Scenario().standard();
    const bobAddition = members(s).bob!;
    s.exec(s.changeMembership('council', 'changeRole', 'bob', 'staff'));
    s.gwt(
      s.coSignMembership('council', 'bob', 'alice', 'a1', {
        fields: {
          membershipSequence: bobAddition.membershipSequence,
          membershipHash: bobAddition.membershipHash,
        },
      }),
    ).thenRefuses(t, ConflictError, DomainErrorCode.membershipAlreadyCosigned);
    t.equal(members(s).bob?.role, 'reader');
  });
  t.test('a demotion applies at once and cancels a pending promotion', async (t) => {
    const s = new Scenario().standard();
    s.exec(s.changeMembership('council', 'changeRole', 'bob', 'staff'));
    s.exec(s.changeMembership('council', 'changeRole', 'bob', 'reader'));
    t.equal(members(s).bob?.role, 'reader');
    t.equal(members(s).bob?.pendingStaff, undefined);
  });
  t.test('refuses a role change to the same role', async (t) => {
    const s = new Scenario().standard();
    s.gwt(s.changeMembership('council', 'changeRole', 'bob', 'reader')).thenRefuses(
      t,
      ConflictError,
      DomainErrorCode.roleUnchanged,
    );
  });
  t.test('refuses an unknown role', async (t) => {
    const s = withCommittee();
    s.gwt(s.changeMembership('council', 'add', 'alice', 'chair' as never)).thenRefuses(
      t,
      ValidationError,
      DomainErrorCode.commandMalformed,
    );
  });
  t.test('refuses an unknown change', async (t) => {
    const s = withCommittee();
    s.gwt(s.changeMembership('council', 'promote' as never, 'alice', 'staff')).thenRefuses(
      t,
      ValidationError,
      DomainErrorCode.commandMalformed,
    );
  });
  t.test('refuses a membership change signed by staff (only admins sign membership)', async (t) => {
    const s = new Scenario().standard();
    s.gwt(s.changeMembership('council', 'add', 'carol', 'reader', {}, 'a1')).thenRefuses(
      t,
      ForbiddenError,
      DomainErrorCode.signerNotAdmin,
    );
  });
  t.test('refuses a membership change signed by a revoked admin device', async (t) => {
    const s = withCommittee();
    s.exec(s.revokeAdminDevice('adm2'));
    s.gwt(s.changeMembership('council', 'add', 'alice', 'staff', {}, 'adm2')).thenRefuses(
      t,
      ForbiddenError,
      DomainErrorCode.deviceRevoked,
    );
  });
  t.test('refuses a role the admin did not sign', async (t) => {
    const s = withCommittee();
    s.gwt(
      s.changeMembership('council', 'add', 'alice', 'staff', { fields: { role: 'reader' } }),
    ).thenRefuses(t, IntegrityError, DomainErrorCode.recordMismatch);
  });
  t.test('refuses a change to a committee that does not exist', async (t) => {
    const s = people();
    s.gwt(s.changeMembership('council', 'add', 'alice', 'staff')).thenRefuses(
      t,
      NotFoundError,
      DomainErrorCode.committeeUnknown,
    );
  });
});

t.test('CoSignMembership', async (t) => {
  const founded = () => {
    const s = people();
    s.exec(s.createCommittee('council'));
    s.exec(s.changeMembership('council', 'add', 'alice', 'staff'));
    return s;
  };
  t.test('the founding staff member co-signs their own addition', async (t) => {
    const s = founded();
    const command = s.coSignMembership('council', 'alice', 'alice', 'a1');
    const member = members(s).alice;
    s.gwt(command).then(t, [
      {
        type: 'MembershipCoSigned',
        data: {
          userId: 'alice',
          membershipSequence: 1,
          membershipHash: member?.membershipHash ?? new Uint8Array(0),
          signerUserId: 'alice',
          signerDeviceId: 'a1',
          record: command.data.record,
          recordHash: fakeHash(command.data.record),
          sequence: 2,
        },
        metadata: meta(s, command.metadata.commandId),
      },
    ]);
    s.exec(command);
    t.equal(members(s).alice?.cosigned, true, 'the membership is in effect');
    t.same(active(s).founders, [{ userId: 'alice', deviceId: 'a1' }], 'a1 founded the committee');
  });
  t.test('refuses to found a committee again once its staff all left', async (t) => {
    // Devices (crypto CommitteeState) accept a self co-signature only while the committee never
    // had staff: the server appending one would break the committee chain for every device.
    const s = new Scenario().standard();
    s.exec(s.changeMembership('council', 'remove', 'alice', 'staff'));
    s.exec(s.changeMembership('council', 'add', 'carol', 'staff'));
    s.gwt(s.coSignMembership('council', 'carol', 'carol', 'cr1')).thenRefuses(
      t,
      ForbiddenError,
      DomainErrorCode.selfCosign,
    );
    t.same(active(s).founders, [{ userId: 'alice', deviceId: 'a1' }], 'the founder stays');
  });
  t.test('staff co-sign the addition of another member', async (t) => {
    const s = new Scenario().standard();
    s.exec(s.changeMembership('council', 'add', 'carol', 'deputy'));
    s.exec(s.coSignMembership('council', 'carol', 'alice', 'a1'));
    t.equal(members(s).carol?.cosigned, true);
  });
  t.test('refuses a member co-signing their own addition once staff exist', async (t) => {
    const s = new Scenario().standard();
    s.exec(s.changeMembership('council', 'add', 'carol', 'staff'));
    s.gwt(s.coSignMembership('council', 'carol', 'carol', 'cr1')).thenRefuses(
      t,
      ForbiddenError,
      DomainErrorCode.selfCosign,
    );
  });
  t.test('refuses a founding co-signature of a non-staff member', async (t) => {
    const s = people();
    s.exec(s.createCommittee('council'));
    s.exec(s.changeMembership('council', 'add', 'bob', 'reader'));
    s.gwt(s.coSignMembership('council', 'bob', 'bob', 'b1')).thenRefuses(
      t,
      ForbiddenError,
      DomainErrorCode.selfCosign,
    );
  });
  t.test('refuses a co-signature by a reader', async (t) => {
    const s = new Scenario().standard();
    s.exec(s.changeMembership('council', 'add', 'carol', 'reader'));
    s.gwt(s.coSignMembership('council', 'carol', 'bob', 'b1')).thenRefuses(
      t,
      ForbiddenError,
      DomainErrorCode.roleLacksRight,
    );
  });
  t.test('refuses a co-signature by a staff member whose own membership is pending', async (t) => {
    const s = new Scenario().standard();
    s.exec(s.changeMembership('council', 'add', 'carol', 'staff'));
    s.exec(s.createUser('dave'));
    s.exec(s.certifyDevice('dave', 'd1'));
    s.exec(s.changeMembership('council', 'add', 'dave', 'reader'));
    s.gwt(s.coSignMembership('council', 'dave', 'carol', 'cr1')).thenRefuses(
      t,
      ForbiddenError,
      DomainErrorCode.membershipPending,
    );
  });
  t.test('refuses a co-signature by a non-member', async (t) => {
    const s = new Scenario().standard();
    s.exec(s.createUser('dave'));
    s.exec(s.certifyDevice('dave', 'd1'));
    s.exec(s.changeMembership('council', 'add', 'dave', 'reader'));
    s.gwt(s.coSignMembership('council', 'dave', 'carol', 'cr1')).thenRefuses(
      t,
      ForbiddenError,
      DomainErrorCode.notAMember,
    );
  });
  t.test('refuses a co-signature from a revoked staff device', async (t) => {
    const s = new Scenario().standard();
    s.exec(s.changeMembership('council', 'add', 'carol', 'reader'));
    s.exec(s.revokeDevice('alice', 'a1'));
    s.gwt(s.coSignMembership('council', 'carol', 'alice', 'a1')).thenRefuses(
      t,
      ForbiddenError,
      DomainErrorCode.deviceRevoked,
    );
  });
  t.test('refuses a second co-signature', async (t) => {
    const s = new Scenario().standard();
    s.gwt(s.coSignMembership('council', 'bob', 'alice', 'a1')).thenRefuses(
      t,
      ConflictError,
      DomainErrorCode.membershipAlreadyCosigned,
    );
  });
  t.test('refuses a co-signature naming another membership record', async (t) => {
    const s = new Scenario().standard();
    s.exec(s.changeMembership('council', 'add', 'carol', 'reader'));
    s.gwt(
      s.coSignMembership('council', 'carol', 'alice', 'a1', {
        fields: { membershipHash: fakeHash(new Uint8Array([9])) },
      }),
    ).thenRefuses(t, ConflictError, DomainErrorCode.membershipChanged);
  });
  t.test('refuses a co-signature for a non-member', async (t) => {
    const s = new Scenario().standard();
    s.gwt(s.coSignMembership('council', 'carol', 'alice', 'a1')).thenRefuses(
      t,
      NotFoundError,
      DomainErrorCode.memberUnknown,
    );
  });
  t.test("refuses without the signer's user state in its context", async (t) => {
    const s = founded();
    const command = s.coSignMembership('council', 'alice', 'alice', 'a1');
    given(committeeDecider, s.events(s.committeeStream('council')) as never)
      .when(command, { verifier: s.verifier })
      .thenRefuses(t, ValidationError, DomainErrorCode.contextMissing);
  });
});

t.test('StartKeyEpoch', async (t) => {
  t.test('staff start the first epoch at 0, wrapping its key for their device', async (t) => {
    const s = people();
    s.exec(s.createCommittee('council'));
    s.exec(s.changeMembership('council', 'add', 'alice', 'staff'));
    s.exec(s.coSignMembership('council', 'alice', 'alice', 'a1'));
    const command = s.startKeyEpoch(
      'council',
      0,
      [{ userId: 'alice', deviceId: 'a1' }],
      'alice',
      'a1',
    );
    s.gwt(command).then(t, [
      {
        type: 'KeyEpochStarted',
        data: {
          epoch: 0,
          recipients: [{ userId: 'alice', deviceId: 'a1', fingerprint: fingerprintOf('a1') }],
          signerUserId: 'alice',
          signerDeviceId: 'a1',
          record: command.data.record,
          recordHash: fakeHash(command.data.record),
          sequence: 3,
        },
        metadata: meta(s, command.metadata.commandId),
      },
    ]);
  });
  t.test('a new epoch ends the rotation a removal required', async (t) => {
    const s = new Scenario().standard();
    s.exec(s.changeMembership('council', 'remove', 'bob', 'reader'));
    s.exec(s.startKeyEpoch('council', 1, [{ userId: 'alice', deviceId: 'a1' }], 'alice', 'a1'));
    t.equal(active(s).rotationRequired, false);
    t.equal(active(s).epoch, 1);
  });
  t.test('refuses an epoch that does not follow the current one', async (t) => {
    const s = new Scenario().standard();
    s.gwt(s.startKeyEpoch('council', 2, bob, 'alice', 'a1')).thenRefuses(
      t,
      ConflictError,
      DomainErrorCode.epochNotNext,
    );
  });
  t.test('refuses an epoch started by a reader', async (t) => {
    const s = new Scenario().standard();
    s.gwt(s.startKeyEpoch('council', 1, bob, 'bob', 'b1')).thenRefuses(
      t,
      ForbiddenError,
      DomainErrorCode.roleLacksRight,
    );
  });
  t.test('refuses an epoch started by a removed member', async (t) => {
    const s = new Scenario().standard();
    s.exec(s.changeMembership('council', 'remove', 'alice', 'staff'));
    s.gwt(s.startKeyEpoch('council', 1, bob, 'alice', 'a1')).thenRefuses(
      t,
      ForbiddenError,
      DomainErrorCode.notAMember,
    );
  });
  t.test('refuses an epoch signed by another device than it names', async (t) => {
    const s = new Scenario().standard();
    s.gwt(
      s.startKeyEpoch('council', 1, bob, 'alice', 'a1', { fingerprint: fingerprintOf('b1') }),
    ).thenRefuses(t, IntegrityError, DomainErrorCode.signerMismatch);
  });
  t.test('refuses an epoch whose key is wrapped for nobody', async (t) => {
    const s = new Scenario().standard();
    s.gwt(s.startKeyEpoch('council', 1, [], 'alice', 'a1')).thenRefuses(
      t,
      ValidationError,
      DomainErrorCode.keyListEmpty,
    );
  });
  t.test('refuses a negative epoch', async (t) => {
    const s = new Scenario().standard();
    s.gwt(s.startKeyEpoch('council', -1, bob, 'alice', 'a1')).thenRefuses(
      t,
      ValidationError,
      DomainErrorCode.commandMalformed,
    );
  });
});

t.test('key records wrap only for devices confirmed for the committee', async (t) => {
  const a1 = { userId: 'alice', deviceId: 'a1' };
  const refused = DomainErrorCode.recipientNotConfirmed;
  /** standard() plus carol (cr1) as a co-signed reader nobody confirmed yet. */
  const withCarol = () => {
    const s = new Scenario().standard();
    s.exec(s.changeMembership('council', 'add', 'carol', 'reader'));
    s.exec(s.coSignMembership('council', 'carol', 'alice', 'a1'));
    return s;
  };
  const cr1 = [{ userId: 'carol', deviceId: 'cr1' }];
  t.test(
    'refuses an epoch or a wrap for a device an admin certified and nobody confirmed',
    async (t) => {
      const s = withCarol();
      s.gwt(s.startKeyEpoch('council', 1, [a1, ...bob, ...cr1], 'alice', 'a1')).thenRefuses(
        t,
        ForbiddenError,
        refused,
      );
      s.gwt(s.wrapEpochKeys('council', 0, cr1, 'alice', 'a1')).thenRefuses(
        t,
        ForbiddenError,
        refused,
      );
      // A staff confirmation naming another committee counts only there.
      s.exec(s.createCommittee('board'));
      s.exec(s.changeMembership('board', 'add', 'alice', 'staff'));
      s.exec(s.coSignMembership('board', 'alice', 'alice', 'a1'));
      s.exec(s.confirmDevice('carol', 'cr1', 'alice', 'a1', 'board'));
      s.gwt(s.wrapEpochKeys('council', 0, cr1, 'alice', 'a1')).thenRefuses(
        t,
        ForbiddenError,
        refused,
      );
      s.exec(s.confirmDevice('carol', 'cr1', 'alice', 'a1', 'council'));
      t.equal(
        s.exec(s.wrapEpochKeys('council', 0, cr1, 'alice', 'a1'))[0]?.type,
        'EpochKeysWrapped',
      );
    },
  );
  t.test(
    "a new device of an existing user counts once the user's confirmed device confirms it",
    async (t) => {
      const s = new Scenario().standard();
      s.exec(s.certifyDevice('bob', 'b2'));
      s.exec(s.certifyDevice('bob', 'b3'));
      const b2b3 = [
        { userId: 'bob', deviceId: 'b2' },
        { userId: 'bob', deviceId: 'b3' },
      ];
      // b2 vouching for b3 counts for nothing while b2 itself is unconfirmed.
      s.exec(s.confirmDevice('bob', 'b3', 'bob', 'b2'));
      s.gwt(s.wrapEpochKeys('council', 0, b2b3.slice(1), 'alice', 'a1')).thenRefuses(
        t,
        ForbiddenError,
        refused,
      );
      // Once b1 (confirmed by staff) confirms b2, both count; and keep counting after b1's
      // revocation, which came after its confirmation.
      s.exec(s.confirmDevice('bob', 'b2', 'bob', 'b1'));
      s.exec(s.revokeDevice('bob', 'b1'));
      t.equal(
        s.exec(s.wrapEpochKeys('council', 0, b2b3, 'alice', 'a1'))[0]?.type,
        'EpochKeysWrapped',
      );
      // The revoked device itself gets nothing, confirmed or not.
      s.gwt(s.startKeyEpoch('council', 1, [a1, ...bob], 'alice', 'a1')).thenRefuses(
        t,
        ForbiddenError,
        DomainErrorCode.recipientDeviceInvalid,
      );
    },
  );
  t.test('a confirmation chain through a staff member counts while they are staff', async (t) => {
    // alice (founder) confirms carol's first device; carol, promoted to staff, confirms dave's.
    // Neither carol nor dave signs the wrap: the server loads the staff's streams to see it.
    const s = withCarol();
    s.exec(s.confirmDevice('carol', 'cr1', 'alice', 'a1', 'council'));
    s.exec(s.changeMembership('council', 'changeRole', 'carol', 'staff'));
    s.exec(s.coSignMembership('council', 'carol', 'alice', 'a1'));
    s.exec(s.createUser('dave'));
    s.exec(s.certifyDevice('dave', 'd1'));
    s.exec(s.changeMembership('council', 'add', 'dave', 'reader'));
    s.exec(s.coSignMembership('council', 'dave', 'alice', 'a1'));
    s.exec(s.confirmDevice('dave', 'd1', 'carol', 'cr1', 'council'));
    const d1 = [{ userId: 'dave', deviceId: 'd1' }];
    const wrap = s.wrapEpochKeys('council', 0, d1, 'alice', 'a1');
    t.same(Object.keys(s.context(wrap).users ?? {}).sort(), ['alice', 'carol', 'dave']);
    t.equal(s.exec(wrap)[0]?.type, 'EpochKeysWrapped');
    // Carol removed: her confirmations no longer count, as devices judge it.
    s.exec(s.changeMembership('council', 'remove', 'carol', 'staff'));
    s.gwt(s.startKeyEpoch('council', 1, [a1, ...bob, ...d1], 'alice', 'a1')).thenRefuses(
      t,
      ForbiddenError,
      refused,
    );
  });
  t.test('refuses a removed member’s confirmed device, in a new epoch and a wrap', async (t) => {
    const s = new Scenario().standard();
    s.exec(s.changeMembership('council', 'remove', 'bob', 'reader'));
    s.gwt(s.startKeyEpoch('council', 1, [a1, ...bob], 'alice', 'a1')).thenRefuses(
      t,
      ForbiddenError,
      DomainErrorCode.recipientNotMember,
    );
    s.exec(s.startKeyEpoch('council', 1, [a1], 'alice', 'a1'));
    s.gwt(s.wrapEpochKeys('council', 1, bob, 'alice', 'a1')).thenRefuses(
      t,
      ForbiddenError,
      DomainErrorCode.recipientNotMember,
    );
  });
  t.test('refuses a device of a certified user who is no member', async (t) => {
    // carol's first device confirmed as staff of another committee: still no member here.
    const s = new Scenario().standard();
    s.exec(s.createCommittee('board'));
    s.exec(s.changeMembership('board', 'add', 'alice', 'staff'));
    s.exec(s.coSignMembership('board', 'alice', 'alice', 'a1'));
    s.exec(s.changeMembership('board', 'add', 'carol', 'reader'));
    s.exec(s.coSignMembership('board', 'carol', 'alice', 'a1'));
    s.exec(s.confirmDevice('carol', 'cr1', 'alice', 'a1', 'board'));
    s.gwt(s.startKeyEpoch('council', 1, [a1, ...bob, ...cr1], 'alice', 'a1')).thenRefuses(
      t,
      ForbiddenError,
      DomainErrorCode.recipientNotMember,
    );
  });
  t.test('counts no device or confirmation from another tenant’s user state', async (t) => {
    // The loader reads the command's tenant only. Should a state of another tenant with the
    // same user id reach the decider, neither its device nor the confirmations in it count.
    const s = withCarol();
    s.exec(s.confirmDevice('carol', 'cr1', 'alice', 'a1', 'council'));
    const elsewhere = (userId: string) => {
      const user = s.user(userId);
      if (user.status !== 'active') throw new Error(`no ${userId}`);
      return { ...user, tenantId: 't2' };
    };
    const wrap = s.wrapEpochKeys('council', 0, cr1, 'alice', 'a1');
    const context = s.context(wrap);
    given(committeeDecider, s.events(streamOfCommand(wrap)))
      .when(wrap, { ...context, users: { ...context.users, carol: elsewhere('carol') } })
      .thenRefuses(t, ForbiddenError, DomainErrorCode.recipientDeviceInvalid);
    // carol, now staff, confirms dave's first device: a carol of another tenant (whose cr1
    // alice's confirmation reaches there, not here) vouches for nothing.
    s.exec(s.changeMembership('council', 'changeRole', 'carol', 'staff'));
    s.exec(s.coSignMembership('council', 'carol', 'alice', 'a1'));
    s.exec(s.createUser('dave'));
    s.exec(s.certifyDevice('dave', 'd1'));
    s.exec(s.changeMembership('council', 'add', 'dave', 'reader'));
    s.exec(s.coSignMembership('council', 'dave', 'alice', 'a1'));
    s.exec(s.confirmDevice('dave', 'd1', 'carol', 'cr1', 'council'));
    const toDave = s.wrapEpochKeys(
      'council',
      0,
      [{ userId: 'dave', deviceId: 'd1' }],
      'alice',
      'a1',
    );
    const daveContext = s.context(toDave);
    given(committeeDecider, s.events(streamOfCommand(toDave)))
      .when(toDave, { ...daveContext, users: { ...daveContext.users, carol: elsewhere('carol') } })
      .thenRefuses(t, ForbiddenError, DomainErrorCode.recipientNotConfirmed);
    t.equal(s.exec(toDave)[0]?.type, 'EpochKeysWrapped', 'with the tenant’s own carol it counts');
  });
  t.test('the wrapping device counts for itself only once it is confirmed', async (t) => {
    const s = new Scenario().standard();
    s.exec(s.certifyDevice('alice', 'a2'));
    const a2 = [{ userId: 'alice', deviceId: 'a2' }];
    s.gwt(s.wrapEpochKeys('council', 0, a2, 'alice', 'a2')).thenRefuses(
      t,
      ForbiddenError,
      DomainErrorCode.signerNotConfirmed,
    );
    s.exec(s.confirmDevice('alice', 'a2', 'alice', 'a1'));
    t.equal(s.exec(s.wrapEpochKeys('council', 0, a2, 'alice', 'a2'))[0]?.type, 'EpochKeysWrapped');
  });
});

t.test('key records count only from a signer confirmed for the committee', async (t) => {
  const notConfirmed = DomainErrorCode.signerNotConfirmed;
  const a1 = { userId: 'alice', deviceId: 'a1' };
  const b1 = { userId: 'bob', deviceId: 'b1' };
  t.test(
    "an admin's own device for a staff member starts no epoch and wraps into none",
    async (t) => {
      // The admin alone certifies a2 for alice (staff) and holds its keys.
      const s = new Scenario().standard();
      s.exec(s.certifyDevice('alice', 'a2'));
      s.gwt(s.startKeyEpoch('council', 1, [a1, b1], 'alice', 'a2')).thenRefuses(
        t,
        ForbiddenError,
        notConfirmed,
      );
      s.gwt(s.wrapEpochKeys('council', 0, [b1], 'alice', 'a2')).thenRefuses(
        t,
        ForbiddenError,
        notConfirmed,
      );
      // Vouched for by another unconfirmed device of alice: still refused.
      s.exec(s.certifyDevice('alice', 'a3'));
      s.exec(s.confirmDevice('alice', 'a3', 'alice', 'a2'));
      s.gwt(s.startKeyEpoch('council', 1, [a1, b1], 'alice', 'a3')).thenRefuses(
        t,
        ForbiddenError,
        notConfirmed,
      );
      // alice's own confirmed a1 confirms a2: the chain a1 → a2 → a3 holds.
      s.exec(s.confirmDevice('alice', 'a2', 'alice', 'a1'));
      t.equal(
        s.exec(s.startKeyEpoch('council', 1, [a1, b1], 'alice', 'a3'))[0]?.type,
        'KeyEpochStarted',
      );
    },
  );
  t.test('in a newly founded committee only a confirmed device starts epoch 0', async (t) => {
    const s = new Scenario().standard();
    s.exec(s.certifyDevice('alice', 'a2'));
    s.exec(s.createCommittee('board'));
    s.exec(s.changeMembership('board', 'add', 'alice', 'staff'));
    s.exec(s.coSignMembership('board', 'alice', 'alice', 'a1'));
    s.gwt(s.startKeyEpoch('board', 0, [a1], 'alice', 'a2')).thenRefuses(
      t,
      ForbiddenError,
      notConfirmed,
    );
    // The founding device (the bootstrap) starts it.
    t.equal(s.exec(s.startKeyEpoch('board', 0, [a1], 'alice', 'a1'))[0]?.type, 'KeyEpochStarted');
  });
  t.test("a staff member's first device, confirmed by the committee's staff, may", async (t) => {
    const s = new Scenario().standard();
    s.exec(s.changeMembership('council', 'add', 'carol', 'staff'));
    s.exec(s.coSignMembership('council', 'carol', 'alice', 'a1'));
    const cr1 = { userId: 'carol', deviceId: 'cr1' };
    s.gwt(s.startKeyEpoch('council', 1, [a1, b1, cr1], 'carol', 'cr1')).thenRefuses(
      t,
      ForbiddenError,
      notConfirmed,
    );
    s.exec(s.confirmDevice('carol', 'cr1', 'alice', 'a1', 'council'));
    t.equal(
      s.exec(s.startKeyEpoch('council', 1, [a1, b1, cr1], 'carol', 'cr1'))[0]?.type,
      'KeyEpochStarted',
    );
  });
  t.test('a revoked or demoted staff device starts no epoch, confirmed or not', async (t) => {
    const s = new Scenario().standard();
    s.exec(s.certifyDevice('alice', 'a2'));
    s.exec(s.confirmDevice('alice', 'a2', 'alice', 'a1'));
    s.exec(s.revokeDevice('alice', 'a2'));
    s.gwt(s.startKeyEpoch('council', 1, [a1, b1], 'alice', 'a2')).thenRefuses(
      t,
      ForbiddenError,
      DomainErrorCode.deviceRevoked,
    );
    s.exec(s.changeMembership('council', 'changeRole', 'alice', 'reader'));
    s.gwt(s.startKeyEpoch('council', 1, [a1, b1], 'alice', 'a1')).thenRefuses(
      t,
      ForbiddenError,
      DomainErrorCode.roleLacksRight,
    );
  });
});

t.test('WrapEpochKeys', async (t) => {
  const withCarol = () => {
    const s = new Scenario().standard();
    s.exec(s.changeMembership('council', 'add', 'carol', 'reader'));
    return s;
  };
  const carol = [{ userId: 'carol', deviceId: 'cr1' }];
  t.test('staff wrap the current epoch key for a co-signed member device', async (t) => {
    const s = withCarol();
    s.exec(s.coSignMembership('council', 'carol', 'alice', 'a1'));
    s.exec(s.confirmDevice('carol', 'cr1', 'alice', 'a1', 'council'));
    const command = s.wrapEpochKeys('council', 0, carol, 'alice', 'a1');
    s.gwt(command).then(t, [
      {
        type: 'EpochKeysWrapped',
        data: {
          epoch: 0,
          recipients: [{ userId: 'carol', deviceId: 'cr1', fingerprint: fingerprintOf('cr1') }],
          signerUserId: 'alice',
          signerDeviceId: 'a1',
          record: command.data.record,
          recordHash: fakeHash(command.data.record),
          sequence: 9,
        },
        metadata: meta(s, command.metadata.commandId),
      },
    ]);
  });
  t.test('refuses keys for a member whose addition no staff device co-signed', async (t) => {
    const s = withCarol();
    s.gwt(s.wrapEpochKeys('council', 0, carol, 'alice', 'a1')).thenRefuses(
      t,
      ForbiddenError,
      DomainErrorCode.recipientNotMember,
    );
  });
  t.test('refuses keys for a non-member', async (t) => {
    const s = new Scenario().standard();
    s.gwt(s.wrapEpochKeys('council', 0, carol, 'alice', 'a1')).thenRefuses(
      t,
      ForbiddenError,
      DomainErrorCode.recipientNotMember,
    );
  });
  t.test('refuses keys for a revoked device', async (t) => {
    const s = new Scenario().standard();
    s.exec(s.revokeDevice('bob', 'b1'));
    s.gwt(s.wrapEpochKeys('council', 0, bob, 'alice', 'a1')).thenRefuses(
      t,
      ForbiddenError,
      DomainErrorCode.recipientDeviceInvalid,
    );
  });
  t.test('refuses keys for a device that was never certified', async (t) => {
    const s = new Scenario().standard();
    s.gwt(
      s.wrapEpochKeys('council', 0, [{ userId: 'bob', deviceId: 'b7' }], 'alice', 'a1'),
    ).thenRefuses(t, ForbiddenError, DomainErrorCode.recipientDeviceInvalid);
  });
  t.test('refuses an empty key list', async (t) => {
    const s = new Scenario().standard();
    s.gwt(s.wrapEpochKeys('council', 0, [], 'alice', 'a1')).thenRefuses(
      t,
      ValidationError,
      DomainErrorCode.keyListEmpty,
    );
  });
  t.test('refuses a device named twice', async (t) => {
    const s = new Scenario().standard();
    s.gwt(s.wrapEpochKeys('council', 0, [...bob, ...bob], 'alice', 'a1')).thenRefuses(
      t,
      ValidationError,
      DomainErrorCode.commandMalformed,
    );
  });
  t.test('refuses keys of an epoch that is not the current one', async (t) => {
    const s = new Scenario().standard();
    s.exec(s.startKeyEpoch('council', 1, [{ userId: 'alice', deviceId: 'a1' }], 'alice', 'a1'));
    s.gwt(s.wrapEpochKeys('council', 0, bob, 'alice', 'a1')).thenRefuses(
      t,
      ConflictError,
      DomainErrorCode.epochNotCurrent,
    );
  });
  t.test('refuses keys wrapped by a reader', async (t) => {
    const s = new Scenario().standard();
    s.gwt(s.wrapEpochKeys('council', 0, bob, 'bob', 'b1')).thenRefuses(
      t,
      ForbiddenError,
      DomainErrorCode.roleLacksRight,
    );
  });
  t.test('refuses a record that wraps for other devices than the command names', async (t) => {
    const s = new Scenario().standard();
    const forged = s.wrappedKeysFor([{ userId: 'alice', deviceId: 'a1' }]);
    s.gwt(
      s.wrapEpochKeys('council', 0, bob, 'alice', 'a1', { fields: { wrappedKeys: forged } }),
    ).thenRefuses(t, IntegrityError, DomainErrorCode.recordMismatch);
  });
  t.test('refuses a record whose key list is empty', async (t) => {
    const s = new Scenario().standard();
    s.gwt(
      s.wrapEpochKeys('council', 0, bob, 'alice', 'a1', { fields: { wrappedKeys: [] } }),
    ).thenRefuses(t, ValidationError, DomainErrorCode.keyListEmpty);
  });
});

t.test('SetRetention', async (t) => {
  t.test('an admin device sets the retention rule', async (t) => {
    const s = new Scenario().standard();
    const command = s.setRetention('council', 3650);
    s.gwt(command).then(t, [
      {
        type: 'RetentionSet',
        data: {
          retentionDays: 3650,
          signerUserId: null,
          signerDeviceId: 'adm1',
          record: command.data.record,
          recordHash: fakeHash(command.data.record),
          sequence: 7,
        },
        metadata: meta(s, command.metadata.commandId),
      },
    ]);
    s.exec(command);
    s.exec(s.setRetention('council', null));
    t.equal(active(s).retentionDays, null, 'null clears the rule');
  });
  t.test('staff set the retention rule', async (t) => {
    const s = new Scenario().standard();
    s.exec(s.setRetention('council', 30, {}, 'a1', 'alice'));
    t.equal(active(s).retentionDays, 30);
  });
  t.test('refuses a retention rule set by a reader', async (t) => {
    const s = new Scenario().standard();
    s.gwt(s.setRetention('council', 30, {}, 'b1', 'bob')).thenRefuses(
      t,
      ForbiddenError,
      DomainErrorCode.roleLacksRight,
    );
  });
  t.test('refuses a negative retention', async (t) => {
    const s = new Scenario().standard();
    s.gwt(s.setRetention('council', -1)).thenRefuses(
      t,
      ValidationError,
      DomainErrorCode.commandMalformed,
    );
  });
  t.test('refuses a retention rule signed by a user device posing as admin', async (t) => {
    const s = new Scenario().standard();
    s.gwt(s.setRetention('council', 10, {}, 'a1')).thenRefuses(
      t,
      ForbiddenError,
      DomainErrorCode.signerNotAdmin,
    );
  });
  t.test('refuses a number of days the signer did not sign', async (t) => {
    const s = new Scenario().standard();
    s.gwt(s.setRetention('council', 10, { fields: { retentionDays: 1 } })).thenRefuses(
      t,
      IntegrityError,
      DomainErrorCode.recordMismatch,
    );
  });
});

t.test('PlaceLegalHold and LiftLegalHold', async (t) => {
  t.test('an admin device places and lifts a legal hold on the committee', async (t) => {
    const s = new Scenario().standard();
    const place = s.placeLegalHold('council');
    s.gwt(place).then(t, [
      {
        type: 'LegalHoldPlaced',
        data: {
          documentId: null,
          signerDeviceId: 'adm1',
          record: place.data.record,
          recordHash: fakeHash(place.data.record),
          sequence: 7,
        },
        metadata: meta(s, place.metadata.commandId),
      },
    ]);
    s.exec(place);
    t.same(active(s).legalHolds, ['*']);
    const lift = s.liftLegalHold('council');
    s.gwt(lift).then(t, [
      {
        type: 'LegalHoldLifted',
        data: {
          documentId: null,
          signerDeviceId: 'adm1',
          record: lift.data.record,
          recordHash: fakeHash(lift.data.record),
          sequence: 8,
        },
        metadata: meta(s, lift.metadata.commandId),
      },
    ]);
    s.exec(lift);
    t.same(active(s).legalHolds, []);
  });
  t.test('holds one document', async (t) => {
    const s = new Scenario().standard();
    s.exec(s.placeLegalHold('council', {}, 'doc7'));
    t.same(active(s).legalHolds, ['doc7']);
  });
  t.test('refuses a second hold', async (t) => {
    const s = new Scenario().standard();
    s.exec(s.placeLegalHold('council'));
    s.gwt(s.placeLegalHold('council')).thenRefuses(
      t,
      ConflictError,
      DomainErrorCode.legalHoldAlreadyPlaced,
    );
  });
  t.test('refuses to lift a hold that is not placed', async (t) => {
    const s = new Scenario().standard();
    s.gwt(s.liftLegalHold('council')).thenRefuses(
      t,
      ConflictError,
      DomainErrorCode.legalHoldNotPlaced,
    );
  });
  t.test('refuses a hold placed by staff', async (t) => {
    const s = new Scenario().standard();
    s.gwt(s.placeLegalHold('council', {}, null, 'a1')).thenRefuses(
      t,
      ForbiddenError,
      DomainErrorCode.signerNotAdmin,
    );
  });
  t.test('refuses a lift record that signs a placement', async (t) => {
    const s = new Scenario().standard();
    s.exec(s.placeLegalHold('council'));
    s.gwt(s.liftLegalHold('council', { fields: { active: true } })).thenRefuses(
      t,
      IntegrityError,
      DomainErrorCode.recordMismatch,
    );
  });
});

t.test("refuses a command naming another committee than the stream's", async (t) => {
  const s = new Scenario().standard();
  const command = s.changeMembership('council', 'add', 'carol', 'reader');
  const bad = { ...command, data: { ...command.data, committeeId: 'finance' } };
  // Decided against council's stream: the scenario would route the command to finance's.
  given(committeeDecider, s.events(s.committeeStream('council')) as never)
    .when(bad, s.context(command))
    .thenRefuses(t, ValidationError, DomainErrorCode.commandMalformed);
});
