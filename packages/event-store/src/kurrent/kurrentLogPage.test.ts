import type { AllStreamResolvedEvent } from '@kurrent/kurrentdb-client';
import t from 'tap';
import { StoreUnavailableError } from '../errors.js';
import { toLogPage } from './kurrentLogPage.js';
import { KurrentStreamNames } from './kurrentStreamNames.js';

/** The shape readAll yields, reduced to what a page looks at. */
const resolved = (streamId: string, position: bigint, type = 'A.v1'): AllStreamResolvedEvent =>
  ({
    event: {
      streamId,
      id: '00000000-0000-5000-8000-000000000000',
      isJson: false,
      revision: 0n,
      type,
      created: new Date(0),
      data: new Uint8Array(0),
      metadata: new Uint8Array(0),
      position: { commit: position, prepare: position },
    },
  }) as AllStreamResolvedEvent;

const names = new KurrentStreamNames('ns1');

t.test('drops the record at the start position, since KurrentDB reads inclusively', async (t) => {
  const page = toLogPage(
    [resolved('ns1:document-t1-a', 100n), resolved('ns1:document-t1-a', 200n)],
    100n,
    5,
    6,
    names,
  );
  t.same(
    page.records.map((r) => r.record.position?.commit),
    [200n],
  );
  t.equal(page.last, 200n);
  t.equal(page.exhausted, true);
});

t.test('skips system events and other namespaces but moves past them', async (t) => {
  const page = toLogPage(
    [
      resolved('$settings', 10n),
      resolved('ns1:document-t1-a', 20n, '$metadata'),
      resolved('ns2:document-t1-a', 30n),
      resolved('ns1!command-x', 40n),
      resolved('ns1:document-t1-a', 50n),
      resolved('other', 60n),
    ],
    undefined,
    10,
    11,
    names,
  );
  t.same(
    page.records.map((r) => [r.stream, r.record.position?.commit]),
    [['document-t1-a', 50n]],
    'only our own data events, under their ratsfach names',
  );
  t.equal(page.last, 60n, 'the next page starts after everything seen');
});

t.test('keeps at most count records and leaves the rest for the next page', async (t) => {
  const all = [10n, 20n, 30n, 40n].map((p) => resolved('ns1:document-t1-a', p));
  const page = toLogPage(all, undefined, 3, 4, names);
  t.same(
    page.records.map((r) => r.record.position?.commit),
    [10n, 20n, 30n],
  );
  t.equal(page.last, 30n);
  t.equal(page.exhausted, false);
});

t.test('a full read is not the end of the log', async (t) => {
  const all = [10n, 20n, 30n].map((p) => resolved('ns2:document-t1-a', p));
  const page = toLogPage(all, undefined, 2, 3, names);
  t.same(page.records, []);
  t.equal(page.exhausted, false, 'foreign events filled the read: read on');
  t.equal(page.last, 30n);
});

t.test('refuses a record without a log position', async (t) => {
  const broken = { event: { ...resolved('ns1:document-t1-a', 1n).event, position: undefined } };
  t.throws(
    () => toLogPage([broken as AllStreamResolvedEvent], undefined, 2, 3, names),
    StoreUnavailableError,
  );
});
