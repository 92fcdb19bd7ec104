import type { DirectoryRow, EnrolmentCodeRow, SubmissionRow, UploadRow } from './serviceState.js';

/** A row as either backend returns it: column name to value. */
export type Row = Record<string, unknown>;

// PostgreSQL returns a bigint column as a string, SQLite as a number: both read as a number.
export const num = (value: unknown): number => Number(value as string);
export const numOrNull = (value: unknown): number | null => (value === null ? null : num(value));

/*
 * The mapping from the service-state tables to their rows, shared by the SQLite and the
 * PostgreSQL backend so that both read the same tables the same way.
 */

export const codeRow = (r: Row): EnrolmentCodeRow => ({
  tenantId: r['tenant_id'] as string,
  codeId: r['code_id'] as string,
  userId: r['user_id'] as string,
  expiresAt: num(r['expires_at']),
  createdAt: num(r['created_at']),
  createdBy: r['created_by'] as string,
  usedAt: numOrNull(r['used_at']),
  usedBy: (r['used_by'] as string | null) ?? null,
});

export const directoryRow = (r: Row): DirectoryRow => ({
  tenantId: r['tenant_id'] as string,
  userId: r['user_id'] as string,
  displayName: r['display_name'] as string,
  email: (r['email'] as string | null) ?? null,
  updatedAt: num(r['updated_at']),
});

/** A submission joined with its code (`tenant_id`, `user_id`, `expires_at` of the code). */
export const submissionRow = (r: Row): SubmissionRow => ({
  submissionId: r['submission_id'] as string,
  tenantId: r['tenant_id'] as string,
  codeId: r['code_id'] as string,
  userId: r['user_id'] as string,
  deviceId: r['device_id'] as string,
  fingerprint: r['fingerprint'] as string,
  request: new Uint8Array(r['request'] as Buffer),
  submittedAt: num(r['submitted_at']),
  codeExpiresAt: num(r['expires_at']),
});

export const uploadRow = (r: Row): UploadRow => ({
  tenantId: r['tenant_id'] as string,
  sessionId: r['session_id'] as string,
  deviceId: r['device_id'] as string,
  committeeId: r['committee_id'] as string,
  kind: r['kind'] as string,
  hash: r['hash'] as string,
  createdAt: num(r['created_at']),
  completedAt: numOrNull(r['completed_at']),
});
