import type { RatsfachErrorOptions } from '@ratsfach/kernel';
import { type CryptoErrorCode, DecryptionError } from '../errors.js';

/**
 * An encrypted content stream that fails: a chunk changed, reordered, duplicated, dropped or
 * from another document (`streamCorrupt`), no final chunk (`streamTruncated`), bytes after the
 * final chunk (`streamTrailingData`), or a header that does not parse (`malformed`).
 * Whatever plaintext the stream yielded before must be discarded.
 */
export class ContentStreamError extends DecryptionError {
  constructor(code: CryptoErrorCode, message: string, options: RatsfachErrorOptions = {}) {
    super(code, message, {
      hint: 'Discard this download and fetch the blob again; if it fails again, the store holds corrupt or foreign bytes: report it.',
      ...options,
    });
  }
}

/**
 * A blob whose size (`sizeMismatch`) or part-wise hash (`hashMismatch`) differs from what its
 * signed version record names: the store served other bytes (another document's blob, an
 * older version, a changed or cut-off file).
 */
export class BlobMismatchError extends DecryptionError {
  constructor(code: CryptoErrorCode, message: string, options: RatsfachErrorOptions = {}) {
    super(code, message, {
      hint: 'Do not use this blob; fetch it again, and report the store if it keeps serving other bytes.',
      ...options,
    });
  }
}

/**
 * A key slot that differs from the hash its signed version record names (`hashMismatch`), does
 * not parse (`malformed`), or does not open under the epoch key and its ids
 * (`decryptionFailed`).
 */
export class KeySlotError extends DecryptionError {
  constructor(code: CryptoErrorCode, message: string, options: RatsfachErrorOptions = {}) {
    super(code, message, {
      hint: 'Fetch the key slot again; if it still fails, it was changed or erased: the version cannot be read.',
      ...options,
    });
  }
}

/**
 * Encrypted document metadata that does not parse (`malformed`), is not the canonical encoding
 * (`nonCanonical`), or does not open under its key and ids (`decryptionFailed`).
 */
export class MetadataError extends DecryptionError {
  constructor(code: CryptoErrorCode, message: string, options: RatsfachErrorOptions = {}) {
    super(code, message, {
      hint: 'Show the document without its name and folder and report it: the metadata was changed or belongs elsewhere.',
      ...options,
    });
  }
}
