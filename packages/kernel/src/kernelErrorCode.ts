/**
 * Stable codes of the errors the kernel throws. Never change a value once released: services
 * and clients match on these, never on message text. The canonical-JSON codes keep the
 * `RATSFACH_DOMAIN_` prefix they were released under, before the kernel was split off.
 */
export const KernelErrorCode = {
  /** A value canonical JSON cannot carry (a float, a class instance, a `$` key, ...). */
  canonicalUnsupported: 'RATSFACH_DOMAIN_CANONICAL_UNSUPPORTED',
  /** Bytes that are not the one canonical JSON spelling of a value. */
  canonicalMalformed: 'RATSFACH_DOMAIN_CANONICAL_MALFORMED',
  /** A stream name of an unknown kind or with an id of the wrong shape. */
  streamNameInvalid: 'RATSFACH_STREAM_NAME_INVALID',
} as const;
export type KernelErrorCode = (typeof KernelErrorCode)[keyof typeof KernelErrorCode];
