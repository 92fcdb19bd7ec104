import { mkdir, readdir, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { RatsfachError } from '@ratsfach/kernel';
import { blobObjectKey, type BlobRef } from '../blobRef.js';
import type { BlobInfo } from '../blobStore.js';
import { BlobNotFoundError, BlobStoreUnavailableError } from '../errors.js';
import { DirSyncQueue } from './dirSyncQueue.js';

/** Directory of the upload sessions, `<root>/.sessions/<tenant>/<id>/`. */
export const SESSIONS = '.sessions';
/** Directory of files being written (puts, sessions being created); emptied at recovery. */
export const TMP = '.tmp';
const MAX_REMEMBERED_DIRS = 100_000;

export const isErrno = (error: unknown, code: string): boolean =>
  typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;

/**
 * Maps an operating-system error (it has a `syscall`) to BlobStoreUnavailableError; our own
 * errors and errors thrown by the caller's body stream pass through unchanged.
 */
export const mapError = (error: unknown): unknown => {
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

export const blobNotFound = (ref: BlobRef) =>
  new BlobNotFoundError(`no ${ref.kind} ${ref.hash.slice(0, 16)}… in tenant ${ref.tenant}`, {
    details: { tenant: ref.tenant, kind: ref.kind, hash: ref.hash },
  });

/** Writes all of `chunk` at `position` (null: the file's current position). */
export async function writeFully(
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
 * Where things live under the root, and directories made durable: objects in the sharded
 * layout `<root>/<tenant>/<kind>/<aa>/<bb>/<hash>`, sessions under `.sessions`, files being
 * written under `.tmp`. Shared by the store and its upload sessions.
 */
export class FsLayout {
  readonly root: string;
  readonly dirSync = new DirSyncQueue();
  readonly #dirs = new Map<string, Promise<void>>();
  readonly #made = new Map<string, Promise<void>>();

  constructor(root: string) {
    this.root = root;
  }

  objectPath(ref: BlobRef): string {
    return join(this.root, ...blobObjectKey(ref).split('/'));
  }

  sessionsDir(tenant?: string): string {
    return tenant === undefined ? join(this.root, SESSIONS) : join(this.root, SESSIONS, tenant);
  }

  sessionDir(tenant: string, id: string): string {
    return join(this.root, SESSIONS, tenant, id);
  }

  tmpPath(name: string): string {
    return join(this.root, TMP, name);
  }

  /** Size and age of an object, or null when absent. */
  async statObject(ref: BlobRef): Promise<BlobInfo | null> {
    try {
      const s = await stat(this.objectPath(ref));
      return {
        tenant: ref.tenant,
        kind: ref.kind,
        hash: ref.hash,
        size: s.size,
        createdAt: s.mtime,
      };
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return null;
      throw error;
    }
  }

  /**
   * Creates a directory and its missing parents below the root, and syncs the parent of each
   * (once per directory and process, even when it already existed: an earlier process may have
   * died before its sync). The mkdirs run top-down; the syncs then run together, so a new
   * chain of shard directories costs one round of syncs, overlapping the data's own sync.
   * Promises are shared per directory, so no caller links into a directory whose entry is not
   * durable yet.
   */
  ensureDir(dir: string): Promise<void> {
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
      durable = this.#madeDir(dir).then(() => this.dirSync.sync(dirname(dir)));
      this.#dirs.set(dir, durable);
      durable.catch(() => this.#dirs.delete(dir));
    }
    return durable;
  }

  async readdirOrEmpty(dir: string): Promise<string[]> {
    try {
      return await readdir(dir);
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return [];
      throw error;
    }
  }
}
