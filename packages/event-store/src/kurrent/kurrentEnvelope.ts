import { StoreIntegrityError } from '../errors.js';

/**
 * KurrentDB stores an event's data and one opaque metadata blob. The chain fields (`prevHash`,
 * `hash`) must travel with the event, so the adapter wraps the caller's metadata in a small,
 * fixed binary envelope:
 *
 * ```
 * offset  size  field
 *      0     4  magic 00 72 66 31 ("\0rf1")
 *      4    64  prevHash (BLAKE2b-512 of the stream's previous event; zeros at revision 0)
 *     68    64  hash     (BLAKE2b-512 of this event's canonical encoding)
 *    132     4  length of the caller's metadata, unsigned 32-bit big-endian
 *    136     n  the caller's metadata bytes, exactly as given
 * ```
 *
 * The leading zero byte matters: the official client tries `JSON.parse` on every metadata blob
 * it reads and returns an object when that succeeds; a NUL can never start JSON, so the client
 * always hands the envelope back as bytes.
 */
export const KURRENT_ENVELOPE_MAGIC: Uint8Array = Uint8Array.of(0x00, 0x72, 0x66, 0x31);
export const KURRENT_HASH_BYTES = 64;
/** Bytes the envelope adds around the caller's metadata. */
export const KURRENT_ENVELOPE_OVERHEAD = 4 + KURRENT_HASH_BYTES * 2 + 4;

export interface KurrentEnvelope {
  readonly prevHash: Uint8Array;
  readonly hash: Uint8Array;
  readonly metadata: Uint8Array;
}

const undecodable = (why: string): StoreIntegrityError =>
  new StoreIntegrityError(`stored KurrentDB event metadata is not a ratsfach envelope: ${why}`, {
    hint: 'the event was not written by the ratsfach KurrentDB adapter or was altered: run verify and restore the log from a trusted copy',
    details: { reason: 'undecodable' },
  });

/** Wraps the caller's metadata with the chain hashes; the result is what KurrentDB stores. */
export function encodeKurrentEnvelope(envelope: KurrentEnvelope): Uint8Array {
  const { prevHash, hash, metadata } = envelope;
  if (prevHash.length !== KURRENT_HASH_BYTES || hash.length !== KURRENT_HASH_BYTES) {
    throw new RangeError(`envelope hashes must be ${KURRENT_HASH_BYTES} bytes`);
  }
  const out = new Uint8Array(KURRENT_ENVELOPE_OVERHEAD + metadata.length);
  out.set(KURRENT_ENVELOPE_MAGIC, 0);
  out.set(prevHash, 4);
  out.set(hash, 4 + KURRENT_HASH_BYTES);
  new DataView(out.buffer).setUint32(4 + KURRENT_HASH_BYTES * 2, metadata.length, false);
  out.set(metadata, KURRENT_ENVELOPE_OVERHEAD);
  return out;
}

/**
 * Unwraps a stored envelope. Throws StoreIntegrityError RATSFACH_EVENT_STORE_INTEGRITY
 * when the bytes are not exactly one envelope (wrong magic, truncated, trailing bytes). Whether the
 * hashes are right is `verify`'s business, not the decoder's.
 */
export function decodeKurrentEnvelope(stored: unknown): KurrentEnvelope {
  if (!(stored instanceof Uint8Array)) throw undecodable('metadata is missing or not bytes');
  if (stored.length < KURRENT_ENVELOPE_OVERHEAD) {
    throw undecodable(
      `${stored.length} bytes, shorter than the ${KURRENT_ENVELOPE_OVERHEAD}-byte header`,
    );
  }
  for (let i = 0; i < KURRENT_ENVELOPE_MAGIC.length; i += 1) {
    if (stored[i] !== KURRENT_ENVELOPE_MAGIC[i]) throw undecodable('wrong magic bytes');
  }
  const view = new DataView(stored.buffer, stored.byteOffset, stored.byteLength);
  const length = view.getUint32(4 + KURRENT_HASH_BYTES * 2, false);
  if (length !== stored.length - KURRENT_ENVELOPE_OVERHEAD) {
    throw undecodable(
      `declares ${length} metadata bytes but carries ${stored.length - KURRENT_ENVELOPE_OVERHEAD}`,
    );
  }
  // Plain Uint8Array copies: the client may hand out Buffers that view a reused pool.
  return {
    prevHash: new Uint8Array(stored.subarray(4, 4 + KURRENT_HASH_BYTES)),
    hash: new Uint8Array(stored.subarray(4 + KURRENT_HASH_BYTES, 4 + KURRENT_HASH_BYTES * 2)),
    metadata: new Uint8Array(stored.subarray(KURRENT_ENVELOPE_OVERHEAD)),
  };
}
