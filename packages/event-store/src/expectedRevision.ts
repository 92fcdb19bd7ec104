/**
 * Expected-revision sentinels for `append`, in one place. A bigint means "the stream's last
 * event has exactly this revision" (revisions start at 0).
 */
export const NO_STREAM = 'no_stream' as const;
export const STREAM_EXISTS = 'stream_exists' as const;
export const ANY = 'any' as const;

export type ExpectedRevision = typeof NO_STREAM | typeof STREAM_EXISTS | typeof ANY | bigint;

export const describeExpected = (expected: ExpectedRevision): string =>
  typeof expected === 'bigint' ? `revision ${expected}` : expected;

/** True for the three sentinels and any bigint >= 0. */
export const isExpectedRevision = (value: unknown): value is ExpectedRevision =>
  value === NO_STREAM ||
  value === STREAM_EXISTS ||
  value === ANY ||
  (typeof value === 'bigint' && value >= 0n);

/**
 * Whether a stream whose last revision is `actual` (null: no stream) satisfies `expected`.
 * Every adapter decides with this one function, so the sentinels mean the same everywhere.
 */
export const satisfiesExpected = (expected: ExpectedRevision, actual: bigint | null): boolean => {
  if (expected === ANY) return true;
  if (expected === NO_STREAM) return actual === null;
  if (expected === STREAM_EXISTS) return actual !== null;
  return actual === expected;
};
