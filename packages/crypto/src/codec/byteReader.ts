import { CryptoErrorCode, EncodingError } from '../errors.js';

/** Reads fixed-width fields from bytes, refusing to run past their end. */
export class ByteReader {
  private offset = 0;
  private readonly view: DataView;

  constructor(
    private readonly data: Uint8Array,
    private readonly what: string,
  ) {
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  }

  get position(): number {
    return this.offset;
  }

  get remaining(): number {
    return this.data.length - this.offset;
  }

  private need(count: number): number {
    if (count > this.remaining) {
      throw new EncodingError(
        CryptoErrorCode.malformed,
        `${this.what} ends early: ${count} bytes needed at offset ${this.offset}, ${this.remaining} left`,
        { hint: 'The bytes were truncated or are not a ratsfach record; fetch them again.' },
      );
    }
    const at = this.offset;
    this.offset += count;
    return at;
  }

  u8(): number {
    return this.view.getUint8(this.need(1));
  }

  u16(): number {
    return this.view.getUint16(this.need(2));
  }

  u32(): number {
    return this.view.getUint32(this.need(4));
  }

  /** A u64 as a number, refusing values above 2^53 - 1. */
  u64(): number {
    const value = this.view.getBigUint64(this.need(8));
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new EncodingError(
        CryptoErrorCode.malformed,
        `${this.what}: integer ${value} too large`,
      );
    }
    return Number(value);
  }

  /** A copy of the next `count` bytes. */
  bytes(count: number): Uint8Array {
    const at = this.need(count);
    return this.data.slice(at, at + count);
  }

  /** Refuses trailing bytes: a canonical encoding ends exactly where its last field ends. */
  end(): void {
    if (this.remaining !== 0) {
      throw new EncodingError(
        CryptoErrorCode.nonCanonical,
        `${this.what} has ${this.remaining} trailing bytes`,
        { hint: 'Only the canonical encoding is accepted; the bytes were changed.' },
      );
    }
  }
}
