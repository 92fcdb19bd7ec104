import Database from 'better-sqlite3';
import { SeenHeads } from '@ratsfach/crypto';
import { IntegrityError } from '@ratsfach/kernel';
import type { LocalState, QueuedChange, TransferProgress } from '../ports/localState.js';
import type { IndexEntry, RemoteDocument } from '../sync/plan.js';
import { SyncErrorCode } from '../sync/syncErrors.js';

const schemaVersion = 1;
const applicationId = 0x52534643; // "RSFC": marks the file as a ratsfach client state

const schema = `
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
CREATE TABLE IF NOT EXISTS chains (
  stream TEXT NOT NULL, position INTEGER NOT NULL, hash BLOB NOT NULL,
  PRIMARY KEY (stream, position)) STRICT;
CREATE TABLE IF NOT EXISTS files (
  document_id TEXT PRIMARY KEY, committee_id TEXT NOT NULL, path TEXT NOT NULL UNIQUE,
  version INTEGER NOT NULL, hash TEXT NOT NULL) STRICT;
CREATE TABLE IF NOT EXISTS remote (
  document_id TEXT PRIMARY KEY, committee_id TEXT NOT NULL, path TEXT NOT NULL,
  version INTEGER NOT NULL, hash TEXT NOT NULL, size INTEGER NOT NULL,
  modified_at INTEGER NOT NULL, deleted INTEGER NOT NULL) STRICT;
CREATE TABLE IF NOT EXISTS queue (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, command_id TEXT NOT NULL UNIQUE, kind TEXT NOT NULL,
  payload TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT) STRICT;
CREATE TABLE IF NOT EXISTS transfers (
  key TEXT PRIMARY KEY, session_id TEXT, size INTEGER NOT NULL, done INTEGER NOT NULL,
  updated_at INTEGER NOT NULL) STRICT;
`;

const unusable = (path: string, why: string, cause?: unknown): IntegrityError =>
  new IntegrityError(SyncErrorCode.stateUnusable, `${path} ${why}`, {
    hint: 'this is not a state file of this ratsfach version: point --profile at the right directory, or move the file away to start this profile afresh',
    cause,
  });

interface FileRow {
  document_id: string;
  committee_id: string;
  path: string;
  version: number;
  hash: string;
}
interface RemoteRow extends FileRow {
  size: number;
  modified_at: number;
  deleted: number;
}
interface QueueRow {
  seq: number;
  command_id: string;
  kind: string;
  payload: string;
  attempts: number;
  last_error: string | null;
}
interface TransferRow {
  key: string;
  session_id: string | null;
  size: number;
  done: number;
  updated_at: number;
}

const toEntry = (row: FileRow): IndexEntry => ({
  documentId: row.document_id,
  committeeId: row.committee_id,
  path: row.path,
  version: row.version,
  hash: row.hash,
});
const toRemote = (row: RemoteRow): RemoteDocument => ({
  ...toEntry(row),
  size: row.size,
  modifiedAt: row.modified_at,
  deleted: row.deleted === 1,
});
const toQueued = (row: QueueRow): QueuedChange => ({
  seq: row.seq,
  commandId: row.command_id,
  kind: row.kind,
  payload: JSON.parse(row.payload) as Record<string, unknown>,
  attempts: row.attempts,
  lastError: row.last_error,
});
const toTransfer = (row: TransferRow): TransferProgress => ({
  key: row.key,
  sessionId: row.session_id,
  size: row.size,
  done: row.done,
  updatedAt: row.updated_at,
});

/**
 * The device's local state in one SQLite file of its profile (better-sqlite3, WAL,
 * synchronous=FULL: a queued change that was acknowledged to the user survives a power cut).
 * Refuses a file that is not a ratsfach client state, or one written by a newer version.
 */
export class SqliteLocalState implements LocalState {
  readonly #db: Database.Database;

  constructor(path: string) {
    try {
      this.#db = new Database(path);
      const found = this.#db.pragma('application_id', { simple: true }) as number;
      const version = this.#db.pragma('user_version', { simple: true }) as number;
      const empty =
        (this.#db.prepare('SELECT count(*) AS n FROM sqlite_schema').get() as { n: number }).n ===
        0;
      if (!empty && found !== applicationId)
        throw unusable(path, 'is not a ratsfach client state file');
      if (version > schemaVersion) {
        throw unusable(path, `was written by a newer ratsfach (state format ${version})`);
      }
      this.#db.pragma('journal_mode = WAL');
      this.#db.pragma('synchronous = FULL');
      this.#db.pragma('busy_timeout = 5000');
      this.#db.exec(schema);
      this.#db.pragma(`application_id = ${applicationId}`);
      this.#db.pragma(`user_version = ${schemaVersion}`);
    } catch (error) {
      if (error instanceof IntegrityError) throw error;
      throw unusable(path, `cannot be opened as a state file (${(error as Error).message})`, error);
    }
  }

  cursor(): string | null {
    return this.setting('cursor') ?? null;
  }

  setCursor(cursor: string | null): void {
    this.setSetting('cursor', cursor);
  }

  seenHeads(): SeenHeads {
    const rows = this.#db
      .prepare('SELECT stream, hash FROM chains ORDER BY stream, position')
      .all() as { stream: string; hash: Buffer }[];
    const stored: Record<string, Uint8Array[]> = {};
    for (const row of rows) (stored[row.stream] ??= []).push(new Uint8Array(row.hash));
    return SeenHeads.restore(stored);
  }

  saveSeenHeads(seen: SeenHeads): void {
    const insert = this.#db.prepare(
      'INSERT OR REPLACE INTO chains (stream, position, hash) VALUES (?, ?, ?)',
    );
    const trim = this.#db.prepare('DELETE FROM chains WHERE stream = ? AND position >= ?');
    this.transaction(() => {
      for (const [stream, hashes] of Object.entries(seen.toStored())) {
        hashes.forEach((hash, position) => insert.run(stream, position, hash));
        trim.run(stream, hashes.length);
      }
    });
  }

  index(): readonly IndexEntry[] {
    return (this.#db.prepare('SELECT * FROM files ORDER BY path').all() as FileRow[]).map(toEntry);
  }

  indexEntry(documentId: string): IndexEntry | undefined {
    const row = this.#db.prepare('SELECT * FROM files WHERE document_id = ?').get(documentId) as
      FileRow | undefined;
    return row === undefined ? undefined : toEntry(row);
  }

  indexEntryAt(path: string): IndexEntry | undefined {
    const row = this.#db.prepare('SELECT * FROM files WHERE path = ?').get(path) as
      FileRow | undefined;
    return row === undefined ? undefined : toEntry(row);
  }

  putIndexEntry(entry: IndexEntry): void {
    this.transaction(() => {
      // A path belongs to one document: whoever held it before lost it to a rename.
      this.#db
        .prepare('DELETE FROM files WHERE path = ? AND document_id <> ?')
        .run(entry.path, entry.documentId);
      this.#db
        .prepare(
          'INSERT OR REPLACE INTO files (document_id, committee_id, path, version, hash) VALUES (?, ?, ?, ?, ?)',
        )
        .run(entry.documentId, entry.committeeId, entry.path, entry.version, entry.hash);
    });
  }

  removeIndexEntry(documentId: string): void {
    this.#db.prepare('DELETE FROM files WHERE document_id = ?').run(documentId);
  }

  remote(): readonly RemoteDocument[] {
    return (this.#db.prepare('SELECT * FROM remote ORDER BY document_id').all() as RemoteRow[]).map(
      toRemote,
    );
  }

  putRemote(document: RemoteDocument): void {
    this.#db
      .prepare(
        `INSERT OR REPLACE INTO remote (document_id, committee_id, path, version, hash, size, modified_at, deleted)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        document.documentId,
        document.committeeId,
        document.path,
        document.version,
        document.hash,
        document.size,
        document.modifiedAt,
        document.deleted ? 1 : 0,
      );
  }

  removeRemote(documentId: string): void {
    this.#db.prepare('DELETE FROM remote WHERE document_id = ?').run(documentId);
  }

  queue(): readonly QueuedChange[] {
    return (this.#db.prepare('SELECT * FROM queue ORDER BY seq').all() as QueueRow[]).map(toQueued);
  }

  enqueue(change: Omit<QueuedChange, 'seq' | 'attempts' | 'lastError'>): QueuedChange {
    const existing = this.#db
      .prepare('SELECT * FROM queue WHERE command_id = ?')
      .get(change.commandId) as QueueRow | undefined;
    if (existing !== undefined) return toQueued(existing);
    const result = this.#db
      .prepare('INSERT INTO queue (command_id, kind, payload) VALUES (?, ?, ?)')
      .run(change.commandId, change.kind, JSON.stringify(change.payload));
    return toQueued(
      this.#db
        .prepare('SELECT * FROM queue WHERE seq = ?')
        .get(Number(result.lastInsertRowid)) as QueueRow,
    );
  }

  markAttempt(seq: number, error: string | null): void {
    this.#db
      .prepare('UPDATE queue SET attempts = attempts + 1, last_error = ? WHERE seq = ?')
      .run(error, seq);
  }

  dequeue(seq: number): void {
    this.#db.prepare('DELETE FROM queue WHERE seq = ?').run(seq);
  }

  transfer(key: string): TransferProgress | undefined {
    const row = this.#db.prepare('SELECT * FROM transfers WHERE key = ?').get(key) as
      TransferRow | undefined;
    return row === undefined ? undefined : toTransfer(row);
  }

  putTransfer(progress: TransferProgress): void {
    this.#db
      .prepare(
        'INSERT OR REPLACE INTO transfers (key, session_id, size, done, updated_at) VALUES (?, ?, ?, ?, ?)',
      )
      .run(progress.key, progress.sessionId, progress.size, progress.done, progress.updatedAt);
  }

  removeTransfer(key: string): void {
    this.#db.prepare('DELETE FROM transfers WHERE key = ?').run(key);
  }

  setting(key: string): string | undefined {
    const row = this.#db.prepare('SELECT value FROM settings WHERE key = ?').get(key) as
      { value: string } | undefined;
    return row?.value;
  }

  setSetting(key: string, value: string | null): void {
    if (value === null) this.#db.prepare('DELETE FROM settings WHERE key = ?').run(key);
    else
      this.#db
        .prepare('INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)')
        .run(key, value);
  }

  transaction<T>(work: () => T): T {
    return this.#db.transaction(work)();
  }

  clear(): void {
    this.transaction(() => {
      for (const table of ['settings', 'chains', 'files', 'remote', 'queue', 'transfers']) {
        this.#db.prepare(`DELETE FROM ${table}`).run();
      }
    });
  }

  close(): void {
    this.#db.close();
  }
}
