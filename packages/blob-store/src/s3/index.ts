/**
 * `@ratsfach/blob-store/s3`: the blob store on any S3 API. Importing it loads the minio client;
 * the package root does not.
 */
export { S3BlobStore, openS3BlobStore, type S3BlobStoreOptions } from './s3BlobStore.js';
export { S3BlobErrorCode, S3CredentialsRefusedError } from './s3Errors.js';
export type { S3ConnectionOptions, S3TlsOptions } from './s3Client.js';
export type { S3RetryPolicy } from './s3Retry.js';
