import t from 'tap';
import { LoggedScenario, foldRows } from '../../test/loggedScenario.js';
import { TableName } from '../tables.js';
import { hex } from './projection.js';

const refs = (s: LoggedScenario) =>
  foldRows(s.logged)
    .rows(TableName.blobRefs)
    .map((r) => `${r['documentId']} ${r['version']} ${r['kind']} ${String(r['hash']).slice(0, 8)}`)
    .sort();

t.test('every version references its content blob and key slot until erased', async (t) => {
  const s = new LoggedScenario().withDocument();
  s.exec(s.createDocument('doc2', 'council', 'alice', 'a1'));
  s.exec(s.commitVersion('doc2', 'alice', 'a1'));
  s.exec(s.commitVersion('doc1', 'alice', 'a1'));
  const hashes = s.logged.flatMap((e) =>
    e.event.type === 'VersionCommitted'
      ? [
          `${e.streamId} ${e.event.data.version} blob ${hex(e.event.data.contentHash).slice(0, 8)}`,
          `${e.streamId} ${e.event.data.version} keyslot ${hex(e.event.data.keySlotHash).slice(0, 8)}`,
        ]
      : [],
  );
  t.same(refs(s), hashes.sort());
  s.exec(s.deleteDocument('doc1', 'alice', 'a1'));
  t.equal(refs(s).length, 6, 'a deleted document can be restored: its references stay');
  s.exec(s.eraseDocument('doc1', 'alice', 'a1'));
  t.same(
    refs(s).map((r) => r.split(' ')[0]),
    ['doc2', 'doc2'],
    'an erased document references nothing',
  );
});
