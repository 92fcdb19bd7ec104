import { Type } from 'typebox';
import type { Static, TSchema } from 'typebox';
import { base64urlDecode, base64urlEncode } from '@ratsfach/kernel';
import { hashLength } from '@ratsfach/kernel';
import { isIsoTime, maxRecordBytes } from '../validate.js';

/**
 * The field types commands and events are built from, as TypeBox schemas. Two spellings of
 * bytes exist: in memory a `Uint8Array` (what deciders, the serialiser and `parseCommand`
 * see), and in JSON bodies an unpadded base64url string (what the API receives); the
 * `*Json` schemas decode the latter into the former.
 */

/** An id of a tenant, user, device, committee or document: `[a-z0-9_]{1,64}`. */
export const IdSchema = Type.String({ pattern: '^[a-z0-9_]{1,64}$' });

/** A safe integer (JSON numbers beyond 2^53 lose precision, so the log holds none). */
export const IntSchema = Type.Integer({
  minimum: Number.MIN_SAFE_INTEGER,
  maximum: Number.MAX_SAFE_INTEGER,
});

/** An ISO 8601 UTC time as deciders accept it: `YYYY-MM-DDTHH:MM:SS[.fff]Z`, a real date. */
export const IsoTimeSchema = Type.Refine(
  Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?Z$' }),
  isIsoTime,
  () => 'expected an ISO 8601 UTC time',
);

/** A key fingerprint: 64 lowercase hex digits. */
export const FingerprintSchema = Type.String({ pattern: '^[0-9a-f]{64}$' });

/** Bytes in memory. */
export const BytesSchema = Type.Refine(
  Type.Unsafe<Uint8Array>({}),
  (value) => value instanceof Uint8Array,
  () => 'expected bytes',
);

/** A BLAKE2b-512 hash in memory. */
export const HashSchema = Type.Refine(
  Type.Unsafe<Uint8Array>({}),
  (value) => value instanceof Uint8Array && value.length === hashLength,
  () => `expected a ${hashLength}-byte hash`,
);

const base64urlText = (maxBytes: number) =>
  Type.String({
    pattern: '^[A-Za-z0-9_-]*$',
    maxLength: Math.ceil((maxBytes * 4) / 3),
    description: 'bytes as unpadded base64url (RFC 4648 §5), one spelling per byte string',
  });

/**
 * A signed record in a JSON body: base64url text that decodes to the exact bytes the device
 * signed (at most `maxRecordBytes`). Only the canonical spelling decodes; others are refused.
 */
export const RecordJsonSchema = Type.Codec(base64urlText(maxRecordBytes))
  .Decode((text: string): Uint8Array => base64urlDecode(text))
  .Encode((bytes: Uint8Array): string => base64urlEncode(bytes));

/** Deeply readonly plain data (bytes stay bytes): commands and events are never changed. */
export type Frozen<T> = T extends Uint8Array
  ? T
  : T extends readonly (infer U)[]
    ? readonly Frozen<U>[]
    : T extends object
      ? { readonly [K in keyof T]: Frozen<T[K]> }
      : T;

/** The data type a schema describes, deeply readonly. */
export type DataOf<S extends TSchema> = Frozen<Static<S>>;

/** Every key listed, no other allowed: what a command or event holds is exactly its schema. */
export const closed = { additionalProperties: false } as const;
