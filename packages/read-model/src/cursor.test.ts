import t from 'tap';
import { base64urlEncode, ValidationError } from '@ratsfach/domain';
import { compareCursors, decodeCursor, encodeCursor, type ManifestCursor } from './cursor.js';

const cursor: ManifestCursor = {
  tenantId: 't1',
  userId: 'bob',
  user: 3,
  committees: { finance: 0, council: 12 },
};

const raw = (value: unknown): string =>
  'm1.' + base64urlEncode(new TextEncoder().encode(JSON.stringify(value)));

t.test('a cursor round-trips and one cursor always gives the same text', async (t) => {
  const text = encodeCursor(cursor);
  t.same(decodeCursor(text), cursor);
  t.equal(encodeCursor({ ...cursor, committees: { council: 12, finance: 0 } }), text);
  t.notOk(text.includes('bob'), 'the cursor is opaque, not readable text');
});

t.test(
  'refuses what encodeCursor did not make, with RATSFACH_READ_MODEL_CURSOR_INVALID',
  async (t) => {
    const good = { c: { council: 1 }, t: 't1', u: 'bob', v: 0 };
    const bad: Record<string, string> = {
      'empty text': '',
      'another prefix': 'm2.' + encodeCursor(cursor).slice(3),
      'not base64url': 'm1.***',
      'not JSON': 'm1.' + base64urlEncode(new TextEncoder().encode('{nope')),
      'an array': raw([1]),
      'an extra field': raw({ ...good, x: 1 }),
      'a tenant of the wrong shape': raw({ ...good, t: 'T-1' }),
      'a missing user': raw({ c: {}, t: 't1', v: 0 }),
      'a negative position': raw({ ...good, v: -1 }),
      'a fractional position': raw({ ...good, c: { council: 1.5 } }),
      'a position as text': raw({ ...good, c: { council: '1' } }),
      'a committee id of the wrong shape': raw({ ...good, c: { 'committee-t2-x': 1 } }),
      'keys out of order': raw({ t: 't1', c: { council: 1 }, u: 'bob', v: 0 }),
      'too long': 'm1.' + 'A'.repeat(70_000),
    };
    for (const [name, text] of Object.entries(bad)) {
      t.throws(
        () => decodeCursor(text),
        { constructor: ValidationError, code: 'RATSFACH_READ_MODEL_CURSOR_INVALID' },
        name,
      );
    }
    t.same(decodeCursor(raw(good)), {
      tenantId: 't1',
      userId: 'bob',
      user: 0,
      committees: { council: 1 },
    });
  },
);

t.test('compares cursors as vectors of feed positions', async (t) => {
  const at = (user: number, committees: Record<string, number>): ManifestCursor => ({
    ...cursor,
    user,
    committees,
  });
  t.equal(compareCursors(at(1, { a: 2 }), at(1, { a: 2 })), 'equal');
  t.equal(compareCursors(at(1, { a: 2 }), at(1, { a: 3 })), 'before');
  t.equal(compareCursors(at(2, { a: 2 }), at(1, { a: 2 })), 'after');
  t.equal(compareCursors(at(1, { a: 2 }), at(1, { a: 2, b: 1 })), 'before', 'absent counts as 0');
  t.equal(compareCursors(at(1, { a: 2, b: 0 }), at(1, { a: 2 })), 'equal');
  t.equal(compareCursors(at(2, { a: 1 }), at(1, { a: 2 })), 'concurrent');
  t.equal(compareCursors(at(1, {}), { ...at(1, {}), userId: 'carol' }), 'concurrent');
});
