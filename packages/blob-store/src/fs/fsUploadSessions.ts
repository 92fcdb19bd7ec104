import { randomBytes } from 'node:crypto';
import {
  mkdir,
  open,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  unlink,
  utimes,
  writeFile,
} from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { isValidId } from '@ratsfach/kernel';
import { assertTenant, isBlobHash, isBlobKind, type BlobKind } from '../blobRef.js';
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
  BlobSessionIncompleteError,
  BlobSessionNotFoundError,
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
} from '../uploadRules.js';
import { fsyncDir } from './dirSyncQueue.js';
import { FsFaultPoint, type FsFaultHook } from './fsFaultPoint.js';
import { isErrno, mapError, writeFully, type FsLayout } from './fsLayout.js';

interface SessionMeta {
  readonly id: string;
  readonly tenant: string;
  readonly kind: BlobKind;
  readonly hash: string;
  readonly size: number;
  readonly partSize: number;
  readonly createdAt: string;
}

interface SessionActivity {
  readonly parts: Set<number>;
  completing: boolean;
}

/**
 * Writes and completions running, per `<root>\0<tenant>/<id>`, shared by every store instance
 * of this process: two instances over one root (as a retried request may reach) are told
 * "busy" exactly as two calls on one instance are.
 */
const activities = new Map<string, SessionActivity>();

const META = 'session.json';
const DATA = 'data';
const markerPattern = /^p(\d+)\.([0-9a-f]{128})$/;

/**
 * Upload sessions on the filesystem. A session is a directory `<root>/.sessions/<tenant>/<id>/`
 * made complete in `.tmp` and renamed into place, holding `session.json`, one `data` file of
 * the object's final size, and an empty marker `p<index>.<part hash>` per part, created only
 * after that part's bytes are written at their offset and synced; a part without a marker is
 * absent, whatever its bytes. Complete checks the markers (count, sizes, blob hash over the part
 * hashes) and then hard-links `data` into place: link never replaces an existing name, so an
 * existing object is never overwritten, and the object appears whole or not at all. Then the
 * shard directory is synced and the session directory removed.
 *
 * Sessions are guarded against concurrent writers within one process.
 */
export class FsUploadSessions {
  readonly #layout: FsLayout;
  readonly #partSize: number;
  readonly #sessionTtlMs: number;
  readonly #faultHook: FsFaultHook | undefined;

  constructor(
    layout: FsLayout,
    partSize: number,
    sessionTtlMs: number,
    faultHook: FsFaultHook | undefined,
  ) {
    this.#layout = layout;
    this.#partSize = partSize;
    this.#sessionTtlMs = sessionTtlMs;
    this.#faultHook = faultHook;
  }

  /**
   * Removes sessions idle for longer than the session ttl (judged at `now`) and sessions that
   * were completed just before a crash. Returns how many were removed.
   */
  async sweepSessions(now: Date = new Date()): Promise<number> {
    const layout = this.#layout;
    let removed = 0;
    for (const tenant of await layout.readdirOrEmpty(layout.sessionsDir())) {
      if (!isValidId(tenant)) continue;
      for (const id of await layout.readdirOrEmpty(layout.sessionsDir(tenant))) {
        if (activities.has(this.#activityKey(tenant, id))) continue;
        const dir = layout.sessionDir(tenant, id);
        const remove = await this.#sessionIsStale(dir, now).catch(() => true);
        if (remove) {
          await rm(dir, { recursive: true, force: true });
          removed++;
        }
      }
    }
    return removed;
  }

  async createSession(input: CreateSessionInput): Promise<UploadSession> {
    const partSize = checkSessionInput(input, this.#partSize);
    const id = randomBytes(16).toString('hex');
    const staging = this.#layout.tmpPath(`session-${id}`);
    let placed = false;
    try {
      const meta: SessionMeta = {
        id,
        tenant: input.tenant,
        kind: input.kind,
        hash: input.hash,
        size: input.size,
        partSize,
        createdAt: new Date().toISOString(),
      };
      await mkdir(staging);
      await writeFileSynced(join(staging, META), JSON.stringify(meta));
      const data = await open(join(staging, DATA), 'wx');
      try {
        await data.truncate(input.size);
        await data.sync();
      } finally {
        await data.close();
      }
      await fsyncDir(staging);
      const parent = this.#layout.sessionsDir(input.tenant);
      await this.#layout.ensureDir(parent);
      await rename(staging, join(parent, id));
      placed = true;
      await fsyncDir(parent);
      return toSession(meta, new Date(meta.createdAt));
    } catch (error) {
      // A failed creation leaves no staging folder behind (nor a half-made session).
      await rm(placed ? join(this.#layout.sessionsDir(input.tenant), id) : staging, {
        recursive: true,
        force: true,
      }).catch(() => undefined);
      throw mapError(error);
    }
  }

  async getSession(tenant: string, sessionId: string): Promise<UploadSession> {
    try {
      const meta = await this.#loadSession(tenant, sessionId);
      return toSession(meta, await updatedAtOf(this.#layout.sessionDir(tenant, sessionId), meta));
    } catch (error) {
      // No data file: the session was completed (its directory is the completion record).
      if (isErrno(error, 'ENOENT')) throw sessionNotFound(tenant, sessionId);
      throw mapError(error);
    }
  }

  async putPart(
    tenant: string,
    sessionId: string,
    index: number,
    body: BlobBody,
    expectedHash?: string,
  ): Promise<PartInfo> {
    const meta = await this.#loadSession(tenant, sessionId).catch((e: unknown) => {
      throw mapError(e);
    });
    checkExpectedPartHash(expectedHash);
    const length = checkPartIndex(meta, index);
    const activity = this.#activityOf(tenant, sessionId);
    if (activity.completing || activity.parts.has(index)) {
      throw new BlobSessionBusyError(`part ${String(index)} of session ${sessionId} is busy`, {
        details: { index },
      });
    }
    activity.parts.add(index);
    const dir = this.#layout.sessionDir(tenant, sessionId);
    try {
      // Drop the old marker before touching the bytes, so a failed rewrite never leaves a
      // marker over bytes it no longer describes.
      const old = (await readdir(dir)).filter((n) => n.startsWith(`p${String(index)}.`));
      if (old.length > 0) {
        for (const name of old) await unlink(join(dir, name));
        await fsyncDir(dir);
      }
      const fh = await openSessionData(dir, tenant, sessionId);
      let hash: string;
      try {
        hash = await writePart(fh, body, index, index * meta.partSize, length);
        checkPartHash(index, hash, expectedHash);
        await this.#fault(FsFaultPoint.partWritten);
        await fh.datasync();
      } finally {
        await fh.close();
      }
      await writeFile(join(dir, `p${String(index)}.${hash}`), '');
      await fsyncDir(dir);
      await this.#fault(FsFaultPoint.partMarked);
      return { index, size: length, hash };
    } catch (error) {
      if (isErrno(error, 'ENOENT')) throw sessionNotFound(tenant, sessionId);
      throw mapError(error);
    } finally {
      activity.parts.delete(index);
      this.#releaseActivity(tenant, sessionId, activity);
    }
  }

  async listParts(tenant: string, sessionId: string): Promise<PartInfo[]> {
    try {
      const meta = await this.#loadSession(tenant, sessionId);
      const dir = this.#layout.sessionDir(tenant, sessionId);
      // No data file: completed, so no longer a session to resume (ENOENT below).
      await stat(join(dir, DATA));
      return await readParts(dir, meta);
    } catch (error) {
      if (isErrno(error, 'ENOENT')) throw sessionNotFound(tenant, sessionId);
      throw mapError(error);
    }
  }

  /**
   * Completes a session: the data file is read back and hashed part by part, so the object is
   * checked on the exact bytes that become it (a part whose bytes no longer match its marker is
   * dropped and reported missing); then it is renamed into place, replacing any object of that
   * name (only checked bytes ever land there, so a damaged object is replaced, never kept). The
   * session directory stays without its data file as the completion record: completing again
   * returns the object while it exists.
   */
  async completeSession(tenant: string, sessionId: string): Promise<BlobInfo> {
    const meta = await this.#loadSession(tenant, sessionId).catch((e: unknown) => {
      throw mapError(e);
    });
    const activity = this.#activityOf(tenant, sessionId);
    if (activity.completing || activity.parts.size > 0) {
      this.#releaseActivity(tenant, sessionId, activity);
      throw new BlobSessionBusyError(`session ${sessionId} has a write or completion running`, {
        details: { partsInFlight: [...activity.parts] },
      });
    }
    activity.completing = true;
    const layout = this.#layout;
    const dir = layout.sessionDir(tenant, sessionId);
    const data = join(dir, DATA);
    try {
      let actual: string[];
      try {
        actual = await hashFileParts(data, meta.size, meta.partSize);
      } catch (error) {
        if (!isErrno(error, 'ENOENT')) throw error;
        return await this.#completedBefore(meta, sessionId);
      }
      const marked = await readParts(dir, meta);
      const stale = marked.filter((p) => p.hash !== actual[p.index]);
      if (stale.length > 0) {
        // The bytes under these markers changed after they were written: the parts are absent.
        for (const p of stale) await unlink(join(dir, `p${String(p.index)}.${p.hash}`));
        await fsyncDir(dir);
        const missing = new Set(stale.map((p) => p.index));
        for (let i = 0; i < actual.length; i++) {
          if (!marked.some((p) => p.index === i)) missing.add(i);
        }
        throw new BlobSessionIncompleteError(
          `${String(stale.length)} part(s) no longer hold the bytes they were stored with`,
          { details: { missing: [...missing].sort((a, b) => a - b), partCount: actual.length } },
        );
      }
      checkCompletion(meta, marked);
      await this.#fault(FsFaultPoint.beforeLink);
      const path = layout.objectPath(meta);
      await layout.ensureDir(dirname(path));
      // The fresh mtime restarts the object's age for the collector, also when it existed.
      const now = new Date();
      await utimes(data, now, now);
      await rename(data, path);
      await layout.dirSync.sync(dirname(path));
      await fsyncDir(dir);
      await this.#fault(FsFaultPoint.afterLink);
      return { tenant, kind: meta.kind, hash: meta.hash, size: meta.size, createdAt: now };
    } catch (error) {
      if (isErrno(error, 'ENOENT')) throw sessionNotFound(tenant, sessionId);
      throw mapError(error);
    } finally {
      activity.completing = false;
      this.#releaseActivity(tenant, sessionId, activity);
    }
  }

  /** A session completed earlier: its object, age restarted, or not found when it is gone. */
  async #completedBefore(meta: SessionMeta, sessionId: string): Promise<BlobInfo> {
    const path = this.#layout.objectPath(meta);
    const now = new Date();
    try {
      await utimes(path, now, now);
    } catch (error) {
      if (isErrno(error, 'ENOENT')) throw sessionNotFound(meta.tenant, sessionId);
      throw error;
    }
    const info = await this.#layout.statObject(meta);
    if (info === null) throw sessionNotFound(meta.tenant, sessionId);
    return info;
  }

  async abortSession(tenant: string, sessionId: string): Promise<void> {
    assertTenant(tenant);
    if (!isSessionId(sessionId)) return;
    try {
      await rm(this.#layout.sessionDir(tenant, sessionId), { recursive: true, force: true });
    } catch (error) {
      throw mapError(error);
    }
  }

  async *listSessions(tenant: string, options?: ListSessionsOptions): AsyncIterable<UploadSession> {
    assertTenant(tenant);
    const onDamaged = options?.onDamaged;
    try {
      for (const id of await this.#layout.readdirOrEmpty(this.#layout.sessionsDir(tenant))) {
        if (!isSessionId(id)) continue;
        const session = await this.getSession(tenant, id).catch((e: unknown) => {
          if (e instanceof BlobSessionNotFoundError) return null;
          if (e instanceof BlobSessionDamagedError && onDamaged !== undefined) {
            onDamaged(e);
            return null;
          }
          throw e;
        });
        if (session !== null) yield session;
      }
    } catch (error) {
      throw mapError(error);
    }
  }

  async #fault(point: FsFaultPoint): Promise<void> {
    if (this.#faultHook !== undefined) await this.#faultHook(point);
  }

  async #loadSession(tenant: string, sessionId: string): Promise<SessionMeta> {
    assertTenant(tenant);
    if (!isSessionId(sessionId)) throw sessionNotFound(tenant, sessionId);
    let text: string;
    try {
      text = await readFile(join(this.#layout.sessionDir(tenant, sessionId), META), 'utf8');
    } catch (error) {
      if (isErrno(error, 'ENOENT') || isErrno(error, 'ENOTDIR')) {
        throw sessionNotFound(tenant, sessionId);
      }
      throw error;
    }
    const meta = parseMeta(text, tenant, sessionId);
    if (meta.tenant !== tenant || meta.id !== sessionId) throw sessionNotFound(tenant, sessionId);
    return meta;
  }

  async #sessionIsStale(dir: string, now: Date): Promise<boolean> {
    let data;
    try {
      data = await stat(join(dir, DATA));
    } catch (error) {
      if (!isErrno(error, 'ENOENT')) throw error;
      // A completion record (no data file): kept for the ttl after completion.
      const d = await stat(dir);
      return now.getTime() - d.mtimeMs > this.#sessionTtlMs;
    }
    // A second link: completed by an older version that linked the data into place.
    if (data.nlink > 1) return true;
    const meta = parseMeta(await readFile(join(dir, META), 'utf8'), undefined, undefined);
    const updated = await updatedAtOf(dir, meta);
    return now.getTime() - updated.getTime() > this.#sessionTtlMs;
  }

  #activityKey(tenant: string, sessionId: string): string {
    return `${this.#layout.root}\0${tenant}/${sessionId}`;
  }

  #activityOf(tenant: string, sessionId: string): SessionActivity {
    const key = this.#activityKey(tenant, sessionId);
    let a = activities.get(key);
    if (a === undefined) {
      a = { parts: new Set(), completing: false };
      activities.set(key, a);
    }
    return a;
  }

  #releaseActivity(tenant: string, sessionId: string, activity: SessionActivity): void {
    if (!activity.completing && activity.parts.size === 0) {
      activities.delete(this.#activityKey(tenant, sessionId));
    }
  }
}

/**
 * Reads a session's state; anything but the shape this adapter writes is damage, reported as
 * BlobSessionDamagedError (never a bare SyntaxError).
 */
function parseMeta(
  text: string,
  tenant: string | undefined,
  sessionId: string | undefined,
): SessionMeta {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = null;
  }
  const m = value as Partial<SessionMeta> | null;
  if (
    m === null ||
    typeof m !== 'object' ||
    typeof m.id !== 'string' ||
    typeof m.tenant !== 'string' ||
    !isBlobKind(m.kind) ||
    !isBlobHash(m.hash) ||
    !Number.isSafeInteger(m.size) ||
    (m.size as number) < 0 ||
    !Number.isSafeInteger(m.partSize) ||
    (m.partSize as number) < 1 ||
    typeof m.createdAt !== 'string' ||
    Number.isNaN(Date.parse(m.createdAt))
  ) {
    throw new BlobSessionDamagedError('the state of an upload session on disk is unreadable', {
      details: { tenant: tenant ?? null, sessionId: sessionId ?? null },
    });
  }
  return m as SessionMeta;
}

const sessionNotFound = (tenant: string, sessionId: string) =>
  new BlobSessionNotFoundError(`no upload session ${JSON.stringify(sessionId)} in this tenant`, {
    details: { tenant, sessionId: String(sessionId).slice(0, 64) },
  });

function toSession(meta: SessionMeta, updatedAt: Date): UploadSession {
  return {
    id: meta.id,
    tenant: meta.tenant,
    kind: meta.kind,
    hash: meta.hash,
    size: meta.size,
    partSize: meta.partSize,
    partCount: partCountFor(meta.size, meta.partSize),
    createdAt: new Date(meta.createdAt),
    updatedAt,
  };
}

async function writeFileSynced(path: string, text: string): Promise<void> {
  const fh = await open(path, 'wx');
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Last write to a session: the newest of its creation, its directory and its data file. */
async function updatedAtOf(dir: string, meta: SessionMeta): Promise<Date> {
  const [d, f] = await Promise.all([stat(dir), stat(join(dir, DATA))]);
  const newest = Math.max(Date.parse(meta.createdAt), d.mtimeMs, f.mtimeMs);
  return new Date(newest);
}

async function openSessionData(
  dir: string,
  tenant: string,
  sessionId: string,
): Promise<FileHandle> {
  const fh = await open(join(dir, DATA), 'r+');
  const s = await fh.stat();
  if (s.nlink > 1) {
    // Completed before a crash (see #sessionIsStale): writing would change a visible object.
    await fh.close();
    await rm(dir, { recursive: true, force: true });
    throw sessionNotFound(tenant, sessionId);
  }
  return fh;
}

async function readParts(dir: string, meta: SessionMeta): Promise<PartInfo[]> {
  const count = partCountFor(meta.size, meta.partSize);
  const parts = new Map<number, PartInfo>();
  for (const name of await readdir(dir)) {
    const m = markerPattern.exec(name);
    if (m === null) continue;
    const index = Number(m[1]);
    if (index >= count) continue;
    parts.set(index, {
      index,
      size: partLengthFor(meta.size, index, meta.partSize),
      hash: m[2] as string,
    });
  }
  return [...parts.values()].sort((a, b) => a.index - b.index);
}

/**
 * Hashes a session's data file part by part, reading it once: the part hashes of the exact
 * bytes that complete would make the object ('' for a part that cannot be read whole).
 */
async function hashFileParts(path: string, size: number, partSize: number): Promise<string[]> {
  const count = partCountFor(size, partSize);
  const fh = await open(path, 'r');
  try {
    // Truncated or extended behind the store's back: no part can be trusted.
    if ((await fh.stat()).size !== size) return Array.from({ length: count }, () => '');
    const hashes: string[] = [];
    const buffer = Buffer.allocUnsafe(Math.min(partSize, 1024 * 1024));
    for (let i = 0; i < count; i++) {
      const length = partLengthFor(size, i, partSize);
      const hash = createPartHash();
      let done = 0;
      while (done < length) {
        const want = Math.min(buffer.length, length - done);
        const { bytesRead } = await fh.read(buffer, 0, want, i * partSize + done);
        if (bytesRead === 0) break;
        hash.update(buffer.subarray(0, bytesRead));
        done += bytesRead;
      }
      hashes.push(done === length ? hash.digest('hex') : '');
    }
    return hashes;
  } finally {
    await fh.close();
  }
}

/**
 * Streams one part's body into the data file at `offset`, hashing as it goes. Stops reading as
 * soon as the body runs past `length`. Returns the part hash as hex.
 */
async function writePart(
  fh: FileHandle,
  body: BlobBody,
  index: number,
  offset: number,
  length: number,
): Promise<string> {
  const hash = createPartHash();
  let received = 0;
  for await (const chunk of body) {
    if (received + chunk.length > length) throw partTooLong(index, length);
    hash.update(chunk);
    await writeFully(fh, chunk, offset + received);
    received += chunk.length;
  }
  if (received < length) throw partTooShort(index, length, received);
  return hash.digest('hex');
}
