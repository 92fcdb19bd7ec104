import { CryptoErrorCode, CryptoIntegrityError } from '../errors.js';
import { cryptoReady } from '../sodium.js';
import type { KeySlotBinding } from './binding.js';
import type { ByteSource } from './byteSource.js';
import { BlobMismatchError } from './contentErrors.js';
import { plaintextSizeOf } from './contentFormat.js';
import { decryptContent } from './decryptContent.js';
import { checkKeySlotHash, openKeySlot } from './keySlot.js';
import type { PlaintextSink } from './plaintextSink.js';
import { VerifiedBlobSource } from './verifiedBlobSource.js';

/** What a verified version record says about its content (the record codec decodes these). */
export interface SignedContentFacts {
  /** The blob hash (BlobHasher) the author signed. */
  readonly contentHash: Uint8Array;
  /** The blob's size in bytes the author signed. */
  readonly size: number;
  /** BLAKE2b-512 of the key slot the author signed. */
  readonly keySlotHash: Uint8Array;
  /** Part size of the blob hash; blobPartSize when the record names none. */
  readonly partSize?: number;
}

/** Everything needed to read one version, besides the blob itself. */
export interface OpenVersionParams {
  /** Fields of the version record, after its signature and chain were verified. */
  readonly record: SignedContentFacts;
  /** The ids the record names (and the committee it belongs to). */
  readonly binding: KeySlotBinding;
  /** The committee's key for the record's epoch. */
  readonly epochKey: Uint8Array;
  /** The key slot as the store returned it. */
  readonly keySlot: Uint8Array;
}

/**
 * Reads one version and releases its plaintext only if everything matches what the author
 * signed, whatever the store served: the key slot's hash, then the key slot itself (bound to
 * tenant, committee, document, version, epoch), then, while decrypting, every chunk, the final
 * chunk, the blob's size and its part-wise hash. `sink.commit()` runs only after all of that;
 * on any failure `sink.abort()` runs and the error is thrown. Resolves to the plaintext size.
 *
 * When the stream fails, the rest of the blob is read (never beyond the signed size) so that a
 * blob that is not the signed one is reported as such (BlobMismatchError `hashMismatch` or
 * `sizeMismatch`), with the stream error as its cause; a ContentStreamError is thrown only for
 * a blob that is the signed one but does not decrypt (its author wrote it wrongly).
 */
export const openVersionContent = async (
  blob: ByteSource,
  params: OpenVersionParams,
  sink: PlaintextSink,
): Promise<number> => {
  await cryptoReady();
  const { record } = params;
  let contentKey: Uint8Array;
  try {
    checkKeySlotHash(params.keySlot, record.keySlotHash);
    contentKey = openKeySlot(params.keySlot, params);
    if (plaintextSizeOf(record.size) === undefined) {
      throw new BlobMismatchError(
        CryptoErrorCode.sizeMismatch,
        `no content blob has the ${record.size} bytes the record names`,
        { details: { size: record.size } },
      );
    }
  } catch (error) {
    await sink.abort(error);
    throw error;
  }
  const verified = new VerifiedBlobSource(
    blob,
    { hash: record.contentHash, size: record.size },
    record.partSize,
  );
  let size = 0;
  try {
    try {
      for await (const chunk of decryptContent(verified, { contentKey, binding: params.binding })) {
        await sink.write(chunk);
        size += chunk.length;
      }
      verified.finish();
    } catch (error) {
      if (error instanceof CryptoIntegrityError && !(error instanceof BlobMismatchError)) {
        try {
          await verified.drain();
          verified.finish();
        } catch (mismatch) {
          if (mismatch instanceof BlobMismatchError) {
            throw new BlobMismatchError(mismatch.code as CryptoErrorCode, mismatch.message, {
              cause: error,
              details: mismatch.details,
            });
          }
        }
      }
      throw error;
    }
  } catch (error) {
    await verified.close();
    await sink.abort(error);
    throw error;
  }
  await sink.commit();
  return size;
};
