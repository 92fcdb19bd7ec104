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

const lengthPrefix = (length: number): Buffer => {
  const prefix = Buffer.allocUnsafe(4);
  prefix.writeUInt32BE(length, 0);
  return prefix;
};

/**
 * BLAKE2b-512 over a canonical, length-prefixed encoding:
 * `label || u32be(len) stream || u64be revision || u32be(len) eventId || u32be(len) type ||
 * u32be(len) data || u32be(len) metadata || prevHash(64)`, strings as UTF-8. Every field but the
 * fixed-size ones carries its length, so no two different events encode to the same bytes.
 * The same bytes come out of libsodium's `crypto_generichash(64, ...)` on devices.
 */
export function eventHash(fields: HashedEventFields): Uint8Array {
  if (fields.prevHash.length !== 64) throw new RangeError('prevHash must be 64 bytes');
  const stream = Buffer.from(fields.stream, 'utf8');
  const eventId = Buffer.from(fields.eventId, 'utf8');
  const type = Buffer.from(fields.type, 'utf8');
  const revision = Buffer.allocUnsafe(8);
  revision.writeBigUInt64BE(fields.revision, 0);
  return createHash('blake2b512')
    .update(LABEL)
    .update(lengthPrefix(stream.length))
    .update(stream)
    .update(revision)
    .update(lengthPrefix(eventId.length))
    .update(eventId)
    .update(lengthPrefix(type.length))
    .update(type)
    .update(lengthPrefix(fields.data.length))
    .update(fields.data)
    .update(lengthPrefix(fields.metadata.length))
    .update(fields.metadata)
    .update(fields.prevHash)
    .digest();
}

/** Constant-shape byte comparison for hashes and stored bytes. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  return Buffer.from(a.buffer, a.byteOffset, a.length).equals(
    Buffer.from(b.buffer, b.byteOffset, b.length),
  );
}
