import { bytesEqual } from '@ratsfach/kernel';
import { createHash } from 'node:crypto';
import t from 'tap';
import { eventHash, GENESIS_PREV_HASH } from './eventHash.js';

const base = {
  stream: 'document-t1-d1',
  revision: 0n,
  eventId: '00000000-0000-5000-8000-000000000000',
  type: 'DocumentCreated.v1',
  data: new Uint8Array([1, 2, 3]),
  metadata: new Uint8Array([4]),
  prevHash: GENESIS_PREV_HASH,
};

t.test('hashes the canonical length-prefixed encoding with BLAKE2b-512', async (t) => {
  const u32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
  };
  const rev = Buffer.alloc(8);
  const expected = createHash('blake2b512')
    .update(
      Buffer.concat([
        Buffer.from('ratsfach/v1/event'),
        u32(14),
        Buffer.from(base.stream),
        rev,
        u32(36),
        Buffer.from(base.eventId),
        u32(18),
        Buffer.from(base.type),
        u32(3),
        Buffer.from([1, 2, 3]),
        u32(1),
        Buffer.from([4]),
        Buffer.alloc(64),
      ]),
    )
    .digest();
  const hash = eventHash(base);
  t.equal(hash.length, 64);
  t.ok(bytesEqual(hash, expected));
});

t.test(
  'changes when any field changes, including moving a byte between data and metadata',
  async (t) => {
    const reference = eventHash(base);
    const variants = [
      { ...base, stream: 'document-t1-d2' },
      { ...base, revision: 1n },
      { ...base, eventId: '00000000-0000-5000-8000-000000000001' },
      { ...base, type: 'DocumentCreated.v2' },
      { ...base, data: new Uint8Array([1, 2]), metadata: new Uint8Array([3, 4]) },
      { ...base, prevHash: new Uint8Array(64).fill(1) },
    ];
    for (const variant of variants) t.notOk(bytesEqual(eventHash(variant), reference));
  },
);

t.test('refuses a previous hash that is not 64 bytes', async (t) => {
  t.throws(() => eventHash({ ...base, prevHash: new Uint8Array(32) }), RangeError);
});
