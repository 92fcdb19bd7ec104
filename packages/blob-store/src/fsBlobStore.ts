import { randomBytes } from 'node:crypto';
import {
  link,
  mkdir,
  utimes,
  open,
  opendir,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  unlink,
  writeFile,
} from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { isValidId, RatsfachError } from '@ratsfach/domain';
import { DirSyncQueue, fsyncDir } from './dirSyncQueue.js';
import { assertBlobRef, assertKind, assertTenant, blobObjectKey, isBlobHash } from './blobRef.js';
import type { BlobKind, BlobRef } from './blobRef.js';
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
  BlobSessionBusyError,
  BlobSessionNotFoundError,
  BlobStoreUnavailableError,
} from './errors.js';
import {
  BLOB_PART_SIZE,
  createObjectHasher,
  createPartHash,
  partCountFor,
  partLengthFor,
} from './partHash.js';
import {
  checkCompletion,
  checkExpectedPartHash,
  checkPartHash,
  checkPartIndex,
  checkPresignTtl,
  checkSessionInput,
  checkPartSize,
  checkWholeHash,
  checkWholeSize,
  isSessionId,
  partTooLong,
  partTooShort,
  resolveRange,
} from './uploadRules.js';

/**
 * Points inside the adapter's write paths where a test can stop the process (SIGKILL) to show
 * that no partial object ever becomes visible. Production code never sets the hook.
 */
export const FsFaultPoint = {
  /** A part's bytes are written but not yet synced nor marked present. */
  partWritten: 'partWritten',
  /** A part is synced and marked present. */
  partMarked: 'partMarked',
  /** Complete checked everything; the object is not linked into place yet. */
  beforeLink: 'beforeLink',
  /** The object is linked into place; the session directory still exists. */
  afterLink: 'afterLink',
  /** A one-shot put wrote and synced its temporary file; nothing is linked yet. */
  putSynced: 'putSynced',
  /** A one-shot put renamed its synced file into place; the shard directory is not synced yet. */
  putRenamed: 'putRenamed',
} as const;
export type FsFaultPoint = (typeof FsFaultPoint)[keyof typeof FsFaultPoint];

export interface FsBlobStoreOptions {
  /** Directory that holds everything; created when missing. */
  readonly root: string;
  /** Part size of the blob hash and of sessions; defaults to BLOB_PART_SIZE (8 MiB). */
  readonly partSize?: number;
  /** A session without a write for this long is abandoned and removed (default 24 h). */
  readonly sessionTtlMs?: number;
  /** How often abandoned sessions are swept while the store is open (default 1 h; 0 = never). */
  readonly sweepIntervalMs?: number;
  /** Test seam: awaited at each fault point. */
  readonly faultHook?: (point: FsFaultPoint) => Promise<void>;
}

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

const SESSIONS = '.sessions';
const MAX_REMEMBERED_DIRS = 100_000;
const TMP = '.tmp';
const META = 'session.json';
const DATA = 'data';
const markerPattern = /^p(\d+)\.([0-9a-f]{128})$/;
const hex2 = /^[0-9a-f]{2}$/;

const isErrno = (error: unknown, code: string): boolean =>
  typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;

/**
 * Maps an operating-system error (it has a `syscall`) to BlobStoreUnavailableError; our own
 * errors and errors thrown by the caller's body stream pass through unchanged.
 */
const mapError = (error: unknown): unknown => {
  if (error instanceof RatsfachError) return error;
  if (typeof error === 'object' && error !== null && 'syscall' in error) {
    return new BlobStoreUnavailableError(
      `filesystem error: ${String((error as { message?: unknown }).message)}`,
      {
        cause: error,
        details: { code: (error as { code?: unknown }).code ?? null },
      },
    );
  }
  return error;
};

async function writeFileSynced(path: string, text: string): Promise<void> {
  const fh = await open(path, 'wx');
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * The embedded default: objects as files in a sharded layout
 * `<root>/<tenant>/<kind>/<aa>/<bb>/<hash>`.
 *
 * Crash safety without a journal of its own:
 * - a session is a directory `<root>/.sessions/<tenant>/<id>/` made complete in `.tmp` and
 *   renamed into place, holding `session.json`, one `data` file of the object's final size, and
 *   an empty marker `p<index>.<part hash>` per part, created only after that part's bytes are
 *   written at their offset and synced; a part without a marker is absent, whatever its bytes;
 * - complete checks the markers (count, sizes, blob hash over the part hashes) and then
 *   hard-links `data` into place: link never replaces an existing name, so an existing object is
 *   never overwritten, and the object appears whole or not at all. Then the shard directory is
 *   synced and the session directory removed;
 * - a one-shot `put` streams into `.tmp`, syncs, checks, and renames into place (a rename may
 *   replace an existing object, only with the same bytes), then syncs the shard directory;
 * - at start `.tmp` is emptied, and sessions whose `data` already has a second link (completed
 *   just before a crash) or that are abandoned are removed.
 *
 * Presigned URLs are not supported: `presignGet` returns null (after checking its arguments),
 * and callers stream through the API instead. Sessions are guarded against concurrent writers
 * within one process; one root must be opened by one process at a time.
 */
export class FsBlobStore implements BlobStore {
  readonly partSize: number;
  readonly capabilities: BlobStoreCapabilities = { presignGet: false };
  readonly root: string;
  readonly #sessionTtlMs: number;
  readonly #faultHook: ((point: FsFaultPoint) => Promise<void>) | undefined;
  readonly #activity = new Map<string, SessionActivity>();
  readonly #dirs = new Map<string, Promise<void>>();
  readonly #made = new Map<string, Promise<void>>();
  readonly #dirSync = new DirSyncQueue();
  #timer: NodeJS.Timeout | undefined;

  private constructor(options: FsBlobStoreOptions) {
    this.root = options.root;
    this.partSize = options.partSize ?? BLOB_PART_SIZE;
    this.#sessionTtlMs = options.sessionTtlMs ?? 24 * 3600_000;
    this.#faultHook = options.faultHook;
    checkPartSize(this.partSize);
  }

  /**
   * Opens (and creates) a store under `options.root`, empties its temporary directory and
   * removes abandoned or already-completed sessions left by an earlier process.
   */
  static async open(options: FsBlobStoreOptions): Promise<FsBlobStore> {
    const store = new FsBlobStore(options);
    try {
      await mkdir(join(store.root, SESSIONS), { recursive: true });
      await rm(join(store.root, TMP), { recursive: true, force: true });
      await mkdir(join(store.root, TMP), { recursive: true });
      await store.sweepSessions();
    } catch (error) {
      throw mapError(error);
    }
    const interval = options.sweepIntervalMs ?? 3600_000;
    if (interval > 0) {
      store.#timer = setInterval(() => {
        // A failed sweep is retried at the next tick; the next operation reports the disk error.
        store.sweepSessions().catch(() => undefined);
      }, interval);
      store.#timer.unref();
    }
    return store;
  }

  /**
   * Removes sessions idle for longer than the session ttl (judged at `now`) and sessions that
   * were completed just before a crash. Returns how many were removed.
   */
  async sweepSessions(now: Date = new Date()): Promise<number> {
    let removed = 0;
    for (const tenant of await this.#readdirOrEmpty(join(this.root, SESSIONS))) {
      if (!isValidId(tenant)) continue;
      for (const id of await this.#readdirOrEmpty(join(this.root, SESSIONS, tenant))) {
        const key = `${tenant}/${id}`;
        if (this.#activity.has(key)) continue;
        const dir = this.#sessionDir(tenant, id);
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
    const partSize = checkSessionInput(input, this.partSize);
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
      const staging = join(this.root, TMP, `session-${id}`);
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
      const parent = join(this.root, SESSIONS, input.tenant);
      await this.#ensureDir(parent);
      await rename(staging, join(parent, id));
      await fsyncDir(parent);
      return this.#toSession(meta, new Date(meta.createdAt));
    } catch (error) {
      throw mapError(error);
    }
  }

  async getSession(tenant: string, sessionId: string): Promise<UploadSession> {
    try {
      const meta = await this.#loadSession(tenant, sessionId);
      return this.#toSession(
        meta,
        await this.#updatedAt(this.#sessionDir(tenant, sessionId), meta),
      );
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
    const dir = this.#sessionDir(tenant, sessionId);
    try {
      // Drop the old marker before touching the bytes, so a failed rewrite never leaves a
      // marker over bytes it no longer describes.
      const old = (await readdir(dir)).filter((n) => n.startsWith(`p${String(index)}.`));
      if (old.length > 0) {
        for (const name of old) await unlink(join(dir, name));
        await fsyncDir(dir);
      }
      const fh = await this.#openSessionData(dir, tenant, sessionId);
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
      return await this.#readParts(this.#sessionDir(tenant, sessionId), meta);
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
    const dir = this.#sessionDir(tenant, sessionId);
    try {
      checkCompletion(meta, await this.#readParts(dir, meta));
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
      await rm(this.#sessionDir(tenant, sessionId), { recursive: true, force: true });
    } catch (error) {
      throw mapError(error);
    }
  }

  async *listSessions(tenant: string): AsyncIterable<UploadSession> {
    assertTenant(tenant);
    try {
      for (const id of await this.#readdirOrEmpty(join(this.root, SESSIONS, tenant))) {
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

  async put(input: PutInput, body: BlobBody): Promise<BlobInfo> {
    const partSize = checkSessionInput(input, this.partSize);
    const tmp = join(this.root, TMP, `put-${randomBytes(16).toString('hex')}`);
    // The shard directories are made (and synced) while the bytes stream in.
    const dirReady = this.#ensureDir(dirname(this.#objectPath(input)));
    dirReady.catch(() => undefined);
    let renamed = false;
    try {
      const fh = await open(tmp, 'wx');
      try {
        const hasher = createObjectHasher(input.kind, partSize);
        for await (const chunk of body) {
          if (hasher.size + chunk.length > input.size) {
            checkWholeSize(hasher.size + chunk.length, input.size);
          }
          hasher.update(chunk);
          await writeFully(fh, chunk, null);
        }
        checkWholeSize(hasher.size, input.size);
        checkWholeHash(hasher.digestHex(), input.hash);
        await fh.datasync();
      } finally {
        await fh.close();
      }
      // The file's bytes are synced, so its mtime is final; the rename keeps it.
      const createdAt = new Date();
      await this.#fault(FsFaultPoint.putSynced);
      await dirReady;
      // rename, not link + unlink: one call fewer per object. It may replace an existing object,
      // but only with the same bytes (the hash was checked), synced, and atomically; the fresh
      // mtime restarts the object's age as the session path's utimes does.
      const path = this.#objectPath(input);
      await rename(tmp, path);
      renamed = true;
      await this.#fault(FsFaultPoint.putRenamed);
      await this.#dirSync.sync(dirname(path));
      return {
        tenant: input.tenant,
        kind: input.kind,
        hash: input.hash,
        size: input.size,
        createdAt,
      };
    } catch (error) {
      throw mapError(error);
    } finally {
      if (!renamed) await unlink(tmp).catch(() => undefined);
    }
  }

  async get(ref: BlobRef, range?: ByteRange): Promise<BlobContent> {
    assertBlobRef(ref);
    let fh: FileHandle;
    try {
      fh = await open(this.#objectPath(ref), 'r');
    } catch (error) {
      if (isErrno(error, 'ENOENT')) throw blobNotFound(ref);
      throw mapError(error);
    }
    try {
      const { size } = await fh.stat();
      const { offset, length } = resolveRange(size, range);
      if (length === 0) {
        await fh.close();
        return { body: Readable.from([]), size, offset, length };
      }
      const body = fh.createReadStream({ start: offset, end: offset + length - 1 });
      return { body, size, offset, length };
    } catch (error) {
      await fh.close();
      throw mapError(error);
    }
  }

  async head(ref: BlobRef): Promise<BlobInfo | null> {
    assertBlobRef(ref);
    try {
      const s = await stat(this.#objectPath(ref));
      return {
        tenant: ref.tenant,
        kind: ref.kind,
        hash: ref.hash,
        size: s.size,
        createdAt: s.mtime,
      };
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return null;
      throw mapError(error);
    }
  }

  async delete(ref: BlobRef): Promise<boolean> {
    assertBlobRef(ref);
    const path = this.#objectPath(ref);
    try {
      await unlink(path);
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return false;
      throw mapError(error);
    }
    try {
      await this.#dirSync.sync(dirname(path));
    } catch (error) {
      throw mapError(error);
    }
    return true;
  }

  async *list(tenant: string, kind: BlobKind): AsyncIterable<BlobInfo> {
    assertTenant(tenant);
    assertKind(kind);
    const base = join(this.root, tenant, kind);
    try {
      for (const aa of await this.#readdirOrEmpty(base)) {
        if (!hex2.test(aa)) continue;
        for (const bb of await this.#readdirOrEmpty(join(base, aa))) {
          if (!hex2.test(bb)) continue;
          const dir = join(base, aa, bb);
          let handle;
          try {
            handle = await opendir(dir);
          } catch (error) {
            if (isErrno(error, 'ENOENT')) continue;
            throw error;
          }
          for await (const entry of handle) {
            const hash = entry.name;
            if (!isBlobHash(hash) || !hash.startsWith(aa + bb)) continue;
            const info = await this.head({ tenant, kind, hash });
            if (info !== null) yield info;
          }
        }
      }
    } catch (error) {
      throw mapError(error);
    }
  }

  async *listTenants(): AsyncIterable<string> {
    try {
      const seen = new Set<string>();
      for (const name of await this.#readdirOrEmpty(this.root)) {
        if (isValidId(name)) seen.add(name);
      }
      for (const name of await this.#readdirOrEmpty(join(this.root, SESSIONS))) {
        if (isValidId(name)) seen.add(name);
      }
      yield* seen;
    } catch (error) {
      throw mapError(error);
    }
  }

  async presignGet(ref: BlobRef, ttlSeconds: number): Promise<PresignedGet | null> {
    assertBlobRef(ref);
    checkPresignTtl(ttlSeconds);
    return null;
  }

  async close(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #objectPath(ref: BlobRef): string {
    return join(this.root, ...blobObjectKey(ref).split('/'));
  }

  #sessionDir(tenant: string, id: string): string {
    return join(this.root, SESSIONS, tenant, id);
  }

  async #fault(point: FsFaultPoint): Promise<void> {
    if (this.#faultHook !== undefined) await this.#faultHook(point);
  }

  async #loadSession(tenant: string, sessionId: string): Promise<SessionMeta> {
    assertTenant(tenant);
    if (!isSessionId(sessionId)) throw sessionNotFound(tenant, sessionId);
    let text: string;
    try {
      text = await readFile(join(this.#sessionDir(tenant, sessionId), META), 'utf8');
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

  #toSession(meta: SessionMeta, updatedAt: Date): UploadSession {
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

  /** Last write to a session: the newest of its creation, its directory and its data file. */
  async #updatedAt(dir: string, meta: SessionMeta): Promise<Date> {
    const [d, f] = await Promise.all([stat(dir), stat(join(dir, DATA))]);
    const newest = Math.max(Date.parse(meta.createdAt), d.mtimeMs, f.mtimeMs);
    return new Date(newest);
  }

  async #sessionIsStale(dir: string, now: Date): Promise<boolean> {
    const data = await stat(join(dir, DATA));
    // A second link means complete linked the data into place and the process died before
    // removing the session: the object is whole; the session must never be written again.
    if (data.nlink > 1) return true;
    const meta = JSON.parse(await readFile(join(dir, META), 'utf8')) as SessionMeta;
    const updated = await this.#updatedAt(dir, meta);
    return now.getTime() - updated.getTime() > this.#sessionTtlMs;
  }

  async #openSessionData(dir: string, tenant: string, sessionId: string): Promise<FileHandle> {
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

  async #readParts(dir: string, meta: SessionMeta): Promise<PartInfo[]> {
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

  async #linkIntoPlace(ref: BlobRef, source: string): Promise<BlobInfo> {
    const path = this.#objectPath(ref);
    const dir = dirname(path);
    await this.#ensureDir(dir);
    try {
      await link(source, path);
    } catch (error) {
      if (!isErrno(error, 'EEXIST')) throw error;
      // The object exists already: same key, same hash, same bytes, so nothing is written.
      // Its age restarts, so the collector's grace period covers the record about to name it.
      const now = new Date();
      await utimes(path, now, now);
    }
    await this.#dirSync.sync(dir);
    const info = await this.head(ref);
    if (info === null) throw blobNotFound(ref);
    return info;
  }

  /**
   * Creates a directory and its missing parents below the root, and syncs the parent of each
   * (once per directory and process, even when it already existed: an earlier process may have
   * died before its sync). The mkdirs run top-down; the syncs then run together, so a new
   * chain of shard directories costs one round of syncs, overlapping the data's own sync.
   * Promises are shared per directory, so no caller links into a directory whose entry is not
   * durable yet.
   */
  #ensureDir(dir: string): Promise<void> {
    const chain: string[] = [];
    for (let d = dir; d.length > this.root.length; d = dirname(d)) chain.push(d);
    return Promise.all(chain.map((d) => this.#durableDir(d))).then(() => undefined);
  }

  #madeDir(dir: string): Promise<void> {
    if (dir.length <= this.root.length) return Promise.resolve();
    let made = this.#made.get(dir);
    if (made === undefined) {
      made = this.#madeDir(dirname(dir)).then(async () => {
        try {
          await mkdir(dir);
        } catch (error) {
          if (!isErrno(error, 'EEXIST')) throw error;
        }
      });
      this.#made.set(dir, made);
      made.catch(() => this.#made.delete(dir));
    }
    return made;
  }

  #durableDir(dir: string): Promise<void> {
    let durable = this.#dirs.get(dir);
    if (durable === undefined) {
      // Forgetting costs only a repeated sync later; it keeps memory bounded on a store with
      // many tenants (65,536 shard directories each per kind).
      if (this.#dirs.size >= MAX_REMEMBERED_DIRS) {
        this.#dirs.clear();
        this.#made.clear();
      }
      durable = this.#madeDir(dir).then(() => this.#dirSync.sync(dirname(dir)));
      this.#dirs.set(dir, durable);
      durable.catch(() => this.#dirs.delete(dir));
    }
    return durable;
  }

  async #readdirOrEmpty(dir: string): Promise<string[]> {
    try {
      return await readdir(dir);
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return [];
      throw error;
    }
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

const blobNotFound = (ref: BlobRef) =>
  new BlobNotFoundError(`no ${ref.kind} ${ref.hash.slice(0, 16)}… in tenant ${ref.tenant}`, {
    details: { tenant: ref.tenant, kind: ref.kind, hash: ref.hash },
  });

async function writeFully(
  fh: FileHandle,
  chunk: Uint8Array,
  position: number | null,
): Promise<void> {
  let done = 0;
  while (done < chunk.length) {
    const { bytesWritten } = await fh.write(
      chunk,
      done,
      chunk.length - done,
      position === null ? null : position + done,
    );
    done += bytesWritten;
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
