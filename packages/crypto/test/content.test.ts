import t from 'tap';
import {
  CryptoErrorCode,
  CryptoValidationError,
  UnknownSuiteError,
  cryptoReady,
} from '../src/index.js';
import {
  ContentStreamError,
  MemorySink,
  chunkSize,
  contentHeaderSize,
  decryptContent,
  decryptContentToSink,
  encryptContent,
  encryptedSize,
  generateContentKey,
  blobHash,
  hashBlobWhileReading,
  plaintextSizeOf,
  toReadableStream,
} from '../src/content/index.js';
import { encodeBinding } from '../src/content/binding.js';
import { deriveStreamKey } from '../src/content/contentKey.js';
import {
  collect,
  concat,
  contentBinding as binding,
  pieces,
  randomData,
} from './contentHelpers.js';

const s = await cryptoReady();

const sizes = [
  0,
  1,
  1000,
  chunkSize - 1,
  chunkSize,
  chunkSize + 1,
  3 * chunkSize,
  3 * chunkSize + 7,
];

t.test('encrypts and decrypts plaintexts of every size around the chunk size', async (t) => {
  for (const size of sizes) {
    const plaintext = randomData(size);
    const contentKey = generateContentKey();
    const blob = await collect(encryptContent(pieces(plaintext, 7777), { contentKey, binding }));
    t.equal(blob.length, encryptedSize(size), `blob size for ${size}`);
    t.equal(plaintextSizeOf(blob.length), size, `plaintext size back for ${size}`);
    const back = await collect(decryptContent(pieces(blob, 5000), { contentKey, binding }));
    t.same(Buffer.from(back), Buffer.from(plaintext), `round trip of ${size} bytes`);
  }
});

t.test('reads sources of any piece size, Web ReadableStreams and single buffers', async (t) => {
  const plaintext = randomData(2 * chunkSize + 100);
  const contentKey = generateContentKey();
  const blob = await collect(encryptContent([plaintext], { contentKey, binding }));
  for (const piece of [1, 17, chunkSize + 17, blob.length]) {
    const back = await collect(decryptContent(pieces(blob, piece), { contentKey, binding }));
    t.same(Buffer.from(back), Buffer.from(plaintext), `pieces of ${piece}`);
  }
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const piece of pieces(blob, 3000)) controller.enqueue(piece);
      controller.close();
    },
  });
  const back = await collect(decryptContent(stream, { contentKey, binding }));
  t.same(Buffer.from(back), Buffer.from(plaintext), 'ReadableStream source');
});

t.test(
  'a producer that reuses its buffer after each pull does not change the ciphertext',
  async (t) => {
    const plaintext = randomData(3 * chunkSize + 5);
    const contentKey = generateContentKey();
    async function* reusing(): AsyncGenerator<Uint8Array> {
      const buffer = new Uint8Array(1000);
      for (let at = 0; at < plaintext.length; at += 1000) {
        const part = plaintext.subarray(at, at + 1000);
        buffer.set(part);
        yield buffer.subarray(0, part.length);
        buffer.fill(0xee);
      }
    }
    const blob = await collect(encryptContent(reusing(), { contentKey, binding }));
    const back = await collect(decryptContent([blob], { contentKey, binding }));
    t.same(Buffer.from(back), Buffer.from(plaintext));
  },
);

t.test(
  'two encryptions of one plaintext under one key differ (random stream header)',
  async (t) => {
    const plaintext = randomData(100);
    const contentKey = generateContentKey();
    const a = await collect(encryptContent([plaintext], { contentKey, binding }));
    const b = await collect(encryptContent([plaintext], { contentKey, binding }));
    t.notSame(
      Buffer.from(a.subarray(2, contentHeaderSize)),
      Buffer.from(b.subarray(2, contentHeaderSize)),
    );
  },
);

t.test('decryptContentToSink commits a whole stream and aborts a cut one', async (t) => {
  const plaintext = randomData(2 * chunkSize + 3);
  const contentKey = generateContentKey();
  const blob = await collect(encryptContent([plaintext], { contentKey, binding }));
  const good = new MemorySink();
  t.equal(await decryptContentToSink([blob], { contentKey, binding }, good), plaintext.length);
  t.equal(good.status, 'committed');
  t.same(Buffer.from(good.bytes()), Buffer.from(plaintext));

  const cut = new MemorySink();
  await t.rejects(
    decryptContentToSink(
      [blob.subarray(0, contentHeaderSize + 2 * (chunkSize + 17))],
      { contentKey, binding },
      cut,
    ),
    { constructor: ContentStreamError, code: CryptoErrorCode.streamTruncated },
  );
  t.equal(cut.status, 'aborted');
  t.throws(() => cut.bytes(), { code: CryptoErrorCode.invalidArgument });
});

t.test('refuses a blob of an unknown suite, another object kind, or a cut header', async (t) => {
  const contentKey = generateContentKey();
  const blob = await collect(encryptContent([randomData(10)], { contentKey, binding }));
  const otherSuite = Uint8Array.from(blob);
  otherSuite[0] = 99;
  await t.rejects(collect(decryptContent([otherSuite], { contentKey, binding })), {
    constructor: UnknownSuiteError,
    code: CryptoErrorCode.unknownSuite,
  });
  const otherKind = Uint8Array.from(blob);
  otherKind[1] = 2;
  await t.rejects(collect(decryptContent([otherKind], { contentKey, binding })), {
    constructor: ContentStreamError,
    code: CryptoErrorCode.malformed,
  });
  await t.rejects(collect(decryptContent([blob.subarray(0, 10)], { contentKey, binding })), {
    constructor: ContentStreamError,
    code: CryptoErrorCode.streamTruncated,
  });
  await t.rejects(collect(decryptContent([], { contentKey, binding })), {
    constructor: ContentStreamError,
    code: CryptoErrorCode.streamTruncated,
  });
});

t.test(
  'refuses a wrong key with a stream error, and bad arguments with a validation error',
  async (t) => {
    const contentKey = generateContentKey();
    const blob = await collect(encryptContent([randomData(10)], { contentKey, binding }));
    await t.rejects(
      collect(decryptContent([blob], { contentKey: generateContentKey(), binding })),
      {
        constructor: ContentStreamError,
        code: CryptoErrorCode.streamCorrupt,
      },
    );
    await t.rejects(
      collect(encryptContent([randomData(1)], { contentKey: new Uint8Array(5), binding })),
      {
        constructor: CryptoValidationError,
        code: CryptoErrorCode.invalidArgument,
      },
    );
    await t.rejects(
      collect(
        encryptContent([randomData(1)], {
          contentKey,
          binding: { ...binding, documentId: 'Doc-1' },
        }),
      ),
      { constructor: CryptoValidationError, code: CryptoErrorCode.invalidArgument },
    );
    await t.rejects(
      collect(
        encryptContent([randomData(1)], { contentKey, binding: { ...binding, version: -1 } }),
      ),
      { constructor: CryptoValidationError, code: CryptoErrorCode.invalidArgument },
    );
    await t.rejects(
      collect(encryptContent(['text' as unknown as Uint8Array], { contentKey, binding })),
      {
        constructor: CryptoValidationError,
        code: CryptoErrorCode.invalidArgument,
      },
    );
  },
);

t.test('plaintextSizeOf refuses sizes no blob can have', async (t) => {
  t.equal(plaintextSizeOf(contentHeaderSize + 16), undefined);
  t.equal(
    plaintextSizeOf(contentHeaderSize + chunkSize + 17 + 17),
    undefined,
    'an empty chunk after a full one',
  );
  t.equal(plaintextSizeOf(contentHeaderSize + 17), 0);
  t.equal(plaintextSizeOf(-5), undefined);
});

t.test(
  'refuses streams another writer framed otherwise, though every chunk authenticates',
  async (t) => {
    const contentKey = generateContentKey();
    const frame = (chunks: [number, number][]): Uint8Array => {
      const header = s.randombytes_buf(24);
      const state = s.crypto_secretstream_xchacha20poly1305_init_pull(
        header,
        deriveStreamKey(contentKey),
      );
      const ad = encodeBinding('ratsfach/v1/content-chunk', 1, binding, undefined, 8);
      const parts = [Uint8Array.from([1, 1]), header];
      for (const [index, [size, tag]] of chunks.entries()) {
        new DataView(ad.buffer).setBigUint64(ad.length - 8, BigInt(index));
        parts.push(s.crypto_secretstream_xchacha20poly1305_push(state, randomData(size), ad, tag));
      }
      return concat(parts);
    };
    const nonCanonical = { constructor: ContentStreamError, code: CryptoErrorCode.nonCanonical };
    await t.rejects(
      collect(
        decryptContent(
          [
            frame([
              [chunkSize, 0],
              [0, 3],
            ]),
          ],
          { contentKey, binding },
        ),
      ),
      nonCanonical,
      'empty final chunk after a full one',
    );
    await t.rejects(
      collect(
        decryptContent(
          [
            frame([
              [100, 0],
              [100, 3],
            ]),
          ],
          { contentKey, binding },
        ),
      ),
      { constructor: ContentStreamError, code: CryptoErrorCode.streamCorrupt },
      'a short chunk before the final one merges with it and fails (chunks are framed by size)',
    );
    await t.rejects(
      collect(decryptContent([frame([[100, 0]])], { contentKey, binding })),
      { constructor: ContentStreamError, code: CryptoErrorCode.streamTruncated },
      'a short last chunk that is not final',
    );
    await t.rejects(
      collect(
        decryptContent(
          [
            frame([
              [chunkSize, 1],
              [5, 3],
            ]),
          ],
          { contentKey, binding },
        ),
      ),
      nonCanonical,
      'TAG_PUSH chunk',
    );
    t.same(
      (
        await collect(
          decryptContent(
            [
              frame([
                [chunkSize, 0],
                [5, 3],
              ]),
            ],
            { contentKey, binding },
          ),
        )
      ).length,
      chunkSize + 5,
      'the canonical framing reads',
    );
  },
);

t.test(
  'hashBlobWhileReading gives the hash of the bytes it passed on, and a ReadableStream carries them',
  async (t) => {
    const contentKey = generateContentKey();
    const plaintext = randomData(chunkSize * 2 + 1);
    const hashed = hashBlobWhileReading(encryptContent([plaintext], { contentKey, binding }));
    t.throws(
      () => hashed.digest(),
      { constructor: CryptoValidationError, code: CryptoErrorCode.invalidArgument },
      'not before the end',
    );
    // Node's ReadableStream is async-iterable; the DOM typings do not say so.
    const uploaded = await collect(
      toReadableStream(hashed.bytes) as unknown as AsyncIterable<Uint8Array>,
    );
    const digest = hashed.digest();
    t.same(digest.hash, blobHash(uploaded).hash);
    t.equal(digest.size, uploaded.length);
    t.same(hashed.digest(), digest, 'digest can be read again');
    const back = await collect(
      decryptContent(toReadableStream(pieceStream(uploaded)), { contentKey, binding }),
    );
    t.same(Buffer.from(back), Buffer.from(plaintext));
  },
);

async function* pieceStream(data: Uint8Array): AsyncGenerator<Uint8Array> {
  yield* pieces(data, 5000);
}
