import { ValidationError } from '@ratsfach/kernel';

/**
 * One-dimensional arrays in PostgreSQL's binary wire format (`array_recv`), as a Buffer, which
 * node-postgres sends as a binary parameter. Text parameters would send every bytea element as
 * hex (twice its size) and make both sides escape and parse it; for a batch of events that
 * encoding is most of the statement's cost. The parameter must be cast to the matching array
 * type in the SQL (`$1::bytea[]`), so that the server reads it with that type's receive function.
 */

/** Element type oids (pg_type.oid); the server checks them against the parameter's type. */
const oids = { int4: 23, int8: 20, text: 25, bytea: 17, uuid: 2950 } as const;

function encode(
  oid: number,
  count: number,
  bodyBytes: number,
  write: (buf: Buffer, offset: number) => void,
): Buffer {
  const header = count === 0 ? 12 : 20;
  const buf = Buffer.allocUnsafe(header + bodyBytes);
  buf.writeInt32BE(count === 0 ? 0 : 1, 0); // dimensions
  buf.writeInt32BE(0, 4); // no nulls
  buf.writeInt32BE(oid, 8);
  if (count > 0) {
    buf.writeInt32BE(count, 12);
    buf.writeInt32BE(1, 16); // lower bound
  }
  write(buf, header);
  return buf;
}

/** `bytea[]` of the given byte strings. */
export function binaryByteaArray(values: readonly Uint8Array[]): Buffer {
  let bytes = 0;
  for (const v of values) bytes += 4 + v.byteLength;
  return encode(oids.bytea, values.length, bytes, (buf, start) => {
    let at = start;
    for (const v of values) {
      buf.writeInt32BE(v.byteLength, at);
      buf.set(v, at + 4);
      at += 4 + v.byteLength;
    }
  });
}

/** `text[]` of the given strings (UTF-8). */
export function binaryTextArray(values: readonly string[]): Buffer {
  let bytes = 0;
  for (const v of values) bytes += 4 + Buffer.byteLength(v, 'utf8');
  return encode(oids.text, values.length, bytes, (buf, start) => {
    let at = start;
    for (const v of values) {
      const length = buf.write(v, at + 4, 'utf8');
      buf.writeInt32BE(length, at);
      at += 4 + length;
    }
  });
}

/** `uuid[]` of canonical UUID strings (8-4-4-4-12 hex, as validation guarantees). */
export function binaryUuidArray(values: readonly string[]): Buffer {
  return encode(oids.uuid, values.length, values.length * 20, (buf, start) => {
    let at = start;
    for (const v of values) {
      buf.writeInt32BE(16, at);
      const hex = v.replaceAll('-', '');
      // Buffer#write stops at the first non-hex character: check, or garbage would be sent.
      if (hex.length !== 32 || buf.write(hex, at + 4, 16, 'hex') !== 16) {
        throw new ValidationError(
          'RATSFACH_EVENT_STORE_PG_UUID_INVALID',
          `${JSON.stringify(v)} is not a UUID`,
          { hint: 'pass event ids as canonical UUID strings' },
        );
      }
      at += 20;
    }
  });
}

/** `bigint[]` of the given values. */
export function binaryInt8Array(values: readonly bigint[]): Buffer {
  return encode(oids.int8, values.length, values.length * 12, (buf, start) => {
    let at = start;
    for (const v of values) {
      buf.writeInt32BE(8, at);
      buf.writeBigInt64BE(v, at + 4);
      at += 12;
    }
  });
}

/** `int[]` of the given 32-bit integers. */
export function binaryInt4Array(values: readonly number[]): Buffer {
  return encode(oids.int4, values.length, values.length * 8, (buf, start) => {
    let at = start;
    for (const v of values) {
      buf.writeInt32BE(4, at);
      buf.writeInt32BE(v, at + 4);
      at += 8;
    }
  });
}
