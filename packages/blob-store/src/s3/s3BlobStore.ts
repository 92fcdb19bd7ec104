import type { IncomingMessage } from 'node:http';
import { PassThrough, Readable } from 'node:stream';
import { isValidId } from '@ratsfach/kernel';
import {
  assertBlobRef,
  assertKind,
  assertTenant,
  blobObjectKey,
  isBlobHash,
  type BlobKind,
  type BlobRef,
} from '../blobRef.js';
import type {
  BlobBody,
  BlobContent,
  BlobInfo,
  BlobStore,
  BlobStoreCapabilities,
  ByteRange,
  CreateSessionInput,
  ListSessionsOptions,
  PartInfo,
  PresignedGet,
  PutInput,
  UploadSession,
} from '../blobStore.js';
import {
  BlobNotFoundError,
  BlobOptionInvalidError,
  BlobStoreUnavailableError,
  BlobVersionedBucketError,
} from '../errors.js';
import { BLOB_PART_SIZE, MAX_PART_SIZE } from '../partHash.js';
import { checkPresignTtl, checkSessionInput, resolveRange } from '../uploadRules.js';
import { missing, S3Bucket } from './s3Bucket.js';
import { connectS3, type S3Connection, type S3ConnectionOptions } from './s3Client.js';
import { s3ErrorCode, toBlobStoreError } from './s3Errors.js';
import { putLarge, putSmall } from './s3Put.js';
import { S3GcShelf } from './s3GcShelf.js';
import type { GcRecordShelf } from '../blobGcLedger.js';
import type { S3RetryPolicy } from './s3Retry.js';
import { completionPattern, S3UploadSessions, SESSIONS } from './s3UploadSessions.js';

/** S3's smallest part of a multipart upload (all parts but the last). */
const S3_MIN_PART_SIZE = 5 * 1024 * 1024;
const S3_DEFAULT_MAX_PART_SIZE = 64 * 1024 * 1024;

/** Options of the S3 adapter: where the S3 API is, which bucket, and how hard to try. */
export interface S3BlobStoreOptions extends S3ConnectionOptions {
  /** The bucket holding every tenant's objects; created at start when missing. */
  readonly bucket: string;
  /**
   * Default part size of uploads and of the blob hash (default BLOB_PART_SIZE, 8 MiB). At least
   * 5 MiB, S3's smallest multipart part.
   */
  readonly partSize?: number;
  /**
   * Largest part size a session may name (default 64 MiB): a part is held in memory while it
   * is hashed and signed, so this bounds the memory of one `putPart`.
   */
  readonly maxPartSize?: number;
  /** Retries of failed calls (connection errors, timeouts, 5xx). */
  readonly retry?: S3RetryPolicy;
  /** Parts of one large `put` sent at once (default 3); memory is about (n + 1) parts. */
  readonly putConcurrency?: number;
}

/**
 * Blob store on any S3 API (Ceph RADOS Gateway, MinIO, AWS S3) through the minio client.
 *
 * Objects live at `<tenant>/<kind>/<aa>/<bb>/<hash>` in one bucket. Upload sessions are
 * multipart uploads plus state under `.sessions/` (s3UploadSessions.ts); one-shot puts are in
 * s3Put.ts; this class holds the reads, deletes and listings. Single-request writes use
 * `If-None-Match: *`, so an existing object is never replaced. Buckets with versioning are
 * refused, so a delete really removes an object (key slots are deleted to erase documents).
 *
 * Open it with `openS3BlobStore`.
 */
export class S3BlobStore implements BlobStore {
  readonly partSize: number;
  readonly capabilities: BlobStoreCapabilities = { presignGet: true };
  readonly bucket: string;
  readonly #conn: S3Connection;
  readonly #bucket: S3Bucket;
  readonly gcShelf: GcRecordShelf;
  readonly #sessions: S3UploadSessions;
  readonly #putConcurrency: number;

  private constructor(
    conn: S3Connection,
    options: S3BlobStoreOptions,
    partSize: number,
    maxPartSize: number,
  ) {
    this.#conn = conn;
    this.bucket = options.bucket;
    this.partSize = partSize;
    this.#bucket = new S3Bucket(conn, options.bucket, options.retry ?? {});
    this.gcShelf = new S3GcShelf(this.#bucket);
    this.#sessions = new S3UploadSessions(this.#bucket, partSize, {
      min: S3_MIN_PART_SIZE,
      max: maxPartSize,
    });
    this.#putConcurrency = Math.max(1, options.putConcurrency ?? 3);
  }

  /** Connects, creates the bucket when missing and refuses a versioned one. */
  static async open(options: S3BlobStoreOptions): Promise<S3BlobStore> {
    const partSize = options.partSize ?? BLOB_PART_SIZE;
    const max = options.maxPartSize ?? S3_DEFAULT_MAX_PART_SIZE;
    if (
      !Number.isSafeInteger(partSize) ||
      !Number.isSafeInteger(max) ||
      partSize < S3_MIN_PART_SIZE ||
      partSize > max ||
      max > MAX_PART_SIZE
    ) {
      throw new BlobOptionInvalidError(
        `S3 part size ${String(partSize)} (at most ${String(max)}) is outside 5 MiB (S3's multipart minimum) to 1 GiB`,
        { details: { partSize, maxPartSize: max } },
      );
    }
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(options.bucket)) {
      throw new BlobOptionInvalidError(
        `S3 bucket name ${JSON.stringify(options.bucket)} is invalid`,
        {
          hint: 'use 3 to 63 characters of lower-case letters, digits, dots and hyphens',
          details: { bucket: options.bucket },
        },
      );
    }
    const conn = connectS3(options);
    const store = new S3BlobStore(conn, options, partSize, max);
    try {
      await store.#prepareBucket();
      return store;
    } catch (error) {
      conn.close();
      throw error;
    }
  }

  async #prepareBucket(): Promise<void> {
    const b = this.#bucket;
    const bucket = this.bucket;
    const exists = await b.call('open', () => b.client.bucketExists(bucket));
    if (!exists) {
      try {
        await b.call('open', () => b.client.makeBucket(bucket), ['BucketAlreadyOwnedByYou']);
      } catch (error) {
        if (s3ErrorCode(error) !== 'BucketAlreadyOwnedByYou') throw error;
      }
    }
    const versioning: unknown = await b.call('open', () => b.client.getBucketVersioning(bucket));
    const status =
      typeof versioning === 'object' && versioning !== null
        ? (versioning as { Status?: unknown }).Status
        : undefined;
    if (status === 'Enabled' || status === 'Suspended') {
      throw new BlobVersionedBucketError(
        `bucket ${bucket} on ${this.#conn.endpoint} has versioning ${status}: a delete would keep old versions, so an erased key slot could be restored`,
        {
          hint: `use a bucket that never had versioning (suspending it keeps the old versions): configure a new bucket instead of ${bucket}`,
          details: { bucket, versioning: status },
        },
      );
    }
  }

  // ---- sessions (s3UploadSessions.ts)

  createSession(input: CreateSessionInput): Promise<UploadSession> {
    return this.#sessions.createSession(input);
  }

  getSession(tenant: string, sessionId: string): Promise<UploadSession> {
    return this.#sessions.getSession(tenant, sessionId);
  }

  putPart(
    tenant: string,
    sessionId: string,
    index: number,
    body: BlobBody,
    expectedHash?: string,
  ): Promise<PartInfo> {
    return this.#sessions.putPart(tenant, sessionId, index, body, expectedHash);
  }

  listParts(tenant: string, sessionId: string): Promise<PartInfo[]> {
    return this.#sessions.listParts(tenant, sessionId);
  }

  completeSession(tenant: string, sessionId: string): Promise<BlobInfo> {
    return this.#sessions.completeSession(tenant, sessionId);
  }

  abortSession(tenant: string, sessionId: string): Promise<void> {
    return this.#sessions.abortSession(tenant, sessionId);
  }

  listSessions(tenant: string, options?: ListSessionsOptions): AsyncIterable<UploadSession> {
    return this.#sessions.listSessions(tenant, options);
  }

  /**
   * Aborts the multipart uploads that no open session names and that started before
   * `olderThan`: what a crash between starting an upload and recording its session, or an abort
   * that failed during an outage, leaves behind (S3 keeps their parts until then). A one-shot
   * `put` has no session while it runs, so `olderThan` must lie well before the longest `put`
   * could have started (a day ago, say). Also removes completion records older than
   * `olderThan`. Not part of BlobStore: the S3 side of collecting abandoned sessions, for the
   * garbage collector to call. Returns how many uploads it aborted.
   */
  async sweepOrphanUploads(olderThan: Date): Promise<number> {
    const b = this.#bucket;
    const named = new Set<string>();
    for await (const tenant of this.listTenants()) {
      for (const id of await this.#sessions.uploadIdsOf(tenant)) named.add(id);
    }
    let aborted = 0;
    let keyMarker = '';
    let uploadIdMarker = '';
    for (;;) {
      const page = await b.call('sweepOrphanUploads', () =>
        b.client.listIncompleteUploadsQuery(b.name, '', keyMarker, uploadIdMarker, ''),
      );
      for (const u of page.uploads) {
        if (named.has(u.uploadId) || !(u.initiated < olderThan)) continue;
        await b.abortUpload(u.key, u.uploadId);
        aborted++;
      }
      if (!page.isTruncated) break;
      keyMarker = page.nextKeyMarker;
      uploadIdMarker = page.nextUploadIdMarker;
    }
    // Completion records (what a repeated complete answers from) older than the cut-off.
    const old: string[] = [];
    for await (const k of b.keys(`${SESSIONS}/`)) {
      if (completionPattern.test(k.name) && k.lastModified < olderThan) old.push(k.name);
    }
    await b.removeKeys(old, 'sweepOrphanUploads');
    return aborted;
  }

  // ---- whole objects (s3Put.ts)

  async put(input: PutInput, body: BlobBody): Promise<BlobInfo> {
    // The hash's part size is free here: uploads are cut into parts of the store's own size.
    const hashPartSize = checkSessionInput(input, this.partSize);
    return input.size <= this.partSize
      ? putSmall(this.#bucket, input, hashPartSize, body)
      : putLarge(this.#bucket, this.partSize, this.#putConcurrency, input, hashPartSize, body);
  }

  // ---- reading, deleting, listing

  async get(ref: BlobRef, range?: ByteRange): Promise<BlobContent> {
    const b = this.#bucket;
    assertBlobRef(ref);
    // Shape checks now; the fit against the size once the server told it.
    if (range !== undefined) resolveRange(Number.MAX_SAFE_INTEGER, range);
    const key = blobObjectKey(ref);
    const whole = range === undefined || (range.offset === 0 && range.length === undefined);
    if (range !== undefined && range.length === 0) return this.#getViaStat(ref, range);
    const res = await b.callOrMissing('get', ['NoSuchKey', 'NotFound', 'InvalidRange'], () =>
      whole
        ? b.client.getObject(b.name, key)
        : b.client.getPartialObject(b.name, key, range.offset, range.length),
    );
    if (res === missing) return this.#getViaStat(ref, range);
    const headers = (res as IncomingMessage).headers;
    const size = whole
      ? Number(headers['content-length'])
      : Number(/\/(\d+)$/.exec(headers['content-range'] ?? '')?.[1]);
    try {
      if (!Number.isSafeInteger(size)) {
        throw new BlobStoreUnavailableError('S3 answered a GET without the object size', {
          details: { contentRange: headers['content-range'] ?? null },
        });
      }
      const { offset, length } = resolveRange(size, range);
      return { body: relay(res, this.#conn.endpoint), size, offset, length };
    } catch (error) {
      res.destroy();
      throw error;
    }
  }

  /** Ranges S3 cannot express (empty ones) or refused: decide them from the object's size. */
  async #getViaStat(ref: BlobRef, range: ByteRange | undefined): Promise<BlobContent> {
    const stat = await this.#bucket.stat(blobObjectKey(ref), 'get');
    if (!stat) throw notFound(ref);
    const { offset, length } = resolveRange(stat.size, range);
    if (length > 0) return this.get(ref, { offset, length });
    return { body: Readable.from([]), size: stat.size, offset, length };
  }

  async head(ref: BlobRef): Promise<BlobInfo | null> {
    assertBlobRef(ref);
    const stat = await this.#bucket.stat(blobObjectKey(ref), 'head');
    return stat ? this.#bucket.info(ref, stat) : null;
  }

  async delete(ref: BlobRef): Promise<boolean> {
    const b = this.#bucket;
    assertBlobRef(ref);
    const key = blobObjectKey(ref);
    if (!(await b.stat(key, 'delete'))) return false;
    await b.call('delete', () => b.client.removeObject(b.name, key));
    return true;
  }

  async *list(tenant: string, kind: BlobKind): AsyncIterable<BlobInfo> {
    assertTenant(tenant);
    assertKind(kind);
    for await (const k of this.#bucket.keys(`${tenant}/${kind}/`)) {
      const hash = k.name.slice(k.name.lastIndexOf('/') + 1);
      if (!isBlobHash(hash)) continue;
      const ref = { tenant, kind, hash };
      if (blobObjectKey(ref) !== k.name) continue;
      yield { ...ref, size: k.size, createdAt: k.lastModified };
    }
  }

  async *listTenants(): AsyncIterable<string> {
    const seen = new Set<string>();
    for (const prefix of ['', `${SESSIONS}/`]) {
      for await (const name of this.#bucket.folders(prefix)) {
        if (isValidId(name) && !seen.has(name)) {
          seen.add(name);
          yield name;
        }
      }
    }
  }

  async presignGet(ref: BlobRef, ttlSeconds: number): Promise<PresignedGet | null> {
    const b = this.#bucket;
    assertBlobRef(ref);
    checkPresignTtl(ttlSeconds);
    const key = blobObjectKey(ref);
    if (!(await b.stat(key, 'presignGet'))) throw notFound(ref);
    // Signed for whole seconds from now; the URL carries the same date.
    const signedAt = new Date(Math.floor(Date.now() / 1000) * 1000);
    const url = await b.call('presignGet', () =>
      b.client.presignedGetObject(b.name, key, ttlSeconds, {}, signedAt),
    );
    return { url, expiresAt: new Date(signedAt.getTime() + ttlSeconds * 1000) };
  }

  async close(): Promise<void> {
    this.#conn.close();
    return Promise.resolve();
  }
}

/** Opens the S3 blob store: connects, creates the bucket when missing, refuses versioning. */
export const openS3BlobStore = (options: S3BlobStoreOptions): Promise<S3BlobStore> =>
  S3BlobStore.open(options);

const notFound = (ref: BlobRef) =>
  new BlobNotFoundError('no such object', { details: { tenant: ref.tenant, kind: ref.kind } });

/** Passes a response body on, turning a broken connection into BlobStoreUnavailableError. */
function relay(res: Readable, endpoint: string): Readable {
  const out = new PassThrough();
  res.on('error', (error) => out.destroy(toBlobStoreError(error, endpoint, 'get')));
  out.on('close', () => {
    if (!res.readableEnded) res.destroy();
  });
  res.pipe(out);
  return out;
}
