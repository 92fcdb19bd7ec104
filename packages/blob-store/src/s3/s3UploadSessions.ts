import { createHash, randomBytes } from 'node:crypto';
import { assertTenant, blobObjectKey, isBlobHash, isBlobKind, type BlobKind } from '../blobRef.js';
import type {
  BlobBody,
  BlobInfo,
  CreateSessionInput,
  ListSessionsOptions,
  PartInfo,
  UploadSession,
} from '../blobStore.js';
import {
  BlobSessionBusyError,
  BlobSessionDamagedError,
  BlobSessionNotFoundError,
  BlobStoreUnavailableError,
} from '../errors.js';
import { createPartHash, partCountFor, partLengthFor } from '../partHash.js';
import {
  checkCompletion,
  checkExpectedPartHash,
  checkPartHash,
  checkPartIndex,
  checkSessionInput,
  isSessionId,
  partTooLong,
  partTooShort,
  type PartSizeRange,
} from '../uploadRules.js';
import { missing, notFoundCodes, readAll, uploadGoneCodes, type S3Bucket } from './s3Bucket.js';
import { s3ErrorCode } from './s3Errors.js';

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

/** Prefix of the session objects; never a tenant id (ids have no dot). */
export const SESSIONS = '.sessions';

const sessionPrefix = (tenant: string, id: string) => `${SESSIONS}/${tenant}/${id}/`;
const sessionStateKey = (tenant: string, id: string) => `${sessionPrefix(tenant, id)}session.json`;
/**
 * What a completed session leaves: `{kind, hash}` of its object, so that completing it again
 * (a retried request, another API process) returns the object. Beside the session's prefix,
 * not under it, so dropping the session keeps it; `sweepOrphanUploads` removes old ones.
 */
export const completionKey = (tenant: string, id: string) => `${SESSIONS}/${tenant}/${id}.done`;
export const completionPattern = /^\.sessions\/[a-z0-9_]{1,64}\/[0-9a-f]{32}\.done$/;
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
 * Upload sessions on S3: a multipart upload to the object's final key plus a small state object
 * under `.sessions/`, so any API process can resume it; each part is hashed as it arrives and
 * its hash recorded next to the state. Completion checks every part, the size and the blob hash
 * before it asks S3 to complete, so a failed check never makes anything visible.
 */
export class S3UploadSessions {
  readonly #bucket: S3Bucket;
  readonly #partSize: number;
  readonly #partRange: PartSizeRange;
  /** Session states are immutable once written: a cache saves one GET per part. */
  readonly #sessions = new Map<string, SessionState>();
  readonly #busy = new Set<string>();

  constructor(bucket: S3Bucket, partSize: number, partRange: PartSizeRange) {
    this.#bucket = bucket;
    this.#partSize = partSize;
    this.#partRange = partRange;
  }

  async createSession(input: CreateSessionInput): Promise<UploadSession> {
    const b = this.#bucket;
    const partSize = checkSessionInput(input, this.#partSize, this.#partRange);
    const id = randomBytes(16).toString('hex');
    const key = blobObjectKey(input);
    const uploadId = await b.call('createSession', () =>
      b.client.initiateNewMultipartUpload(b.name, key, {
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
      await b.call('createSession', () =>
        b.client.putObject(
          b.name,
          sessionStateKey(input.tenant, id),
          Buffer.from(JSON.stringify(state)),
          undefined,
          { 'Content-Type': 'application/json' },
        ),
      );
    } catch (error) {
      await b.abortUpload(key, uploadId).catch(() => undefined);
      throw error;
    }
    this.#sessions.set(`${input.tenant}/${id}`, state);
    return toSession(state, id, new Date(state.createdAt));
  }

  async #loadSession(tenant: string, id: string): Promise<SessionState> {
    const b = this.#bucket;
    assertTenant(tenant);
    if (!isSessionId(id)) {
      throw new BlobSessionNotFoundError('no such upload session', { details: { tenant } });
    }
    const cached = this.#sessions.get(`${tenant}/${id}`);
    if (cached) return cached;
    const body = await b.callOrMissing('getSession', notFoundCodes, async () =>
      readAll(await b.client.getObject(b.name, sessionStateKey(tenant, id))),
    );
    if (body === missing) {
      throw new BlobSessionNotFoundError(`upload session ${id} does not exist`, {
        details: { tenant, sessionId: id },
      });
    }
    const state = parseSessionState(body, tenant, id);
    if (this.#sessions.size >= 10_000) this.#sessions.clear();
    this.#sessions.set(`${tenant}/${id}`, state);
    return state;
  }

  async getSession(tenant: string, sessionId: string): Promise<UploadSession> {
    const state = await this.#loadSession(tenant, sessionId);
    let updatedAt = new Date(state.createdAt);
    for await (const k of this.#bucket.keys(sessionPrefix(tenant, sessionId))) {
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
    const b = this.#bucket;
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
      const { bytes, hash, md5 } = await readPart(body, length, index);
      checkPartHash(index, hash, expectedHash);
      const key = blobObjectKey(state);
      const uploaded = await b.callOrMissing('putPart', uploadGoneCodes, () =>
        b.client.uploadPart(
          {
            bucketName: b.name,
            objectName: key,
            uploadID: state.uploadId,
            partNumber: index + 1,
            headers: {},
          },
          bytes,
        ),
      );
      if (uploaded === missing) throw this.#sessionGone(tenant, sessionId);
      // The record binds the bytes: its ETag is the server's MD5 of what it stored, and it must
      // be the MD5 of the very bytes hashed here (SigV4 also signed their SHA-256). Completion
      // names parts by these ETags, so S3 assembles exactly the bytes that were hashed.
      if (uploaded.etag.replace(/"/g, '') !== md5) {
        throw new BlobStoreUnavailableError(
          'S3 stored part bytes whose ETag is not the MD5 of the bytes sent',
          {
            hint: 'server-side encryption that changes ETags (SSE-KMS, SSE-C) is not supported; use a bucket without it',
            details: { sessionId, index },
          },
        );
      }
      await b.call('putPart', () =>
        b.client.putObject(
          b.name,
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
    for await (const k of this.#bucket.keys(partRecordPrefix(tenant, sessionId, index))) {
      keys.push(k.name);
    }
    await this.#bucket.removeKeys(keys, 'putPart');
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
    const b = this.#bucket;
    const key = blobObjectKey(state);
    const [uploaded, records] = await Promise.all([
      b.callOrMissing('listParts', uploadGoneCodes, () =>
        b.client.listUploadedParts(b.name, key, state.uploadId),
      ),
      (async () => {
        const byPart = new Map<string, Set<string>>();
        for await (const k of b.keys(sessionPrefix(tenant, sessionId))) {
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
    const b = this.#bucket;
    let state: SessionState;
    try {
      state = await this.#loadSession(tenant, sessionId);
    } catch (error) {
      if (!(error instanceof BlobSessionNotFoundError) || !isSessionId(sessionId)) throw error;
      return this.#completedBefore(tenant, sessionId, error);
    }
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
      // Completed also when the object exists: the checked parts replace it, so a damaged
      // object never survives an honest upload, and its Last-Modified (its age) restarts.
      const refusals = [...uploadGoneCodes, 'InvalidPart', 'InvalidPartOrder'];
      const refused = await b
        .call(
          'completeSession',
          () =>
            b.client.completeMultipartUpload(
              b.name,
              key,
              state.uploadId,
              parts.map((p) => ({ part: p.index + 1, etag: p.etag })),
            ),
          refusals,
        )
        .then(
          () => undefined,
          async (error: unknown) => {
            const code = s3ErrorCode(error);
            if (code !== undefined && refusals.includes(code)) return code;
            // radosgw answers 500 when an abort removes the upload under a running complete:
            // ask whether the upload is gone before calling it an outage.
            const gone = await b
              .callOrMissing('completeSession', uploadGoneCodes, () =>
                b.client.listUploadedParts(b.name, key, state.uploadId),
              )
              .then(
                (uploaded) => uploaded === missing,
                () => false,
              );
            if (gone) return 'NoSuchUpload';
            throw error;
          },
        );
      if (refused !== undefined) {
        // Another process completed or aborted the upload, or replaced a part meanwhile.
        const now = await b.stat(key, 'completeSession');
        if (now) {
          await this.#recordCompletion(tenant, sessionId, state);
          await this.#dropSession(tenant, sessionId);
          return b.info(state, now);
        }
        if (uploadGoneCodes.includes(refused)) throw this.#sessionGone(tenant, sessionId);
        throw new BlobSessionBusyError('a part of the session changed while it was completed', {
          details: { sessionId },
        });
      }
      await this.#recordCompletion(tenant, sessionId, state);
      await this.#dropSession(tenant, sessionId);
      const stat = await b.stat(key, 'completeSession');
      if (!stat) {
        throw new BlobStoreUnavailableError(
          'S3 completed the upload but does not show the object',
          { details: { sessionId } },
        );
      }
      return b.info(state, stat);
    } catch (error) {
      // Completed meanwhile by another call or process (the upload is gone): its object.
      if (error instanceof BlobSessionNotFoundError) {
        return await this.#completedBefore(tenant, sessionId, error);
      }
      throw error;
    } finally {
      this.#busy.delete(lock);
    }
  }

  async #recordCompletion(tenant: string, sessionId: string, state: SessionState): Promise<void> {
    const b = this.#bucket;
    await b.call('completeSession', () =>
      b.client.putObject(
        b.name,
        completionKey(tenant, sessionId),
        Buffer.from(JSON.stringify({ kind: state.kind, hash: state.hash })),
        undefined,
        { 'Content-Type': 'application/json' },
      ),
    );
  }

  /**
   * Completing a session that completed before: its object, age restarted, while the record
   * and the object exist; else the original not-found error.
   */
  async #completedBefore(
    tenant: string,
    sessionId: string,
    notFound: BlobSessionNotFoundError,
  ): Promise<BlobInfo> {
    const b = this.#bucket;
    const body = await b.callOrMissing('completeSession', notFoundCodes, async () =>
      readAll(await b.client.getObject(b.name, completionKey(tenant, sessionId))),
    );
    if (body === missing) throw notFound;
    let ref: { kind?: unknown; hash?: unknown } | null = null;
    try {
      ref = JSON.parse(body.toString('utf8')) as { kind?: unknown; hash?: unknown };
    } catch {
      ref = null;
    }
    if (ref === null || !isBlobKind(ref.kind) || !isBlobHash(ref.hash)) throw notFound;
    const target = { tenant, kind: ref.kind, hash: ref.hash };
    const key = blobObjectKey(target);
    const existing = await b.stat(key, 'completeSession');
    const touched = existing && (await b.touch(target, key, existing.size, 'completeSession'));
    if (!touched) throw notFound;
    return touched;
  }

  /** Part records first, the state last: a half-dropped session is still listed and collectable. */
  async #dropSession(tenant: string, sessionId: string): Promise<void> {
    const b = this.#bucket;
    this.#sessions.delete(`${tenant}/${sessionId}`);
    const state = sessionStateKey(tenant, sessionId);
    const keys: string[] = [];
    for await (const k of b.keys(sessionPrefix(tenant, sessionId))) {
      if (k.name !== state) keys.push(k.name);
    }
    await b.removeKeys(keys, 'dropSession');
    await b.call('dropSession', () => b.client.removeObject(b.name, state));
  }

  async abortSession(tenant: string, sessionId: string): Promise<void> {
    assertTenant(tenant);
    if (!isSessionId(sessionId)) return;
    let state: SessionState;
    try {
      state = await this.#loadSession(tenant, sessionId);
    } catch (error) {
      if (error instanceof BlobSessionNotFoundError) return;
      // Damaged state names no upload to abort: drop the keys; sweepOrphanUploads aborts it.
      if (error instanceof BlobSessionDamagedError) return this.#dropSession(tenant, sessionId);
      throw error;
    }
    await this.#bucket.abortUpload(blobObjectKey(state), state.uploadId);
    await this.#dropSession(tenant, sessionId);
  }

  async *listSessions(tenant: string, options?: ListSessionsOptions): AsyncIterable<UploadSession> {
    assertTenant(tenant);
    const onDamaged = options?.onDamaged;
    const prefix = `${SESSIONS}/${tenant}/`;
    const seen = new Map<string, { hasState: boolean; updatedAt: Date }>();
    for await (const k of this.#bucket.keys(prefix)) {
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
        if (error instanceof BlobSessionDamagedError && onDamaged !== undefined) {
          onDamaged(error);
          continue;
        }
        throw error;
      }
      yield toSession(state, id, entry.updatedAt);
    }
  }

  /** The multipart upload ids every open session of `tenant` names. */
  async uploadIdsOf(tenant: string): Promise<string[]> {
    const ids: string[] = [];
    // A damaged session names no upload id: its upload counts as orphaned.
    for await (const s of this.listSessions(tenant, { onDamaged: () => undefined })) {
      ids.push((await this.#loadSession(tenant, s.id)).uploadId);
    }
    return ids;
  }
}

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

function parseSessionState(bytes: Buffer, tenant: string, sessionId: string): SessionState {
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
    throw new BlobSessionDamagedError('the state of an upload session on S3 is unreadable', {
      details: { tenant, sessionId },
    });
  }
  return s as SessionState;
}

/** Reads exactly one part, hashing it as it arrives; refuses a body that ends early or runs long. */
async function readPart(
  body: BlobBody,
  length: number,
  index: number,
): Promise<{ bytes: Buffer; hash: string; md5: string }> {
  const bytes = Buffer.allocUnsafe(length);
  const hash = createPartHash();
  const md5 = createHash('md5');
  let filled = 0;
  for await (const chunk of body) {
    if (chunk.length === 0) continue;
    if (filled + chunk.length > length) throw partTooLong(index, length);
    bytes.set(chunk, filled);
    hash.update(chunk);
    md5.update(chunk);
    filled += chunk.length;
  }
  if (filled < length) throw partTooShort(index, length, filled);
  return { bytes, hash: hash.digest('hex'), md5: md5.digest('hex') };
}
