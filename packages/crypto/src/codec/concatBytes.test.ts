import t from 'tap';
import { concatBytes } from './concatBytes.js';

t.test('joins the parts in order, copying them', async (t) => {
  const a = Uint8Array.of(1, 2);
  const b = Uint8Array.of(3);
  const out = concatBytes(a, new Uint8Array(0), b, Uint8Array.of(4, 5));
  t.same([...out], [1, 2, 3, 4, 5]);
  a[0] = 9;
  t.equal(out[0], 1, 'the result does not share memory with its parts');
});

t.test('no parts give an empty array', async (t) => {
  t.equal(concatBytes().length, 0);
});
