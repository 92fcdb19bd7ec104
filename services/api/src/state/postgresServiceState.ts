import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { UnavailableError, ValidationError, isRatsfachError } from '@ratsfach/domain';
import type { LoginChallengeEntry, LoginChallengeStore } from '../auth/loginChallenges.js';
import type { TokenGrant, TokenStore } from '../auth/tokenStore.js';
import type {
  DirectoryRow,
  EnrolmentCodeRow,
  ServiceState,
  SubmissionRow,
  UploadedObject,
  UploadRow,
} from './serviceState.js';
import { codeRow, directoryRow, num, submissionRow, uploadRow, type Row } from './stateRows.js';

export interface PostgresServiceStateOptions {
  /**
   * A pool the caller owns (it stays open after `close`; it needs its own 'error' listener),
   * or the settings of a pool the state creates and ends.
   */
  readonly connection: { readonly pool: pg.Pool } | pg.PoolConfig;
  /** Schema of the tables; created if missing. Lowercase letters, digits and `_`. */
  readonly schema: string;
  /** Login-challenge lifetime in ms (default 60 s). */
  readonly challengeTtlMs?: number;
  /** Unix milliseconds; a test passes a clock it moves. */
  readonly now?: () => number;
}

const schemaPattern = /^[a-z_][a-z0-9_]{0,62}$/;

const tables = [
  `CREATE TABLE IF NOT EXISTS enrolment_codes (
    code_id text PRIMARY KEY,
    tenant_id text NOT NULL,
    user_id text NOT NULL,
    expires_at bigint NOT NULL,
    created_at bigint NOT NULL,
    created_by text NOT NULL,
    used_at bigint,
    used_by text
  )`,
  `CREATE INDEX IF NOT EXISTS enrolment_codes_tenant ON enrolment_codes (tenant_id, created_at)`,
  `CREATE TABLE IF NOT EXISTS enrolment_submissions (
    submission_id text PRIMARY KEY,
    code_id text NOT NULL REFERENCES enrolment_codes (code_id) ON DELETE CASCADE,
    device_id text NOT NULL,
    fingerprint text NOT NULL,
    request bytea NOT NULL,
    submitted_at bigint NOT NULL,
    UNIQUE (code_id, device_id)
  )`,
  `CREATE TABLE IF NOT EXISTS directory (
    tenant_id text NOT NULL,
    user_id text NOT NULL,
    display_name text NOT NULL,
    email text,
    updated_at bigint NOT NULL,
    PRIMARY KEY (tenant_id, user_id)
  )`,
  `CREATE TABLE IF NOT EXISTS tokens (
    token_hash text PRIMARY KEY,
    tenant_id text NOT NULL,
    user_id text NOT NULL,
    device_id text NOT NULL,
    expires_at bigint NOT NULL
  )`,
  `CREATE INDEX IF NOT EXISTS tokens_expiry ON tokens (expires_at)`,
  `CREATE TABLE IF NOT EXISTS login_challenges (
    challenge_id text PRIMARY KEY,
    tenant_id text NOT NULL,
    device_id text NOT NULL,
    challenge bytea NOT NULL,
    expires_at bigint NOT NULL
  )`,
  `CREATE INDEX IF NOT EXISTS login_challenges_expiry ON login_challenges (expires_at)`,
  `CREATE TABLE IF NOT EXISTS upload_sessions (
    tenant_id text NOT NULL,
    session_id text NOT NULL,
    device_id text NOT NULL,
    committee_id text NOT NULL,
    kind text NOT NULL,
    hash text NOT NULL,
    created_at bigint NOT NULL,
    completed_at bigint,
    PRIMARY KEY (tenant_id, session_id)
  )`,
  `CREATE INDEX IF NOT EXISTS upload_sessions_object ON upload_sessions (tenant_id, kind, hash)`,
];

const unavailable = (action: string, cause: unknown): UnavailableError =>
  new UnavailableError(
    'RATSFACH_SERVICE_STATE_UNAVAILABLE',
    `service state: ${action} failed: ${cause instanceof Error ? cause.message : String(cause)}`,
    { hint: 'check that the service-state database (PostgreSQL) is reachable, then retry', cause },
  );

/** Expired tokens and challenges are swept at most this often (ms). */
const sweepEveryMs = 60_000;

/**
 * The service state of the scale-out mode, in PostgreSQL, shared by every API process:
 * enrolment codes and submissions, the directory, bearer tokens (by hash), login challenges and
 * the owners of upload sessions.
 * Every rule that spans requests holds across processes: a code is claimed under a row lock
 * (`SELECT … FOR UPDATE` in one transaction), a submission counts the code's others under the
 * same lock, and a challenge is taken by one `DELETE … RETURNING`, so two processes racing for
 * the last use of either get one winner.
 *
 * Erasure: a deleted directory row is gone for every query at once; its bytes stay in the
 * table's dead tuples and the write-ahead log until vacuum and WAL recycling (the operator's
 * backups hold them too), unlike the embedded SQLite file, which zeroes them.
 */
export class PostgresServiceState implements ServiceState, TokenStore, LoginChallengeStore {
  readonly #pool: pg.Pool;
  readonly #owned: boolean;
  readonly #schema: string;
  readonly #ttlMs: number;
  readonly #now: () => number;
  #lastSweep = 0;
  #closed = false;

  private constructor(pool: pg.Pool, owned: boolean, options: PostgresServiceStateOptions) {
    this.#pool = pool;
    this.#owned = owned;
    this.#schema = options.schema;
    this.#ttlMs = options.challengeTtlMs ?? 60_000;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Opens the state, creating its schema and tables if missing (idempotent, under an advisory
   * lock, so several processes may start at once). Throws ValidationError
   * RATSFACH_SERVICE_STATE_OPTIONS_INVALID for a bad schema name, UnavailableError
   * RATSFACH_SERVICE_STATE_UNAVAILABLE when the database cannot be reached.
   */
  static async open(options: PostgresServiceStateOptions): Promise<PostgresServiceState> {
    if (!schemaPattern.test(options.schema)) {
      throw new ValidationError(
        'RATSFACH_SERVICE_STATE_OPTIONS_INVALID',
        `service-state schema ${JSON.stringify(options.schema)} is not a plain identifier`,
        { hint: 'use lowercase letters, digits and _ (at most 63, not starting with a digit)' },
      );
    }
    const given = 'pool' in options.connection ? options.connection.pool : null;
    const pool =
      given ??
      new pg.Pool({ max: 8, connectionTimeoutMillis: 10_000, ...(options.connection as object) });
    if (given === null) pool.on('error', () => undefined);
    const state = new PostgresServiceState(pool, given === null, options);
    try {
      await state.#transaction(async (client) => {
        await client.query(
          `SELECT pg_advisory_xact_lock(hashtextextended('ratsfach.service_state.migrate', 0))`,
        );
        await client.query(`CREATE SCHEMA IF NOT EXISTS "${options.schema}"`);
        await client.query(`SET LOCAL search_path TO "${options.schema}"`);
        for (const statement of tables) await client.query(statement);
      });
    } catch (error) {
      if (given === null) await pool.end().catch(() => undefined);
      throw error;
    }
    return state;
  }

  /** `enrolment_codes` → `"schema".enrolment_codes` for every table of this state. */
  #sql(text: string): string {
    return text.replace(
      /\b(enrolment_codes|enrolment_submissions|directory|tokens|login_challenges|upload_sessions)\b(?!_)/g,
      `"${this.#schema}".$1`,
    );
  }

  async #query(action: string, text: string, params: readonly unknown[] = []): Promise<Row[]> {
    if (this.#closed) throw unavailable(action, new Error('the service state is closed'));
    try {
      return (await this.#pool.query(this.#sql(text), params as unknown[])).rows as Row[];
    } catch (error) {
      throw unavailable(action, error);
    }
  }

  /** Runs `body` in one transaction on one connection; a failure rolls back. */
  async #transaction<T>(body: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    if (this.#closed) throw unavailable('a transaction', new Error('the service state is closed'));
    let client: pg.PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (error) {
      throw unavailable('connecting', error);
    }
    try {
      await client.query('BEGIN');
      const result = await body(client);
      await client.query('COMMIT');
      client.release();
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      client.release(error instanceof Error ? error : true);
      throw isRatsfachError(error) ? error : unavailable('a transaction', error);
    }
  }

  async registerCode(code: EnrolmentCodeRow): Promise<boolean> {
    const rows = await this.#query(
      'registering a code',
      `INSERT INTO enrolment_codes (code_id, tenant_id, user_id, expires_at, created_at, created_by)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (code_id) DO NOTHING RETURNING 1`,
      [code.codeId, code.tenantId, code.userId, code.expiresAt, code.createdAt, code.createdBy],
    );
    return rows.length === 1;
  }

  async code(tenantId: string, codeId: string): Promise<EnrolmentCodeRow | null> {
    const [row] = await this.#query(
      'reading a code',
      'SELECT * FROM enrolment_codes WHERE code_id = $1 AND tenant_id = $2',
      [codeId, tenantId],
    );
    return row === undefined ? null : codeRow(row);
  }

  async listCodes(tenantId: string): Promise<EnrolmentCodeRow[]> {
    const rows = await this.#query(
      'listing codes',
      'SELECT * FROM enrolment_codes WHERE tenant_id = $1 ORDER BY created_at, code_id',
      [tenantId],
    );
    return rows.map(codeRow);
  }

  async withdrawCode(tenantId: string, codeId: string): Promise<boolean> {
    const rows = await this.#query(
      'withdrawing a code',
      `DELETE FROM enrolment_codes WHERE code_id = $1 AND tenant_id = $2 AND used_at IS NULL
       RETURNING 1`,
      [codeId, tenantId],
    );
    return rows.length === 1;
  }

  async addSubmission(row: SubmissionRow, max: number): Promise<'added' | 'full' | 'duplicate'> {
    return this.#transaction(async (client) => {
      // The code's row lock orders every submission under it: two processes racing for the
      // last place count one after the other.
      await client.query(this.#sql('SELECT 1 FROM enrolment_codes WHERE code_id = $1 FOR UPDATE'), [
        row.codeId,
      ]);
      const existing = await client.query(
        this.#sql(
          `SELECT count(*)::int AS count, bool_or(device_id = $2) AS duplicate
             FROM enrolment_submissions WHERE code_id = $1`,
        ),
        [row.codeId, row.deviceId],
      );
      const found = existing.rows[0] as { count: number; duplicate: boolean | null };
      if (found.duplicate === true) return 'duplicate';
      if (found.count >= max) return 'full';
      await client.query(
        this.#sql(
          `INSERT INTO enrolment_submissions
             (submission_id, code_id, device_id, fingerprint, request, submitted_at)
           VALUES ($1, $2, $3, $4, $5, $6)`,
        ),
        [
          row.submissionId,
          row.codeId,
          row.deviceId,
          row.fingerprint,
          Buffer.from(row.request),
          row.submittedAt,
        ],
      );
      return 'added';
    });
  }

  async pendingSubmissions(tenantId: string, now: number): Promise<SubmissionRow[]> {
    const rows = await this.#query(
      'listing submissions',
      `SELECT s.*, c.tenant_id, c.user_id, c.expires_at FROM enrolment_submissions s
         JOIN enrolment_codes c USING (code_id)
        WHERE c.tenant_id = $1 AND c.used_at IS NULL AND c.expires_at > $2
        ORDER BY s.submitted_at, s.submission_id`,
      [tenantId, now],
    );
    return rows.map(submissionRow);
  }

  async claimCode(
    tenantId: string,
    codeId: string,
    commandId: string,
    now: number,
  ): Promise<'claimed' | 'used' | 'unknown'> {
    return this.#transaction(async (client) => {
      // The row lock: a second process claiming the same code waits here, then sees it used.
      const found = await client.query(
        this.#sql(
          'SELECT used_by FROM enrolment_codes WHERE code_id = $1 AND tenant_id = $2 FOR UPDATE',
        ),
        [codeId, tenantId],
      );
      const row = found.rows[0] as { used_by: string | null } | undefined;
      if (row === undefined) return 'unknown';
      if (row.used_by !== null) return row.used_by === commandId ? 'claimed' : 'used';
      await client.query(
        this.#sql('UPDATE enrolment_codes SET used_at = $1, used_by = $2 WHERE code_id = $3'),
        [now, commandId, codeId],
      );
      return 'claimed';
    });
  }

  async releaseCode(tenantId: string, codeId: string, commandId: string): Promise<void> {
    await this.#query(
      'releasing a code',
      `UPDATE enrolment_codes SET used_at = NULL, used_by = NULL
        WHERE code_id = $1 AND tenant_id = $2 AND used_by = $3`,
      [codeId, tenantId, commandId],
    );
  }

  async putDirectoryEntry(entry: DirectoryRow): Promise<void> {
    await this.#query(
      'writing a directory entry',
      `INSERT INTO directory (tenant_id, user_id, display_name, email, updated_at)
       VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (tenant_id, user_id) DO UPDATE SET
         display_name = excluded.display_name, email = excluded.email,
         updated_at = excluded.updated_at`,
      [entry.tenantId, entry.userId, entry.displayName, entry.email, entry.updatedAt],
    );
  }

  async directoryEntry(tenantId: string, userId: string): Promise<DirectoryRow | null> {
    const [row] = await this.#query(
      'reading a directory entry',
      'SELECT * FROM directory WHERE tenant_id = $1 AND user_id = $2',
      [tenantId, userId],
    );
    return row === undefined ? null : directoryRow(row);
  }

  async listDirectory(tenantId: string): Promise<DirectoryRow[]> {
    const rows = await this.#query(
      'listing the directory',
      'SELECT * FROM directory WHERE tenant_id = $1 ORDER BY user_id',
      [tenantId],
    );
    return rows.map(directoryRow);
  }

  async eraseDirectoryEntry(tenantId: string, userId: string): Promise<boolean> {
    const rows = await this.#query(
      'erasing a directory entry',
      'DELETE FROM directory WHERE tenant_id = $1 AND user_id = $2 RETURNING 1',
      [tenantId, userId],
    );
    return rows.length === 1;
  }

  // Upload sessions: who opened each, so only that device (and committee) uses it.

  async openUpload(row: UploadRow): Promise<void> {
    await this.#query(
      'recording an upload session',
      `INSERT INTO upload_sessions
         (tenant_id, session_id, device_id, committee_id, kind, hash, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [
        row.tenantId,
        row.sessionId,
        row.deviceId,
        row.committeeId,
        row.kind,
        row.hash,
        row.createdAt,
      ],
    );
  }

  async upload(tenantId: string, sessionId: string): Promise<UploadRow | null> {
    const [row] = await this.#query(
      'reading an upload session',
      'SELECT * FROM upload_sessions WHERE tenant_id = $1 AND session_id = $2',
      [tenantId, sessionId],
    );
    return row === undefined ? null : uploadRow(row);
  }

  async completeUpload(tenantId: string, sessionId: string, now: number): Promise<void> {
    await this.#query(
      'completing an upload session',
      `UPDATE upload_sessions SET completed_at = $1
        WHERE tenant_id = $2 AND session_id = $3 AND completed_at IS NULL`,
      [now, tenantId, sessionId],
    );
  }

  async completedUpload(object: UploadedObject): Promise<boolean> {
    const rows = await this.#query(
      'reading completed uploads',
      `SELECT 1 FROM upload_sessions
        WHERE tenant_id = $1 AND kind = $2 AND hash = $3 AND device_id = $4 AND committee_id = $5
          AND completed_at IS NOT NULL LIMIT 1`,
      [object.tenantId, object.kind, object.hash, object.deviceId, object.committeeId],
    );
    return rows.length === 1;
  }

  // Bearer tokens (TokenStore): a token issued by one API process is honoured by every other.

  async put(tokenHash: string, grant: TokenGrant): Promise<void> {
    await this.#sweep();
    await this.#query(
      'storing a token',
      `INSERT INTO tokens (token_hash, tenant_id, user_id, device_id, expires_at)
       VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (token_hash) DO UPDATE SET tenant_id = excluded.tenant_id,
         user_id = excluded.user_id, device_id = excluded.device_id,
         expires_at = excluded.expires_at`,
      [tokenHash, grant.tenantId, grant.userId, grant.deviceId, grant.expiresAt],
    );
  }

  async get(tokenHash: string): Promise<TokenGrant | null> {
    const [row] = await this.#query(
      'reading a token',
      'SELECT * FROM tokens WHERE token_hash = $1',
      [tokenHash],
    );
    if (row === undefined) return null;
    return {
      tenantId: row['tenant_id'] as string,
      userId: row['user_id'] as string,
      deviceId: row['device_id'] as string,
      expiresAt: num(row['expires_at']),
    };
  }

  async delete(tokenHash: string): Promise<void> {
    await this.#query('deleting a token', 'DELETE FROM tokens WHERE token_hash = $1', [tokenHash]);
  }

  // Login challenges (LoginChallengeStore): issued by one process, taken once by any.

  async issue(
    tenantId: string,
    deviceId: string,
  ): Promise<{ id: string; entry: LoginChallengeEntry }> {
    await this.#sweep();
    const id = randomUUID();
    const entry: LoginChallengeEntry = {
      tenantId,
      deviceId,
      challenge: new Uint8Array(randomBytes(32)),
      expiresAt: this.#now() + this.#ttlMs,
    };
    await this.#query(
      'issuing a login challenge',
      `INSERT INTO login_challenges (challenge_id, tenant_id, device_id, challenge, expires_at)
       VALUES ($1, $2, $3, $4, $5)`,
      [id, tenantId, deviceId, Buffer.from(entry.challenge), entry.expiresAt],
    );
    return { id, entry };
  }

  async take(id: string): Promise<LoginChallengeEntry | null> {
    // One statement: of two processes taking the same challenge, one gets the row.
    const [row] = await this.#query(
      'taking a login challenge',
      'DELETE FROM login_challenges WHERE challenge_id = $1 RETURNING *',
      [id],
    );
    if (row === undefined) return null;
    const expiresAt = num(row['expires_at']);
    if (expiresAt <= this.#now()) return null;
    return {
      tenantId: row['tenant_id'] as string,
      deviceId: row['device_id'] as string,
      challenge: new Uint8Array(row['challenge'] as Buffer),
      expiresAt,
    };
  }

  /** Deletes expired tokens and challenges, at most once a minute per process. */
  async #sweep(): Promise<void> {
    const now = this.#now();
    if (now - this.#lastSweep < sweepEveryMs) return;
    this.#lastSweep = now;
    await this.#query('sweeping expired tokens', 'DELETE FROM tokens WHERE expires_at <= $1', [
      now,
    ]);
    await this.#query(
      'sweeping expired challenges',
      'DELETE FROM login_challenges WHERE expires_at <= $1',
      [now],
    );
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#owned) await this.#pool.end();
  }
}
