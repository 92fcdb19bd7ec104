import t from 'tap';
import { LoggedScenario, foldRows } from '../../test/loggedScenario.js';
import { TableName } from '../tables.js';

const feedOf = (s: LoggedScenario, userId: string) =>
  foldRows(s.logged)
    .rows(TableName.userFeed)
    .filter((row) => row['userId'] === userId)
    .sort((a, b) => Number(a['seq']) - Number(b['seq']))
    .map((r) => [r['seq'], r['type'], r['deviceId'] ?? r['committeeId'], r['role']]);

t.test(
  'a user feed holds certificates, co-signed joins, role changes, leaves and revocations',
  async (t) => {
    const s = new LoggedScenario().standard();
    s.exec(s.changeMembership('council', 'changeRole', 'bob', 'deputy'));
    s.exec(s.certifyDevice('bob', 'b2'));
    s.exec(s.changeMembership('council', 'remove', 'bob', 'deputy'));
    s.exec(s.revokeDevice('bob', 'b2'));
    t.same(feedOf(s, 'bob'), [
      [1, 'DeviceCertified', 'b1', null],
      [2, 'Joined', 'council', 'reader'],
      [3, 'RoleChanged', 'council', 'deputy'],
      [4, 'DeviceCertified', 'b2', null],
      [5, 'Left', 'council', null],
      [6, 'DeviceRevoked', 'b2', null],
    ]);
    t.same(
      feedOf(s, 'admin'),
      [[1, 'DeviceCertified', 'adm1', null]],
      'admin devices enter their user feed',
    );
  },
);

t.test(
  'an addition not yet co-signed is no join, and a promotion to staff counts once co-signed',
  async (t) => {
    const s = new LoggedScenario().standard();
    s.exec(s.changeMembership('council', 'add', 'carol', 'reader'));
    t.same(feedOf(s, 'carol'), [[1, 'DeviceCertified', 'cr1', null]], 'pending: not joined');
    s.exec(s.changeMembership('council', 'changeRole', 'bob', 'staff'));
    t.same(feedOf(s, 'bob').length, 2, 'promotion pending: nothing yet');
    s.exec(s.coSignMembership('council', 'bob', 'alice', 'a1'));
    t.same(feedOf(s, 'bob').at(-1), [3, 'RoleChanged', 'council', 'staff']);
    s.exec(s.coSignMembership('council', 'carol', 'alice', 'a1'));
    t.same(feedOf(s, 'carol').at(-1), [2, 'Joined', 'council', 'reader']);
  },
);

t.test('removing a member whose addition was never co-signed writes no leave', async (t) => {
  const s = new LoggedScenario().standard();
  s.exec(s.changeMembership('council', 'add', 'carol', 'reader'));
  s.exec(s.changeMembership('council', 'remove', 'carol', 'reader'));
  t.same(feedOf(s, 'carol'), [[1, 'DeviceCertified', 'cr1', null]]);
});

t.test('an admin device revoked by the root enters its user feed', async (t) => {
  const s = new LoggedScenario().standard();
  s.exec(s.certifyAdminDevice('adm2'));
  s.exec(s.revokeAdminDevice('adm2'));
  t.same(feedOf(s, 'admin').slice(1), [
    [2, 'DeviceCertified', 'adm2', null],
    [3, 'DeviceRevoked', 'adm2', null],
  ]);
});
