import { CryptoErrorCode, CryptoValidationError } from '../errors.js';
import { BlobHasher, type BlobDigest } from './blobHasher.js';

/** A blob's bytes on their way out, with the hash computed as they pass. */
export interface HashedBlob {
  /** The bytes, unchanged; iterate once (upload them). */
  readonly bytes: AsyncIterable<Uint8Array>;
  /** Hash and size of everything iterated; valid once the iteration finished. */
  digest(): BlobDigest;
}

/**
 * Hashes a blob while it is uploaded, so a writer gets the hash and size its version record
 * signs without reading the ciphertext twice or holding it:
 * `const blob = hashBlobWhileReading(encryptContent(file, params)); await upload(blob.bytes);
 * const { hash, size } = blob.digest();`
 */
export const hashBlobWhileReading = (
  source: AsyncIterable<Uint8Array>,
  partSize?: number,
): HashedBlob => {
  const hasher = new BlobHasher(partSize);
  let finished = false;
  let digest: BlobDigest | undefined;
  async function* pass(): AsyncGenerator<Uint8Array> {
    for await (const chunk of source) {
      hasher.update(chunk);
      yield chunk;
    }
    finished = true;
  }
  return {
    bytes: pass(),
    digest: () => {
      if (!finished) {
        throw new CryptoValidationError(
          CryptoErrorCode.invalidArgument,
          'the blob was not read to its end yet',
          { hint: 'Call digest() after the upload consumed every byte.' },
        );
      }
      digest ??= hasher.digest();
      return digest;
    },
  };
};
