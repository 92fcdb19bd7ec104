import { isTransientS3Error } from './s3Errors.js';

/** How often and how patiently a failed S3 call is tried again. */
export interface S3RetryPolicy {
  /** Tries in all, the first included (default 4). */
  readonly attempts?: number;
  /** Delay before the first retry, doubled on each further one (default 100 ms). */
  readonly baseDelayMs?: number;
  /** Upper bound of one delay (default 2 s). */
  readonly maxDelayMs?: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs `call`, and again after an exponential backoff with jitter while it fails with a
 * transient error (connection, timeout, 5xx), at most `attempts` times. Other errors and the
 * last transient one are thrown as they are. Only idempotent calls are passed in: every S3 call
 * of the adapter is (uploads send the same bytes to the same key or part).
 */
export async function withS3Retry<T>(policy: S3RetryPolicy, call: () => Promise<T>): Promise<T> {
  const attempts = Math.max(1, policy.attempts ?? 4);
  const base = policy.baseDelayMs ?? 100;
  const max = policy.maxDelayMs ?? 2000;
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (attempt >= attempts || !isTransientS3Error(error)) throw error;
      const delay = Math.min(max, base * 2 ** (attempt - 1));
      await sleep(delay / 2 + Math.random() * (delay / 2));
    }
  }
}
