import { ConflictError, IntegrityError, UnavailableError, ValidationError } from '@ratsfach/kernel';

/** Stable codes of the sync engine's own errors (the kernel's prefix, the client's area). */
export const SyncErrorCode = {
  /** A local file name the file system (or the document format) cannot hold. */
  unsupportedName: 'RATSFACH_SYNC_UNSUPPORTED_NAME',
  /** A file kept changing while it was read; it was not committed. */
  fileUnstable: 'RATSFACH_SYNC_FILE_UNSTABLE',
  /** The local state file is not a ratsfach state file, or of a newer format. */
  stateUnusable: 'RATSFACH_SYNC_STATE_UNUSABLE',
  /** A path tries to leave the synced folder. */
  pathOutsideTree: 'RATSFACH_SYNC_PATH_OUTSIDE_TREE',
  /** The file system refused a read or a write (permissions, full disk). */
  fileSystem: 'RATSFACH_SYNC_FILE_SYSTEM',
  /** The watcher could not watch the tree (e.g. out of inotify watches). */
  watcherFailed: 'RATSFACH_SYNC_WATCHER_FAILED',
  /** The service left out something it must serve: a record, a key slot, content. */
  serverWithheld: 'RATSFACH_SYNC_SERVER_WITHHELD',
} as const;
export type SyncErrorCode = (typeof SyncErrorCode)[keyof typeof SyncErrorCode];

/** A name that cannot be written to (or read from) this file system. */
export const unsupportedNameError = (path: string, why: string): ValidationError =>
  new ValidationError(SyncErrorCode.unsupportedName, `the name ${JSON.stringify(path)} ${why}`, {
    hint: 'rename the document (on another device, or the file here) to a name without / \\ : * ? " < > | or control characters',
  });

/** A path that would leave the synced tree. */
export const outsideTreeError = (path: string): ValidationError =>
  new ValidationError(
    SyncErrorCode.pathOutsideTree,
    `the path ${JSON.stringify(path)} leaves the synced folder`,
    { hint: 'a document name must not contain .. or an absolute path; nothing was written' },
  );

/** A file that kept changing while it was read. */
export const fileUnstableError = (path: string, attempts: number): ConflictError =>
  new ConflictError(
    SyncErrorCode.fileUnstable,
    `${path} changed while it was read (${attempts} attempts); it was not sent`,
    { hint: 'it is sent on the next sync once it stops changing; close the program writing it' },
  );

/** The file system refused an operation on one file. */
export const fileSystemError = (path: string, cause: unknown): UnavailableError => {
  const code = (cause as NodeJS.ErrnoException | undefined)?.code ?? 'unknown';
  const hints: Record<string, string> = {
    ENOSPC: 'the disk is full: free some space; nothing was lost and the sync resumes',
    EACCES: 'you may not read or write this file: fix its permissions',
    EPERM: 'you may not read or write this file: fix its permissions',
    EROFS: 'the folder is on a read-only file system',
    ENAMETOOLONG: 'the name is too long for this file system: rename the document',
  };
  return new UnavailableError(
    SyncErrorCode.fileSystem,
    `${path}: ${code} (${(cause as Error | undefined)?.message ?? String(cause)})`,
    { hint: hints[code] ?? 'check the folder is writable and retry', cause },
  );
};

/** The service did not serve something it must (a record it announced, a key slot, content). */
export const serverWithheldError = (what: string): IntegrityError =>
  new IntegrityError(SyncErrorCode.serverWithheld, `the service did not serve ${what}`, {
    hint: 'nothing was written; the next sync tries again, and if it persists tell your administrator',
  });
