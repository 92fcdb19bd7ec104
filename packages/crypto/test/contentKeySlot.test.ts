import t from 'tap';
import {
  CryptoErrorCode,
  CryptoValidationError,
  UnknownSuiteError,
  cryptoReady,
  hash512,
} from '../src/index.js';
import {
  KeySlotError,
  MetadataError,
  checkKeySlotHash,
  decryptMetadata,
  encryptMetadata,
  generateContentKey,
  keySlotHash,
  keySlotSize,
  metadataHash,
  openKeySlot,
  sealKeySlot,
  type DocumentMetadata,
} from '../src/content/index.js';
import { binding } from './contentHelpers.js';

const s = await cryptoReady();

const metadata: DocumentMetadata = {
  name: 'Haushaltsplan 2027 – Entwurf.pdf',
  folderPath: ['Sitzungen', '2026-12-03', 'Nichtöffentlich'],
  mimeType: 'application/pdf',
  createdAt: 1_795_000_000_000,
  modifiedAt: 1_795_000_123_456,
};

t.test('a key slot opens to the content key under its epoch key and ids', async (t) => {
  const epochKey = s.randombytes_buf(32);
  const contentKey = generateContentKey();
  const slot = sealKeySlot({ epochKey, contentKey, binding });
  t.equal(slot.length, keySlotSize);
  t.equal(slot[0], 1, 'starts with the suite id');
  t.same(openKeySlot(slot, { epochKey, binding }), contentKey);
  t.same(keySlotHash(slot), hash512(slot));
  t.doesNotThrow(() => checkKeySlotHash(slot, keySlotHash(slot)));
});

t.test(
  'a key slot refuses other ids, another epoch key, other bytes and unknown suites',
  async (t) => {
    const epochKey = s.randombytes_buf(32);
    const slot = sealKeySlot({ epochKey, contentKey: generateContentKey(), binding });
    const failing = { constructor: KeySlotError, code: CryptoErrorCode.decryptionFailed };
    for (const other of [
      { tenantId: 'stadt_anderswo' },
      { committeeId: 'bauausschuss' },
      { documentId: 'doc_0002' },
      { version: 2 },
      { epoch: 3 },
    ]) {
      t.throws(
        () => openKeySlot(slot, { epochKey, binding: { ...binding, ...other } }),
        failing,
        JSON.stringify(other),
      );
    }
    t.throws(
      () => openKeySlot(slot, { epochKey: s.randombytes_buf(32), binding }),
      failing,
      'another epoch key',
    );
    for (let i = 2; i < slot.length; i += 9) {
      const flipped = Uint8Array.from(slot);
      flipped[i] = (flipped[i] as number) ^ 0x01;
      t.throws(() => openKeySlot(flipped, { epochKey, binding }), failing, `bit flip at ${i}`);
    }
    const unknown = Uint8Array.from(slot);
    unknown[0] = 7;
    t.throws(() => openKeySlot(unknown, { epochKey, binding }), {
      constructor: UnknownSuiteError,
      code: CryptoErrorCode.unknownSuite,
    });
    t.throws(() => openKeySlot(slot.subarray(0, 40), { epochKey, binding }), {
      constructor: KeySlotError,
      code: CryptoErrorCode.malformed,
    });
    t.throws(() => openKeySlot(new Uint8Array(0), { epochKey, binding }), {
      constructor: KeySlotError,
      code: CryptoErrorCode.malformed,
    });
    t.throws(() => checkKeySlotHash(unknown, keySlotHash(slot)), {
      constructor: KeySlotError,
      code: CryptoErrorCode.hashMismatch,
    });
    t.throws(
      () =>
        sealKeySlot({ epochKey: new Uint8Array(16), contentKey: generateContentKey(), binding }),
      {
        constructor: CryptoValidationError,
        code: CryptoErrorCode.invalidArgument,
      },
    );
  },
);

t.test('metadata round-trips under a key derived from the content key', async (t) => {
  const contentKey = generateContentKey();
  const object = encryptMetadata({ contentKey, binding, metadata });
  t.equal(object[0], 1, 'starts with the suite id');
  t.equal((object.length - 2 - 24 - 16) % 64, 0, 'plaintext padded to 64 bytes');
  t.same(decryptMetadata(object, { contentKey, binding }), metadata);
  t.same(metadataHash(object), hash512(object));
  const empty = { ...metadata, folderPath: [] };
  t.same(
    decryptMetadata(encryptMetadata({ contentKey, binding, metadata: empty }), {
      contentKey,
      binding,
    }),
    empty,
  );
  // The content key itself is not the metadata key.
  t.throws(
    () =>
      s.crypto_aead_xchacha20poly1305_ietf_decrypt(
        null,
        object.subarray(26),
        null,
        object.subarray(2, 26),
        contentKey,
      ),
    'the raw content key does not open metadata',
  );
});

t.test('metadata refuses invalid values when encrypting', async (t) => {
  const contentKey = generateContentKey();
  for (const bad of [
    { name: '' },
    { name: 'a/b' },
    { name: 'x'.repeat(1025) },
    { folderPath: ['ok', ''] },
    { folderPath: Array.from({ length: 33 }, () => 'f') },
    { mimeType: 'text/plain\n' },
    { createdAt: -1 },
    { modifiedAt: 1.5 },
  ]) {
    t.throws(
      () => encryptMetadata({ contentKey, binding, metadata: { ...metadata, ...bad } }),
      {
        constructor: CryptoValidationError,
        code: CryptoErrorCode.invalidArgument,
      },
      JSON.stringify(bad).slice(0, 60),
    );
  }
});

t.test(
  'metadata refuses other ids, another version key, changed bytes and unknown suites',
  async (t) => {
    const contentKey = generateContentKey();
    const object = encryptMetadata({ contentKey, binding, metadata });
    const failing = { constructor: MetadataError, code: CryptoErrorCode.decryptionFailed };
    for (const other of [
      { tenantId: 'x' },
      { documentId: 'doc_0002' },
      { version: 4 },
      { epoch: 1 },
    ]) {
      t.throws(
        () => decryptMetadata(object, { contentKey, binding: { ...binding, ...other } }),
        failing,
        JSON.stringify(other),
      );
    }
    t.throws(
      () => decryptMetadata(object, { contentKey: generateContentKey(), binding }),
      failing,
      'another key',
    );
    const flipped = Uint8Array.from(object);
    flipped[40] = (flipped[40] as number) ^ 0x80;
    t.throws(() => decryptMetadata(flipped, { contentKey, binding }), failing, 'bit flip');
    const unknown = Uint8Array.from(object);
    unknown[0] = 2;
    t.throws(() => decryptMetadata(unknown, { contentKey, binding }), {
      constructor: UnknownSuiteError,
      code: CryptoErrorCode.unknownSuite,
    });
    const kind = Uint8Array.from(object);
    kind[1] = 2;
    t.throws(() => decryptMetadata(kind, { contentKey, binding }), {
      constructor: MetadataError,
      code: CryptoErrorCode.malformed,
    });
  },
);

t.test('the largest metadata allowed fits the 16 KiB a signed record may carry', async (t) => {
  const largest: DocumentMetadata = {
    name: 'ä'.repeat(512),
    folderPath: Array.from({ length: 32 }, () => 'x'.repeat(255)),
    mimeType: 'm'.repeat(255),
    createdAt: Number.MAX_SAFE_INTEGER,
    modifiedAt: Number.MAX_SAFE_INTEGER,
  };
  const contentKey = generateContentKey();
  const object = encryptMetadata({ contentKey, binding, metadata: largest });
  t.ok(object.length <= 16384, `${object.length} bytes`);
  t.same(decryptMetadata(object, { contentKey, binding }), largest);
});
