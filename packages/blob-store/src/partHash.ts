import { createHash, type Hash } from 'node:crypto';

/**
 * The server's side of the part-wise blob hash defined by @ratsfach/crypto: every fixed-size
 * part is hashed with BLAKE2b-512, and the blob's hash is BLAKE2b-512 over the concatenated
 * part hashes. Node's `blake2b512` gives the same bytes as libsodium's `crypto_generichash`
 * with 64 bytes, so a device and the server agree without either trusting the other.
 *
 * This is the only place in the blob store that knows the construction.
 */

/** Size of every part but the last, in bytes (8 MiB: also above S3's 5 MiB multipart minimum). */
export const BLOB_PART_SIZE = 8 * 1024 * 1024;

/** Length of a BLAKE2b-512 hash in bytes. */
export const HASH_BYTES = 64;

/**
 * Number of parts of a blob of `size` bytes. An empty blob has one empty part, so that every
 * blob has a hash over at least one part hash and an upload session at least one part.
 */
export const partCountFor = (size: number, partSize: number = BLOB_PART_SIZE): number =>
  size === 0 ? 1 : Math.ceil(size / partSize);

/** Length in bytes of part `index` of a blob of `size` bytes. */
export const partLengthFor = (
  size: number,
  index: number,
  partSize: number = BLOB_PART_SIZE,
): number => Math.max(0, Math.min(partSize, size - index * partSize));

/** Starts the hash of one part. */
export const createPartHash = (): Hash => createHash('blake2b512');

/** BLAKE2b-512 of one part's bytes. */
export const hashPart = (bytes: Uint8Array): Buffer => createPartHash().update(bytes).digest();

/** The blob hash from its part hashes, in part order: BLAKE2b-512 over their concatenation. */
export const combinePartHashes = (partHashes: readonly Uint8Array[]): Buffer => {
  const h = createHash('blake2b512');
  for (const p of partHashes) h.update(p);
  return h.digest();
};

/**
 * Hashes a blob that arrives as a stream of chunks of any size, splitting at part boundaries
 * as the bytes pass, so memory stays at one hash state whatever the blob's size.
 */
export class BlobHasher {
  readonly partSize: number;
  readonly partHashes: Buffer[] = [];
  #current: Hash = createPartHash();
  #inPart = 0;
  #size = 0;

  constructor(partSize: number = BLOB_PART_SIZE) {
    this.partSize = partSize;
  }

  /** Bytes seen so far. */
  get size(): number {
    return this.#size;
  }

  update(chunk: Uint8Array): void {
    let offset = 0;
    while (offset < chunk.length) {
      const take = Math.min(this.partSize - this.#inPart, chunk.length - offset);
      this.#current.update(
        offset === 0 && take === chunk.length ? chunk : chunk.subarray(offset, offset + take),
      );
      this.#inPart += take;
      offset += take;
      if (this.#inPart === this.partSize) this.#closePart();
    }
    this.#size += chunk.length;
  }

  /** The blob hash as 128 lowercase hex characters; the hasher must not be used afterwards. */
  digestHex(): string {
    if (this.#inPart > 0 || this.partHashes.length === 0) this.#closePart();
    return combinePartHashes(this.partHashes).toString('hex');
  }

  #closePart(): void {
    this.partHashes.push(this.#current.digest());
    this.#current = createPartHash();
    this.#inPart = 0;
  }
}

/** The blob hash of bytes held in memory, as hex (for tests and small objects). */
export const hashBlobHex = (bytes: Uint8Array, partSize: number = BLOB_PART_SIZE): string => {
  const h = new BlobHasher(partSize);
  h.update(bytes);
  return h.digestHex();
};
