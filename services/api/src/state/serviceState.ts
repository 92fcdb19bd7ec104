/**
 * The service's own state outside the event log: enrolment codes and device submissions
 * (one-time, expiring, deleted once used or withdrawn), the directory of names and contact
 * data (erasable, so never in the log) and who opened each upload session. Kept in the data
 * directory's SQLite file embedded.
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
  /** Records the device and committee a new upload session belongs to (`completedAt` null). */
  openUpload(row: UploadRow): Promise<void>;
  /** The session's row, or null when the tenant has no such session. */
  upload(tenantId: string, sessionId: string): Promise<UploadRow | null>;
  /** Marks the session's object stored; the first time counts (a retry changes nothing). */
  completeUpload(tenantId: string, sessionId: string, now: number): Promise<void>;
  /** Whether the device stored this object for the committee through one of its sessions. */
  completedUpload(object: UploadedObject): Promise<boolean>;
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

/** What a device uploads, and for which committee: an object of the tenant, by kind and hash. */
export interface UploadedObject {
  readonly tenantId: string;
  readonly deviceId: string;
  readonly committeeId: string;
  /** `blob` or `keyslot`. */
  readonly kind: string;
  /** The object's blob hash, 128 lowercase hex digits. */
  readonly hash: string;
}

/**
 * An upload session's owner: only the device that opened it, for the committee it named, may
 * add parts, list them, complete it and name its object in a commit.
 */
export interface UploadRow extends UploadedObject {
  /** The blob store's session id (unique in the tenant). */
  readonly sessionId: string;
  /** Unix milliseconds. */
  readonly createdAt: number;
  /** When the object was stored through this session, or null. */
  readonly completedAt: number | null;
}
