import type { RecordFieldValue } from '@ratsfach/domain';

/**
 * The types a record field can have. Every type has exactly one encoding (FORMAT.md), so a
 * value has exactly one byte string and a byte string at most one value.
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

/** The decoded value of a field, as the domain sees it. */
export type FieldValue = RecordFieldValue;

export const t = {
  u8: { kind: 'u8' },
  u32: { kind: 'u32' },
  u64: { kind: 'u64' },
  bool: { kind: 'bool' },
  id: { kind: 'id' },
  fingerprint: { kind: 'fingerprint' },
  hash: { kind: 'bytes', length: 64 },
  bytes: (length: number): FieldType => ({ kind: 'bytes', length }),
  varbytes: (max: number): FieldType => ({ kind: 'varbytes', max }),
  text: (max: number): FieldType => ({ kind: 'text', max }),
  choice: (values: readonly string[]): FieldType => ({ kind: 'choice', values }),
  optional: (of: FieldType): FieldType => ({ kind: 'optional', of }),
  list: (of: FieldType, max: number): FieldType => ({ kind: 'list', of, max }),
  set: (of: FieldType, max: number): FieldType => ({ kind: 'list', of, max, set: true }),
  map: (of: FieldType, max: number): FieldType => ({ kind: 'map', of, max }),
  struct: (fields: Schema): FieldType => ({ kind: 'struct', fields }),
} as const satisfies Record<string, FieldType | ((...args: never[]) => FieldType)>;
