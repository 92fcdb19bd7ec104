import type { FieldValueOf, SchemaValue } from './fieldType.js';
import type { Purpose } from './recordPurpose.js';
import type { recordSchemas, seenHeadType, wrappedKeySchema } from './recordSchemas.js';

/**
 * The decoded body of every purpose, derived from `recordSchemas` (never written out a second
 * time): a field added, removed or retyped there changes this type, so the codec, the devices
 * and the server's record views cannot read one record differently. Fingerprints are 64
 * lowercase hex digits; times are Unix seconds; hashes are 64 bytes; an optional field is null
 * when absent.
 */
export type RecordBodies = { readonly [P in Purpose]: SchemaValue<(typeof recordSchemas)[P]> };

/** The decoded body of a record of `purpose`. */
export type RecordBody<P extends Purpose> = RecordBodies[P];

/** One epoch key wrapped for one device, as key records carry it. */
export type WrappedKey = SchemaValue<typeof wrappedKeySchema>;

/** A chain head a device reports having seen: stream name, chain length, head hash. */
export type SeenHead = FieldValueOf<typeof seenHeadType>;
