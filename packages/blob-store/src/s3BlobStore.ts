import { randomBytes } from 'node:crypto';
import { CopyDestinationOptions, CopySourceOptions } from 'minio';
import type { IncomingMessage } from 'node:http';
import { PassThrough, Readable } from 'node:stream';
import { isValidId } from '@ratsfach/domain';
import {
  assertBlobRef,
  assertKind,
  assertTenant,
  blobObjectKey,
  isBlobHash,
  type BlobKind,
  type BlobRef,
} from './blobRef.js';
import type {
  BlobBody,
  BlobContent,
  BlobInfo,
  BlobStore,
  BlobStoreCapabilities,
  ByteRange,
  CreateSessionInput,
  PartInfo,
  PresignedGet,
  PutInput,
  UploadSession,
} from './blobStore.js';
import {
  BlobNotFoundError,
  BlobOptionInvalidError,
  BlobSessionBusyError,
  BlobSessionNotFoundError,
  BlobStoreUnavailableError,
  BlobVersionedBucketError,
} from './errors.js';
import {
  BLOB_PART_SIZE,
  createObjectHasher,
  MAX_PART_SIZE,
  createPartHash,
  partCountFor,
  partLengthFor,
} from './partHash.js';
import {
  connectS3,
  type S3Client,
  type S3Connection,
  type S3ConnectionOptions,
} from './s3Client.js';
import { s3ErrorCode, toBlobStoreError } from './s3Errors.js';
import { withS3Retry, type S3RetryPolicy } from './s3Retry.js';

export { S3BlobErrorCode, S3CredentialsRefusedError } from './s3Errors.js';
export type { S3ConnectionOptions, S3TlsOptions } from './s3Client.js';
export type { S3RetryPolicy } from './s3Retry.js';
import {
  checkCompletion,
  checkExpectedPartHash,
  checkPartHash,
  checkPartIndex,
  checkPresignTtl,
  checkSessionInput,
  checkWholeHash,
  checkWholeSize,
  isSessionId,
  partTooLong,
  partTooShort,
  resolveRange,
  type PartSizeRange,
} from './uploadRules.js';

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

/** What the adapter keeps about an open session, in `.sessions/<tenant>/<id>/session.json`. */
interface SessionState {
  readonly v: 1;
  readonly tenant: string;
  readonly kind: BlobKind;
  readonly hash: string;
  readonly size: number;
  readonly partSize: number;
  readonly uploadId: string;
  readonly createdAt: string;
}

/** A part the server holds together with the hash the adapter computed when it arrived. */
interface StoredPart extends PartInfo {
  readonly etag: string;
}

const missing = Symbol('missing');
const notFoundCodes = ['NoSuchKey', 'NotFound'] as const;
/** A multipart upload that was completed or aborted (radosgw answers ListParts with NoSuchKey). */
const uploadGoneCodes: readonly string[] = ['NoSuchUpload', 'NoSuchKey'];
/**
 * User metadata a re-store writes (ms since the epoch): a copy onto itself must change
 * something on every S3 implementation. Informational; ages come from Last-Modified.
 */
const storedAgainMeta = 'ratsfach-stored-again';
const SESSIONS = '.sessions';

const sessionPrefix = (tenant: string, id: string) => `${SESSIONS}/${tenant}/${id}/`;
const sessionStateKey = (tenant: string, id: string) => `${sessionPrefix(tenant, id)}session.json`;
const partRecordPrefix = (tenant: string, id: string, index: number) =>
  `${sessionPrefix(tenant, id)}part-${String(index).padStart(5, '0')}-`;
/**
 * A part record is an empty object whose name says "the part whose server ETag is E hashes to
 * H". It stays true whatever happens later, so records are never updated: a replaced part has
 * another ETag and simply stops matching its old record.
 */
const partRecordKey = (tenant: string, id: string, index: number, etag: string, hash: string) =>
  `${partRecordPrefix(tenant, id, index)}${Buffer.from(etag).toString('hex')}-${hash}`;
const partRecordPattern = /\/part-(\d{5})-([0-9a-f]+)-([0-9a-f]{128})$/;

/**
 * Blob store on any S3 API (Ceph RADOS Gateway, MinIO, AWS S3) through the minio client.
 *
 * Objects live at `<tenant>/<kind>/<aa>/<bb>/<hash>` in one bucket. An upload session is an S3
 * multipart upload to the object's final key plus a small state object under `.sessions/`, so
 * any API process can resume it; each part is hashed as it arrives and its hash recorded next to
 * the state. Completion checks every part, the size and the blob hash before it asks S3 to
 * complete, so a failed check never makes anything visible. Single-request writes use
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
  readonly #client: S3Client;
  readonly #retry: S3RetryPolicy;
  readonly #putConcurrency: number;
  readonly #partRange: PartSizeRange;
  /** Session states are immutable once written: a cache saves one GET per part. */
  readonly #sessions = new Map<string, SessionState>();
  readonly #busy = new Set<string>();

  private constructor(
    conn: S3Connection,
    options: S3BlobStoreOptions,
    partSize: number,
    partRange: PartSizeRange,
  ) {
    this.#conn = conn;
    this.#client = conn.client;
    this.bucket = options.bucket;
    this.partSize = partSize;
    this.#retry = options.retry ?? {};
    this.#putConcurrency = Math.max(1, options.putConcurrency ?? 3);
    this.#partRange = partRange;
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
    const store = new S3BlobStore(conn, options, partSize, { min: S3_MIN_PART_SIZE, max });
    try {
      await store.#prepareBucket();
      return store;
    } catch (error) {
      conn.close();
      throw error;
    }
  }

  async #prepareBucket(): Promise<void> {
    const bucket = this.bucket;
    const exists = await this.#call('open', () => this.#client.bucketExists(bucket));
    if (!exists) {
      try {
        await this.#call('open', () => this.#client.makeBucket(bucket), [
          'BucketAlreadyOwnedByYou',
        ]);
      } catch (error) {
        if (s3ErrorCode(error) !== 'BucketAlreadyOwnedByYou') throw error;
      }
    }
    const versioning: unknown = await this.#call('open', () =>
      this.#client.getBucketVersioning(bucket),
    );
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

  /** Runs one S3 call with retries; failures become RatsfachErrors unless their code is expected. */
  async #call<T>(op: string, call: () => Promise<T>, expected: readonly string[] = []): Promise<T> {
    try {
      return await withS3Retry(this.#retry, call);
    } catch (error) {
      const code = s3ErrorCode(error);
      if (code !== undefined && expected.includes(code)) throw error;
      throw toBlobStoreError(error, this.#conn.endpoint, op);
    }
  }

  /** Like #call, but an error with one of `codes` yields `missing`. */
  async #callOrMissing<T>(
    op: string,
    codes: readonly string[],
    call: () => Promise<T>,
  ): Promise<T | typeof missing> {
    try {
      return await this.#call(op, call, codes);
    } catch (error) {
      const code = s3ErrorCode(error);
      if (code !== undefined && codes.includes(code)) return missing;
      throw error;
    }
  }

  async #stat(key: string, op: string) {
    const stat = await this.#callOrMissing(op, notFoundCodes, () =>
      this.#client.statObject(this.bucket, key),
    );
    return stat === missing ? null : stat;
  }

  /**
   * Ages come from the server's clock only (Last-Modified), so that `head` and `list` agree
   * with each other whatever the API machines' clocks say: the garbage collector compares them.
   */
  #info(ref: BlobRef, stat: { size: number; lastModified: Date }): BlobInfo {
    return { ...refOf(ref), size: stat.size, createdAt: stat.lastModified };
  }

  async #listPage(prefix: string, delimiter: string, token: string) {
    return this.#call('list', () =>
      this.#client.listObjectsV2Query(this.bucket, prefix, token, delimiter, 1000, ''),
    );
  }

  /** Every key (with size and age) under `prefix`, page by page, each page retried alone. */
  async *#keys(prefix: string): AsyncGenerator<{ name: string; size: number; lastModified: Date }> {
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
  async *#folders(prefix: string): AsyncGenerator<string> {
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
  async #removeKeys(keys: string[], op: string): Promise<void> {
    if (keys.length === 0) return;
    const results = await this.#call(op, () => this.#client.removeObjects(this.bucket, keys));
    const failed = results.flat().find((r) => r?.Error && r.Error.Code !== 'NoSuchKey');
    if (failed?.Error) {
      throw toBlobStoreError(
        Object.assign(new Error(failed.Error.Message ?? 'delete failed'), {
          code: failed.Error.Code,
        }),
        this.#conn.endpoint,
        op,
      );
    }
  }

  // ---- sessions

  async createSession(input: CreateSessionInput): Promise<UploadSession> {
    const partSize = checkSessionInput(input, this.partSize, this.#partRange);
    const id = randomBytes(16).toString('hex');
    const key = blobObjectKey(input);
    const uploadId = await this.#call('createSession', () =>
      this.#client.initiateNewMultipartUpload(this.bucket, key, {
        'Content-Type': 'application/octet-stream',
      }),
    );
    const state: SessionState = {
      v: 1,
      tenant: input.tenant,
      kind: input.kind,
      hash: input.hash,
      size: input.size,
      partSize,
      uploadId,
      createdAt: new Date().toISOString(),
    };
    try {
      await this.#call('createSession', () =>
        this.#client.putObject(
          this.bucket,
          sessionStateKey(input.tenant, id),
          Buffer.from(JSON.stringify(state)),
          undefined,
          { 'Content-Type': 'application/json' },
        ),
      );
    } catch (error) {
      await this.#abortUpload(key, uploadId).catch(() => undefined);
      throw error;
    }
    this.#sessions.set(`${input.tenant}/${id}`, state);
    return toSession(state, id, new Date(state.createdAt));
  }

  async #loadSession(tenant: string, id: string): Promise<SessionState> {
    assertTenant(tenant);
    if (!isSessionId(id)) {
      throw new BlobSessionNotFoundError('no such upload session', { details: { tenant } });
    }
    const cached = this.#sessions.get(`${tenant}/${id}`);
    if (cached) return cached;
    const body = await this.#callOrMissing('getSession', notFoundCodes, async () =>
      readAll(await this.#client.getObject(this.bucket, sessionStateKey(tenant, id))),
    );
    if (body === missing) {
      throw new BlobSessionNotFoundError(`upload session ${id} does not exist`, {
        details: { tenant, sessionId: id },
      });
    }
    const state = parseSessionState(body, tenant);
    if (this.#sessions.size >= 10_000) this.#sessions.clear();
    this.#sessions.set(`${tenant}/${id}`, state);
    return state;
  }

  async getSession(tenant: string, sessionId: string): Promise<UploadSession> {
    const state = await this.#loadSession(tenant, sessionId);
    let updatedAt = new Date(state.createdAt);
    for await (const k of this.#keys(sessionPrefix(tenant, sessionId))) {
      if (k.lastModified > updatedAt) updatedAt = k.lastModified;
    }
    return toSession(state, sessionId, updatedAt);
  }

  async putPart(
    tenant: string,
    sessionId: string,
    index: number,
    body: BlobBody,
    expectedHash?: string,
  ): Promise<PartInfo> {
    checkExpectedPartHash(expectedHash);
    const state = await this.#loadSession(tenant, sessionId);
    const length = checkPartIndex(state, index);
    const lock = `${tenant}/${sessionId}/${String(index)}`;
    if (this.#busy.has(lock)) {
      throw new BlobSessionBusyError(`part ${String(index)} is being written by another call`, {
        details: { sessionId, index },
      });
    }
    this.#busy.add(lock);
    try {
      const { bytes, hash } = await readPart(body, length, index);
      checkPartHash(index, hash, expectedHash);
      const key = blobObjectKey(state);
      const uploaded = await this.#callOrMissing('putPart', uploadGoneCodes, () =>
        this.#client.uploadPart(
          {
            bucketName: this.bucket,
            objectName: key,
            uploadID: state.uploadId,
            partNumber: index + 1,
            headers: {},
          },
          bytes,
        ),
      );
      if (uploaded === missing) throw this.#sessionGone(tenant, sessionId);
      await this.#call('putPart', () =>
        this.#client.putObject(
          this.bucket,
          partRecordKey(tenant, sessionId, index, uploaded.etag, hash),
          Buffer.alloc(0),
          0,
        ),
      );
      return { index, size: length, hash };
    } catch (error) {
      // "Putting a part again replaces it" and a failed put leaves it absent: forget what the
      // index held, so an older part cannot stand in for the refused one.
      await this.#forgetPart(tenant, sessionId, index).catch(() => undefined);
      throw error;
    } finally {
      this.#busy.delete(lock);
    }
  }

  async #forgetPart(tenant: string, sessionId: string, index: number): Promise<void> {
    const keys: string[] = [];
    for await (const k of this.#keys(partRecordPrefix(tenant, sessionId, index))) keys.push(k.name);
    await this.#removeKeys(keys, 'putPart');
  }

  #sessionGone(tenant: string, sessionId: string): BlobSessionNotFoundError {
    this.#sessions.delete(`${tenant}/${sessionId}`);
    return new BlobSessionNotFoundError(`upload session ${sessionId} no longer exists on S3`, {
      details: { tenant, sessionId },
    });
  }

  /** Parts on the server whose ETag matches exactly one record: the verified ones. */
  async #storedParts(
    tenant: string,
    sessionId: string,
    state: SessionState,
  ): Promise<StoredPart[]> {
    const key = blobObjectKey(state);
    const [uploaded, records] = await Promise.all([
      this.#callOrMissing('listParts', uploadGoneCodes, () =>
        this.#client.listUploadedParts(this.bucket, key, state.uploadId),
      ),
      (async () => {
        const byPart = new Map<string, Set<string>>();
        for await (const k of this.#keys(sessionPrefix(tenant, sessionId))) {
          const m = partRecordPattern.exec(k.name);
          if (!m) continue;
          const [, index, etagHex, hash] = m as unknown as [string, string, string, string];
          const id = `${String(Number(index))}:${Buffer.from(etagHex, 'hex').toString()}`;
          const hashes = byPart.get(id) ?? new Set<string>();
          hashes.add(hash);
          byPart.set(id, hashes);
        }
        return byPart;
      })(),
    ]);
    if (uploaded === missing) throw this.#sessionGone(tenant, sessionId);
    const parts: StoredPart[] = [];
    for (const p of uploaded) {
      const index = p.part - 1;
      const hashes = records.get(`${String(index)}:${p.etag}`);
      // Two hashes for one ETag would mean an MD5 collision between two uploads of the part:
      // trust neither, so the part has to be sent again.
      if (hashes?.size !== 1) continue;
      if (index >= partCountFor(state.size, state.partSize)) continue;
      if (p.size !== partLengthFor(state.size, index, state.partSize)) continue;
      const [hash] = hashes as unknown as [string];
      parts.push({ index, size: p.size, hash, etag: p.etag });
    }
    return parts.sort((a, b) => a.index - b.index);
  }

  async listParts(tenant: string, sessionId: string): Promise<PartInfo[]> {
    const state = await this.#loadSession(tenant, sessionId);
    const parts = await this.#storedParts(tenant, sessionId, state);
    return parts.map(({ index, size, hash }) => ({ index, size, hash }));
  }

  async completeSession(tenant: string, sessionId: string): Promise<BlobInfo> {
    const state = await this.#loadSession(tenant, sessionId);
    const lock = `${tenant}/${sessionId}`;
    if (this.#busy.has(lock)) {
      throw new BlobSessionBusyError('the session is being completed by another call', {
        details: { sessionId },
      });
    }
    this.#busy.add(lock);
    try {
      const parts = await this.#storedParts(tenant, sessionId, state);
      checkCompletion(state, parts);
      const key = blobObjectKey(state);
      const existing = await this.#stat(key, 'completeSession');
      const touched = existing && (await this.#touch(state, existing.size, 'completeSession'));
      if (touched) {
        await this.#abortUpload(key, state.uploadId);
        await this.#dropSession(tenant, sessionId);
        return touched;
      }
      const refusals = [...uploadGoneCodes, 'InvalidPart', 'InvalidPartOrder'];
      const refused = await this.#call(
        'completeSession',
        () =>
          this.#client.completeMultipartUpload(
            this.bucket,
            key,
            state.uploadId,
            parts.map((p) => ({ part: p.index + 1, etag: p.etag })),
          ),
        refusals,
      ).then(
        () => undefined,
        async (error: unknown) => {
          const code = s3ErrorCode(error);
          if (code !== undefined && refusals.includes(code)) return code;
          // radosgw answers 500 when an abort removes the upload under a running complete: ask
          // whether the upload is gone before calling it an outage.
          const gone = await this.#callOrMissing('completeSession', uploadGoneCodes, () =>
            this.#client.listUploadedParts(this.bucket, key, state.uploadId),
          ).then(
            (uploaded) => uploaded === missing,
            () => false,
          );
          if (gone) return 'NoSuchUpload';
          throw error;
        },
      );
      if (refused !== undefined) {
        // Another process completed or aborted the upload, or replaced a part meanwhile.
        const now = await this.#stat(key, 'completeSession');
        if (now) {
          await this.#dropSession(tenant, sessionId);
          return this.#info(state, now);
        }
        if (uploadGoneCodes.includes(refused)) throw this.#sessionGone(tenant, sessionId);
        throw new BlobSessionBusyError('a part of the session changed while it was completed', {
          details: { sessionId },
        });
      }
      await this.#dropSession(tenant, sessionId);
      const stat = await this.#stat(key, 'completeSession');
      if (!stat) {
        throw new BlobStoreUnavailableError(
          'S3 completed the upload but does not show the object',
          {
            details: { sessionId },
          },
        );
      }
      return this.#info(state, stat);
    } finally {
      this.#busy.delete(lock);
    }
  }

  async #abortUpload(key: string, uploadId: string): Promise<void> {
    await this.#callOrMissing('abortSession', uploadGoneCodes, () =>
      this.#client.abortMultipartUpload(this.bucket, key, uploadId),
    );
  }

  /** Part records first, the state last: a half-dropped session is still listed and collectable. */
  async #dropSession(tenant: string, sessionId: string): Promise<void> {
    this.#sessions.delete(`${tenant}/${sessionId}`);
    const state = sessionStateKey(tenant, sessionId);
    const keys: string[] = [];
    for await (const k of this.#keys(sessionPrefix(tenant, sessionId))) {
      if (k.name !== state) keys.push(k.name);
    }
    await this.#removeKeys(keys, 'dropSession');
    await this.#call('dropSession', () => this.#client.removeObject(this.bucket, state));
  }

  async abortSession(tenant: string, sessionId: string): Promise<void> {
    assertTenant(tenant);
    if (!isSessionId(sessionId)) return;
    let state: SessionState;
    try {
      state = await this.#loadSession(tenant, sessionId);
    } catch (error) {
      if (error instanceof BlobSessionNotFoundError) return;
      throw error;
    }
    await this.#abortUpload(blobObjectKey(state), state.uploadId);
    await this.#dropSession(tenant, sessionId);
  }

  async *listSessions(tenant: string): AsyncIterable<UploadSession> {
    assertTenant(tenant);
    const prefix = `${SESSIONS}/${tenant}/`;
    const seen = new Map<string, { hasState: boolean; updatedAt: Date }>();
    for await (const k of this.#keys(prefix)) {
      const id = k.name.slice(prefix.length).split('/')[0] ?? '';
      if (!isSessionId(id)) continue;
      const entry = seen.get(id) ?? { hasState: false, updatedAt: k.lastModified };
      if (k.name === sessionStateKey(tenant, id)) entry.hasState = true;
      if (k.lastModified > entry.updatedAt) entry.updatedAt = k.lastModified;
      seen.set(id, entry);
    }
    for (const [id, entry] of seen) {
      if (!entry.hasState) continue;
      let state: SessionState;
      try {
        state = await this.#loadSession(tenant, id);
      } catch (error) {
        if (error instanceof BlobSessionNotFoundError) continue;
        throw error;
      }
      yield toSession(state, id, entry.updatedAt);
    }
  }

  /**
   * Aborts the multipart uploads that no open session names and that started before
   * `olderThan`: what a crash between starting an upload and recording its session, or an abort
   * that failed during an outage, leaves behind (S3 keeps their parts until then). A one-shot
   * `put` has no session while it runs, so `olderThan` must lie well before the longest `put`
   * could have started (a day ago, say). Not part of BlobStore: the S3 side of collecting
   * abandoned sessions, for the garbage collector to call. Returns how many it aborted.
   */
  async sweepOrphanUploads(olderThan: Date): Promise<number> {
    const named = new Set<string>();
    for await (const tenant of this.listTenants()) {
      for await (const s of this.listSessions(tenant)) {
        named.add((await this.#loadSession(tenant, s.id)).uploadId);
      }
    }
    let aborted = 0;
    let keyMarker = '';
    let uploadIdMarker = '';
    for (;;) {
      const page = await this.#call('sweepOrphanUploads', () =>
        this.#client.listIncompleteUploadsQuery(this.bucket, '', keyMarker, uploadIdMarker, ''),
      );
      for (const u of page.uploads) {
        if (named.has(u.uploadId) || !(u.initiated < olderThan)) continue;
        await this.#abortUpload(u.key, u.uploadId);
        aborted++;
      }
      if (!page.isTruncated) return aborted;
      keyMarker = page.nextKeyMarker;
      uploadIdMarker = page.nextUploadIdMarker;
    }
  }

  // ---- whole objects

  async put(input: PutInput, body: BlobBody): Promise<BlobInfo> {
    // The hash's part size is free here: uploads are cut into parts of the store's own size.
    const hashPartSize = checkSessionInput(input, this.partSize);
    return input.size <= this.partSize
      ? this.#putSmall(input, hashPartSize, body)
      : this.#putLarge(input, hashPartSize, body);
  }

  /**
   * Restarts an existing object's age without touching its bytes (a copy onto itself with new
   * metadata), so the garbage collector spares it until the record about to name it is
   * committed. Returns null when the object vanished meanwhile.
   */
  async #touch(ref: BlobRef, size: number, op: string): Promise<BlobInfo | null> {
    const key = blobObjectKey(ref);
    const copied = await this.#callOrMissing(op, notFoundCodes, () =>
      this.#client.copyObject(
        new CopySourceOptions({ Bucket: this.bucket, Object: key }),
        new CopyDestinationOptions({
          Bucket: this.bucket,
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

  /** One request: read (at most one part), check, then PUT with If-None-Match. */
  async #putSmall(input: PutInput, hashPartSize: number, body: BlobBody): Promise<BlobInfo> {
    const bytes = await readWhole(body, input.size);
    const hasher = createObjectHasher(input.kind, hashPartSize);
    hasher.update(bytes);
    checkWholeHash(hasher.digestHex(), input.hash);
    const key = blobObjectKey(input);
    for (let attempt = 0; attempt < 3; attempt++) {
      // The age reported for a fresh write is this process's clock just before it (the PUT
      // answer carries no Last-Modified, and a HEAD would double the requests of small puts);
      // `head` and `list` report the server's.
      const createdAt = new Date();
      const stored = await this.#call('put', () =>
        this.#client.putIfAbsent(this.bucket, key, bytes, {
          'Content-Type': 'application/octet-stream',
        }),
      );
      if (stored) return { ...refOf(input), size: input.size, createdAt };
      const existing = await this.#stat(key, 'put');
      const touched = existing && (await this.#touch(input, existing.size, 'put'));
      if (touched) return touched;
      // Deleted after our PUT was refused (a key slot erased meanwhile): store it again.
    }
    throw new BlobStoreUnavailableError('the object kept changing while it was stored', {
      details: { tenant: input.tenant, kind: input.kind },
    });
  }

  /**
   * A multipart upload fed part by part as the body streams, `putConcurrency` parts in
   * flight; the whole hash and size are checked before completion, and any failure aborts
   * the upload, so nothing becomes visible.
   */
  async #putLarge(input: PutInput, hashPartSize: number, body: BlobBody): Promise<BlobInfo> {
    const P = this.partSize;
    const key = blobObjectKey(input);
    const count = partCountFor(input.size, P);
    const uploadId = await this.#call('put', () =>
      this.#client.initiateNewMultipartUpload(this.bucket, key, {
        'Content-Type': 'application/octet-stream',
      }),
    );
    const etags: { part: number; etag: string }[] = [];
    const hasher = createObjectHasher(input.kind, hashPartSize);
    const inflight = new Set<Promise<void>>();
    // Part buffers are reused once their upload is answered: memory stays at
    // putConcurrency + 1 parts whatever the object's size, without waiting for the GC.
    const free: Buffer[] = [];
    const send = async (index: number, buffer: Buffer, length: number): Promise<void> => {
      const bytes = buffer.subarray(0, length);
      const p = this.#call('put', () =>
        this.#client.uploadPart(
          {
            bucketName: this.bucket,
            objectName: key,
            uploadID: uploadId,
            partNumber: index + 1,
            headers: {},
          },
          bytes,
        ),
      ).then((r) => {
        etags.push({ part: index + 1, etag: r.etag });
      });
      p.catch(() => undefined);
      inflight.add(p);
      void p
        .finally(() => {
          inflight.delete(p);
          free.push(buffer);
        })
        .catch(() => undefined);
      while (inflight.size >= this.#putConcurrency) await Promise.race(inflight);
    };
    try {
      let index = 0;
      let total = 0;
      let buf: Buffer = Buffer.allocUnsafe(P);
      let length = partLengthFor(input.size, 0, P);
      let filled = 0;
      for await (const chunk of body) {
        let off = 0;
        while (off < chunk.length) {
          if (index >= count) checkWholeSize(total + chunk.length - off, input.size);
          const take = Math.min(length - filled, chunk.length - off);
          const piece = chunk.subarray(off, off + take);
          buf.set(piece, filled);
          hasher.update(piece);
          filled += take;
          off += take;
          total += take;
          if (filled === length) {
            await send(index, buf, length);
            index++;
            if (index < count) {
              buf = free.pop() ?? Buffer.allocUnsafe(P);
              length = partLengthFor(input.size, index, P);
              filled = 0;
            }
          }
        }
      }
      checkWholeSize(total, input.size);
      await Promise.all(inflight);
      checkWholeHash(hasher.digestHex(), input.hash);
      const existing = await this.#stat(key, 'put');
      const touched = existing && (await this.#touch(input, existing.size, 'put'));
      if (touched) {
        await this.#abortUpload(key, uploadId);
        return touched;
      }
      etags.sort((a, b) => a.part - b.part);
      await this.#call('put', () =>
        this.#client.completeMultipartUpload(this.bucket, key, uploadId, etags),
      );
      const stat = await this.#stat(key, 'put');
      if (!stat) {
        throw new BlobStoreUnavailableError(
          'S3 completed the upload but does not show the object',
          {
            details: { tenant: input.tenant },
          },
        );
      }
      return this.#info(input, stat);
    } catch (error) {
      await Promise.allSettled(inflight);
      await this.#abortUpload(key, uploadId).catch(() => undefined);
      throw error;
    }
  }

  async get(ref: BlobRef, range?: ByteRange): Promise<BlobContent> {
    assertBlobRef(ref);
    // Shape checks now; the fit against the size once the server told it.
    if (range !== undefined) resolveRange(Number.MAX_SAFE_INTEGER, range);
    const key = blobObjectKey(ref);
    const whole = range === undefined || (range.offset === 0 && range.length === undefined);
    if (range !== undefined && range.length === 0) return this.#getViaStat(ref, range);
    const res = await this.#callOrMissing('get', ['NoSuchKey', 'NotFound', 'InvalidRange'], () =>
      whole
        ? this.#client.getObject(this.bucket, key)
        : this.#client.getPartialObject(this.bucket, key, range.offset, range.length),
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
    const stat = await this.#stat(blobObjectKey(ref), 'get');
    if (!stat) throw notFound(ref);
    const { offset, length } = resolveRange(stat.size, range);
    if (length > 0) return this.get(ref, { offset, length });
    return { body: Readable.from([]), size: stat.size, offset, length };
  }

  async head(ref: BlobRef): Promise<BlobInfo | null> {
    assertBlobRef(ref);
    const stat = await this.#stat(blobObjectKey(ref), 'head');
    return stat ? this.#info(ref, stat) : null;
  }

  async delete(ref: BlobRef): Promise<boolean> {
    assertBlobRef(ref);
    const key = blobObjectKey(ref);
    if (!(await this.#stat(key, 'delete'))) return false;
    await this.#call('delete', () => this.#client.removeObject(this.bucket, key));
    return true;
  }

  async *list(tenant: string, kind: BlobKind): AsyncIterable<BlobInfo> {
    assertTenant(tenant);
    assertKind(kind);
    for await (const k of this.#keys(`${tenant}/${kind}/`)) {
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
      for await (const name of this.#folders(prefix)) {
        if (isValidId(name) && !seen.has(name)) {
          seen.add(name);
          yield name;
        }
      }
    }
  }

  async presignGet(ref: BlobRef, ttlSeconds: number): Promise<PresignedGet | null> {
    assertBlobRef(ref);
    checkPresignTtl(ttlSeconds);
    const key = blobObjectKey(ref);
    if (!(await this.#stat(key, 'presignGet'))) throw notFound(ref);
    // Signed for whole seconds from now; the URL carries the same date.
    const signedAt = new Date(Math.floor(Date.now() / 1000) * 1000);
    const url = await this.#call('presignGet', () =>
      this.#client.presignedGetObject(this.bucket, key, ttlSeconds, {}, signedAt),
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

const refOf = (r: BlobRef): BlobRef => ({ tenant: r.tenant, kind: r.kind, hash: r.hash });

const notFound = (ref: BlobRef) =>
  new BlobNotFoundError('no such object', { details: { tenant: ref.tenant, kind: ref.kind } });

function toSession(state: SessionState, id: string, updatedAt: Date): UploadSession {
  return {
    id,
    tenant: state.tenant,
    kind: state.kind,
    hash: state.hash,
    size: state.size,
    partSize: state.partSize,
    partCount: partCountFor(state.size, state.partSize),
    createdAt: new Date(state.createdAt),
    updatedAt,
  };
}

function parseSessionState(bytes: Buffer, tenant: string): SessionState {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    value = null;
  }
  const s = value as Partial<SessionState> | null;
  if (
    s === null ||
    typeof s !== 'object' ||
    s.v !== 1 ||
    s.tenant !== tenant ||
    (s.kind !== 'blob' && s.kind !== 'keyslot') ||
    !isBlobHash(s.hash) ||
    !Number.isSafeInteger(s.size) ||
    !Number.isSafeInteger(s.partSize) ||
    typeof s.uploadId !== 'string' ||
    typeof s.createdAt !== 'string'
  ) {
    throw new BlobStoreUnavailableError('the state of an upload session on S3 is unreadable', {
      hint: 'abort the session and start the upload again',
      details: { tenant },
    });
  }
  return s as SessionState;
}

async function readAll(body: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks);
}

/** Reads exactly one part, hashing it as it arrives; refuses a body that ends early or runs long. */
async function readPart(
  body: BlobBody,
  length: number,
  index: number,
): Promise<{ bytes: Buffer; hash: string }> {
  const bytes = Buffer.allocUnsafe(length);
  const hash = createPartHash();
  let filled = 0;
  for await (const chunk of body) {
    if (chunk.length === 0) continue;
    if (filled + chunk.length > length) throw partTooLong(index, length);
    bytes.set(chunk, filled);
    hash.update(chunk);
    filled += chunk.length;
  }
  if (filled < length) throw partTooShort(index, length, filled);
  return { bytes, hash: hash.digest('hex') };
}

/** Reads a whole small object of the announced size; a size mismatch is refused. */
async function readWhole(body: BlobBody, size: number): Promise<Buffer> {
  const bytes = Buffer.allocUnsafe(size);
  let filled = 0;
  for await (const chunk of body) {
    if (chunk.length === 0) continue;
    if (filled + chunk.length > size) checkWholeSize(filled + chunk.length, size);
    bytes.set(chunk, filled);
    filled += chunk.length;
  }
  checkWholeSize(filled, size);
  return bytes;
}

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
