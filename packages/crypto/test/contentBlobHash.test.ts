import { createHash, randomBytes } from 'node:crypto';
import t from 'tap';
import { CryptoErrorCode, CryptoValidationError, cryptoReady } from '../src/index.js';
import { BlobHasher, blobHash, blobPartSize, blobRootHash } from '../src/content/index.js';

await cryptoReady();

const u64 = (value: number): Buffer => {
  const out = Buffer.alloc(8);
  out.writeBigUInt64BE(BigInt(value));
  return out;
};

/** The blob hash as FORMAT-content.md tells a server to compute it with Node's blake2b512. */
const serverBlobHash = (data: Buffer, partSize: number): Buffer => {
  const root = createHash('blake2b512');
  root.update(Buffer.from('ratsfach/v1/blob-hash', 'ascii'));
  root.update(u64(partSize));
  for (let at = 0; at < data.length; at += partSize) {
    root.update(
      createHash('blake2b512')
        .update(data.subarray(at, at + partSize))
        .digest(),
    );
  }
  root.update(u64(data.length));
  return root.digest();
};

const P = blobPartSize;

t.test('device and server compute the same blob hash for sizes around the part size', async (t) => {
  for (const size of [0, 1, P - 1, P, P + 1, 3 * P]) {
    const data = randomBytes(size);
    const expected = serverBlobHash(data, P);
    t.same(Buffer.from(blobHash(data).hash), expected, `one update, ${size} bytes`);
    const hasher = new BlobHasher();
    for (let at = 0; at < size; at += 65_553) hasher.update(data.subarray(at, at + 65_553));
    const digest = hasher.digest();
    t.same(Buffer.from(digest.hash), expected, `incremental, ${size} bytes`);
    t.equal(digest.size, size);
    t.equal(digest.partHashes.length, Math.ceil(size / P), 'one hash per part');
    for (const [i, part] of digest.partHashes.entries()) {
      t.same(
        Buffer.from(part),
        createHash('blake2b512')
          .update(data.subarray(i * P, (i + 1) * P))
          .digest(),
        `part ${i} of ${size}`,
      );
    }
    t.same(Buffer.from(blobRootHash(digest.partHashes, size)), expected, 'root from part hashes');
  }
});

t.test('the part size is part of the hash', async (t) => {
  const data = randomBytes(5000);
  const small = blobHash(data, 1024);
  t.same(Buffer.from(small.hash), serverBlobHash(data, 1024));
  t.notSame(Buffer.from(small.hash), Buffer.from(blobHash(data).hash));
});

t.test('refuses a part size out of range and use after digest', async (t) => {
  t.throws(() => new BlobHasher(100), {
    constructor: CryptoValidationError,
    code: CryptoErrorCode.invalidArgument,
  });
  const hasher = new BlobHasher();
  hasher.digest();
  t.throws(() => hasher.update(new Uint8Array(1)), {
    constructor: CryptoValidationError,
    code: CryptoErrorCode.invalidArgument,
  });
  t.throws(() => hasher.digest(), {
    constructor: CryptoValidationError,
    code: CryptoErrorCode.invalidArgument,
  });
});
