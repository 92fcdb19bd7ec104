import { hashLength } from '../chainHead.js';

/** A value inside a record's own fields, as the codec decodes it. */
export type RecordFieldValue =
  | string
  | number
  | bigint
  | boolean
  | null
  | Uint8Array
  | readonly RecordFieldValue[]
  | { readonly [key: string]: RecordFieldValue };

/**
 * The types a record field can have. Every type has exactly one encoding (crypto's FORMAT.md),
 * so a value has exactly one byte string and a byte string at most one value. The helpers in
 * `t` keep each type's literal parts (kinds, choices, field names), so `FieldValueOf` and
 * `SchemaValue` can derive the decoded TypeScript type from the very schema the codec encodes.
 */
export type FieldType =
  | { readonly kind: 'u8' }
  | { readonly kind: 'u32' }
  /** A u64 on the wire, at most 2^53 - 1 so it fits a JavaScript number. */
  | { readonly kind: 'u64' }
  | { readonly kind: 'bool' }
  | { readonly kind: 'bytes'; readonly length: number }
  | { readonly kind: 'varbytes'; readonly max: number }
  /** An id of [a-z0-9_]{1,64}, as stream names use. */
  | { readonly kind: 'id' }
  /** Printable UTF-8 text (a device name, a reason), at most `max` bytes. */
  | { readonly kind: 'text'; readonly max: number }
  /** A 32-byte key fingerprint, decoded to lowercase hex. */
  | { readonly kind: 'fingerprint' }
  | { readonly kind: 'choice'; readonly values: readonly string[] }
  | { readonly kind: 'optional'; readonly of: FieldType }
  /** A list; with `set`, items strictly ascend by their encoded bytes (sorted, no duplicates). */
  | { readonly kind: 'list'; readonly of: FieldType; readonly max: number; readonly set?: boolean }
  /** A map from ids to values, entries strictly ascending by key; decoded to a plain object. */
  | { readonly kind: 'map'; readonly of: FieldType; readonly max: number }
  | { readonly kind: 'struct'; readonly fields: Schema };

/** An ordered list of named fields: the order is the encoding order. */
export type Schema = readonly (readonly [name: string, type: FieldType])[];

/** The decoded TypeScript type of a value of field type `T`. */
export type FieldValueOf<T extends FieldType> = DecodedByKind<T>[T['kind']];

/** Per kind, what a value of field type `T` decodes to (an interface, so members stay lazy). */
interface DecodedByKind<T extends FieldType> {
  u8: number;
  u32: number;
  u64: number;
  bool: boolean;
  bytes: Uint8Array;
  varbytes: Uint8Array;
  id: string;
  text: string;
  fingerprint: string;
  choice: T extends { readonly values: infer V extends readonly string[] } ? V[number] : never;
  optional: T extends { readonly of: infer O extends FieldType } ? FieldValueOf<O> | null : never;
  list: T extends { readonly of: infer O extends FieldType } ? readonly FieldValueOf<O>[] : never;
  map: T extends { readonly of: infer O extends FieldType }
    ? Readonly<Record<string, FieldValueOf<O>>>
    : never;
  struct: T extends { readonly fields: infer F extends Schema } ? SchemaValue<F> : never;
}

/** The decoded object of schema `S`: one readonly property per field, typed by `FieldValueOf`. */
export type SchemaValue<S extends Schema> = {
  readonly [E in S[number] as E[0]]: FieldValueOf<E[1]>;
};

/** Builders of field types that keep their literal parts for `FieldValueOf`. */
export const t = {
  u8: { kind: 'u8' } as const,
  u32: { kind: 'u32' } as const,
  u64: { kind: 'u64' } as const,
  bool: { kind: 'bool' } as const,
  id: { kind: 'id' } as const,
  fingerprint: { kind: 'fingerprint' } as const,
  hash: { kind: 'bytes', length: hashLength } as const,
  bytes: (length: number): { readonly kind: 'bytes'; readonly length: number } => ({
    kind: 'bytes',
    length,
  }),
  varbytes: (max: number): { readonly kind: 'varbytes'; readonly max: number } => ({
    kind: 'varbytes',
    max,
  }),
  text: (max: number): { readonly kind: 'text'; readonly max: number } => ({ kind: 'text', max }),
  choice: <const V extends readonly string[]>(
    values: V,
  ): { readonly kind: 'choice'; readonly values: V } => ({ kind: 'choice', values }),
  optional: <const O extends FieldType>(of: O): { readonly kind: 'optional'; readonly of: O } => ({
    kind: 'optional',
    of,
  }),
  list: <const O extends FieldType>(
    of: O,
    max: number,
  ): { readonly kind: 'list'; readonly of: O; readonly max: number } => ({ kind: 'list', of, max }),
  set: <const O extends FieldType>(
    of: O,
    max: number,
  ): { readonly kind: 'list'; readonly of: O; readonly max: number; readonly set: true } => ({
    kind: 'list',
    of,
    max,
    set: true,
  }),
  map: <const O extends FieldType>(
    of: O,
    max: number,
  ): { readonly kind: 'map'; readonly of: O; readonly max: number } => ({ kind: 'map', of, max }),
  struct: <const F extends Schema>(fields: F): { readonly kind: 'struct'; readonly fields: F } => ({
    kind: 'struct',
    fields,
  }),
} as const;
