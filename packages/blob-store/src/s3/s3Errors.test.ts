import { NotFoundError } from '@ratsfach/kernel';
import t from 'tap';
import { BlobErrorCode, BlobNotFoundError, BlobStoreUnavailableError } from '../errors.js';
import { S3BlobErrorCode, S3CredentialsRefusedError, toBlobStoreError } from './s3Errors.js';

const endpoint = 'http://127.0.0.1:7480';
const failure = (code: string) => Object.assign(new Error(code), { code });

t.test('a refused connection is unavailable, with a hint naming the endpoint', async (t) => {
  const e = toBlobStoreError(failure('ECONNREFUSED'), endpoint, 'get');
  t.ok(e instanceof BlobStoreUnavailableError);
  t.equal(e.code, BlobErrorCode.unavailable);
  t.match(e.hint, endpoint);
  t.match(e.details, { op: 'get', endpoint, s3Code: 'ECONNREFUSED' });
});

t.test('refused credentials are a typed error with a hint about the keys', async (t) => {
  for (const code of ['AccessDenied', 'SignatureDoesNotMatch', 'InvalidAccessKeyId']) {
    const e = toBlobStoreError(failure(code), endpoint, 'put');
    t.ok(e instanceof S3CredentialsRefusedError, code);
    t.equal(e.code, S3BlobErrorCode.credentialsRefused);
    t.match(e.hint, /access key and secret key/);
  }
});

t.test('a missing bucket and TLS failures say what to check', async (t) => {
  const bucket = toBlobStoreError(failure('NoSuchBucket'), endpoint, 'put');
  t.ok(bucket instanceof BlobStoreUnavailableError);
  t.match(bucket.hint, /bucket/);
  const tls = toBlobStoreError(failure('UNABLE_TO_VERIFY_LEAF_SIGNATURE'), endpoint, 'put');
  t.ok(tls instanceof BlobStoreUnavailableError);
  t.match(tls.hint, /TLS/);
});

t.test('any other failure is unavailable and keeps the cause', async (t) => {
  const cause = new Error('Request failed after 0 retries: Error: Retryable HTTP status: 500');
  const e = toBlobStoreError(cause, endpoint, 'list');
  t.ok(e instanceof BlobStoreUnavailableError);
  t.equal(e.cause, cause);
});

t.test('errors of ratsfach pass through unchanged', async (t) => {
  const own = new BlobNotFoundError('no such object');
  t.equal(toBlobStoreError(own, endpoint, 'get'), own);
  t.ok(own instanceof NotFoundError);
});
