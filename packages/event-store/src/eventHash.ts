import { createHash } from 'node:crypto';

/** Hash of the (absent) event before revision 0: 64 zero bytes. */
export const GENESIS_PREV_HASH: Uint8Array = new Uint8Array(64);

/** Domain separation: no other BLAKE2b-512 in ratsfach hashes bytes that start this way. */
const LABEL = Buffer.from('ratsfach/v1/event', 'utf8');

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
  const streamLength = Buffer.byteLength(stream, 'utf8');
  const eventIdLength = Buffer.byteLength(eventId, 'utf8');
  const typeLength = Buffer.byteLength(type, 'utf8');
  // One buffer and one update: each update is a call into OpenSSL, which costs more than the copy.
  const encoded = Buffer.allocUnsafe(
    LABEL.length +
      4 +
      streamLength +
      8 +
      4 +
      eventIdLength +
      4 +
      typeLength +
      4 +
      data.length +
      4 +
      metadata.length +
      64,
  );
  let offset = LABEL.copy(encoded, 0);
  offset = encoded.writeUInt32BE(streamLength, offset);
  offset += encoded.write(stream, offset, 'utf8');
  offset = encoded.writeBigUInt64BE(fields.revision, offset);
  offset = encoded.writeUInt32BE(eventIdLength, offset);
  offset += encoded.write(eventId, offset, 'utf8');
  offset = encoded.writeUInt32BE(typeLength, offset);
  offset += encoded.write(type, offset, 'utf8');
  offset = encoded.writeUInt32BE(data.length, offset);
  encoded.set(data, offset);
  offset += data.length;
  offset = encoded.writeUInt32BE(metadata.length, offset);
  encoded.set(metadata, offset);
  offset += metadata.length;
  encoded.set(fields.prevHash, offset);
  return createHash('blake2b512').update(encoded).digest();
}

/** Constant-shape byte comparison for hashes and stored bytes. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  return Buffer.from(a.buffer, a.byteOffset, a.length).equals(
    Buffer.from(b.buffer, b.byteOffset, b.length),
  );
}
