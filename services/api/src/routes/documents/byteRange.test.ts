import t from 'tap';
import { parseByteRange } from './byteRange.js';

t.test('reads one byte range against the object size', async (t) => {
  t.same(parseByteRange('bytes=0-9', 100), { offset: 0, length: 10 });
  t.same(parseByteRange('bytes=90-', 100), { offset: 90, length: 10 });
  t.same(parseByteRange('bytes=90-500', 100), { offset: 90, length: 10 }, 'clipped to the end');
  t.same(parseByteRange('bytes=-10', 100), { offset: 90, length: 10 }, 'a suffix');
  t.same(parseByteRange('bytes=-500', 100), { offset: 0, length: 100 }, 'a long suffix: all');
  t.same(parseByteRange(' bytes=5-5 ', 100), { offset: 5, length: 1 });
});

t.test('sends the whole object for what it does not serve', async (t) => {
  t.equal(parseByteRange(undefined, 100), null, 'no header');
  t.equal(parseByteRange('items=0-9', 100), null, 'another unit');
  t.equal(parseByteRange('bytes=0-9,20-29', 100), null, 'several ranges');
  t.equal(parseByteRange('bytes=-', 100), null, 'no numbers');
  t.equal(parseByteRange('bytes=9-0', 100), null, 'last before first');
  t.equal(parseByteRange('bytes=1234567890123456-', 100), null, 'absurdly long numbers');
});

t.test('says when a range cannot be satisfied', async (t) => {
  t.equal(parseByteRange('bytes=100-', 100), 'unsatisfiable', 'starts at the end');
  t.equal(parseByteRange('bytes=200-300', 100), 'unsatisfiable');
  t.equal(parseByteRange('bytes=-0', 100), 'unsatisfiable', 'an empty suffix');
  t.equal(parseByteRange('bytes=-5', 0), 'unsatisfiable', 'any suffix of an empty object');
});
