import t from 'tap';
import { ValidationError } from './errors.js';
import { parseStreamName, streamName, StreamKind } from './streamName.js';

t.test('parses stream names of every kind', async (t) => {
  t.same(parseStreamName('tenant-t1'), { kind: 'tenant', tenant: 't1', id: 't1' });
  t.same(parseStreamName('user-t1-alice'), { kind: 'user', tenant: 't1', id: 'alice' });
  t.same(parseStreamName('committee-t1-council'), {
    kind: 'committee',
    tenant: 't1',
    id: 'council',
  });
  t.same(parseStreamName('document-t1-doc_1'), { kind: 'document', tenant: 't1', id: 'doc_1' });
  t.same(parseStreamName('delivery-t1-20260110'), {
    kind: 'delivery',
    tenant: 't1',
    id: '20260110',
  });
});

t.test('refuses names of any other shape', async (t) => {
  const bad = [
    '',
    'tenant',
    'tenant-',
    'tenant-t1-x',
    'user-t1',
    'user-t1-alice-x',
    'user--alice',
    'User-t1-alice',
    'user-T1-alice',
    'user-t1-Alice',
    'folder-t1-x',
    'delivery-t1-2026011',
    'delivery-t1-yesterday',
    `user-t1-${'a'.repeat(65)}`,
    'user-t1-al ice',
  ];
  for (const name of bad) {
    t.throws(
      () => parseStreamName(name),
      { constructor: ValidationError, code: 'RATSFACH_STREAM_NAME_INVALID' },
      JSON.stringify(name),
    );
  }
});

t.test('builds names and refuses ids that would reach another stream', async (t) => {
  t.equal(streamName(StreamKind.tenant, 't1'), 'tenant-t1');
  t.equal(streamName(StreamKind.document, 't1', 'd1'), 'document-t1-d1');
  t.throws(() => streamName(StreamKind.document, 't1', 'd1-t2-x'), {
    code: 'RATSFACH_STREAM_NAME_INVALID',
  });
  t.throws(() => streamName(StreamKind.user, 't1'), { code: 'RATSFACH_STREAM_NAME_INVALID' });
});
