import { randomBytes } from 'node:crypto';
import {
  link,
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
import { isValidId } from '@ratsfach/domain';
import { assertTenant, type BlobKind, type BlobRef } from '../blobRef.js';
import type {
  BlobBody,
  BlobInfo,
  CreateSessionInput,
  PartInfo,
  UploadSession,
} from '../blobStore.js';
import { BlobSessionBusyError, BlobSessionNotFoundError } from '../errors.js';
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
import { blobNotFound, isErrno, mapError, writeFully, type FsLayout } from './fsLayout.js';

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
  readonly #activity = new Map<string, SessionActivity>();

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
        const key = `${tenant}/${id}`;
        if (this.#activity.has(key)) continue;
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
    try {
      const id = randomBytes(16).toString('hex');
      const meta: SessionMeta = {
        id,
        tenant: input.tenant,
        kind: input.kind,
        hash: input.hash,
        size: input.size,
        partSize,
        createdAt: new Date().toISOString(),
      };
      const staging = this.#layout.tmpPath(`session-${id}`);
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
      await fsyncDir(parent);
      return toSession(meta, new Date(meta.createdAt));
    } catch (error) {
      throw mapError(error);
    }
  }

  async getSession(tenant: string, sessionId: string): Promise<UploadSession> {
    try {
      const meta = await this.#loadSession(tenant, sessionId);
      return toSession(meta, await updatedAtOf(this.#layout.sessionDir(tenant, sessionId), meta));
    } catch (error) {
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
      return await readParts(this.#layout.sessionDir(tenant, sessionId), meta);
    } catch (error) {
      if (isErrno(error, 'ENOENT')) throw sessionNotFound(tenant, sessionId);
      throw mapError(error);
    }
  }

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
    const dir = this.#layout.sessionDir(tenant, sessionId);
    try {
      checkCompletion(meta, await readParts(dir, meta));
      await this.#fault(FsFaultPoint.beforeLink);
      const info = await this.#linkIntoPlace(meta, join(dir, DATA));
      await this.#fault(FsFaultPoint.afterLink);
      await rm(dir, { recursive: true, force: true });
      return info;
    } catch (error) {
      if (isErrno(error, 'ENOENT')) throw sessionNotFound(tenant, sessionId);
      throw mapError(error);
    } finally {
      activity.completing = false;
      this.#releaseActivity(tenant, sessionId, activity);
    }
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

  async *listSessions(tenant: string): AsyncIterable<UploadSession> {
    assertTenant(tenant);
    try {
      for (const id of await this.#layout.readdirOrEmpty(this.#layout.sessionsDir(tenant))) {
        if (!isSessionId(id)) continue;
        const session = await this.getSession(tenant, id).catch((e: unknown) => {
          if (e instanceof BlobSessionNotFoundError) return null;
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
    const meta = JSON.parse(text) as SessionMeta;
    if (meta.tenant !== tenant || meta.id !== sessionId) throw sessionNotFound(tenant, sessionId);
    return meta;
  }

  async #sessionIsStale(dir: string, now: Date): Promise<boolean> {
    const data = await stat(join(dir, DATA));
    // A second link means complete linked the data into place and the process died before
    // removing the session: the object is whole; the session must never be written again.
    if (data.nlink > 1) return true;
    const meta = JSON.parse(await readFile(join(dir, META), 'utf8')) as SessionMeta;
    const updated = await updatedAtOf(dir, meta);
    return now.getTime() - updated.getTime() > this.#sessionTtlMs;
  }

  async #linkIntoPlace(ref: BlobRef, source: string): Promise<BlobInfo> {
    const layout = this.#layout;
    const path = layout.objectPath(ref);
    const dir = dirname(path);
    await layout.ensureDir(dir);
    try {
      await link(source, path);
    } catch (error) {
      if (!isErrno(error, 'EEXIST')) throw error;
      // The object exists already: same key, same hash, same bytes, so nothing is written.
      // Its age restarts, so the collector's grace period covers the record about to name it.
      const now = new Date();
      await utimes(path, now, now);
    }
    await layout.dirSync.sync(dir);
    const info = await layout.statObject(ref);
    if (info === null) throw blobNotFound(ref);
    return info;
  }

  #activityOf(tenant: string, sessionId: string): SessionActivity {
    const key = `${tenant}/${sessionId}`;
    let a = this.#activity.get(key);
    if (a === undefined) {
      a = { parts: new Set(), completing: false };
      this.#activity.set(key, a);
    }
    return a;
  }

  #releaseActivity(tenant: string, sessionId: string, activity: SessionActivity): void {
    if (!activity.completing && activity.parts.size === 0) {
      this.#activity.delete(`${tenant}/${sessionId}`);
    }
  }
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
