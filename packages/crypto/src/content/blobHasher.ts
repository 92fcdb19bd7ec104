import { ByteWriter } from '../codec/byteWriter.js';
import { CryptoErrorCode, CryptoValidationError } from '../errors.js';
import { createHash512, hash512, type Hasher512 } from '../hash.js';

/**
 * Size of the parts a blob's hash is defined over: 8 MiB, a multiple of every S3 store's
 * minimum multipart size, so an upload part and a hash part can be one and the same.
 */
export const blobPartSize = 8 * 1024 * 1024;

/** The 21 ASCII bytes the root hash starts with. */
const rootLabel = new TextEncoder().encode('ratsfach/v1/blob-hash');

/** The hash of a blob, with what it was computed from. */
export interface BlobDigest {
  /** BLAKE2b-512 over the label, the part size, the part hashes and the total size. */
  readonly hash: Uint8Array;
  /** Total bytes hashed. */
  readonly size: number;
  readonly partSize: number;
  /** BLAKE2b-512 of each part, in order (none for an empty blob). */
  readonly partHashes: readonly Uint8Array[];
}

/**
 * The root hash from part hashes: BLAKE2b-512( "ratsfach/v1/blob-hash" || u64be(partSize) ||
 * partHash_0 || ... || partHash_{n-1} || u64be(size) ). The server computes the same with
 * Node's `blake2b512` (FORMAT-content.md).
 */
export const blobRootHash = (
  partHashes: readonly Uint8Array[],
  size: number,
  partSize: number = blobPartSize,
): Uint8Array => {
  const w = new ByteWriter();
  w.bytes(rootLabel);
  w.u64(partSize);
  for (const part of partHashes) w.bytes(part);
  w.u64(size);
  return hash512(w.finish());
};

/**
 * Hashes a blob incrementally, while it is encrypted, uploaded or downloaded: feed it the
 * blob's bytes in chunks of any size, then call `digest()` once. Memory: one BLAKE2b state and
 * 64 bytes per finished part.
 */
export class BlobHasher {
  private readonly partSize: number;
  private readonly parts: Uint8Array[] = [];
  /** The current part's hasher; undefined between parts. */
  private part: Hasher512 | undefined;
  private inPart = 0;
  private total = 0;
  private done = false;

  constructor(partSize: number = blobPartSize) {
    if (!Number.isInteger(partSize) || partSize < 1024 || partSize > 2 ** 30) {
      throw new CryptoValidationError(
        CryptoErrorCode.invalidArgument,
        `blob part size ${partSize} is out of range`,
        { hint: 'Use blobPartSize (8 MiB) unless a record names another part size.' },
      );
    }
    this.partSize = partSize;
  }

  /** Bytes hashed so far. */
  get size(): number {
    return this.total;
  }

  update(data: Uint8Array): void {
    if (this.done) {
      throw new CryptoValidationError(
        CryptoErrorCode.invalidArgument,
        'BlobHasher used after digest()',
      );
    }
    let at = 0;
    while (at < data.length) {
      this.part ??= createHash512();
      const take = Math.min(data.length - at, this.partSize - this.inPart);
      this.part.update(at === 0 && take === data.length ? data : data.subarray(at, at + take));
      at += take;
      this.inPart += take;
      this.total += take;
      if (this.inPart === this.partSize) this.finishPart();
    }
  }

  private finishPart(): void {
    // Only called with bytes in the current part, so the part hasher exists.
    this.parts.push((this.part as Hasher512).digest());
    this.part = undefined;
    this.inPart = 0;
  }

  /** The blob's hash; the hasher cannot be used afterwards. */
  digest(): BlobDigest {
    if (this.done) {
      throw new CryptoValidationError(
        CryptoErrorCode.invalidArgument,
        'BlobHasher.digest() called twice',
      );
    }
    if (this.inPart > 0) this.finishPart();
    this.done = true;
    return {
      hash: blobRootHash(this.parts, this.total, this.partSize),
      size: this.total,
      partSize: this.partSize,
      partHashes: this.parts,
    };
  }
}

/** The blob hash of bytes already in memory (small blobs, tests). */
export const blobHash = (data: Uint8Array, partSize: number = blobPartSize): BlobDigest => {
  const hasher = new BlobHasher(partSize);
  hasher.update(data);
  return hasher.digest();
};
