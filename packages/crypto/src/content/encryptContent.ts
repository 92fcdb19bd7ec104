import { randomBytes, cryptoReady } from '../sodium.js';
import { currentSuite } from '../suite.js';
import { encodeBinding, type ContentBinding } from './binding.js';
import { ByteReader, type ByteSource } from './byteSource.js';
import {
  BindingLabel,
  ObjectKind,
  chunkSize,
  contentHeaderSize,
  streamHeaderBytes,
} from './contentFormat.js';
import { deriveStreamKey } from './contentKey.js';

/** What encrypts or decrypts one version's content. */
export interface ContentParams {
  /** The version's content key (generateContentKey, or openKeySlot when reading). */
  readonly contentKey: Uint8Array;
  /** Tenant, document, version and epoch: bound to every chunk as associated data. */
  readonly binding: ContentBinding;
}

/**
 * Encrypts a plaintext stream into the bytes of a content blob: a 26-byte header (suite, kind,
 * secretstream header) and then one secretstream chunk per 64 KiB of plaintext, the last one
 * tagged TAG_FINAL (an empty plaintext gives one empty final chunk). Each chunk's associated
 * data binds tenant, document, version, epoch and the chunk's index (FORMAT-content.md).
 *
 * It holds at most two plaintext chunks and one ciphertext chunk at a time, whatever the size
 * of the source. Pipe the output through a BlobHasher to get the hash and size the version
 * record signs.
 */
export async function* encryptContent(
  source: ByteSource,
  params: ContentParams,
): AsyncGenerator<Uint8Array, void, undefined> {
  const s = await cryptoReady();
  const ad = encodeBinding(BindingLabel.contentChunk, currentSuite, params.binding, undefined, 8);
  const adView = new DataView(ad.buffer);
  const indexAt = ad.length - 8;
  const key = deriveStreamKey(params.contentKey);
  const header = new Uint8Array(contentHeaderSize);
  header[0] = currentSuite;
  header[1] = ObjectKind.content;
  header.set(randomBytes(streamHeaderBytes), 2);
  // init_pull derives exactly the state init_push would from this header (HChaCha20 of the key
  // and the header's first 16 bytes, counter 1, the last 8 bytes as nonce), but takes the
  // header from our own randomness, so known-answer vectors are reproducible through the seam.
  const state = s.crypto_secretstream_xchacha20poly1305_init_pull(header.subarray(2), key);
  s.memzero(key);
  const reader = new ByteReader(source, chunkSize, true);
  try {
    yield header;
    const none = new Uint8Array(0);
    let current = await reader.read(chunkSize);
    for (let index = 0; ; index++) {
      // A full chunk is held back until the next byte shows that it is not the last one.
      const next = current.length < chunkSize ? none : await reader.read(chunkSize);
      const final = next.length === 0;
      adView.setBigUint64(indexAt, BigInt(index));
      yield s.crypto_secretstream_xchacha20poly1305_push(
        state,
        current,
        ad,
        final
          ? s.crypto_secretstream_xchacha20poly1305_TAG_FINAL
          : s.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE,
      );
      if (final) return;
      current = next;
    }
  } finally {
    await reader.close();
  }
}
