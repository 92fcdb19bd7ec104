import t from 'tap';
import { LoggedScenario, foldRows } from '../../test/loggedScenario.js';
import { TableName } from '../tables.js';

const auditOf = (s: LoggedScenario, from: number) => {
  const positions = new Set(s.since(from).map((e) => e.position));
  return foldRows(s.logged)
    .rows(TableName.audit)
    .filter((r) => positions.has(r['position'] as bigint))
    .sort((a, b) =>
      a['position'] === b['position']
        ? Number(a['idx']) - Number(b['idx'])
        : a['position']! < b['position']!
          ? -1
          : 1,
    )
    .map((r) => [
      r['action'],
      r['type'],
      r['actorUserId'],
      r['actorDeviceId'],
      r['subjectKind'],
      r['subjectId'],
      r['targetUserId'],
      r['committeeId'],
    ]);
};

t.test('records who accessed, changed and was granted what', async (t) => {
  const s = new LoggedScenario().withDocument();
  const from = s.logged.length;
  s.exec(s.recordDelivery({ documentId: 'doc1', version: 1, userId: 'bob', deviceId: 'b1' }));
  s.exec(s.certifyDevice('bob', 'b2'));
  s.exec(s.certifyDevice('alice', 'a2'));
  // Keys go only to confirmed devices: each user's earlier device confirms the new one.
  s.exec(s.confirmDevice('bob', 'b2', 'bob', 'b1'));
  s.exec(s.confirmDevice('alice', 'a2', 'alice', 'a1'));
  s.exec(
    s.wrapEpochKeys(
      'council',
      0,
      [
        { userId: 'bob', deviceId: 'b2' },
        { userId: 'alice', deviceId: 'a2' },
      ],
      'alice',
      'a1',
    ),
  );
  s.exec(s.commitVersion('doc1', 'alice', 'a1'));
  s.exec(s.changeMembership('council', 'remove', 'bob', 'reader'));
  s.exec(s.revokeDevice('bob', 'b2'));
  t.same(auditOf(s, from), [
    ['accessed', 'DocumentDelivered', 'bob', 'b1', 'document', 'doc1', null, 'council'],
    ['granted', 'DeviceCertified', 'admin', 'adm1', 'device', 'b2', 'bob', null],
    ['granted', 'DeviceCertified', 'admin', 'adm1', 'device', 'a2', 'alice', null],
    ['granted', 'EpochKeysWrapped', 'alice', 'a1', 'device', 'b2', 'bob', 'council'],
    ['granted', 'EpochKeysWrapped', 'alice', 'a1', 'device', 'a2', 'alice', 'council'],
    ['changed', 'VersionCommitted', 'alice', 'a1', 'document', 'doc1', null, 'council'],
    ['revoked', 'MembershipChanged', 'admin', 'adm1', 'committee', 'council', 'bob', 'council'],
    ['revoked', 'DeviceRevoked', 'admin', 'adm1', 'device', 'b2', 'bob', null],
  ]);
});

t.test('root-signed records have no acting user; heartbeats are not audit entries', async (t) => {
  const s = new LoggedScenario();
  s.exec(s.createTenant());
  s.exec(s.certifyAdminDevice('adm1'));
  s.exec(s.recordHeartbeat('adm1', {}));
  t.same(auditOf(s, 0), [
    ['changed', 'TenantCreated', null, null, 'tenant', 't1', null, null],
    ['granted', 'AdminDeviceCertified', null, null, 'device', 'adm1', 'admin', null],
  ]);
});
