/**
 * docs/security.md properties 8, 9, 10, 11 and 15: the store plays the attacker by serving tampered
 * blobs, key slots and metadata; each test asserts the typed error (class and code) and that no
 * plaintext of a failing read was committed.
 */
import t, { type Test } from 'tap';
import { CryptoErrorCode, UnknownSuiteError, cryptoReady } from '../src/index.js';
import {
  BlobMismatchError,
  ContentStreamError,
  KeySlotError,
  MemorySink,
  MetadataError,
  chunkSize,
  contentHeaderSize,
  decryptContent,
  decryptContentToSink,
  decryptMetadata,
  encryptContent,
  encryptMetadata,
  generateContentKey,
  openVersionContent,
  sealKeySlot,
  type DocumentMetadata,
  type PlaintextSink,
} from '../src/content/index.js';
import { encodeBinding } from '../src/content/binding.js';
import { deriveMetadataKey, deriveStreamKey } from '../src/content/contentKey.js';
import { encodeMetadata } from '../src/content/metadata.js';
import { binding, collect, concat, pieces, randomData, writeVersion } from './contentHelpers.js';

const s = await cryptoReady();
const unit = chunkSize + 17;

/** A sink that records what happened to it; `committed` stays empty unless commit ran. */
class RecordingSink implements PlaintextSink {
  written = 0;
  committed: Uint8Array[] = [];
  aborted: unknown = undefined;
  private pending: Uint8Array[] = [];
  write(chunk: Uint8Array): void {
    this.written += chunk.length;
    this.pending.push(chunk);
  }
  commit(): void {
    this.committed = this.pending;
  }
  abort(reason: unknown): void {
    this.aborted = reason;
    this.pending = [];
  }
}

/** Splits a blob into its header and chunk units. */
const split = (blob: Uint8Array): { header: Uint8Array; chunks: Uint8Array[] } => {
  const chunks: Uint8Array[] = [];
  for (let at = contentHeaderSize; at < blob.length; at += unit)
    chunks.push(blob.subarray(at, at + unit));
  return { header: blob.subarray(0, contentHeaderSize), chunks };
};

const refusesStream = async (
  t: Test,
  blob: Uint8Array,
  contentKey: Uint8Array,
  code: CryptoErrorCode,
  what: string,
): Promise<void> => {
  const sink = new RecordingSink();
  await t.rejects(
    decryptContentToSink(pieces(blob, 9000), { contentKey, binding }, sink),
    { constructor: ContentStreamError, code },
    what,
  );
  t.equal(sink.committed.length, 0, `${what}: nothing committed`);
  t.type(sink.aborted, ContentStreamError, `${what}: sink aborted`);
};

const epochKey = s.randombytes_buf(32);

t.test(
  'property 8: a changed, reordered, duplicated, missing, cut or extended chunk fails the whole read',
  async (t) => {
    const plaintext = randomData(4 * chunkSize + 1234);
    const contentKey = generateContentKey();
    const blob = await collect(encryptContent([plaintext], { contentKey, binding }));
    const { header, chunks } = split(blob);
    t.equal(chunks.length, 5);
    const [c0, c1, c2, c3, c4] = chunks as [
      Uint8Array,
      Uint8Array,
      Uint8Array,
      Uint8Array,
      Uint8Array,
    ];

    await refusesStream(
      t,
      concat([header, c0, c2, c1, c3, c4]),
      contentKey,
      CryptoErrorCode.streamCorrupt,
      'reordered',
    );
    await refusesStream(
      t,
      concat([header, c0, c1, c1, c2, c3, c4]),
      contentKey,
      CryptoErrorCode.streamCorrupt,
      'duplicated',
    );
    await refusesStream(
      t,
      concat([header, c0, c2, c3, c4]),
      contentKey,
      CryptoErrorCode.streamCorrupt,
      'missing chunk',
    );
    // Chunks are framed by size: bytes after a short final chunk become part of it and fail
    // its authentication; after a full-size final chunk they are reported as trailing data.
    await refusesStream(
      t,
      concat([header, c0, c1, c2, c3, c4, c4]),
      contentKey,
      CryptoErrorCode.streamCorrupt,
      'final chunk twice',
    );
    await refusesStream(
      t,
      concat([blob, new Uint8Array([0])]),
      contentKey,
      CryptoErrorCode.streamCorrupt,
      'one byte after a short final chunk',
    );
    const whole = await collect(
      encryptContent([randomData(2 * chunkSize)], { contentKey, binding }),
    );
    await refusesStream(
      t,
      concat([whole, new Uint8Array([0])]),
      contentKey,
      CryptoErrorCode.streamTrailingData,
      'one byte after a full final chunk',
    );
    const wholeChunks = split(whole).chunks;
    await refusesStream(
      t,
      concat([whole, wholeChunks[1] as Uint8Array]),
      contentKey,
      CryptoErrorCode.streamTrailingData,
      'a full final chunk twice',
    );
    await refusesStream(
      t,
      concat([header, c0, c1, c2, c3]),
      contentKey,
      CryptoErrorCode.streamTruncated,
      'final chunk dropped',
    );
    await refusesStream(
      t,
      blob.subarray(0, blob.length - 600),
      contentKey,
      CryptoErrorCode.streamCorrupt,
      'cut inside the final chunk',
    );
    await refusesStream(
      t,
      concat([header, c0, c1.subarray(0, 10)]),
      contentKey,
      CryptoErrorCode.streamTruncated,
      'cut inside a chunk header',
    );
    for (const at of [2, 20, contentHeaderSize, contentHeaderSize + 5000, blob.length - 1]) {
      const flipped = Uint8Array.from(blob);
      flipped[at] = (flipped[at] as number) ^ 0x10;
      await refusesStream(
        t,
        flipped,
        contentKey,
        CryptoErrorCode.streamCorrupt,
        `bit flip at ${at}`,
      );
    }
    const ok = new MemorySink();
    t.equal(
      await decryptContentToSink([blob], { contentKey, binding }, ok),
      plaintext.length,
      'the untampered blob reads',
    );
  },
);

t.test(
  'property 8: a stream without TAG_FINAL is refused although libsodium accepts every chunk',
  async (t) => {
    const contentKey = generateContentKey();
    const key = deriveStreamKey(contentKey);
    const headerBytes = s.randombytes_buf(24);
    const state = s.crypto_secretstream_xchacha20poly1305_init_pull(headerBytes, key);
    const ad = encodeBinding('ratsfach/v1/content-chunk', 1, binding, undefined, 8);
    const parts = [Uint8Array.from([1, 1]), headerBytes];
    for (let index = 0; index < 3; index++) {
      new DataView(ad.buffer).setBigUint64(ad.length - 8, BigInt(index));
      parts.push(
        s.crypto_secretstream_xchacha20poly1305_push(
          state,
          randomData(chunkSize),
          ad,
          s.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE,
        ),
      );
    }
    await refusesStream(
      t,
      concat(parts),
      contentKey,
      CryptoErrorCode.streamTruncated,
      'no TAG_FINAL',
    );
    // A plain decryptContent iteration also ends in the error, after the chunks it yielded.
    let yielded = 0;
    await t.rejects(
      (async () => {
        for await (const chunk of decryptContent([concat(parts)], { contentKey, binding }))
          yielded += chunk.length;
      })(),
      { constructor: ContentStreamError, code: CryptoErrorCode.streamTruncated },
    );
    t.equal(
      yielded,
      3 * chunkSize,
      'decryptContent yields authenticated chunks, then fails: use a sink',
    );
  },
);

t.test(
  'property 8 and 15: a tampered blob read as a version is refused and nothing is committed',
  async (t) => {
    const plaintext = randomData(3 * chunkSize + 10);
    const v = await writeVersion(plaintext, epochKey);
    const { header, chunks } = split(v.blob);
    const tampered = [
      concat([header, chunks[1] as Uint8Array, chunks[0] as Uint8Array, ...chunks.slice(2)]),
      concat([header, ...chunks.slice(0, 3)]),
      concat([v.blob, new Uint8Array(1)]),
    ];
    const codes = [
      CryptoErrorCode.hashMismatch,
      CryptoErrorCode.sizeMismatch,
      CryptoErrorCode.sizeMismatch,
    ];
    for (const [i, blob] of tampered.entries()) {
      const sink = new RecordingSink();
      await t.rejects(openVersionContent(pieces(blob, 4096), { ...v, binding, epochKey }, sink), {
        constructor: BlobMismatchError,
        code: codes[i],
      });
      t.equal(sink.committed.length, 0, `tampered blob ${i}: nothing committed`);
      t.ok(sink.aborted !== undefined, `tampered blob ${i}: sink aborted`);
    }
  },
);

t.test(
  "property 9: another document's or an older version's blob in its place is detected",
  async (t) => {
    const plaintext = randomData(2 * chunkSize + 99);
    const current = await writeVersion(plaintext, epochKey);
    const older = await writeVersion(plaintext, epochKey, {
      ...binding,
      version: binding.version - 1,
    });
    const otherDocument = await writeVersion(plaintext, epochKey, {
      ...binding,
      documentId: 'doc_0999',
    });
    const params = { record: current.record, keySlot: current.keySlot, binding, epochKey };

    for (const [what, served] of [
      ['older version', older.blob],
      ['other document', otherDocument.blob],
    ] as const) {
      const sink = new RecordingSink();
      const error = await openVersionContent([served], params, sink).then(
        () => undefined,
        (e: unknown) => e,
      );
      t.type(error, BlobMismatchError, `${what}: blob mismatch`);
      t.equal(
        (error as BlobMismatchError).code,
        CryptoErrorCode.hashMismatch,
        `${what}: hash mismatch`,
      );
      t.type((error as Error).cause, ContentStreamError, `${what}: the stream failed first`);
      t.equal(sink.committed.length, 0, `${what}: nothing committed`);
    }
    // The older version's key slot together with its blob: the signed key-slot hash refuses it.
    const sink = new RecordingSink();
    await t.rejects(openVersionContent([older.blob], { ...params, keySlot: older.keySlot }, sink), {
      constructor: KeySlotError,
      code: CryptoErrorCode.hashMismatch,
    });
    t.equal(sink.written, 0, 'no byte written before the key slot is checked');
    // Even under the right content key, chunks carry the ids: another binding fails at chunk 0.
    for (const other of [
      { tenantId: 'stadt_b' },
      { documentId: 'doc_0002' },
      { version: 2 },
      { epoch: 1 },
    ]) {
      const contentKey = generateContentKey();
      const blob = await collect(
        encryptContent([plaintext], { contentKey, binding: { ...binding, ...other } }),
      );
      await refusesStream(
        t,
        blob,
        contentKey,
        CryptoErrorCode.streamCorrupt,
        `bound to ${JSON.stringify(other)}`,
      );
    }
  },
);

t.test(
  'property 10: no nonce repeats under one key, and every version has its own key',
  async (t) => {
    const rounds = 300;
    const contentKey = generateContentKey();
    const metadata: DocumentMetadata = {
      name: 'a.txt',
      folderPath: [],
      mimeType: 'text/plain',
      createdAt: 0,
      modifiedAt: 0,
    };
    const slotNonces = new Set<string>();
    const metadataNonces = new Set<string>();
    const streamHeaders = new Set<string>();
    const contentKeys = new Set<string>();
    for (let i = 0; i < rounds; i++) {
      const slot = sealKeySlot({ epochKey, contentKey, binding });
      slotNonces.add(s.to_hex(slot.subarray(2, 26)));
      const object = encryptMetadata({ contentKey, binding, metadata });
      metadataNonces.add(s.to_hex(object.subarray(2, 26)));
      const blob = await collect(encryptContent([new Uint8Array(1)], { contentKey, binding }));
      streamHeaders.add(s.to_hex(blob.subarray(2, contentHeaderSize)));
      contentKeys.add(s.to_hex(generateContentKey()));
    }
    t.equal(slotNonces.size, rounds, 'key-slot nonces are distinct under one epoch key');
    t.equal(metadataNonces.size, rounds, 'metadata nonces are distinct under one metadata key');
    t.equal(
      streamHeaders.size,
      rounds,
      'stream headers (subkey and nonce) are distinct under one content key',
    );
    t.equal(contentKeys.size, rounds, 'content keys are distinct per version');
    const keys = new Set(
      [contentKey, deriveStreamKey(contentKey), deriveMetadataKey(contentKey)].map((k) =>
        s.to_hex(k),
      ),
    );
    t.equal(keys.size, 3, 'stream and metadata keys are derived, never the content key itself');
    // No unauthenticated mode: a flip of any single byte of a small blob fails.
    const blob = await collect(encryptContent([randomData(40)], { contentKey, binding }));
    let refused = 0;
    for (let at = 0; at < blob.length; at++) {
      const flipped = Uint8Array.from(blob);
      flipped[at] = (flipped[at] as number) ^ 0x01;
      try {
        await collect(decryptContent([flipped], { contentKey, binding }));
      } catch (error) {
        if (error instanceof ContentStreamError || error instanceof UnknownSuiteError) refused++;
      }
    }
    t.equal(refused, blob.length, 'every single-byte change is refused');
  },
);

t.test('property 11: changed or foreign metadata and a changed size are detected', async (t) => {
  const contentKey = generateContentKey();
  const metadata: DocumentMetadata = {
    name: 'Vorlage 17-2026.docx',
    folderPath: ['Ausschuss'],
    mimeType: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    createdAt: 1_790_000_000_000,
    modifiedAt: 1_790_000_000_001,
  };
  const object = encryptMetadata({ contentKey, binding, metadata });
  for (let at = 2; at < object.length; at += 11) {
    const flipped = Uint8Array.from(object);
    flipped[at] = (flipped[at] as number) ^ 0x04;
    t.throws(
      () => decryptMetadata(flipped, { contentKey, binding }),
      { constructor: MetadataError, code: CryptoErrorCode.decryptionFailed },
      `flip at ${at}`,
    );
  }
  const olderKey = generateContentKey();
  const older = encryptMetadata({
    contentKey: olderKey,
    binding: { ...binding, version: 2 },
    metadata: { ...metadata, name: 'alt.docx' },
  });
  t.throws(
    () => decryptMetadata(older, { contentKey, binding }),
    { constructor: MetadataError, code: CryptoErrorCode.decryptionFailed },
    "an older version's metadata",
  );
  const sameKeyOtherDoc = encryptMetadata({
    contentKey,
    binding: { ...binding, documentId: 'doc_0002' },
    metadata,
  });
  t.throws(
    () => decryptMetadata(sameKeyOtherDoc, { contentKey, binding }),
    { constructor: MetadataError, code: CryptoErrorCode.decryptionFailed },
    "another document's metadata",
  );

  // A writer holding the key but encoding otherwise than the canonical encoding is refused too.
  const seal = (plain: Uint8Array): Uint8Array => {
    const nonce = s.randombytes_buf(24);
    const ad = encodeBinding('ratsfach/v1/metadata', 1, binding, undefined);
    const sealed = s.crypto_aead_xchacha20poly1305_ietf_encrypt(
      plain,
      ad,
      null,
      nonce,
      deriveMetadataKey(contentKey),
    );
    return concat([Uint8Array.from([1, 3]), nonce, sealed]);
  };
  const canonical = encodeMetadata(metadata);
  t.same(
    decryptMetadata(seal(s.pad(canonical, 64)), { contentKey, binding }),
    metadata,
    'the canonical encoding reads',
  );
  for (const [what, plain] of [
    ['trailing byte', s.pad(concat([canonical, new Uint8Array(1)]), 64)],
    ['padding of a whole extra block', concat([s.pad(canonical, 64), new Uint8Array(64)])],
    ['no padding', canonical],
  ] as const) {
    t.throws(
      () => decryptMetadata(seal(plain), { contentKey, binding }),
      { constructor: MetadataError, code: CryptoErrorCode.nonCanonical },
      what,
    );
  }

  const v = await writeVersion(randomData(chunkSize + 5), epochKey);
  for (const size of [v.record.size - 1, v.record.size + 1, v.record.size + unit]) {
    const sink = new RecordingSink();
    await t.rejects(
      openVersionContent(
        [v.blob],
        { record: { ...v.record, size }, keySlot: v.keySlot, binding, epochKey },
        sink,
      ),
      { constructor: BlobMismatchError, code: CryptoErrorCode.sizeMismatch },
      `record size ${size} against a blob of ${v.record.size}`,
    );
    t.equal(sink.committed.length, 0);
  }
});

t.test('property 15: a store that keeps sending bytes is cut off at the signed size', async (t) => {
  const v = await writeVersion(randomData(chunkSize + 5), epochKey);
  let closed = false;
  let sent = 0;
  async function* endless(): AsyncGenerator<Uint8Array> {
    try {
      yield v.blob;
      for (;;) {
        sent += 4096;
        yield new Uint8Array(4096);
      }
    } finally {
      closed = true;
    }
  }
  const sink = new RecordingSink();
  await t.rejects(openVersionContent(endless(), { ...v, binding, epochKey }, sink), {
    constructor: BlobMismatchError,
    code: CryptoErrorCode.sizeMismatch,
  });
  t.equal(sent, 4096, 'refused at the first byte beyond the signed size');
  t.ok(closed, 'the source was closed');
  t.equal(sink.committed.length, 0);
  t.type(sink.aborted, BlobMismatchError);
});

t.test(
  'property 15: every blob read is checked against the signed hash, even a blob that decrypts',
  async (t) => {
    const plaintext = randomData(2 * chunkSize + 5);
    const v = await writeVersion(plaintext, epochKey);
    // The store serves a second, valid encryption of the same plaintext under the same content
    // key: every chunk authenticates, only the signed hash tells it is not the signed blob.
    const reencrypted = await collect(
      encryptContent([plaintext], { contentKey: v.contentKey, binding }),
    );
    t.equal(reencrypted.length, v.blob.length);
    const sink = new RecordingSink();
    await t.rejects(
      openVersionContent(pieces(reencrypted, 1000), { ...v, binding, epochKey }, sink),
      {
        constructor: BlobMismatchError,
        code: CryptoErrorCode.hashMismatch,
      },
    );
    t.equal(sink.written, plaintext.length, 'the stream itself decrypted completely');
    t.equal(sink.committed.length, 0, 'yet nothing was committed');
    t.type(sink.aborted, BlobMismatchError);

    const tamperedSlot = Uint8Array.from(v.keySlot);
    tamperedSlot[30] = (tamperedSlot[30] as number) ^ 1;
    await t.rejects(
      openVersionContent(
        [v.blob],
        { ...v, keySlot: tamperedSlot, binding, epochKey },
        new RecordingSink(),
      ),
      {
        constructor: KeySlotError,
        code: CryptoErrorCode.hashMismatch,
      },
    );

    const good = new MemorySink();
    t.equal(
      await openVersionContent(pieces(v.blob, 777), { ...v, binding, epochKey }, good),
      plaintext.length,
    );
    t.same(Buffer.from(good.bytes()), Buffer.from(plaintext), 'the signed blob reads');
  },
);
