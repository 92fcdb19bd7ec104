import { createHash } from 'node:crypto';
import { constants, createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { isRatsfachError } from '@ratsfach/kernel';
import { BlobHasher, encryptContent, type BlobDigest, type ContentParams } from '@ratsfach/crypto';
import { resolveInside } from '../node/nodeFileSystem.js';
import { fileSystemError, fileUnstableError } from './syncErrors.js';

/** What encrypting a file produced: the plaintext it read and the ciphertext it wrote. */
export interface EncryptedFile {
  /** Hex BLAKE2b-512 of the plaintext, the hash the index keeps. */
  readonly plainHash: string;
  readonly plainSize: number;
  /** Size, mtime and inode of the file read: a later different stamp means it changed. */
  readonly stamp: string;
  readonly modifiedAt: number;
  /** Hash and size of the encrypted blob (what the version record signs). */
  readonly digest: BlobDigest;
}

/** The identity of a file's current content as the file system shows it, or null when absent. */
export const fileStamp = async (root: string, path: string): Promise<string | null> => {
  try {
    const s = await stat(resolveInside(root, path));
    return `${s.size}:${s.mtimeMs}:${s.ino}`;
  } catch (error) {
    if (isRatsfachError(error)) throw error;
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw fileSystemError(path, error);
  }
};

const writeBatch = 1024 * 1024;

/**
 * Encrypts the file at `path` (relative to `root`) into `target`, streaming: the file is read
 * in 1 MiB pieces, encrypted chunk by chunk and written out in 1 MiB batches while the blob
 * hash and the plaintext hash are computed, so memory stays flat whatever the file's size. A
 * file that changes while it is read (size, mtime or inode differ afterwards) is read again,
 * up to `attempts` times, then refused (`RATSFACH_SYNC_FILE_UNSTABLE`): never sent torn.
 */
export const encryptFileToSpool = async (
  root: string,
  path: string,
  target: string,
  params: ContentParams,
  options: { readonly attempts?: number; readonly afterRead?: () => Promise<void> } = {},
): Promise<EncryptedFile> => {
  const absolute = resolveInside(root, path);
  const attempts = options.attempts ?? 3;
  for (let attempt = 1; attempt <= attempts; attempt += 1) {
    let before;
    try {
      before = await stat(absolute);
    } catch (error) {
      throw fileSystemError(path, error);
    }
    const plain = createHash('blake2b512');
    let plainSize = 0;
    const blob = new BlobHasher();
    const out = await open(
      target,
      constants.O_CREAT | constants.O_TRUNC | constants.O_WRONLY,
      0o600,
    );
    try {
      const source = async function* (): AsyncGenerator<Uint8Array> {
        for await (const piece of createReadStream(absolute, { highWaterMark: writeBatch })) {
          const bytes = piece as Buffer;
          plain.update(bytes);
          plainSize += bytes.length;
          yield bytes;
        }
      };
      let batch: Uint8Array[] = [];
      let batched = 0;
      const flush = async (): Promise<void> => {
        if (batched === 0) return;
        await out.write(batch.length === 1 ? (batch[0] as Uint8Array) : Buffer.concat(batch));
        batch = [];
        batched = 0;
      };
      for await (const chunk of encryptContent(source(), params)) {
        blob.update(chunk);
        // Each chunk is a fresh array from libsodium: kept as it is until the batch is written.
        batch.push(chunk);
        batched += chunk.length;
        if (batched >= writeBatch) await flush();
      }
      await flush();
      await out.sync();
    } catch (error) {
      throw isRatsfachError(error) ? error : fileSystemError(path, error);
    } finally {
      await out.close();
    }
    await options.afterRead?.();
    let after;
    try {
      after = await stat(absolute);
    } catch (error) {
      throw fileSystemError(path, error);
    }
    if (
      before.size === after.size &&
      before.mtimeMs === after.mtimeMs &&
      before.ino === after.ino &&
      plainSize === after.size
    ) {
      return {
        plainHash: plain.digest('hex'),
        plainSize,
        stamp: `${after.size}:${after.mtimeMs}:${after.ino}`,
        modifiedAt: Math.floor(after.mtimeMs),
        digest: blob.digest(),
      };
    }
  }
  throw fileUnstableError(path, attempts);
};
