/**
 * Generates the known-answer vectors of packages/crypto/vectors/content.json (not a test file
 * itself: contentVectors.test.ts regenerates and compares, RATSFACH_WRITE_VECTORS=1 rewrites).
 * Every random input comes from the test-only deterministic randomness seam, and every vector
 * lists the random bytes it used, so another implementation needs no seam to check them.
 */
import { hash512, cryptoReady } from '../src/index.js';
import {
  blobHash,
  encryptContent,
  encryptMetadata,
  generateContentKey,
  keySlotHash,
  sealKeySlot,
  type DocumentMetadata,
  type KeySlotBinding,
} from '../src/content/index.js';
import { encodeBinding } from '../src/content/binding.js';
import { deriveMetadataKey, deriveStreamKey } from '../src/content/contentKey.js';
import { encodeMetadata } from '../src/content/metadata.js';
import { collect, pieces } from './contentHelpers.js';
import { useDeterministicRandomnessForTests } from '../src/testing.js';

const s = await cryptoReady();
const hex = (bytes: Uint8Array): string => s.to_hex(bytes);

/** The plaintext pattern of the vectors: byte i is i mod 251. */
export const patternBytes = (size: number): Uint8Array => {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = i % 251;
  return out;
};

const binding: KeySlotBinding = {
  tenantId: 'stadt_musterhausen',
  committeeId: 'finanzausschuss',
  documentId: 'doc_0001',
  version: 3,
  epoch: 2,
};

const withSeed = async <T>(label: string, run: () => Promise<T> | T): Promise<T> => {
  const restore = useDeterministicRandomnessForTests(
    hash512(new TextEncoder().encode(label)).subarray(0, 32),
  );
  try {
    return await run();
  } finally {
    restore();
  }
};

const fullHexLimit = 1024;

export const generateContentVectors = async (): Promise<unknown> => {
  const content = [];
  for (const size of [0, 1, 100, 1024, 65_535, 65_536, 65_537, 200_000]) {
    content.push(
      await withSeed(`content ${size}`, async () => {
        const contentKey = generateContentKey();
        const plaintext = patternBytes(size);
        const blob = await collect(
          encryptContent(pieces(plaintext, 4096), { contentKey, binding }),
        );
        const digest = blobHash(blob);
        return {
          plaintext: `pattern(${size})`,
          binding,
          contentKey: hex(contentKey),
          streamKey: hex(deriveStreamKey(contentKey)),
          streamHeader: hex(blob.subarray(2, 26)),
          associatedDataChunk0: hex(
            encodeBinding('ratsfach/v1/content-chunk', 1, binding, undefined, 8),
          ),
          blobSize: blob.length,
          blobHash: hex(digest.hash),
          blob: size <= fullHexLimit ? hex(blob) : undefined,
          blobFirst64: hex(blob.subarray(0, 64)),
          blobLast64: hex(blob.subarray(Math.max(0, blob.length - 64))),
        };
      }),
    );
  }
  const blobHashes = [];
  for (const [size, partSize] of [
    [0, 1024],
    [1, 1024],
    [1023, 1024],
    [1024, 1024],
    [1025, 1024],
    [3072, 1024],
    [8 * 1024 * 1024 + 1, 8 * 1024 * 1024],
  ] as const) {
    const digest = blobHash(patternBytes(size), partSize);
    blobHashes.push({
      data: `pattern(${size})`,
      partSize,
      partHashes: digest.partHashes.length <= 3 ? digest.partHashes.map(hex) : undefined,
      hash: hex(digest.hash),
    });
  }
  const keySlots = [];
  for (const name of ['a', 'b']) {
    keySlots.push(
      await withSeed(`key slot ${name}`, () => {
        const epochKey = s.randombytes_buf_deterministic(
          32,
          hash512(new TextEncoder().encode(`epoch key ${name}`)).subarray(0, 32),
        );
        const contentKey = generateContentKey();
        const slot = sealKeySlot({ epochKey, contentKey, binding });
        return {
          binding,
          epochKey: hex(epochKey),
          contentKey: hex(contentKey),
          nonce: hex(slot.subarray(2, 26)),
          associatedData: hex(
            encodeBinding('ratsfach/v1/key-slot', 1, binding, binding.committeeId),
          ),
          keySlot: hex(slot),
          keySlotHash: hex(keySlotHash(slot)),
        };
      }),
    );
  }
  const metadataCases: DocumentMetadata[] = [
    {
      name: 'Tagesordnung.pdf',
      folderPath: [],
      mimeType: 'application/pdf',
      createdAt: 0,
      modifiedAt: 1,
    },
    {
      name: 'Haushaltsplan 2027 – Entwurf (nichtöffentlich).xlsx',
      folderPath: ['Sitzungen', '2026-12-03', 'Anlagen'],
      mimeType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
      createdAt: 1_795_000_000_000,
      modifiedAt: 1_795_000_123_456,
    },
  ];
  const metadata = [];
  for (const [i, value] of metadataCases.entries()) {
    metadata.push(
      await withSeed(`metadata ${i}`, () => {
        const contentKey = generateContentKey();
        const object = encryptMetadata({ contentKey, binding, metadata: value });
        return {
          binding,
          metadata: value,
          contentKey: hex(contentKey),
          metadataKey: hex(deriveMetadataKey(contentKey)),
          encoded: hex(encodeMetadata(value)),
          nonce: hex(object.subarray(2, 26)),
          associatedData: hex(encodeBinding('ratsfach/v1/metadata', 1, binding, undefined)),
          object: hex(object),
        };
      }),
    );
  }
  return {
    description:
      'Known-answer vectors of ratsfach content objects, suite 1 (FORMAT-content.md). pattern(n) is n bytes, byte i = i mod 251. Hex is lowercase. Regenerate: RATSFACH_WRITE_VECTORS=1 npx tap packages/crypto/test/contentVectors.test.ts',
    content,
    blobHashes,
    keySlots,
    metadata,
  };
};

/** The file's exact text: two-space JSON and a final newline. */
export const contentVectorsText = async (): Promise<string> =>
  `${JSON.stringify(await generateContentVectors(), null, 2)}\n`;
