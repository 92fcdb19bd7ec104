import { randomBytes } from 'node:crypto';
import {
  blobHash,
  BlobHasher as CryptoBlobHasher,
  cryptoReady,
  keySlotHash,
} from '@ratsfach/crypto';
import t from 'tap';
import { BlobKind } from './blobRef.js';
import {
  BLOB_PART_SIZE,
  NodeBlobHasher,
  combinePartHashes,
  createObjectHasher,
  hashBlobHex,
  hashKeySlotHex,
  hashObjectHex,
  partCountFor,
  partLengthFor,
} from './partHash.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

t.before(async () => {
  await cryptoReady();
});

t.test("the server's blob hash equals @ratsfach/crypto's byte for byte", async (t) => {
  for (const partSize of [1024, 4096]) {
    const P = partSize;
    for (const size of [0, 1, P - 1, P, P + 1, 3 * P, 3 * P + 17]) {
      const bytes = randomBytes(size);
      t.equal(hashBlobHex(bytes, P), hex(blobHash(bytes, P).hash), `part size ${P}, ${size} bytes`);
    }
  }
  const big = randomBytes(BLOB_PART_SIZE + 1);
  t.equal(hashBlobHex(big), hex(blobHash(big).hash), 'the default 8 MiB part size, P + 1 bytes');
});

t.test('the hash is the same whatever the chunking of the stream', async (t) => {
  const bytes = randomBytes(10_000);
  const expected = hex(blobHash(bytes, 1024).hash);
  for (const chunk of [1, 7, 1000, 1024, 1025, 4096]) {
    const ours = new NodeBlobHasher(1024);
    const theirs = new CryptoBlobHasher(1024);
    for (let i = 0; i < bytes.length; i += chunk) {
      ours.update(bytes.subarray(i, i + chunk));
      theirs.update(bytes.subarray(i, i + chunk));
    }
    t.equal(ours.size, bytes.length);
    t.equal(ours.digestHex(), expected, `chunks of ${chunk}`);
    t.equal(hex(theirs.digest().hash), expected);
  }
});

t.test(
  'the part hashes combine to the blob hash; the part size and size are inside it',
  async (t) => {
    const bytes = randomBytes(2500);
    const h = new NodeBlobHasher(1024);
    h.update(bytes);
    const digest = h.digestHex();
    t.equal(h.partHashes.length, 3);
    t.equal(hex(combinePartHashes(h.partHashes, 2500, 1024)), digest);
    t.not(hex(combinePartHashes(h.partHashes, 2501, 1024)), digest, 'another size, another hash');
    t.not(hex(combinePartHashes(h.partHashes, 2500, 2048)), digest, 'another part size too');
  },
);

t.test("a key slot's key is crypto's keySlotHash: plain BLAKE2b-512", async (t) => {
  for (const size of [0, 1, 90, 65536]) {
    const bytes = randomBytes(size);
    t.equal(hashKeySlotHex(bytes), hex(keySlotHash(bytes)), `${size} bytes`);
    t.equal(hashObjectHex(BlobKind.keyslot, bytes), hex(keySlotHash(bytes)));
    const h = createObjectHasher(BlobKind.keyslot);
    h.update(bytes);
    t.equal(h.size, size);
    t.equal(h.digestHex(), hex(keySlotHash(bytes)));
  }
  const bytes = randomBytes(100);
  t.equal(hashObjectHex(BlobKind.blob, bytes), hashBlobHex(bytes), 'blobs use the part-wise hash');
});

t.test('upload parts: an empty blob is one empty part; the last part is shorter', async (t) => {
  t.equal(partCountFor(0, 1024), 1);
  t.equal(partCountFor(1, 1024), 1);
  t.equal(partCountFor(1024, 1024), 1);
  t.equal(partCountFor(1025, 1024), 2);
  t.equal(partLengthFor(0, 0, 1024), 0);
  t.equal(partLengthFor(1025, 0, 1024), 1024);
  t.equal(partLengthFor(1025, 1, 1024), 1);
  t.equal(partLengthFor(1025, 2, 1024), 0);
});
