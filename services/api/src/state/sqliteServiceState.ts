import Database from 'better-sqlite3';
import type {
  DirectoryRow,
  EnrolmentCodeRow,
  ServiceState,
  SubmissionRow,
  UploadedObject,
  UploadRow,
} from './serviceState.js';
import { codeRow, directoryRow, submissionRow, uploadRow, type Row } from './stateRows.js';

const schema = `
CREATE TABLE IF NOT EXISTS enrolment_codes (
  code_id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  created_by TEXT NOT NULL,
  used_at INTEGER,
  used_by TEXT
) STRICT;
CREATE INDEX IF NOT EXISTS enrolment_codes_tenant ON enrolment_codes (tenant_id, created_at);
CREATE TABLE IF NOT EXISTS enrolment_submissions (
  submission_id TEXT PRIMARY KEY,
  code_id TEXT NOT NULL REFERENCES enrolment_codes (code_id) ON DELETE CASCADE,
  device_id TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  request BLOB NOT NULL,
  submitted_at INTEGER NOT NULL,
  UNIQUE (code_id, device_id)
) STRICT;
CREATE TABLE IF NOT EXISTS directory (
  tenant_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  display_name TEXT NOT NULL,
  email TEXT,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, user_id)
) STRICT;
CREATE TABLE IF NOT EXISTS upload_sessions (
  tenant_id TEXT NOT NULL,
  session_id TEXT NOT NULL,
  device_id TEXT NOT NULL,
  committee_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  hash TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  completed_at INTEGER,
  PRIMARY KEY (tenant_id, session_id)
) STRICT;
CREATE INDEX IF NOT EXISTS upload_sessions_object ON upload_sessions (tenant_id, kind, hash);
`;

/**
 * The service state in a SQLite file of its own (WAL, synchronous=FULL): small tables the
 * API's event loop reads and writes directly, each statement a few rows by primary key.
 * `:memory:` for tests.
 */
export class SqliteServiceState implements ServiceState {
  readonly #db: Database.Database;

  private constructor(db: Database.Database) {
    this.#db = db;
  }

  static open(path: string): SqliteServiceState {
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    // An erased name must not linger in freed pages: deleted content is overwritten with zeros.
    db.pragma('secure_delete = ON');
    db.exec(schema);
    return new SqliteServiceState(db);
  }

  async registerCode(code: EnrolmentCodeRow): Promise<boolean> {
    const result = this.#db
      .prepare(
        `INSERT INTO enrolment_codes (code_id, tenant_id, user_id, expires_at, created_at, created_by)
         VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (code_id) DO NOTHING`,
      )
      .run(code.codeId, code.tenantId, code.userId, code.expiresAt, code.createdAt, code.createdBy);
    return result.changes === 1;
  }

  async code(tenantId: string, codeId: string): Promise<EnrolmentCodeRow | null> {
    const row = this.#db
      .prepare('SELECT * FROM enrolment_codes WHERE code_id = ? AND tenant_id = ?')
      .get(codeId, tenantId) as Row | undefined;
    return row === undefined ? null : codeRow(row);
  }

  async listCodes(tenantId: string): Promise<EnrolmentCodeRow[]> {
    const rows = this.#db
      .prepare('SELECT * FROM enrolment_codes WHERE tenant_id = ? ORDER BY created_at, code_id')
      .all(tenantId) as Row[];
    return rows.map(codeRow);
  }

  async withdrawCode(tenantId: string, codeId: string): Promise<boolean> {
    const result = this.#db
      .prepare(
        'DELETE FROM enrolment_codes WHERE code_id = ? AND tenant_id = ? AND used_at IS NULL',
      )
      .run(codeId, tenantId);
    return result.changes === 1;
  }

  async addSubmission(row: SubmissionRow, max: number): Promise<'added' | 'full' | 'duplicate'> {
    return this.#db.transaction((): 'added' | 'full' | 'duplicate' => {
      const { count } = this.#db
        .prepare('SELECT count(*) AS count FROM enrolment_submissions WHERE code_id = ?')
        .get(row.codeId) as { count: number };
      const duplicate = this.#db
        .prepare('SELECT 1 FROM enrolment_submissions WHERE code_id = ? AND device_id = ?')
        .get(row.codeId, row.deviceId);
      if (duplicate !== undefined) return 'duplicate';
      if (count >= max) return 'full';
      this.#db
        .prepare(
          `INSERT INTO enrolment_submissions
             (submission_id, code_id, device_id, fingerprint, request, submitted_at)
           VALUES (?, ?, ?, ?, ?, ?)`,
        )
        .run(
          row.submissionId,
          row.codeId,
          row.deviceId,
          row.fingerprint,
          Buffer.from(row.request),
          row.submittedAt,
        );
      return 'added';
    })();
  }

  async pendingSubmissions(tenantId: string, now: number): Promise<SubmissionRow[]> {
    const rows = this.#db
      .prepare(
        `SELECT s.*, c.tenant_id, c.user_id, c.expires_at FROM enrolment_submissions s
           JOIN enrolment_codes c USING (code_id)
          WHERE c.tenant_id = ? AND c.used_at IS NULL AND c.expires_at > ?
          ORDER BY s.submitted_at, s.submission_id`,
      )
      .all(tenantId, now) as Row[];
    return rows.map(submissionRow);
  }

  async claimCode(
    tenantId: string,
    codeId: string,
    commandId: string,
    now: number,
  ): Promise<'claimed' | 'used' | 'unknown'> {
    return this.#db.transaction((): 'claimed' | 'used' | 'unknown' => {
      const row = this.#db
        .prepare('SELECT used_by FROM enrolment_codes WHERE code_id = ? AND tenant_id = ?')
        .get(codeId, tenantId) as { used_by: string | null } | undefined;
      if (row === undefined) return 'unknown';
      if (row.used_by !== null) return row.used_by === commandId ? 'claimed' : 'used';
      this.#db
        .prepare('UPDATE enrolment_codes SET used_at = ?, used_by = ? WHERE code_id = ?')
        .run(now, commandId, codeId);
      return 'claimed';
    })();
  }

  async releaseCode(tenantId: string, codeId: string, commandId: string): Promise<void> {
    this.#db
      .prepare(
        `UPDATE enrolment_codes SET used_at = NULL, used_by = NULL
          WHERE code_id = ? AND tenant_id = ? AND used_by = ?`,
      )
      .run(codeId, tenantId, commandId);
  }

  async putDirectoryEntry(entry: DirectoryRow): Promise<void> {
    this.#db
      .prepare(
        `INSERT INTO directory (tenant_id, user_id, display_name, email, updated_at)
         VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (tenant_id, user_id) DO UPDATE SET
           display_name = excluded.display_name, email = excluded.email,
           updated_at = excluded.updated_at`,
      )
      .run(entry.tenantId, entry.userId, entry.displayName, entry.email, entry.updatedAt);
  }

  async directoryEntry(tenantId: string, userId: string): Promise<DirectoryRow | null> {
    const row = this.#db
      .prepare('SELECT * FROM directory WHERE tenant_id = ? AND user_id = ?')
      .get(tenantId, userId) as Row | undefined;
    return row === undefined ? null : directoryRow(row);
  }

  async listDirectory(tenantId: string): Promise<DirectoryRow[]> {
    const rows = this.#db
      .prepare('SELECT * FROM directory WHERE tenant_id = ? ORDER BY user_id')
      .all(tenantId) as Row[];
    return rows.map(directoryRow);
  }

  async eraseDirectoryEntry(tenantId: string, userId: string): Promise<boolean> {
    const result = this.#db
      .prepare('DELETE FROM directory WHERE tenant_id = ? AND user_id = ?')
      .run(tenantId, userId);
    // The WAL still holds the page with the name: checkpoint it into the main file (where
    // secure_delete zeroed it) and truncate the WAL.
    this.#db.pragma('wal_checkpoint(TRUNCATE)');
    return result.changes === 1;
  }

  async openUpload(row: UploadRow): Promise<void> {
    this.#db
      .prepare(
        `INSERT INTO upload_sessions
           (tenant_id, session_id, device_id, committee_id, kind, hash, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        row.tenantId,
        row.sessionId,
        row.deviceId,
        row.committeeId,
        row.kind,
        row.hash,
        row.createdAt,
      );
  }

  async upload(tenantId: string, sessionId: string): Promise<UploadRow | null> {
    const row = this.#db
      .prepare('SELECT * FROM upload_sessions WHERE tenant_id = ? AND session_id = ?')
      .get(tenantId, sessionId) as Row | undefined;
    return row === undefined ? null : uploadRow(row);
  }

  async completeUpload(tenantId: string, sessionId: string, now: number): Promise<void> {
    this.#db
      .prepare(
        `UPDATE upload_sessions SET completed_at = ?
          WHERE tenant_id = ? AND session_id = ? AND completed_at IS NULL`,
      )
      .run(now, tenantId, sessionId);
  }

  async completedUpload(object: UploadedObject): Promise<boolean> {
    const row = this.#db
      .prepare(
        `SELECT 1 FROM upload_sessions
          WHERE tenant_id = ? AND kind = ? AND hash = ? AND device_id = ? AND committee_id = ?
            AND completed_at IS NOT NULL LIMIT 1`,
      )
      .get(object.tenantId, object.kind, object.hash, object.deviceId, object.committeeId);
    return row !== undefined;
  }

  async close(): Promise<void> {
    this.#db.close();
  }
}
