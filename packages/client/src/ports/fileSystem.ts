import type { LocalFile } from '../sync/plan.js';

/** A file the scan could not take in, and why; the scan goes on with the others. */
export interface ScanProblem {
  readonly path: string;
  readonly code: string;
  readonly message: string;
  readonly hint: string;
}

export interface ScanResult {
  readonly files: readonly (LocalFile & { readonly modifiedAt: number })[];
  readonly problems: readonly ScanProblem[];
}

/** The content of a file read while it did not change, with its hash. */
export interface StableRead {
  readonly bytes: Uint8Array;
  readonly hash: string;
  readonly modifiedAt: number;
}

/**
 * Plaintext on its way into the tree: written chunk by chunk into the engine's own folder (so a
 * download of any size costs a buffer, not its size in memory), then placed at its path in one
 * atomic rename. It takes the part of a decryption's sink: `commit` when every chunk verified,
 * `abort` when one did not (the staged bytes are removed). A crash leaves it to `recover`.
 */
export interface StagedFile {
  write(chunk: Uint8Array): Promise<void>;
  /** Flushes and closes: the content is complete and verified. */
  commit(): Promise<void>;
  /** Closes and removes what was written. */
  abort(reason: unknown): Promise<void>;
  /** Hex plaintext hash (the scan's) of what was written; read it after `commit`. */
  readonly hash: string;
  readonly size: number;
  /** Moves the committed content to `path` atomically, creating folders; once. */
  place(path: string, modifiedAt?: number): Promise<void>;
  /** Removes the staged content unless it was placed; safe to call more than once. */
  discard(): Promise<void>;
}

/**
 * The synced folder as the engine sees it: paths relative to its root, `/`-separated. Every
 * write is atomic (a reader sees the old file or the new one, never half of either) and nothing
 * is written outside the root.
 */
export interface FileSystem {
  /** Every file of the tree with its plaintext hash, except the engine's own folder. */
  scan(): Promise<ScanResult>;
  /** Reads a file, retrying while it changes under the read; refuses one that never settles. */
  readStable(path: string): Promise<StableRead>;
  /** Writes `bytes` to `path` atomically (temp file, fsync, rename, fsync of the folder). */
  writeAtomic(
    path: string,
    bytes: Uint8Array | AsyncIterable<Uint8Array>,
    modifiedAt?: number,
  ): Promise<string>;
  /** A new staged file in the engine's own folder (see `StagedFile`). */
  stage(): Promise<StagedFile>;
  /** Renames within the tree, creating folders; refuses to replace an existing file. */
  rename(from: string, to: string): Promise<void>;
  /** Removes a file and the folders it leaves empty; a missing file is no error. */
  remove(path: string): Promise<void>;
  exists(path: string): Promise<boolean>;
}
