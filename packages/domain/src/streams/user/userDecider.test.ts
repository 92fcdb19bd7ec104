import {
  ConflictError,
  ForbiddenError,
  IntegrityError,
  NotFoundError,
  ValidationError,
} from '@ratsfach/kernel';
import t from 'tap';
import { DomainErrorCode } from '../../domainErrorCode.js';
import { Scenario, fakeHash, fingerprintOf, given, signingKeyOf } from '../../testing/index.js';
import { userDecider } from './userDecider.js';

const admin = () => {
  const s = new Scenario();
  s.exec(s.createTenant());
  s.exec(s.certifyAdminDevice('adm1'));
  s.exec(s.certifyAdminDevice('adm2'));
  return s;
};
const withAlice = () => {
  const s = admin();
  s.exec(s.createUser('alice'));
  s.exec(s.certifyDevice('alice', 'a1'));
  return s;
};
const meta = (s: Scenario, commandId: string) => ({ commandId, occurredAt: s.now });

t.test('CreateUser', async (t) => {
  t.test('creates a user signed by an admin device', async (t) => {
    const s = admin();
    const command = s.createUser('alice');
    s.gwt(command).then(t, [
      {
        type: 'UserCreated',
        data: {
          tenantId: 't1',
          userId: 'alice',
          signerDeviceId: 'adm1',
          record: command.data.record,
          recordHash: fakeHash(command.data.record),
          sequence: 0,
        },
        metadata: meta(s, command.metadata.commandId),
      },
    ]);
  });
  t.test('refuses a user created twice', async (t) => {
    const s = admin();
    s.exec(s.createUser('alice'));
    s.gwt(s.createUser('alice', { sequence: 0, previousHash: new Uint8Array(64) })).thenRefuses(
      t,
      ConflictError,
      DomainErrorCode.userExists,
    );
  });
  t.test('refuses a user signed by a revoked admin device', async (t) => {
    const s = admin();
    s.exec(s.revokeAdminDevice('adm2'));
    s.gwt(s.createUser('alice', {}, 'adm2')).thenRefuses(
      t,
      ForbiddenError,
      DomainErrorCode.deviceRevoked,
    );
  });
  t.test('refuses a user signed by a device that is no admin device', async (t) => {
    const s = admin();
    s.gwt(s.createUser('alice', {}, 'a1')).thenRefuses(
      t,
      ForbiddenError,
      DomainErrorCode.signerNotAdmin,
    );
  });
  t.test('refuses a user signed by another key than the admin device named', async (t) => {
    const s = admin();
    s.gwt(s.createUser('alice', { fingerprint: fingerprintOf('adm2') })).thenRefuses(
      t,
      IntegrityError,
      DomainErrorCode.signerMismatch,
    );
  });
  t.test('refuses without the tenant in its context', async (t) => {
    const s = admin();
    given(userDecider, [])
      .when(s.createUser('alice'), { verifier: s.verifier })
      .thenRefuses(t, ValidationError, DomainErrorCode.contextMissing);
  });
  t.test('refuses in a tenant that does not exist', async (t) => {
    const s = new Scenario();
    s.gwt(s.createUser('alice')).thenRefuses(t, NotFoundError, DomainErrorCode.tenantUnknown);
  });
  t.test('refuses a user id of the wrong shape', async (t) => {
    const s = admin();
    const command = s.createUser('alice');
    const bad = { ...command, data: { ...command.data, userId: 'Alice!' } };
    given(userDecider, [])
      .when(bad, { verifier: s.verifier, tenant: s.tenant() })
      .thenRefuses(t, ValidationError, DomainErrorCode.commandMalformed);
  });
});

t.test('CertifyDevice', async (t) => {
  t.test('certifies a device of a user, fingerprinting its key', async (t) => {
    const s = admin();
    s.exec(s.createUser('alice'));
    const command = s.certifyDevice('alice', 'a1');
    s.gwt(command).then(t, [
      {
        type: 'DeviceCertified',
        data: {
          deviceId: 'a1',
          fingerprint: fingerprintOf('a1'),
          notBefore: 1_767_000_000,
          notAfter: 1_770_000_000,
          signerDeviceId: 'adm1',
          record: command.data.record,
          recordHash: fakeHash(command.data.record),
          sequence: 1,
        },
        metadata: meta(s, command.metadata.commandId),
      },
    ]);
  });
  t.test('renews the certificate of a device in good standing', async (t) => {
    const s = withAlice();
    const events = s.exec(s.certifyDevice('alice', 'a1', {}, { notAfter: 1_780_000_000 }));
    t.equal(events[0]?.type, 'DeviceCertified');
    const user = s.user('alice');
    t.equal(
      user.status === 'active' && user.devices.a1?.notAfter,
      1_780_000_000,
      'the validity is extended',
    );
  });
  t.test('refuses a renewal that does not extend the validity', async (t) => {
    const s = withAlice();
    s.gwt(s.certifyDevice('alice', 'a1', {}, { notAfter: 1_769_000_000 })).thenRefuses(
      t,
      ConflictError,
      DomainErrorCode.certificateNotNewer,
    );
  });
  t.test('refuses a device id certified with another key', async (t) => {
    const s = withAlice();
    s.gwt(
      s.certifyDevice('alice', 'a1', {}, { notAfter: 1_780_000_000, key: signingKeyOf('other') }),
    ).thenRefuses(t, ConflictError, DomainErrorCode.deviceExists);
  });
  t.test('refuses a new device id with the key of another device', async (t) => {
    const s = withAlice();
    s.gwt(s.certifyDevice('alice', 'a2', {}, { key: signingKeyOf('a1') })).thenRefuses(
      t,
      ConflictError,
      DomainErrorCode.deviceExists,
    );
  });
  t.test('refuses to certify a revoked device again', async (t) => {
    const s = withAlice();
    s.exec(s.revokeDevice('alice', 'a1'));
    s.gwt(s.certifyDevice('alice', 'a1', {}, { notAfter: 1_780_000_000 })).thenRefuses(
      t,
      ConflictError,
      DomainErrorCode.deviceNotRenewable,
    );
  });
  t.test('refuses a device of a user that does not exist', async (t) => {
    const s = admin();
    s.gwt(s.certifyDevice('nobody', 'n1')).thenRefuses(
      t,
      NotFoundError,
      DomainErrorCode.userUnknown,
    );
  });
  t.test('refuses a certificate signed by a user device', async (t) => {
    const s = withAlice();
    s.gwt(s.certifyDevice('alice', 'a2', {}, { signerDeviceId: 'a1' })).thenRefuses(
      t,
      ForbiddenError,
      DomainErrorCode.signerNotAdmin,
    );
  });
  t.test('refuses a certificate for another user than the stream', async (t) => {
    const s = withAlice();
    s.gwt(s.certifyDevice('alice', 'a2', { fields: { userId: 'bob' } })).thenRefuses(
      t,
      IntegrityError,
      DomainErrorCode.recordMismatch,
    );
  });
  t.test('refuses a certificate without a signing key', async (t) => {
    const s = withAlice();
    s.gwt(s.certifyDevice('alice', 'a2', { fields: { signingKey: 'none' } })).thenRefuses(
      t,
      IntegrityError,
      DomainErrorCode.recordFieldsInvalid,
    );
  });
});

t.test('RevokeDevice', async (t) => {
  t.test('revokes a device', async (t) => {
    const s = withAlice();
    const command = s.revokeDevice('alice', 'a1');
    s.gwt(command).then(t, [
      {
        type: 'DeviceRevoked',
        data: {
          deviceId: 'a1',
          fingerprint: fingerprintOf('a1'),
          signerDeviceId: 'adm1',
          record: command.data.record,
          recordHash: fakeHash(command.data.record),
          sequence: 2,
        },
        metadata: meta(s, command.metadata.commandId),
      },
    ]);
    s.exec(command);
    const user = s.user('alice');
    t.equal(
      user.status === 'active' && user.devices.a1?.revoked,
      true,
      'the device is revoked in the state',
    );
  });
  t.test('refuses an unknown device', async (t) => {
    const s = withAlice();
    s.gwt(s.revokeDevice('alice', 'a9')).thenRefuses(
      t,
      NotFoundError,
      DomainErrorCode.deviceUnknown,
    );
  });
  t.test('refuses a revocation naming another key than the device has', async (t) => {
    const s = withAlice();
    s.gwt(
      s.revokeDevice('alice', 'a1', { fields: { fingerprint: fingerprintOf('b1') } }),
    ).thenRefuses(t, IntegrityError, DomainErrorCode.recordMismatch);
  });
  t.test('refuses a second revocation', async (t) => {
    const s = withAlice();
    s.exec(s.revokeDevice('alice', 'a1'));
    s.gwt(s.revokeDevice('alice', 'a1')).thenRefuses(
      t,
      ConflictError,
      DomainErrorCode.deviceAlreadyRevoked,
    );
  });
  t.test('refuses a revocation by a non-admin device', async (t) => {
    const s = withAlice();
    s.gwt(s.revokeDevice('alice', 'a1', {}, 'a1')).thenRefuses(
      t,
      ForbiddenError,
      DomainErrorCode.signerNotAdmin,
    );
  });
  t.test('refuses a revocation against an older head of the user chain', async (t) => {
    const s = withAlice();
    const stale = s.revokeDevice('alice', 'a1');
    s.exec(s.certifyDevice('alice', 'a2'));
    s.gwt(stale).thenRefuses(t, ConflictError, DomainErrorCode.chainStale);
  });
});

t.test('RecordHeadsSeen', async (t) => {
  const heads = [
    { stream: 'committee-t1-council', length: 4, hash: fakeHash(new Uint8Array([4])) },
  ];
  t.test('records the heads a device has seen', async (t) => {
    const s = withAlice();
    const command = s.recordHeadsSeen('alice', 'a1', heads);
    s.gwt(command).then(t, [
      {
        type: 'HeadsSeen',
        data: {
          deviceId: 'a1',
          heads,
          record: command.data.record,
          recordHash: fakeHash(command.data.record),
          sequence: 2,
        },
        metadata: meta(s, command.metadata.commandId),
      },
    ]);
    s.exec(command);
    const user = s.user('alice');
    t.equal(user.status === 'active' && user.headsSeen.a1?.[0]?.length, 4);
  });
  t.test('refuses heads of a revoked device', async (t) => {
    const s = withAlice();
    s.exec(s.revokeDevice('alice', 'a1'));
    s.gwt(s.recordHeadsSeen('alice', 'a1', heads)).thenRefuses(
      t,
      ForbiddenError,
      DomainErrorCode.deviceRevoked,
    );
  });
  t.test('refuses heads signed by another device than it names', async (t) => {
    const s = withAlice();
    s.exec(s.certifyDevice('alice', 'a2'));
    s.gwt(
      s.recordHeadsSeen('alice', 'a1', heads, { fingerprint: fingerprintOf('a2') }),
    ).thenRefuses(t, IntegrityError, DomainErrorCode.signerMismatch);
  });
  t.test("refuses heads of another user's device", async (t) => {
    const s = withAlice();
    s.gwt(s.recordHeadsSeen('alice', 'b1', heads)).thenRefuses(
      t,
      ForbiddenError,
      DomainErrorCode.signerDeviceUnknown,
    );
  });
  t.test("refuses a head of another tenant's stream", async (t) => {
    const s = withAlice();
    const other = [
      { stream: 'committee-t2-council', length: 1, hash: fakeHash(new Uint8Array([1])) },
    ];
    s.gwt(s.recordHeadsSeen('alice', 'a1', other)).thenRefuses(
      t,
      ValidationError,
      DomainErrorCode.commandMalformed,
    );
  });
  t.test('refuses a head of a stream name of the wrong shape', async (t) => {
    const s = withAlice();
    const bad = [
      { stream: 'committee-t1-Council-x', length: 1, hash: fakeHash(new Uint8Array([1])) },
    ];
    s.gwt(s.recordHeadsSeen('alice', 'a1', bad)).thenRefuses(
      t,
      ValidationError,
      DomainErrorCode.commandMalformed,
    );
  });
  t.test('refuses a head whose hash is not a hash', async (t) => {
    const s = withAlice();
    const bad = [{ stream: 'committee-t1-council', length: 1, hash: new Uint8Array(2) }];
    s.gwt(s.recordHeadsSeen('alice', 'a1', bad)).thenRefuses(
      t,
      IntegrityError,
      DomainErrorCode.recordFieldsInvalid,
    );
  });
  t.test('refuses an empty list of heads', async (t) => {
    const s = withAlice();
    s.gwt(s.recordHeadsSeen('alice', 'a1', [])).thenRefuses(
      t,
      ValidationError,
      DomainErrorCode.commandMalformed,
    );
  });
});

t.test("refuses a command naming another user than the stream's", async (t) => {
  const s = withAlice();
  const command = s.certifyDevice('alice', 'a9');
  const bad = { ...command, data: { ...command.data, userId: 'bob' } };
  // Decided against alice's stream: the scenario would route the command to bob's by its user id.
  given(userDecider, s.events(s.userStream('alice')) as never)
    .when(bad, s.context(command))
    .thenRefuses(t, ValidationError, DomainErrorCode.commandMalformed);
});

t.test('ConfirmDevice', async (t) => {
  /** alice (a1) is staff of council, co-signed by her own device (the bootstrap); bob has b1. */
  const withCouncil = () => {
    const s = withAlice();
    s.exec(s.createUser('bob'));
    s.exec(s.certifyDevice('bob', 'b1'));
    s.exec(s.createUser('carol'));
    s.exec(s.certifyDevice('carol', 'c1'));
    s.exec(s.createCommittee('council'));
    s.exec(s.changeMembership('council', 'add', 'alice', 'staff'));
    s.exec(s.coSignMembership('council', 'alice', 'alice', 'a1'));
    s.exec(s.changeMembership('council', 'add', 'carol', 'reader'));
    s.exec(s.coSignMembership('council', 'carol', 'alice', 'a1'));
    return s;
  };
  t.test("a staff device confirms a user's first device, naming its committee", async (t) => {
    const s = withCouncil();
    const command = s.confirmDevice('bob', 'b1', 'alice', 'a1', 'council');
    s.gwt(command).then(t, [
      {
        type: 'DeviceConfirmed',
        data: {
          deviceId: 'b1',
          fingerprint: fingerprintOf('b1'),
          committeeId: 'council',
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
    const bob = s.user('bob');
    t.same(bob.status === 'active' ? bob.devices['b1']?.confirmedBy : undefined, [
      { signerUserId: 'alice', signerDeviceId: 'a1', committeeId: 'council' },
    ]);
  });
  t.test("the user's own device confirms a later device", async (t) => {
    const s = withCouncil();
    s.exec(s.certifyDevice('bob', 'b2'));
    const events = s.exec(s.confirmDevice('bob', 'b2', 'bob', 'b1'));
    t.equal(events[0]?.type, 'DeviceConfirmed');
  });
  t.test('refuses the neighbouring paths', async (t) => {
    const s = withCouncil();
    s.exec(s.certifyDevice('bob', 'b2'));
    const refuses = (command: Parameters<Scenario['gwt']>[0], cls: never, code: string) =>
      s.gwt(command).thenRefuses(t, cls, code);
    // A staff device confirming a second device: bob's own devices confirm it.
    refuses(
      s.confirmDevice('bob', 'b2', 'alice', 'a1', 'council'),
      ForbiddenError as never,
      DomainErrorCode.confirmationNotAllowed,
    );
    // Another user's device naming no committee.
    refuses(
      s.confirmDevice('bob', 'b1', 'alice', 'a1'),
      ForbiddenError as never,
      DomainErrorCode.confirmationNotAllowed,
    );
    // A reader of the committee (no wrapping right).
    refuses(
      s.confirmDevice('bob', 'b1', 'carol', 'c1', 'council'),
      ForbiddenError as never,
      DomainErrorCode.roleLacksRight,
    );
    // A device confirming itself; the own user's device naming a committee.
    refuses(
      s.confirmDevice('bob', 'b2', 'bob', 'b2'),
      ForbiddenError as never,
      DomainErrorCode.confirmationNotAllowed,
    );
    refuses(
      s.confirmDevice('bob', 'b2', 'bob', 'b1', 'council'),
      ForbiddenError as never,
      DomainErrorCode.confirmationNotAllowed,
    );
    // Signed by another key than the named device's.
    refuses(
      s.confirmDevice('bob', 'b2', 'bob', 'b1', null, { fingerprint: fingerprintOf('a1') }),
      IntegrityError as never,
      DomainErrorCode.signerMismatch,
    );
    // A device of another tenant (its key is not the named device's).
    refuses(
      s.confirmDevice('bob', 'b2', 'bob', 'b1', null, {
        fields: { fingerprint: fingerprintOf('x9') },
      }),
      IntegrityError as never,
      DomainErrorCode.recordMismatch,
    );
    refuses(
      s.confirmDevice('bob', 'b2', 'bob', 'b1', null, { fields: { tenantId: 't2' } }),
      IntegrityError as never,
      DomainErrorCode.recordMismatch,
    );
    // An unknown device.
    refuses(
      s.confirmDevice('bob', 'b9', 'bob', 'b1'),
      NotFoundError as never,
      DomainErrorCode.deviceUnknown,
    );
    // Replayed on another chain: bob's confirmation appended to carol's stream.
    const replay = s.confirmDevice('bob', 'b2', 'bob', 'b1');
    refuses(
      { ...replay, data: { ...replay.data, userId: 'carol' } },
      ConflictError as never,
      DomainErrorCode.chainStale,
    );
    // At a stale position of bob's own chain.
    refuses(
      s.confirmDevice('bob', 'b2', 'bob', 'b1', null, { sequence: 1 }),
      ConflictError as never,
      DomainErrorCode.chainStale,
    );
  });
  t.test('refuses a revoked signer and a revoked target', async (t) => {
    const s = withCouncil();
    s.exec(s.certifyDevice('bob', 'b2'));
    s.exec(s.revokeDevice('bob', 'b1'));
    s.gwt(s.confirmDevice('bob', 'b2', 'bob', 'b1')).thenRefuses(
      t,
      ForbiddenError,
      DomainErrorCode.deviceRevoked,
    );
    s.gwt(s.confirmDevice('bob', 'b1', 'bob', 'b2')).thenRefuses(
      t,
      ForbiddenError,
      DomainErrorCode.deviceRevoked,
    );
    // With every earlier device revoked, the next one is a first device again: staff confirm it.
    s.exec(s.certifyDevice('carol', 'c2'));
    s.exec(s.revokeDevice('bob', 'b2'));
    s.exec(s.certifyDevice('bob', 'b3'));
    t.equal(
      s.exec(s.confirmDevice('bob', 'b3', 'alice', 'a1', 'council'))[0]?.type,
      'DeviceConfirmed',
    );
  });
});
