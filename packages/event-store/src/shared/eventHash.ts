import { hash } from 'node:crypto';

/** Hash of the (absent) event before revision 0: 64 zero bytes. */
export const GENESIS_PREV_HASH: Uint8Array = new Uint8Array(64);

/** Domain separation: no other BLAKE2b-512 in ratsfach hashes bytes that start this way. */
const LABEL = Buffer.from('ratsfach/v1/event', 'utf8');

/** Large enough for every event of ordinary size; larger ones get a buffer of their own. */
const scratch = Buffer.allocUnsafe(64 * 1024);

/** The fields of an event that its hash covers. */
export interface HashedEventFields {
  readonly stream: string;
  readonly revision: bigint;
  readonly eventId: string;
  readonly type: string;
  readonly data: Uint8Array;
  readonly metadata: Uint8Array;
  readonly prevHash: Uint8Array;
}

/**
 * BLAKE2b-512 over a canonical, length-prefixed encoding:
 * `label || u32be(len) stream || u64be revision || u32be(len) eventId || u32be(len) type ||
 * u32be(len) data || u32be(len) metadata || prevHash(64)`, strings as UTF-8. Every field but the
 * fixed-size ones carries its length, so no two different events encode to the same bytes.
 * The same bytes come out of libsodium's `crypto_generichash(64, ...)` on devices.
 */
export function eventHash(fields: HashedEventFields): Uint8Array {
  if (fields.prevHash.length !== 64) throw new RangeError('prevHash must be 64 bytes');
  const { stream, eventId, type, data, metadata } = fields;
  // Strings are written first and measured after: a UTF-8 string takes at most 3 bytes per
  // UTF-16 unit, so the bound below always fits and no string is encoded twice.
  const bound =
    LABEL.length +
    4 +
    3 * stream.length +
    8 +
    4 +
    3 * eventId.length +
    4 +
    3 * type.length +
    4 +
    data.length +
    4 +
    metadata.length +
    64;
  // One reused scratch buffer and one one-shot hash call: hashing runs per event, and a Hash
  // object plus a fresh buffer each time cost more than the hashing itself for small events.
  // Synchronous from start to end, so no other call can see the scratch buffer half-written.
  const encoded = bound <= scratch.length ? scratch : Buffer.allocUnsafe(bound);
  let offset = LABEL.copy(encoded, 0);
  offset = writeString(encoded, offset, stream);
  offset = encoded.writeBigUInt64BE(fields.revision, offset);
  offset = writeString(encoded, offset, eventId);
  offset = writeString(encoded, offset, type);
  offset = encoded.writeUInt32BE(data.length, offset);
  encoded.set(data, offset);
  offset += data.length;
  offset = encoded.writeUInt32BE(metadata.length, offset);
  encoded.set(metadata, offset);
  offset += metadata.length;
  encoded.set(fields.prevHash, offset);
  offset += 64;
  return hash('blake2b512', encoded.subarray(0, offset), 'buffer');
}

/** Writes `u32be(byte length) || UTF-8 bytes` of `value` at `offset`; returns the next offset. */
const writeString = (target: Buffer, offset: number, value: string): number => {
  const length = target.write(value, offset + 4, 'utf8');
  target.writeUInt32BE(length, offset);
  return offset + 4 + length;
};
