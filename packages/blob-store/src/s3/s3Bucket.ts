import { CopyDestinationOptions, CopySourceOptions } from 'minio';
import type { BlobRef } from '../blobRef.js';
import type { BlobInfo } from '../blobStore.js';
import type { S3Client, S3Connection } from './s3Client.js';
import { s3ErrorCode, toBlobStoreError } from './s3Errors.js';
import { withS3Retry, type S3RetryPolicy } from './s3Retry.js';

/** What `callOrMissing` yields when the server answered with one of the expected "absent" codes. */
export const missing = Symbol('missing');
export const notFoundCodes = ['NoSuchKey', 'NotFound'] as const;
/** A multipart upload that was completed or aborted (radosgw answers ListParts with NoSuchKey). */
export const uploadGoneCodes: readonly string[] = ['NoSuchUpload', 'NoSuchKey'];
/**
 * User metadata a re-store writes (ms since the epoch): a copy onto itself must change
 * something on every S3 implementation. Informational; ages come from Last-Modified.
 */
const storedAgainMeta = 'ratsfach-stored-again';

/** A key listed under a prefix, with its size and the server's Last-Modified. */
export interface S3Key {
  readonly name: string;
  readonly size: number;
  readonly lastModified: Date;
}

export const refOf = (r: BlobRef): BlobRef => ({ tenant: r.tenant, kind: r.kind, hash: r.hash });

/**
 * One bucket seen through the minio client: every call retried by the policy and its failures
 * mapped to RatsfachErrors, listings paged, and the few compound operations (touch, abort,
 * batch delete) the store, its upload sessions and its puts share.
 */
export class S3Bucket {
  readonly name: string;
  readonly client: S3Client;
  readonly endpoint: string;
  readonly #retry: S3RetryPolicy;

  constructor(conn: S3Connection, name: string, retry: S3RetryPolicy) {
    this.client = conn.client;
    this.endpoint = conn.endpoint;
    this.name = name;
    this.#retry = retry;
  }

  /** Runs one S3 call with retries; failures become RatsfachErrors unless their code is expected. */
  async call<T>(op: string, call: () => Promise<T>, expected: readonly string[] = []): Promise<T> {
    try {
      return await withS3Retry(this.#retry, call);
    } catch (error) {
      const code = s3ErrorCode(error);
      if (code !== undefined && expected.includes(code)) throw error;
      throw toBlobStoreError(error, this.endpoint, op);
    }
  }

  /** Like `call`, but an error with one of `codes` yields `missing`. */
  async callOrMissing<T>(
    op: string,
    codes: readonly string[],
    call: () => Promise<T>,
  ): Promise<T | typeof missing> {
    try {
      return await this.call(op, call, codes);
    } catch (error) {
      const code = s3ErrorCode(error);
      if (code !== undefined && codes.includes(code)) return missing;
      throw error;
    }
  }

  async stat(key: string, op: string) {
    const stat = await this.callOrMissing(op, notFoundCodes, () =>
      this.client.statObject(this.name, key),
    );
    return stat === missing ? null : stat;
  }

  /**
   * Ages come from the server's clock only (Last-Modified), so that `head` and `list` agree
   * with each other whatever the API machines' clocks say: the garbage collector compares them.
   */
  info(ref: BlobRef, stat: { size: number; lastModified: Date }): BlobInfo {
    return { ...refOf(ref), size: stat.size, createdAt: stat.lastModified };
  }

  async #listPage(prefix: string, delimiter: string, token: string) {
    return this.call('list', () =>
      this.client.listObjectsV2Query(this.name, prefix, token, delimiter, 1000, ''),
    );
  }

  /** Every key (with size and age) under `prefix`, page by page, each page retried alone. */
  async *keys(prefix: string): AsyncGenerator<S3Key> {
    let token = '';
    for (;;) {
      const page = await this.#listPage(prefix, '', token);
      for (const o of page.objects) {
        if ('name' in o && typeof o.name === 'string') {
          yield { name: o.name, size: o.size, lastModified: o.lastModified };
        }
      }
      if (!page.isTruncated || !page.nextContinuationToken) return;
      token = page.nextContinuationToken;
    }
  }

  /** The next level of "folders" under `prefix`, without it and the trailing slash. */
  async *folders(prefix: string): AsyncGenerator<string> {
    let token = '';
    for (;;) {
      const page = await this.#listPage(prefix, '/', token);
      for (const o of page.objects) {
        const p = (o as { prefix?: unknown }).prefix;
        if (typeof p === 'string') yield p.slice(prefix.length, -1);
      }
      if (!page.isTruncated || !page.nextContinuationToken) return;
      token = page.nextContinuationToken;
    }
  }

  /** Deletes keys in batches; a key the server could not delete fails the call. */
  async removeKeys(keys: string[], op: string): Promise<void> {
    if (keys.length === 0) return;
    const results = await this.call(op, () => this.client.removeObjects(this.name, keys));
    const failed = results.flat().find((r) => r?.Error && r.Error.Code !== 'NoSuchKey');
    if (failed?.Error) {
      throw toBlobStoreError(
        Object.assign(new Error(failed.Error.Message ?? 'delete failed'), {
          code: failed.Error.Code,
        }),
        this.endpoint,
        op,
      );
    }
  }

  /** Aborts a multipart upload; one already gone is fine. */
  async abortUpload(key: string, uploadId: string): Promise<void> {
    await this.callOrMissing('abortSession', uploadGoneCodes, () =>
      this.client.abortMultipartUpload(this.name, key, uploadId),
    );
  }

  /**
   * Restarts an existing object's age without touching its bytes (a copy onto itself with new
   * metadata), so the garbage collector spares it until the record about to name it is
   * committed. Returns null when the object vanished meanwhile.
   */
  async touch(ref: BlobRef, key: string, size: number, op: string): Promise<BlobInfo | null> {
    const copied = await this.callOrMissing(op, notFoundCodes, () =>
      this.client.copyObject(
        new CopySourceOptions({ Bucket: this.name, Object: key }),
        new CopyDestinationOptions({
          Bucket: this.name,
          Object: key,
          MetadataDirective: 'REPLACE',
          UserMetadata: { [storedAgainMeta]: String(Date.now()) },
          Headers: { 'Content-Type': 'application/octet-stream' },
        }),
      ),
    );
    if (copied === missing) return null;
    const lastModified = (copied as { LastModified?: unknown }).LastModified;
    const createdAt = lastModified instanceof Date ? lastModified : new Date();
    return { ...refOf(ref), size, createdAt };
  }
}

/** Reads a whole (small) response body into one buffer. */
export async function readAll(body: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks);
}
