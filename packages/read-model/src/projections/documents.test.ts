import t from 'tap';
import { LoggedScenario, foldRows } from '../../test/loggedScenario.js';
import { TableName } from '../tables.js';
import { hex } from './projection.js';

t.test(
  'a document row follows status and head; each version is kept with its signed fields',
  async (t) => {
    const s = new LoggedScenario().withDocument();
    s.exec(s.commitVersion('doc1', 'alice', 'a1'));
    s.exec(s.deleteDocument('doc1', 'alice', 'a1'));
    let rows = foldRows(s.logged);
    t.match(rows.rows(TableName.documents), [
      {
        documentId: 'doc1',
        committeeId: 'council',
        status: 'deleted',
        headVersion: 2,
        deletedAt: s.now,
      },
    ]);
    const versions = rows
      .rows(TableName.versions)
      .sort((a, b) => Number(a['version']) - Number(b['version']));
    const committed = s.logged.filter((e) => e.event.type === 'VersionCommitted');
    t.same(
      versions.map((v) => [v['version'], v['parentVersion'], v['signerDeviceId'], v['position']]),
      [
        [1, null, 'a1', committed[0]?.position],
        [2, 1, 'a1', committed[1]?.position],
      ],
    );
    const first = committed[0]?.event;
    if (first?.type !== 'VersionCommitted') throw new Error('expected a version');
    t.equal(versions[0]?.['contentHash'], hex(first.data.contentHash));
    t.equal(versions[0]?.['keySlotHash'], hex(first.data.keySlotHash));
    t.equal(versions[0]?.['size'], first.data.size);
    s.exec(s.restoreDocument('doc1', 'alice', 'a1'));
    rows = foldRows(s.logged);
    t.match(rows.rows(TableName.documents), [{ status: 'active', deletedAt: null }]);
  },
);

t.test('an erased document keeps its row and loses its versions', async (t) => {
  const s = new LoggedScenario().withDocument();
  s.exec(s.commitVersion('doc1', 'alice', 'a1'));
  s.exec(s.deleteDocument('doc1', 'alice', 'a1'));
  s.exec(s.eraseDocument('doc1', 'alice', 'a1'));
  const rows = foldRows(s.logged);
  t.match(rows.rows(TableName.documents), [{ status: 'erased', headVersion: 2 }]);
  t.same(rows.rows(TableName.versions), []);
});
