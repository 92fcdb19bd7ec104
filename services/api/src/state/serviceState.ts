/**
 * The service's own state outside the event log: enrolment codes and device submissions
 * (one-time, expiring, deleted once used or withdrawn) and the directory of names and contact
 * data (erasable, so never in the log). Kept in the data directory's SQLite file embedded.
 */
export interface ServiceState {
  /** Registers a code id for a person; false when the code id exists already (any tenant). */
  registerCode(code: EnrolmentCodeRow): Promise<boolean>;
  code(tenantId: string, codeId: string): Promise<EnrolmentCodeRow | null>;
  listCodes(tenantId: string): Promise<EnrolmentCodeRow[]>;
  /** Deletes an unused code and its submissions; false when there was none or it is used. */
  withdrawCode(tenantId: string, codeId: string): Promise<boolean>;
  /**
   * Adds a device's submission under a code, unless the code already holds `max` submissions
   * (`full`) or this device id submitted before (`duplicate`).
   */
  addSubmission(row: SubmissionRow, max: number): Promise<'added' | 'full' | 'duplicate'>;
  /** The submissions under the tenant's codes that are neither used nor expired at `now`. */
  pendingSubmissions(tenantId: string, now: number): Promise<SubmissionRow[]>;
  /**
   * Marks a code used by a certificate command, atomically: `claimed` the first time,
   * `claimed` again for the same command id (a retry), `used` when another command holds it,
   * `unknown` when there is no such code.
   */
  claimCode(
    tenantId: string,
    codeId: string,
    commandId: string,
    now: number,
  ): Promise<'claimed' | 'used' | 'unknown'>;
  /** Undoes `claimCode` of this command (its append was refused). */
  releaseCode(tenantId: string, codeId: string, commandId: string): Promise<void>;
  putDirectoryEntry(entry: DirectoryRow): Promise<void>;
  directoryEntry(tenantId: string, userId: string): Promise<DirectoryRow | null>;
  listDirectory(tenantId: string): Promise<DirectoryRow[]>;
  /** Deletes the entry for good; false when there was none. */
  eraseDirectoryEntry(tenantId: string, userId: string): Promise<boolean>;
  close(): Promise<void>;
}

export interface EnrolmentCodeRow {
  readonly tenantId: string;
  /** base64url of the 10-byte code id. */
  readonly codeId: string;
  readonly userId: string;
  /** Unix milliseconds. */
  readonly expiresAt: number;
  readonly createdAt: number;
  /** The admin device that registered it. */
  readonly createdBy: string;
  /** When a certificate used it, or null. */
  readonly usedAt: number | null;
  readonly usedBy: string | null;
}

export interface SubmissionRow {
  readonly submissionId: string;
  readonly tenantId: string;
  readonly codeId: string;
  readonly userId: string;
  readonly deviceId: string;
  readonly fingerprint: string;
  /** The signed enrolment request. */
  readonly request: Uint8Array;
  readonly submittedAt: number;
  /** The code's expiry (copied for the listing). */
  readonly codeExpiresAt: number;
}

export interface DirectoryRow {
  readonly tenantId: string;
  readonly userId: string;
  readonly displayName: string;
  readonly email: string | null;
  /** Unix milliseconds. */
  readonly updatedAt: number;
}
