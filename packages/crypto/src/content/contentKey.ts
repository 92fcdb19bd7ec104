import { CryptoErrorCode, CryptoValidationError } from '../errors.js';
import { randomBytes, sodium } from '../sodium.js';

/** Length of a content key, and of the keys derived from it. */
export const contentKeyLength = 32;

/**
 * KDF contexts (crypto_kdf, keyed BLAKE2b): the content key itself never encrypts anything;
 * each use gets its own subkey, so the stream and the metadata never share a key.
 */
const KdfContext = {
  stream: 'rfstream',
  metadata: 'rfmetadt',
} as const;

/** A fresh random content key: one per document version, never reused. */
export const generateContentKey = (): Uint8Array => randomBytes(contentKeyLength);

const derive = (contentKey: Uint8Array, context: string): Uint8Array => {
  if (!(contentKey instanceof Uint8Array) || contentKey.length !== contentKeyLength) {
    throw new CryptoValidationError(
      CryptoErrorCode.invalidArgument,
      `a content key is ${contentKeyLength} bytes`,
      { hint: 'Pass the key generateContentKey() made or openKeySlot() returned.' },
    );
  }
  return sodium().crypto_kdf_derive_from_key(contentKeyLength, 1, context, contentKey);
};

/** The secretstream key of a version's content. */
export const deriveStreamKey = (contentKey: Uint8Array): Uint8Array =>
  derive(contentKey, KdfContext.stream);

/** The AEAD key of a version's metadata. */
export const deriveMetadataKey = (contentKey: Uint8Array): Uint8Array =>
  derive(contentKey, KdfContext.metadata);
