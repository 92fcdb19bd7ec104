import { randomBytes } from 'node:crypto';
import { mkdir, open, opendir, rename, rm, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { isValidId } from '@ratsfach/kernel';
import { assertBlobRef, assertKind, assertTenant, isBlobHash } from '../blobRef.js';
import type { BlobKind, BlobRef } from '../blobRef.js';
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
import { BLOB_PART_SIZE, createObjectHasher } from '../partHash.js';
import {
  checkPartSize,
  checkPresignTtl,
  checkSessionInput,
  checkWholeHash,
  checkWholeSize,
  resolveRange,
} from '../uploadRules.js';
import { FsFaultPoint, type FsFaultHook } from './fsFaultPoint.js';
import { blobNotFound, FsLayout, isErrno, mapError, TMP, writeFully } from './fsLayout.js';
import { FsUploadSessions } from './fsUploadSessions.js';
import { FsGcShelf } from './fsGcShelf.js';
import type { GcRecordShelf } from '../blobGcLedger.js';

export interface FsBlobStoreOptions {
  /** Directory that holds everything; created when missing. */
  readonly root: string;
  /** Part size of the blob hash and of sessions; defaults to BLOB_PART_SIZE (8 MiB). */
  readonly partSize?: number;
  /** A session without a write for this long is abandoned and removed (default 24 h). */
  readonly sessionTtlMs?: number;
  /** How often abandoned sessions are swept after `recover` (default 1 h; 0 = never). */
  readonly sweepIntervalMs?: number;
  /** Test seam: awaited at each fault point. */
  readonly faultHook?: FsFaultHook;
}

const hex2 = /^[0-9a-f]{2}$/;

/**
 * The embedded default: objects as files in a sharded layout
 * `<root>/<tenant>/<kind>/<aa>/<bb>/<hash>` (fsLayout.ts).
 *
 * Crash safety without a journal of its own:
 * - upload sessions are directories whose parts are marked only once synced, and complete
 *   hard-links the data into place (fsUploadSessions.ts);
 * - a one-shot `put` streams into `.tmp`, syncs, checks, and renames into place (a rename may
 *   replace an existing object, only with the same bytes), then syncs the shard directory;
 * - `recover` (run by the service once it holds the data directory's lock, never implied by
 *   `open`) empties `.tmp` and removes abandoned sessions and old completion records.
 *
 * Presigned URLs are not supported: `presignGet` returns null (after checking its arguments),
 * and callers stream through the API instead. Sessions are guarded against concurrent writers
 * within one process; one root must be opened by one process at a time.
 */
export class FsBlobStore implements BlobStore {
  readonly partSize: number;
  readonly capabilities: BlobStoreCapabilities = { presignGet: false };
  readonly root: string;
  readonly #layout: FsLayout;
  readonly gcShelf: GcRecordShelf;
  readonly #sessions: FsUploadSessions;
  readonly #faultHook: FsFaultHook | undefined;
  readonly #sweepIntervalMs: number;
  #timer: NodeJS.Timeout | undefined;

  private constructor(options: FsBlobStoreOptions) {
    this.root = options.root;
    this.partSize = options.partSize ?? BLOB_PART_SIZE;
    this.#faultHook = options.faultHook;
    this.#sweepIntervalMs = options.sweepIntervalMs ?? 3600_000;
    checkPartSize(this.partSize);
    this.#layout = new FsLayout(this.root);
    this.gcShelf = new FsGcShelf(this.#layout);
    this.#sessions = new FsUploadSessions(
      this.#layout,
      this.partSize,
      options.sessionTtlMs ?? 24 * 3600_000,
      options.faultHook,
    );
  }

  /**
   * Opens (and creates) a store under `options.root`. Opening changes nothing an earlier or
   * concurrent process may still use: the clean-up of what a dead process left is `recover`,
   * which the service runs only once it holds the data directory's lock.
   */
  static async open(options: FsBlobStoreOptions): Promise<FsBlobStore> {
    const store = new FsBlobStore(options);
    try {
      await mkdir(store.#layout.sessionsDir(), { recursive: true });
      await mkdir(join(store.root, TMP), { recursive: true });
    } catch (error) {
      throw mapError(error);
    }
    return store;
  }

  /**
   * Cleans up after an earlier process: empties the temporary directory (half-written puts and
   * session creations), removes abandoned sessions and old completion records, and from then on
   * sweeps sessions every `sweepIntervalMs`. Call it once, and only while this process holds
   * the data directory's exclusive lock: run beside a live process on the same root it would
   * break that process's puts in flight. Returns what it removed.
   */
  async recover(): Promise<{ readonly temporaryFiles: number; readonly sessions: number }> {
    let temporaryFiles: number;
    let sessions: number;
    try {
      const tmp = join(this.root, TMP);
      temporaryFiles = (await this.#layout.readdirOrEmpty(tmp)).length;
      await rm(tmp, { recursive: true, force: true });
      await mkdir(tmp, { recursive: true });
      sessions = await this.sweepSessions();
    } catch (error) {
      throw mapError(error);
    }
    if (this.#sweepIntervalMs > 0 && this.#timer === undefined) {
      this.#timer = setInterval(() => {
        // A failed sweep is retried at the next tick; the next operation reports the disk error.
        this.sweepSessions().catch(() => undefined);
      }, this.#sweepIntervalMs);
      this.#timer.unref();
    }
    return { temporaryFiles, sessions };
  }

  /**
   * Removes sessions idle for longer than the session ttl (judged at `now`) and sessions that
   * were completed just before a crash. Returns how many were removed.
   */
  sweepSessions(now: Date = new Date()): Promise<number> {
    return this.#sessions.sweepSessions(now);
  }

  // ---- sessions (fsUploadSessions.ts)

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

  // ---- whole objects

  async put(input: PutInput, body: BlobBody): Promise<BlobInfo> {
    const partSize = checkSessionInput(input, this.partSize);
    const tmp = this.#layout.tmpPath(`put-${randomBytes(16).toString('hex')}`);
    // The shard directories are made (and synced) while the bytes stream in.
    const dirReady = this.#layout.ensureDir(dirname(this.#layout.objectPath(input)));
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
      const path = this.#layout.objectPath(input);
      await rename(tmp, path);
      renamed = true;
      await this.#fault(FsFaultPoint.putRenamed);
      await this.#layout.dirSync.sync(dirname(path));
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
      fh = await open(this.#layout.objectPath(ref), 'r');
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
      return await this.#layout.statObject(ref);
    } catch (error) {
      throw mapError(error);
    }
  }

  async delete(ref: BlobRef): Promise<boolean> {
    assertBlobRef(ref);
    const path = this.#layout.objectPath(ref);
    try {
      await unlink(path);
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return false;
      throw mapError(error);
    }
    try {
      await this.#layout.dirSync.sync(dirname(path));
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
      for (const aa of await this.#layout.readdirOrEmpty(base)) {
        if (!hex2.test(aa)) continue;
        for (const bb of await this.#layout.readdirOrEmpty(join(base, aa))) {
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
      for (const name of await this.#layout.readdirOrEmpty(this.root)) {
        if (isValidId(name)) seen.add(name);
      }
      for (const name of await this.#layout.readdirOrEmpty(this.#layout.sessionsDir())) {
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

  async #fault(point: FsFaultPoint): Promise<void> {
    if (this.#faultHook !== undefined) await this.#faultHook(point);
  }
}
