import t from 'tap';
import { bytesEqual, compareBytes, concatBytes } from './bytes.js';

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

t.test('bytesEqual compares length and every byte', async (t) => {
  t.ok(bytesEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 2)));
  t.notOk(bytesEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 3)));
  t.notOk(bytesEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 2, 0)), 'a prefix is not equal');
  t.ok(bytesEqual(new Uint8Array(0), new Uint8Array(0)));
});

t.test('compareBytes orders byte-wise, a prefix first', async (t) => {
  t.ok(compareBytes(Uint8Array.of(1, 2), Uint8Array.of(1, 3)) < 0);
  t.ok(compareBytes(Uint8Array.of(2), Uint8Array.of(1, 255)) > 0);
  t.ok(compareBytes(Uint8Array.of(1), Uint8Array.of(1, 0)) < 0);
  t.equal(compareBytes(Uint8Array.of(7, 7), Uint8Array.of(7, 7)), 0);
});
