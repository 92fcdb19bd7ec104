import type { SeenHeads } from '@ratsfach/crypto';
import type { IndexEntry, RemoteDocument } from '../sync/plan.js';

/** A local change waiting to be sent; it survives restarts and keeps its command id for retries. */
export interface QueuedChange {
  readonly seq: number;
  /** The command id every retry reuses, so the server applies it once. */
  readonly commandId: string;
  readonly kind: string;
  readonly payload: Readonly<Record<string, unknown>>;
  readonly attempts: number;
  readonly lastError: string | null;
}

/** A transfer in progress: enough to resume it where it stopped. */
export interface TransferProgress {
  /** `up:<path>@<hash>` or `down:<document>@<version>`. */
  readonly key: string;
  /** The server's upload session id, or null for a download. */
  readonly sessionId: string | null;
  readonly size: number;
  /** Bytes known to be on the other side (upload) or on disk (download). */
  readonly done: number;
  readonly updatedAt: number;
}

/**
 * Everything a device keeps between syncs apart from keys and plaintext. One per device profile;
 * the engine reads and writes it only through this interface, so a tablet app can keep it in
 * IndexedDB instead of SQLite.
 */
export interface LocalState {
  /** The opaque manifest cursor of the last delta applied, or null before the first sync. */
  cursor(): string | null;
  setCursor(cursor: string | null): void;

  /**
   * The chains seen so far (the crypto package's `SeenHeads`, which refuses a rollback or a
   * fork when a chain is accepted); `saveSeenHeads` keeps what was accepted.
   */
  seenHeads(): SeenHeads;
  saveSeenHeads(seen: SeenHeads): void;

  /** The index: what this device last synced, document by document. */
  index(): readonly IndexEntry[];
  indexEntry(documentId: string): IndexEntry | undefined;
  indexEntryAt(path: string): IndexEntry | undefined;
  putIndexEntry(entry: IndexEntry): void;
  removeIndexEntry(documentId: string): void;

  /** The verified remote heads. */
  remote(): readonly RemoteDocument[];
  putRemote(document: RemoteDocument): void;
  removeRemote(documentId: string): void;

  /** Queue of local changes, oldest first. */
  queue(): readonly QueuedChange[];
  enqueue(change: Omit<QueuedChange, 'seq' | 'attempts' | 'lastError'>): QueuedChange;
  markAttempt(seq: number, error: string | null): void;
  dequeue(seq: number): void;

  transfer(key: string): TransferProgress | undefined;
  putTransfer(progress: TransferProgress): void;
  removeTransfer(key: string): void;

  /** A small key/value store for settings (device name, selected committees, guard). */
  setting(key: string): string | undefined;
  setSetting(key: string, value: string | null): void;

  /** Runs `work` in one transaction: all of it is kept, or none. */
  transaction<T>(work: () => T): T;

  /** Forgets everything (wipe on revocation). */
  clear(): void;
  close(): void;
}
