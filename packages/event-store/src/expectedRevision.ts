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
