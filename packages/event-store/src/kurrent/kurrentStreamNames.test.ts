import t from 'tap';
import { KurrentStreamNames } from './kurrentStreamNames.js';

t.test('a namespace prefixes data streams and keeps claims apart', async (t) => {
  const names = new KurrentStreamNames('prod_1');
  t.equal(names.toKurrent('document-t1-d1'), 'prod_1:document-t1-d1');
  t.equal(names.fromKurrent('prod_1:document-t1-d1'), 'document-t1-d1');
  t.equal(names.fromKurrent('prod_2:document-t1-d1'), null, "another namespace's stream");
  t.equal(names.fromKurrent('document-t1-d1'), null, 'a stream without the namespace');
  const claim = names.claimOf('0dc93c42-c335-5617-877c-0791b076c99d');
  t.equal(claim, 'prod_1!command-0dc93c42-c335-5617-877c-0791b076c99d');
  t.equal(names.fromKurrent(claim), null, 'claims are never read as data');
  t.same(names.serverFilter(), {
    filterOn: 'streamName',
    checkpointInterval: 1,
    prefixes: ['prod_1:'],
  });
});

t.test('without a namespace the store owns every stream without : or !', async (t) => {
  const names = new KurrentStreamNames(undefined);
  t.equal(names.toKurrent('tenant-t1'), 'tenant-t1');
  t.equal(names.fromKurrent('tenant-t1'), 'tenant-t1');
  t.equal(names.fromKurrent('prod_1:tenant-t1'), null);
  t.equal(names.fromKurrent(names.claimOf('x')), null);
  t.equal(names.fromKurrent('$settings'), null);
  const filter = names.serverFilter();
  t.ok('regex' in filter && new RegExp(filter.regex).test('document-t1-d1'));
  t.ok('regex' in filter && !new RegExp(filter.regex).test('!command-x'));
});

t.test('refuses a namespace of the wrong shape', async (t) => {
  for (const bad of ['', 'Prod', 'a:b', 'a!b', 'x'.repeat(65)]) {
    t.throws(() => new KurrentStreamNames(bad), RangeError, JSON.stringify(bad));
  }
});
