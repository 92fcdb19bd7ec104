import { CryptoErrorCode } from '../errors.js';
import { cryptoReady } from '../sodium.js';
import { requireSuite } from '../suite.js';
import { encodeBinding } from './binding.js';
import { ByteReader, type ByteSource } from './byteSource.js';
import { ContentStreamError } from './contentErrors.js';
import {
  BindingLabel,
  ObjectKind,
  chunkOverhead,
  cipherChunkSize,
  contentHeaderSize,
} from './contentFormat.js';
import { deriveStreamKey } from './contentKey.js';
import type { ContentParams } from './encryptContent.js';
import { pipeToSink, type PlaintextSink } from './plaintextSink.js';

/**
 * Decrypts a content blob, yielding each chunk's plaintext once that chunk authenticated.
 *
 * The iteration ends normally only if the stream is whole: every chunk authenticates under its
 * index and the version's ids, the last one carries TAG_FINAL, and nothing follows it. Otherwise
 * it throws ContentStreamError (`streamCorrupt`, `streamTruncated`, `streamTrailingData`,
 * `malformed`, `nonCanonical`) or UnknownSuiteError. Chunks yielded before such an error are
 * plaintext of a failing stream: write them only somewhere the user cannot see and discard them
 * on error, or use decryptContentToSink, which does exactly that.
 */
export async function* decryptContent(
  source: ByteSource,
  params: ContentParams,
): AsyncGenerator<Uint8Array, void, undefined> {
  const s = await cryptoReady();
  const reader = new ByteReader(source, cipherChunkSize);
  try {
    const header = await reader.read(contentHeaderSize);
    if (header.length < contentHeaderSize) {
      throw new ContentStreamError(
        CryptoErrorCode.streamTruncated,
        'content blob ends inside its header',
        {
          details: { length: header.length },
        },
      );
    }
    const suite = requireSuite(header[0] as number, 'content blob');
    if (header[1] !== ObjectKind.content) {
      throw new ContentStreamError(CryptoErrorCode.malformed, 'object is not a content blob', {
        details: { kind: header[1] },
      });
    }
    const ad = encodeBinding(BindingLabel.contentChunk, suite, params.binding, undefined, 8);
    const adView = new DataView(ad.buffer);
    const indexAt = ad.length - 8;
    const key = deriveStreamKey(params.contentKey);
    const state = s.crypto_secretstream_xchacha20poly1305_init_pull(header.subarray(2), key);
    s.memzero(key);
    const final = s.crypto_secretstream_xchacha20poly1305_TAG_FINAL;
    const message = s.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE;
    for (let index = 0; ; index++) {
      const unit = await reader.read(cipherChunkSize);
      if (unit.length < chunkOverhead) {
        // libsodium would accept a stream cut after any chunk; only TAG_FINAL marks the end.
        throw new ContentStreamError(
          CryptoErrorCode.streamTruncated,
          `content stream ends after ${index} chunks without a final chunk`,
          { details: { chunks: index } },
        );
      }
      adView.setBigUint64(indexAt, BigInt(index));
      const opened = s.crypto_secretstream_xchacha20poly1305_pull(state, unit, ad);
      if (opened === false) {
        throw new ContentStreamError(
          CryptoErrorCode.streamCorrupt,
          `chunk ${index} of the content stream fails authentication`,
          { details: { chunk: index } },
        );
      }
      if (opened.tag === final) {
        if (opened.message.length === 0 && index > 0) {
          throw new ContentStreamError(
            CryptoErrorCode.nonCanonical,
            'content stream ends with an empty chunk after a full one',
            { details: { chunk: index } },
          );
        }
        const after = await reader.read(1);
        if (after.length > 0) {
          throw new ContentStreamError(
            CryptoErrorCode.streamTrailingData,
            `bytes follow the final chunk ${index} of the content stream`,
            { details: { chunk: index } },
          );
        }
        if (opened.message.length > 0) yield opened.message;
        return;
      }
      if (opened.tag !== message) {
        throw new ContentStreamError(
          CryptoErrorCode.nonCanonical,
          `chunk ${index} carries tag ${opened.tag}, which this format never writes`,
          { details: { chunk: index, tag: opened.tag } },
        );
      }
      if (unit.length !== cipherChunkSize) {
        // Units are framed by size: only the end of the input makes one short.
        throw new ContentStreamError(
          CryptoErrorCode.streamTruncated,
          `content stream ends after chunk ${index}, which is not final`,
          { details: { chunks: index + 1 } },
        );
      }
      yield opened.message;
    }
  } finally {
    await reader.close();
  }
}

/**
 * Decrypts a content blob into `sink` and commits it only after the final chunk verified and
 * nothing followed it; on any failure the sink is aborted and the error rethrown (PlaintextSink
 * states the contract). Resolves to the plaintext size.
 *
 * This checks the stream only. To read a version, use openVersionContent, which also checks
 * the key slot, the blob's hash and its size against the signed version record.
 */
export const decryptContentToSink = (
  source: ByteSource,
  params: ContentParams,
  sink: PlaintextSink,
): Promise<number> => pipeToSink(decryptContent(source, params), sink);
