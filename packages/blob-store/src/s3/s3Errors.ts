import { RatsfachError, UnavailableError, type RatsfachErrorOptions } from '@ratsfach/kernel';
import { BlobStoreUnavailableError } from '../errors.js';

/** Error codes only the S3 adapter throws (the common ones live in errors.ts). */
export const S3BlobErrorCode = {
  credentialsRefused: 'RATSFACH_BLOB_S3_CREDENTIALS_REFUSED',
} as const;
export type S3BlobErrorCode = (typeof S3BlobErrorCode)[keyof typeof S3BlobErrorCode];

/**
 * The S3 server refused the adapter's credentials (AccessDenied, SignatureDoesNotMatch,
 * InvalidAccessKeyId). It is an outage of the store for the API's callers, not their fault, so
 * it is an UnavailableError; the operator has to fix the configuration.
 */
export class S3CredentialsRefusedError extends UnavailableError {
  constructor(message: string, options: RatsfachErrorOptions = {}) {
    super(S3BlobErrorCode.credentialsRefused, message, {
      hint: "check the S3 access key and secret key of the blob store, and the bucket's policy",
      ...options,
    });
  }
}

/** The S3 error code (`NoSuchKey`, `AccessDenied`) or the socket error code of a failure. */
export const s3ErrorCode = (error: unknown): string | undefined => {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && code !== '' ? code : undefined;
};

const networkCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ENOTFOUND',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
]);
const transientS3Codes = new Set([
  'InternalError',
  'ServiceUnavailable',
  'SlowDown',
  'RequestTimeout',
  'RequestTimeTooSkewed',
]);
const credentialCodes = new Set([
  'AccessDenied',
  'SignatureDoesNotMatch',
  'InvalidAccessKeyId',
  'InvalidToken',
]);

const isNetworkError = (error: unknown): boolean => {
  const code = s3ErrorCode(error);
  if (code !== undefined && networkCodes.has(code)) return true;
  return error instanceof Error && /socket hang up|aborted/i.test(error.message);
};

/**
 * True for failures worth another attempt: the connection failed or timed out, or the server
 * answered 5xx (the minio client reports a 5xx without a body as "Retryable HTTP status").
 */
export const isTransientS3Error = (error: unknown): boolean => {
  if (error instanceof BlobStoreUnavailableError) return error.details['timeout'] === true;
  if (error instanceof RatsfachError) return false;
  if (isNetworkError(error)) return true;
  const code = s3ErrorCode(error);
  if (code !== undefined && transientS3Codes.has(code)) return true;
  return error instanceof Error && /Retryable HTTP status: 5\d\d/.test(error.message);
};

/**
 * Turns any failure of an S3 call into a RatsfachError; callers handle the codes they expect
 * (NoSuchKey, NoSuchUpload) before. Errors of ratsfach pass through unchanged.
 */
export function toBlobStoreError(error: unknown, endpoint: string, op: string): RatsfachError {
  if (error instanceof RatsfachError) return error;
  const code = s3ErrorCode(error);
  const details = { op, endpoint, s3Code: code ?? null };
  if (code !== undefined && credentialCodes.has(code)) {
    return new S3CredentialsRefusedError(`S3 at ${endpoint} refused the credentials (${code})`, {
      cause: error,
      details,
      hint: `check the access key and secret key configured for the S3 server at ${endpoint}, and the bucket's policy`,
    });
  }
  if (isNetworkError(error)) {
    return new BlobStoreUnavailableError(
      `S3 at ${endpoint} cannot be reached (${code ?? 'connection failed'})`,
      {
        cause: error,
        details,
        hint: `check that the S3 server at ${endpoint} is running and reachable; upload sessions can be resumed once it is back`,
      },
    );
  }
  if (code === 'NoSuchBucket') {
    return new BlobStoreUnavailableError(`the bucket is missing on ${endpoint}`, {
      cause: error,
      details,
      hint: 'the bucket was removed behind the service: restart it to create the bucket again',
    });
  }
  if (code !== undefined && /^(CERT_|ERR_TLS|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO_)/.test(code)) {
    return new BlobStoreUnavailableError(`TLS with ${endpoint} failed (${code})`, {
      cause: error,
      details,
      hint: 'check the TLS options (ca, servername) of the blob store against the server certificate',
    });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new BlobStoreUnavailableError(`S3 at ${endpoint} failed during ${op}: ${message}`, {
    cause: error,
    details,
  });
}
