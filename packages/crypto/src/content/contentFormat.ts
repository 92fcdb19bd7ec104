/**
 * Layout constants of the content objects (FORMAT-content.md states them for other
 * implementations). Every object starts with the suite byte, then a kind byte, so an object of
 * one kind is never parsed as another.
 */
export const ObjectKind = {
  /** An encrypted content blob: header, then secretstream chunks. */
  content: 0x01,
  /**
   * A key slot: the content key wrapped under a subkey of the epoch key. Kind 0x02 (sealed
   * under the epoch key itself) is retired: a reader refuses it as malformed.
   */
  keySlot: 0x04,
  /** Encrypted metadata: name, folder, MIME type, times. */
  metadata: 0x03,
} as const;
export type ObjectKind = (typeof ObjectKind)[keyof typeof ObjectKind];

/**
 * Plaintext bytes per chunk. 64 KiB keeps the per-chunk cost of the WebAssembly call and the
 * 17-byte overhead negligible (0.03%) while a reader never holds more than a few chunks.
 */
export const chunkSize = 64 * 1024;

/** Bytes secretstream adds to every chunk (1 encrypted tag byte + 16-byte MAC). */
export const chunkOverhead = 17;

/** Ciphertext bytes of every chunk but the last. */
export const cipherChunkSize = chunkSize + chunkOverhead;

/** secretstream header: the random 24 bytes the stream's subkey and nonce derive from. */
export const streamHeaderBytes = 24;

/** Blob header: suite byte, kind byte, secretstream header. */
export const contentHeaderSize = 2 + streamHeaderBytes;

/** Labels of the associated data (binding.ts), one per object kind. */
export const BindingLabel = {
  contentChunk: 'ratsfach/v1/content-chunk',
  keySlot: 'ratsfach/v1/key-slot',
  metadata: 'ratsfach/v1/metadata',
} as const;

/** Number of chunks of a plaintext: at least one (an empty file is one empty final chunk). */
export const chunkCount = (plaintextSize: number): number =>
  Math.max(1, Math.ceil(plaintextSize / chunkSize));

/** Size of the encrypted blob of a plaintext of `plaintextSize` bytes. */
export const encryptedSize = (plaintextSize: number): number =>
  contentHeaderSize + plaintextSize + chunkCount(plaintextSize) * chunkOverhead;

/**
 * The plaintext size of a blob of `blobSize` bytes, or undefined if no plaintext encrypts to
 * that size (so a record naming it can be refused before any download).
 */
export const plaintextSizeOf = (blobSize: number): number | undefined => {
  if (!Number.isSafeInteger(blobSize) || blobSize < contentHeaderSize + chunkOverhead) {
    return undefined;
  }
  const body = blobSize - contentHeaderSize;
  const chunks = Math.max(1, Math.ceil(body / cipherChunkSize));
  const plaintext = body - chunks * chunkOverhead;
  return plaintext >= 0 && encryptedSize(plaintext) === blobSize ? plaintext : undefined;
};
