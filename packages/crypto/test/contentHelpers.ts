import { randomBytes as nodeRandomBytes } from 'node:crypto';
import { concatBytes } from '@ratsfach/kernel';
import {
  BlobHasher,
  encryptContent,
  generateContentKey,
  keySlotHash,
  sealKeySlot,
  type ContentBinding,
  type KeySlotBinding,
} from '../src/content/index.js';

/** Shared fixtures of the content tests (not a test file itself). */
export const binding: KeySlotBinding = {
  tenantId: 'stadt_musterhausen',
  committeeId: 'finanzausschuss',
  documentId: 'doc_0001',
  version: 3,
  epoch: 2,
};

export const contentBinding: ContentBinding = binding;

export const randomData = (size: number): Uint8Array => new Uint8Array(nodeRandomBytes(size));

/** Splits bytes into pieces of `piece` bytes (the way a network delivers them). */
export function* pieces(data: Uint8Array, piece: number): Generator<Uint8Array> {
  if (data.length === 0) return;
  for (let at = 0; at < data.length; at += piece) yield data.subarray(at, at + piece);
}

export const collect = async (source: AsyncIterable<Uint8Array>): Promise<Uint8Array> => {
  const parts: Uint8Array[] = [];
  for await (const part of source) parts.push(Uint8Array.from(part));
  return concat(parts);
};

export const concat = (parts: readonly Uint8Array[]): Uint8Array => concatBytes(...parts);

/** Encrypts `plaintext` as one version: the blob, its signed facts, the key slot. */
export const writeVersion = async (
  plaintext: Uint8Array,
  epochKey: Uint8Array,
  at: KeySlotBinding = binding,
) => {
  const contentKey = generateContentKey();
  const blob = await collect(
    encryptContent(pieces(plaintext, 10_000), { contentKey, binding: at }),
  );
  const hasher = new BlobHasher();
  hasher.update(blob);
  const digest = hasher.digest();
  const keySlot = sealKeySlot({ epochKey, contentKey, binding: at });
  return {
    contentKey,
    blob,
    keySlot,
    record: { contentHash: digest.hash, size: digest.size, keySlotHash: keySlotHash(keySlot) },
  };
};
