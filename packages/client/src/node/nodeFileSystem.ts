import { createHash, randomBytes } from 'node:crypto';
import { constants, createReadStream } from 'node:fs';
import {
  lstat,
  mkdir,
  open,
  readdir,
  readFile,
  rename,
  rm,
  rmdir,
  stat,
  utimes,
} from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import { isRatsfachError } from '@ratsfach/kernel';
import type {
  FileSystem,
  ScanProblem,
  ScanResult,
  StableRead,
  StagedFile,
} from '../ports/fileSystem.js';
import {
  fileSystemError,
  fileUnstableError,
  outsideTreeError,
  unsupportedNameError,
} from '../sync/syncErrors.js';

/** The engine's own folder at the root of the tree: temp files, never synced. */
export const engineFolder = '.ratsfach';

const maxSegmentBytes = 255;
// Names Windows and macOS cannot hold either: refused everywhere so a tree syncs to every device.
const portableForbidden = /[\\:*?"<>|\p{Cc}]/u;

/** Hex BLAKE2b-512 of a file, read in chunks, and how many bytes it read. */
const hashFile = async (absolute: string): Promise<{ value: string; length: number }> => {
  const hasher = createHash('blake2b512');
  let length = 0;
  for await (const chunk of createReadStream(absolute, { highWaterMark: 1 << 20 })) {
    hasher.update(chunk as Buffer);
    length += (chunk as Buffer).length;
  }
  return { value: hasher.digest('hex'), length };
};

/** Hex BLAKE2b-512 of bytes: the hash the index keeps of plaintext. */
export const plaintextHash = (bytes: Uint8Array): string =>
  createHash('blake2b512').update(bytes).digest('hex');

/**
 * Checks a tree-relative path and returns its absolute form under `root`. Refuses `..`, an
 * absolute path, empty segments and names some file system cannot hold.
 */
export const resolveInside = (root: string, path: string): string => {
  const segments = path.split('/');
  if (path.length === 0 || path.startsWith('/')) throw outsideTreeError(path);
  for (const segment of segments) {
    if (segment === '..' || segment === '.' || segment === '') throw outsideTreeError(path);
    if (Buffer.byteLength(segment) > maxSegmentBytes) {
      throw unsupportedNameError(path, `has a part longer than ${maxSegmentBytes} bytes`);
    }
    if (portableForbidden.test(segment) || /[ .]$/.test(segment)) {
      throw unsupportedNameError(
        path,
        'holds a character (or ends in one) that some file systems cannot hold',
      );
    }
  }
  if (segments[0] === engineFolder) throw outsideTreeError(path);
  return join(root, ...segments);
};

const problemOf = (path: string, error: unknown): ScanProblem => {
  const typed = isRatsfachError(error) ? error : fileSystemError(path, error);
  return { path, code: typed.code, message: typed.message, hint: typed.hint ?? '' };
};

export interface NodeFileSystemOptions {
  /** How often a file that changes while read is read again before it is given up for now. */
  readonly readAttempts?: number;
  /** Pause between attempts, ms. */
  readonly retryDelayMs?: number;
  /** Called between reading a file and checking it did not change: a seam for tests. */
  readonly afterRead?: (path: string, attempt: number) => Promise<void>;
}

/** The synced folder on a Node file system. */
export class NodeFileSystem implements FileSystem {
  readonly root: string;
  readonly #attempts: number;
  readonly #delay: number;
  readonly #afterRead: NodeFileSystemOptions['afterRead'];
  /** Hashes by path, valid while size, mtime and inode stay the same: a rescan reads nothing new. */
  readonly #hashCache = new Map<string, { key: string; hash: string }>();

  constructor(root: string, options: NodeFileSystemOptions = {}) {
    this.root = root;
    this.#attempts = options.readAttempts ?? 5;
    this.#delay = options.retryDelayMs ?? 50;
    this.#afterRead = options.afterRead;
  }

  /** Removes temp files a crash left behind; call once before the first sync. */
  async recover(): Promise<void> {
    await rm(join(this.root, engineFolder, 'tmp'), { recursive: true, force: true });
  }

  async scan(): Promise<ScanResult> {
    const files: ScanResult['files'][number][] = [];
    const problems: ScanProblem[] = [];
    const walk = async (relative: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(relative === '' ? this.root : join(this.root, relative), {
          withFileTypes: true,
        });
      } catch (error) {
        problems.push(problemOf(relative, error));
        return;
      }
      for (const entry of entries) {
        const path = relative === '' ? entry.name : `${relative}/${entry.name}`;
        if (relative === '' && entry.name === engineFolder) continue;
        if (entry.isDirectory()) {
          await walk(path);
        } else if (entry.isFile()) {
          try {
            resolveInside(this.root, path);
            const read = await this.#hashStable(path);
            files.push({ path, hash: read.hash, size: read.size, modifiedAt: read.modifiedAt });
          } catch (error) {
            problems.push(problemOf(path, error));
          }
        }
        // Symbolic links and special files are not synced: they could point out of the tree.
      }
    };
    await walk('');
    files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    return { files, problems };
  }

  async #hashStable(path: string): Promise<{ hash: string; size: number; modifiedAt: number }> {
    const absolute = join(this.root, ...path.split('/'));
    const before = await stat(absolute);
    const key = `${before.size}:${before.mtimeMs}:${before.ino}`;
    const cached = this.#hashCache.get(path);
    if (cached?.key === key)
      return { hash: cached.hash, size: before.size, modifiedAt: before.mtimeMs };
    // Streamed: a scan holds a buffer, not the file, however large the file is.
    const read = await this.#stableRead(path, hashFile);
    this.#hashCache.set(path, {
      key: `${read.length}:${read.modifiedAt}:${read.ino}`,
      hash: read.value,
    });
    return { hash: read.value, size: read.length, modifiedAt: read.modifiedAt };
  }

  async readStable(path: string): Promise<StableRead> {
    const read = await this.#stableRead(path, async (absolute) => {
      const bytes = await readFile(absolute);
      return { value: bytes, length: bytes.length };
    });
    return { bytes: read.value, hash: plaintextHash(read.value), modifiedAt: read.modifiedAt };
  }

  /**
   * Reads a file with `read` until it did not change under the read (same size, time and inode
   * before and after, and as many bytes as it holds); refuses one that never settles.
   */
  async #stableRead<T>(
    path: string,
    read: (absolute: string) => Promise<{ value: T; length: number }>,
  ): Promise<{ value: T; length: number; modifiedAt: number; ino: number }> {
    const absolute = resolveInside(this.root, path);
    for (let attempt = 1; attempt <= this.#attempts; attempt += 1) {
      try {
        const before = await stat(absolute);
        const { value, length } = await read(absolute);
        await this.#afterRead?.(path, attempt);
        const after = await stat(absolute);
        if (
          before.size === after.size &&
          before.mtimeMs === after.mtimeMs &&
          before.ino === after.ino &&
          length === after.size
        ) {
          return { value, length, modifiedAt: after.mtimeMs, ino: after.ino };
        }
      } catch (error) {
        throw fileSystemError(path, error);
      }
      await new Promise((resolve) => setTimeout(resolve, this.#delay * attempt));
    }
    throw fileUnstableError(path, this.#attempts);
  }

  async writeAtomic(
    path: string,
    bytes: Uint8Array | AsyncIterable<Uint8Array>,
    modifiedAt?: number,
  ): Promise<string> {
    resolveInside(this.root, path);
    const staged = await this.stage();
    try {
      for await (const chunk of bytes instanceof Uint8Array ? [bytes] : bytes) {
        await staged.write(chunk);
      }
      await staged.commit();
      await staged.place(path, modifiedAt);
      return staged.hash;
    } catch (error) {
      await staged.abort(error);
      throw isRatsfachError(error) ? error : fileSystemError(path, error);
    }
  }

  async stage(): Promise<StagedFile> {
    const tmpDir = join(this.root, engineFolder, 'tmp');
    const tmp = join(tmpDir, `${randomBytes(12).toString('hex')}.part`);
    const staged = `${engineFolder}/tmp`;
    let handle;
    try {
      await mkdir(tmpDir, { recursive: true });
      handle = await open(tmp, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o600);
    } catch (error) {
      throw fileSystemError(staged, error);
    }
    const open_ = handle;
    const hasher = createHash('blake2b512');
    let size = 0;
    let hash: string | undefined;
    let closed = false;
    let placed = false;
    const close = async (): Promise<void> => {
      if (closed) return;
      closed = true;
      await open_.close();
    };
    const discard = async (): Promise<void> => {
      await close().catch(() => undefined);
      if (!placed) await rm(tmp, { force: true });
    };
    return {
      write: async (chunk) => {
        if (hash !== undefined || closed)
          throw fileSystemError(staged, new Error('write after commit'));
        hasher.update(chunk);
        let offset = 0;
        try {
          while (offset < chunk.length) {
            const { bytesWritten } = await open_.write(chunk, offset, chunk.length - offset);
            offset += bytesWritten;
          }
        } catch (error) {
          throw fileSystemError(staged, error);
        }
        size += chunk.length;
      },
      commit: async () => {
        try {
          await open_.sync();
          await close();
        } catch (error) {
          throw fileSystemError(staged, error);
        }
        hash = hasher.digest('hex');
      },
      abort: discard,
      get hash() {
        if (hash === undefined) throw fileSystemError(staged, new Error('hash read before commit'));
        return hash;
      },
      get size() {
        return size;
      },
      place: async (path, modifiedAt) => {
        const absolute = resolveInside(this.root, path);
        if (hash === undefined || placed) {
          throw fileSystemError(path, new Error(placed ? 'placed twice' : 'placed before commit'));
        }
        try {
          await mkdir(dirname(absolute), { recursive: true });
          if (modifiedAt !== undefined) {
            const at = new Date(modifiedAt);
            await utimes(tmp, at, at);
          }
          await rename(tmp, absolute);
          placed = true;
          await syncFolder(dirname(absolute));
        } catch (error) {
          throw fileSystemError(path, error);
        }
        this.#hashCache.delete(path);
      },
      discard,
    };
  }

  async rename(from: string, to: string): Promise<void> {
    const source = resolveInside(this.root, from);
    const target = resolveInside(this.root, to);
    try {
      if (await this.exists(to)) {
        throw fileSystemError(
          to,
          Object.assign(new Error('the target exists'), { code: 'EEXIST' }),
        );
      }
      await mkdir(dirname(target), { recursive: true });
      await rename(source, target);
      await syncFolder(dirname(target));
      this.#hashCache.delete(from);
    } catch (error) {
      throw isRatsfachError(error) ? error : fileSystemError(from, error);
    }
    await this.#pruneEmpty(dirname(source));
  }

  async remove(path: string): Promise<void> {
    const absolute = resolveInside(this.root, path);
    try {
      await rm(absolute, { force: true });
    } catch (error) {
      throw fileSystemError(path, error);
    }
    this.#hashCache.delete(path);
    await this.#pruneEmpty(dirname(absolute));
  }

  async exists(path: string): Promise<boolean> {
    try {
      await lstat(resolveInside(this.root, path));
      return true;
    } catch (error) {
      if (isRatsfachError(error)) throw error;
      return false;
    }
  }

  /** Removes folders a removal left empty, up to (not including) the root. */
  async #pruneEmpty(folder: string): Promise<void> {
    let current = folder;
    while (current.startsWith(this.root + sep) && current !== this.root) {
      try {
        await rmdir(current);
      } catch {
        return; // not empty (or gone): stop climbing
      }
      current = dirname(current);
    }
  }
}

/**
 * Syncs a folder, so that a rename into it survives a power cut (a rename is durable only once
 * its folder is synced). Does nothing on Windows, which cannot open folders for that.
 */
export const syncFolder = async (folder: string): Promise<void> => {
  if (process.platform === 'win32') return;
  const handle = await open(folder, constants.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
};
