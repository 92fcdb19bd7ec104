import t from 'tap';
import { BlobStoreUnavailableError } from '../errors.js';
import { withS3Retry } from './s3Retry.js';

const failure = (code: string, message = code) => Object.assign(new Error(message), { code });

const failingTimes = (n: number, error: unknown) => {
  let calls = 0;
  const call = () => {
    calls++;
    return calls <= n ? Promise.reject(error) : Promise.resolve('done');
  };
  return { call, calls: () => calls };
};

const fast = { attempts: 4, baseDelayMs: 1, maxDelayMs: 2 };

t.test('retries a dropped connection until it succeeds', async (t) => {
  const f = failingTimes(2, failure('ECONNRESET'));
  t.equal(await withS3Retry(fast, f.call), 'done');
  t.equal(f.calls(), 3, 'two failures, then success');
});

t.test('retries 5xx answers, with or without an error body', async (t) => {
  for (const error of [
    failure('InternalError'),
    failure('SlowDown'),
    new Error('Request failed after 0 retries: Error: Retryable HTTP status: 503'),
  ]) {
    const f = failingTimes(1, error);
    t.equal(await withS3Retry(fast, f.call), 'done', error.message);
    t.equal(f.calls(), 2);
  }
});

t.test('retries a request timeout of the adapter', async (t) => {
  const timeout = new BlobStoreUnavailableError('no answer', { details: { timeout: true } });
  const f = failingTimes(1, timeout);
  t.equal(await withS3Retry(fast, f.call), 'done');
  t.equal(f.calls(), 2);
});

t.test('gives up after the bounded number of attempts with the last error', async (t) => {
  const error = failure('ECONNREFUSED');
  const f = failingTimes(10, error);
  await t.rejects(withS3Retry(fast, f.call), error);
  t.equal(f.calls(), 4, 'four attempts in all');
});

t.test('does not retry answers that will not change', async (t) => {
  for (const code of ['NoSuchKey', 'AccessDenied', 'SignatureDoesNotMatch', 'PreconditionFailed']) {
    const error = failure(code);
    const f = failingTimes(1, error);
    await t.rejects(withS3Retry(fast, f.call), error, code);
    t.equal(f.calls(), 1, `${code}: one attempt`);
  }
});

t.test('waits longer after each failure', async (t) => {
  const f = failingTimes(3, failure('ETIMEDOUT'));
  const started = Date.now();
  await withS3Retry({ attempts: 4, baseDelayMs: 40, maxDelayMs: 1000 }, f.call);
  // Delays of at least 20, 40 and 80 ms (half of each backoff step is jitter).
  t.ok(Date.now() - started >= 130, 'the backoff doubles');
});
