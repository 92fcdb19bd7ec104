import { createHash, type Hash } from 'node:crypto';
import { BlobKind } from './blobRef.js';

/**
 * The server's side of the part-wise blob hash defined by @ratsfach/crypto
 * (packages/crypto/FORMAT-content.md, packages/crypto/src/content/blobHasher.ts):
 *
 *   partHash_i = BLAKE2b-512(bytes of part i)           parts of `partSize` bytes, the last shorter
 *   hash       = BLAKE2b-512("ratsfach/v1/blob-hash" || u64be(partSize)
 *                            || partHash_0 || ... || partHash_{n-1} || u64be(size))
 *
 * An empty blob has no part hashes. A key slot (kind `keyslot`, at most MAX_KEYSLOT_SIZE bytes)
 * is keyed by the plain BLAKE2b-512 of its bytes instead, as crypto's `keySlotHash` defines it.
 * Node's `blake2b512` gives the same bytes as libsodium's
 * `crypto_generichash` with 64 bytes, so a device and the server agree without either trusting
 * the other. This is the only place in the blob store that knows the construction.
 */

/** Default size of every part but the last, in bytes (8 MiB: also above S3's 5 MiB minimum). */
export const BLOB_PART_SIZE = 8 * 1024 * 1024;

/** Smallest and largest part size the hash allows (the crypto package's bounds). */
export const MIN_PART_SIZE = 1024;
export const MAX_PART_SIZE = 2 ** 30;

/** Length of a BLAKE2b-512 hash in bytes. */
export const HASH_BYTES = 64;

const rootLabel = Buffer.from('ratsfach/v1/blob-hash', 'ascii');

const u64be = (value: number): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(value));
  return b;
};

/** Number of part hashes of a blob of `size` bytes (none for an empty blob). */
export const hashPartCountFor = (size: number, partSize: number = BLOB_PART_SIZE): number =>
  Math.ceil(size / partSize);

/**
 * Number of parts an upload session of `size` bytes takes. An empty blob is uploaded as one
 * empty part, so that every session has at least one part to put (and S3 one multipart part);
 * that empty part contributes no part hash.
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

/**
 * The blob hash from its part hashes in part order, the blob's size and the part size. For an
 * empty blob pass no part hashes.
 */
export const combinePartHashes = (
  partHashes: readonly Uint8Array[],
  size: number,
  partSize: number = BLOB_PART_SIZE,
): Buffer => {
  const h = createHash('blake2b512');
  h.update(rootLabel);
  h.update(u64be(partSize));
  for (const p of partHashes) h.update(p);
  h.update(u64be(size));
  return h.digest();
};

/**
 * Hashes a blob that arrives as a stream of chunks of any size, splitting at part boundaries
 * as the bytes pass, so memory stays at one hash state (and 64 bytes a part) whatever the
 * blob's size. The same hash as `@ratsfach/crypto`'s `BlobHasher` (devices), computed with
 * Node's native BLAKE2b for the server's throughput.
 */
export class NodeBlobHasher {
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
    if (this.#inPart > 0) this.#closePart();
    return combinePartHashes(this.partHashes, this.#size, this.partSize).toString('hex');
  }

  #closePart(): void {
    this.partHashes.push(this.#current.digest());
    this.#current = createPartHash();
    this.#inPart = 0;
  }
}

/** The blob hash of bytes held in memory, as hex (for tests and small objects). */
export const hashBlobHex = (bytes: Uint8Array, partSize: number = BLOB_PART_SIZE): string => {
  const h = new NodeBlobHasher(partSize);
  h.update(bytes);
  return h.digestHex();
};

/** Largest key slot accepted, in bytes; a key slot is always uploaded as one part. */
export const MAX_KEYSLOT_SIZE = 64 * 1024;

/** The plain BLAKE2b-512 of a key slot's bytes, as hex: a key slot's key. */
export const hashKeySlotHex = (bytes: Uint8Array): string => hashPart(bytes).toString('hex');

/** Hashes an object of either kind as its bytes stream past. */
export interface ObjectHasher {
  /** Bytes seen so far. */
  readonly size: number;
  update(chunk: Uint8Array): void;
  /** The object's key hash as hex; the hasher must not be used afterwards. */
  digestHex(): string;
}

/** The hasher of an object's key: part-wise for blobs, plain BLAKE2b-512 for key slots. */
export function createObjectHasher(
  kind: BlobKind,
  partSize: number = BLOB_PART_SIZE,
): ObjectHasher {
  if (kind === BlobKind.blob) return new NodeBlobHasher(partSize);
  const h = createPartHash();
  let size = 0;
  return {
    get size() {
      return size;
    },
    update(chunk) {
      h.update(chunk);
      size += chunk.length;
    },
    digestHex: () => h.digest('hex'),
  };
}

/** The key hash of an object held in memory, as hex. */
export const hashObjectHex = (
  kind: BlobKind,
  bytes: Uint8Array,
  partSize: number = BLOB_PART_SIZE,
): string => {
  const h = createObjectHasher(kind, partSize);
  h.update(bytes);
  return h.digestHex();
};
