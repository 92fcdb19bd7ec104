import { CryptoErrorCode } from '../errors.js';
import { constantTimeEqual } from '../hash.js';
import { BlobHasher } from './blobHasher.js';
import { byteIterator, type ByteSource } from './byteSource.js';
import { BlobMismatchError } from './contentErrors.js';

/**
 * Passes a blob's bytes through while hashing them part by part, and refuses more bytes than
 * the signed size as soon as they arrive (a store cannot make a reader download forever).
 * `finish()` compares size and hash with the signed ones. Closing an iteration over it does
 * not close the underlying source, so `drain()` can read the rest to name the real failure.
 */
export class VerifiedBlobSource implements AsyncIterable<Uint8Array> {
  private readonly iterator: AsyncIterator<Uint8Array> | Iterator<Uint8Array>;
  private readonly hasher: BlobHasher;
  private ended = false;

  constructor(
    source: ByteSource,
    private readonly expected: { readonly hash: Uint8Array; readonly size: number },
    partSize?: number,
  ) {
    this.iterator = byteIterator(source);
    this.hasher = new BlobHasher(partSize);
  }

  private async pull(): Promise<IteratorResult<Uint8Array, undefined>> {
    if (this.ended) return { done: true, value: undefined };
    const next = await this.iterator.next();
    if (next.done === true) {
      this.ended = true;
      return { done: true, value: undefined };
    }
    const chunk = next.value;
    if (this.hasher.size + chunk.length > this.expected.size) {
      this.ended = true;
      await this.iterator.return?.();
      throw new BlobMismatchError(
        CryptoErrorCode.sizeMismatch,
        `blob is longer than the ${this.expected.size} bytes its signed record names`,
        { details: { expected: this.expected.size } },
      );
    }
    this.hasher.update(chunk);
    return { done: false, value: chunk };
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return { next: () => this.pull() };
  }

  /** Reads and hashes whatever the consumer left unread. */
  async drain(): Promise<void> {
    while (!(await this.pull()).done);
  }

  /** Throws BlobMismatchError unless all bytes were read and match the signed size and hash. */
  finish(): void {
    const digest = this.hasher.digest();
    if (digest.size !== this.expected.size) {
      throw new BlobMismatchError(
        CryptoErrorCode.sizeMismatch,
        `blob has ${digest.size} bytes, its signed record names ${this.expected.size}`,
        { details: { expected: this.expected.size, actual: digest.size } },
      );
    }
    if (!constantTimeEqual(digest.hash, this.expected.hash)) {
      throw new BlobMismatchError(
        CryptoErrorCode.hashMismatch,
        'blob differs from the hash its signed version record names',
      );
    }
  }

  /** Releases the underlying source (after a failure). */
  async close(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    await this.iterator.return?.();
  }
}
