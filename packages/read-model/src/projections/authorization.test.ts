import t from 'tap';
import { fingerprintOf } from '@ratsfach/domain/testing';
import { LoggedScenario, foldRows } from '../../test/loggedScenario.js';
import { TableName } from '../tables.js';

t.test('tenants, users, committees and devices with validity and revocation', async (t) => {
  const s = new LoggedScenario().standard();
  s.exec(s.revokeDevice('bob', 'b1'));
  const rows = foldRows(s.logged);
  t.match(rows.rows(TableName.tenants), [{ tenantId: 't1', rootFingerprint: s.rootFingerprint }]);
  t.same(
    rows
      .rows(TableName.users)
      .map((r) => r['userId'])
      .sort(),
    ['alice', 'bob', 'carol'],
  );
  t.same(
    rows.rows(TableName.committees).map((r) => r['committeeId']),
    ['council'],
  );
  const devices = Object.fromEntries(
    rows.rows(TableName.devices).map((r) => [String(r['deviceId']), r] as const),
  );
  t.match(devices['adm1'], {
    userId: 'admin',
    admin: true,
    revoked: false,
    fingerprint: fingerprintOf('adm1'),
  });
  t.match(devices['a1'], {
    userId: 'alice',
    admin: false,
    revoked: false,
    notBefore: 1_767_000_000,
    notAfter: 1_770_000_000,
  });
  const revocation = s.logged.at(-1);
  t.match(devices['b1'], { userId: 'bob', revoked: true, revokedAt: revocation?.position });
});

t.test(
  'a renewal replaces the validity; an admin device revoked by the root is revoked',
  async (t) => {
    const s = new LoggedScenario().standard();
    s.exec(s.certifyDevice('alice', 'a1', {}, { notAfter: 1_780_000_000 }));
    s.exec(s.certifyAdminDevice('adm2'));
    s.exec(s.revokeAdminDevice('adm2'));
    const devices = Object.fromEntries(
      foldRows(s.logged)
        .rows(TableName.devices)
        .map((r) => [String(r['deviceId']), r] as const),
    );
    t.match(devices['a1'], { notAfter: 1_780_000_000, revoked: false });
    t.match(devices['adm2'], { admin: true, revoked: true });
    t.match(devices['adm1'], { revoked: false });
  },
);

t.test('memberships: pending until co-signed, a pending promotion, removal', async (t) => {
  const s = new LoggedScenario().standard();
  s.exec(s.changeMembership('council', 'add', 'carol', 'reader'));
  s.exec(s.changeMembership('council', 'changeRole', 'bob', 'staff'));
  const promotion = s.logged.at(-1);
  let members = Object.fromEntries(
    foldRows(s.logged)
      .rows(TableName.memberships)
      .map((r) => [String(r['userId']), r] as const),
  );
  t.match(members['alice'], { role: 'staff', effective: true, pendingStaffSequence: null });
  t.match(members['carol'], { role: 'reader', effective: false });
  t.match(members['bob'], {
    role: 'reader',
    effective: true,
    pendingStaffSequence:
      promotion?.event.type === 'MembershipChanged' ? promotion.event.data.sequence : -1,
  });
  s.exec(s.coSignMembership('council', 'bob', 'alice', 'a1'));
  s.exec(s.changeMembership('council', 'remove', 'carol', 'reader'));
  members = Object.fromEntries(
    foldRows(s.logged)
      .rows(TableName.memberships)
      .map((r) => [String(r['userId']), r] as const),
  );
  t.match(members['bob'], {
    role: 'staff',
    effective: true,
    pendingStaffSequence: null,
    pendingStaffHash: null,
  });
  t.notOk(members['carol'], 'removed');
});
