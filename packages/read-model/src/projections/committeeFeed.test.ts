import t from 'tap';
import { LoggedScenario, foldRows } from '../../test/loggedScenario.js';
import { TableName } from '../tables.js';

const feed = (s: LoggedScenario, committeeId: string) =>
  foldRows(s.logged)
    .rows(TableName.committeeFeed)
    .filter((row) => row['committeeId'] === committeeId)
    .sort((a, b) => Number(a['seq']) - Number(b['seq']));

t.test(
  'every committee and document record enters its committee feed in order, numbered from 1',
  async (t) => {
    const s = new LoggedScenario().withDocument();
    s.exec(s.moveDocument('doc1', 'alice', 'a1'));
    s.exec(s.commitVersion('doc1', 'alice', 'a1'));
    s.exec(s.deleteDocument('doc1', 'alice', 'a1'));
    s.exec(s.restoreDocument('doc1', 'alice', 'a1'));
    s.exec(s.recordDelivery({ documentId: 'doc1', version: 2 }));
    const rows = feed(s, 'council');
    t.same(
      rows.map((r) => [
        r['seq'],
        r['type'],
        r['documentId'],
        r['version'],
        r['epoch'],
        r['userId'],
      ]),
      [
        [1, 'CommitteeCreated', null, null, null, null],
        [2, 'MembershipChanged', null, null, null, 'alice'],
        [3, 'MembershipCoSigned', null, null, null, 'alice'],
        [4, 'MembershipChanged', null, null, null, 'bob'],
        [5, 'MembershipCoSigned', null, null, null, 'bob'],
        [6, 'KeyEpochStarted', null, null, 0, null],
        [7, 'EpochKeysWrapped', null, null, 0, null],
        [8, 'DocumentCreated', 'doc1', null, 0, null],
        [9, 'VersionCommitted', 'doc1', 1, 0, null],
        [10, 'DocumentMoved', 'doc1', null, 0, null],
        [11, 'VersionCommitted', 'doc1', 2, 0, null],
        [12, 'DocumentDeleted', 'doc1', null, null, null],
        [13, 'DocumentRestored', 'doc1', null, null, null],
      ],
      'deliveries are not feed entries',
    );
    const positions = rows.map((r) => r['position'] as bigint);
    t.same(
      [...positions].sort((a, b) => (a < b ? -1 : 1)),
      positions,
      'in log order',
    );
    const last = rows.at(-1);
    const logged = s.logged.find((e) => e.position === last?.['position']);
    t.equal(last?.['stream'], 'document-t1-doc1');
    t.equal(
      last?.['revision'],
      logged?.revision,
      'names the record in the log by stream and revision',
    );
  },
);

t.test('each committee numbers its own feed', async (t) => {
  const s = new LoggedScenario().withDocument();
  s.exec(s.createCommittee('finance'));
  s.exec(s.commitVersion('doc1', 'alice', 'a1'));
  t.same(
    feed(s, 'finance').map((r) => [r['seq'], r['type']]),
    [[1, 'CommitteeCreated']],
  );
  t.same(
    feed(s, 'council').map((r) => r['seq']),
    [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
  );
});

t.test('an erasure is the last entry of its document', async (t) => {
  const s = new LoggedScenario().withDocument();
  s.exec(s.deleteDocument('doc1', 'alice', 'a1'));
  s.exec(s.eraseDocument('doc1', 'alice', 'a1'));
  t.same(
    feed(s, 'council')
      .slice(-2)
      .map((r) => r['type']),
    ['DocumentDeleted', 'DocumentErased'],
  );
});
