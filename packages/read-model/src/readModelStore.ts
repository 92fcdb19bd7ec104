import type { DomainEvent, MemberRole, StreamKind } from '@ratsfach/domain';

/**
 * An event of the log as the projector hands it to the read model: decoded by the domain
 * (`decodeEvent`), with the store's positions and the parts of its stream name.
 */
export interface ProjectedEvent {
  /** Position in the whole log (the event store's `globalPosition`). */
  readonly position: bigint;
  readonly stream: string;
  /** Position in its stream, from 0. */
  readonly revision: bigint;
  readonly kind: StreamKind;
  readonly tenantId: string;
  /** The stream's own id (user, committee, document id; the day of a delivery stream). */
  readonly streamId: string;
  readonly event: DomainEvent;
}

/** Paging of a feed or list: entries after `after` (exclusive), at most `limit` of them. */
export interface PageOptions {
  /** Exclusive start; 0 (the default) is before the first entry. */
  readonly after?: number;
  /** Default 500, at most 10,000. */
  readonly limit?: number;
}

/** A page of entries and whether more follow it. */
export interface Page<T> {
  readonly entries: readonly T[];
  /** True when entries after the last one exist (ask again with `after` = its `seq`). */
  readonly hasMore: boolean;
}

/** What a device's credentials stand on, as the authorisation read model knows them. */
export interface DeviceStanding {
  readonly tenantId: string;
  readonly userId: string;
  readonly deviceId: string;
  /** Certified by the tenant's root on the tenant stream (an admin device), not by an admin. */
  readonly admin: boolean;
  /** Fingerprint of the device's signing key (64 hex digits), from its newest certificate. */
  readonly fingerprint: string;
  /** Validity of the newest certificate, Unix seconds. */
  readonly notBefore: number;
  readonly notAfter: number;
  readonly revoked: boolean;
  /** Log position of the newest certificate (or renewal). */
  readonly certifiedAt: bigint;
  /** Log position of the revocation, or null. */
  readonly revokedAt: bigint | null;
}

/** Whether a standing lets the device act at `nowSeconds` (see `deviceStatusAt`). */
export type DeviceStatus = 'valid' | 'revoked' | 'expired' | 'notYetValid';

/** A user's membership of one committee. */
export interface Membership {
  readonly tenantId: string;
  readonly committeeId: string;
  readonly userId: string;
  /** The role in force (a promotion to staff counts only once co-signed). */
  readonly role: MemberRole;
  /** True once a staff device co-signed the addition: only then may the member read. */
  readonly effective: boolean;
  /** An admin-signed promotion to staff awaiting its co-signature (its chain position), or null. */
  readonly pendingStaffSequence: number | null;
  /** Log position of the newest record that changed this membership. */
  readonly changedAt: bigint;
}

/**
 * One entry of a committee's change feed: every document and committee record, in log order,
 * numbered from 1 without gaps. The signed record itself stays in the log (`stream`,
 * `revision`); the entry says what changed.
 */
export interface CommitteeFeedEntry {
  readonly tenantId: string;
  readonly committeeId: string;
  /** Position in this feed: 1, 2, 3, … */
  readonly seq: number;
  /** Position of the event in the whole log. */
  readonly position: bigint;
  readonly stream: string;
  readonly revision: bigint;
  /** The event type, e.g. `VersionCommitted`, `DocumentMoved`, `KeyEpochStarted`. */
  readonly type: DomainEvent['type'];
  /** The document the entry is about, or null for a committee record. */
  readonly documentId: string | null;
  /** The version committed, or null. */
  readonly version: number | null;
  /** The key epoch the record names (versions, moves, epoch records), or null. */
  readonly epoch: number | null;
  /** The member a membership record is about, or null. */
  readonly userId: string | null;
  /** Decision time of the event (ISO 8601 UTC). */
  readonly occurredAt: string;
}

/** The kinds of user-feed entry. */
export const UserFeedEntryType = {
  deviceCertified: 'DeviceCertified',
  deviceRevoked: 'DeviceRevoked',
  joined: 'Joined',
  left: 'Left',
  roleChanged: 'RoleChanged',
} as const;
export type UserFeedEntryType = (typeof UserFeedEntryType)[keyof typeof UserFeedEntryType];

/**
 * One entry of a user's own feed: their devices' certificates and revocations, and the
 * committees they join (when the addition is co-signed) and leave, numbered from 1.
 */
export interface UserFeedEntry {
  readonly tenantId: string;
  readonly userId: string;
  readonly seq: number;
  readonly position: bigint;
  /** The stream of the event that caused the entry (the user's, or the committee's). */
  readonly stream: string;
  readonly revision: bigint;
  readonly type: UserFeedEntryType;
  readonly deviceId: string | null;
  readonly committeeId: string | null;
  readonly role: MemberRole | null;
  readonly occurredAt: string;
}

/** A feed entry of a manifest delta: from the user's feed or one of their committees'. */
export type ManifestEntry =
  | ({ readonly feed: 'user' } & UserFeedEntry)
  | ({ readonly feed: 'committee' } & CommitteeFeedEntry);

/** A manifest delta: what changed in the feeds the user may read since their cursor. */
export interface ManifestDelta {
  /** In log order; at most the limit asked for. */
  readonly entries: readonly ManifestEntry[];
  /** The cursor to ask with next (opaque; see `cursor.ts`). */
  readonly cursor: string;
  /** True when more changes follow: ask again at once with the new cursor. */
  readonly hasMore: boolean;
}

export interface ManifestDeltaOptions {
  readonly tenantId: string;
  readonly userId: string;
  /** The cursor of the previous delta, or null for everything from the start. */
  readonly cursor: string | null;
  /** Most entries to return; default 500, at most 10,000. */
  readonly limit?: number;
}

/** A committee the user may read (or could until they left), as the manifest holds it. */
export interface ManifestCommittee {
  readonly committeeId: string;
  readonly role: MemberRole;
  /** The committee-feed position of the user's removal, or null while a member. */
  readonly leftAtSeq: number | null;
}

/** A document as the read model knows it. */
export interface DocumentSummary {
  readonly tenantId: string;
  readonly documentId: string;
  readonly committeeId: string;
  readonly status: 'active' | 'deleted' | 'erased';
  /** Number of the newest version; 0 before the first. */
  readonly headVersion: number;
  readonly createdAt: string;
  readonly deletedAt: string | null;
}

/** One version of a document, from its signed record's indexed fields. */
export interface DocumentVersion {
  readonly tenantId: string;
  readonly documentId: string;
  readonly version: number;
  readonly parentVersion: number | null;
  readonly epoch: number;
  /** Part-wise BLAKE2b-512 hash of the encrypted content (128 lowercase hex digits). */
  readonly contentHash: string;
  readonly size: number;
  /** Hash of the key slot object (128 lowercase hex digits). */
  readonly keySlotHash: string;
  readonly signerUserId: string;
  readonly signerDeviceId: string;
  readonly position: bigint;
  readonly revision: bigint;
  readonly occurredAt: string;
}

/** An object of the blob store that a live (not erased) document references. */
export interface BlobReference {
  readonly tenant: string;
  readonly kind: 'blob' | 'keyslot';
  /** 128 lowercase hex digits. */
  readonly hash: string;
}

/** What an audit entry records. */
export const AuditAction = {
  accessed: 'accessed',
  changed: 'changed',
  granted: 'granted',
  revoked: 'revoked',
} as const;
export type AuditAction = (typeof AuditAction)[keyof typeof AuditAction];

/** One entry of the audit index: who accessed, changed or was granted what, when. */
export interface AuditEntry {
  readonly tenantId: string;
  readonly position: bigint;
  /** Index of the entry within its event (an epoch-key record grants to several devices). */
  readonly index: number;
  readonly action: AuditAction;
  /** The event type that caused it. */
  readonly type: DomainEvent['type'];
  /** The user who acted (null: the tenant's root, or the server for a delivery). */
  readonly actorUserId: string | null;
  readonly actorDeviceId: string | null;
  /** What was accessed, changed or granted: `document`, `committee`, `user`, `device`, `tenant`. */
  readonly subjectKind: 'tenant' | 'user' | 'device' | 'committee' | 'document';
  readonly subjectId: string;
  /** For grants and deliveries: the user who received; else null. */
  readonly targetUserId: string | null;
  readonly committeeId: string | null;
  readonly occurredAt: string;
}

/** Which audit entries to list: of one tenant, optionally one subject and/or actor. */
export interface AuditQuery {
  readonly tenantId: string;
  /** Exclusive start position; default before the first. */
  readonly afterPosition?: bigint;
  /** Default 500, at most 10,000. */
  readonly limit?: number;
  readonly subjectKind?: AuditEntry['subjectKind'];
  readonly subjectId?: string;
  readonly actorUserId?: string;
}

/** The tenant as the read model knows it. */
export interface TenantSummary {
  readonly tenantId: string;
  readonly rootFingerprint: string;
  /** Unix seconds, from the root-signed genesis record. */
  readonly createdAt: number;
}

/**
 * The read models: written by the projector through `apply`, read by the API through the
 * queries. Two implementations pass one contract suite (`test/contract.ts`):
 * `@ratsfach/read-model/sqlite` (embedded) and `@ratsfach/read-model/postgres` (scale-out).
 *
 * Every query is scoped by tenant; nothing of another tenant is ever returned. Queries never
 * throw for what does not exist (null or an empty list); they throw the domain's typed errors
 * for bad input (ValidationError with a `RATSFACH_READ_MODEL_*` code) and UnavailableError
 * when the database cannot be reached.
 */
export interface ReadModelStore {
  /**
   * Projects a batch of events and stores the new checkpoint, all in one transaction: either
   * every row change of the batch and the checkpoint are committed, or none. Events at or
   * below the stored checkpoint are skipped, so a replay after a crash is harmless. Throws
   * ConflictError RATSFACH_READ_MODEL_CHECKPOINT_MOVED when another projector moved the
   * checkpoint since this store last saw it (restart from `checkpoint()`), and ValidationError
   * RATSFACH_READ_MODEL_BATCH_INVALID when the batch is out of order or `checkpoint` is below
   * its last event.
   */
  apply(batch: readonly ProjectedEvent[], checkpoint: bigint): Promise<void>;
  /** The last log position applied, or null before the first batch. */
  checkpoint(): Promise<bigint | null>;
  /** Drops every read-model row and the checkpoint in one transaction (for `rebuild`). */
  reset(): Promise<void>;

  /** The tenant, or null when no such tenant was created. */
  tenant(tenantId: string): Promise<TenantSummary | null>;
  /**
   * A device's standing for authentication: null when the tenant has no such device. Throws
   * IntegrityError RATSFACH_READ_MODEL_DEVICE_AMBIGUOUS when two users of the tenant were
   * certified a device of that id (refuse the login: an admin must revoke one).
   */
  deviceStanding(tenantId: string, deviceId: string): Promise<DeviceStanding | null>;
  /** Every device certified for a user (admin devices too), revoked ones included, by id. */
  userDevices(tenantId: string, userId: string): Promise<readonly DeviceStanding[]>;
  /** True when the user exists on the tenant (a `UserCreated`). */
  userExists(tenantId: string, userId: string): Promise<boolean>;
  /** A user's memberships, effective or pending, by committee id. */
  memberships(tenantId: string, userId: string): Promise<readonly Membership[]>;
  /** A committee's members, effective or pending, by user id; empty for an unknown committee. */
  committeeMembers(tenantId: string, committeeId: string): Promise<readonly Membership[]>;
  /** True when the committee was created on the tenant. */
  committeeExists(tenantId: string, committeeId: string): Promise<boolean>;
  /** The ids of the tenant's users (a `UserCreated` each), sorted; empty for an unknown tenant. */
  tenantUsers(tenantId: string): Promise<readonly string[]>;
  /** The ids of the tenant's committees, sorted; empty for an unknown tenant. */
  tenantCommittees(tenantId: string): Promise<readonly string[]>;

  /** A committee's change feed after a position. */
  committeeFeed(
    tenantId: string,
    committeeId: string,
    options?: PageOptions,
  ): Promise<Page<CommitteeFeedEntry>>;
  /** A user's own feed after a position. */
  userFeed(tenantId: string, userId: string, options?: PageOptions): Promise<Page<UserFeedEntry>>;
  /** The committees the user may read (or could until they left). */
  manifestCommittees(tenantId: string, userId: string): Promise<readonly ManifestCommittee[]>;
  /**
   * What changed since the cursor in the feeds the user may read, in log order. Costs
   * O(committees + changes), not O(documents). Throws ValidationError
   * RATSFACH_READ_MODEL_CURSOR_INVALID for a cursor that is not one, ForbiddenError
   * RATSFACH_READ_MODEL_CURSOR_FOREIGN for another user's (or tenant's) cursor or one naming a
   * committee the user never read, and ValidationError RATSFACH_READ_MODEL_CURSOR_FUTURE for a
   * cursor past a feed's head.
   */
  manifestDelta(options: ManifestDeltaOptions): Promise<ManifestDelta>;

  /** The document, or null. */
  document(tenantId: string, documentId: string): Promise<DocumentSummary | null>;
  /** Every version of a document, oldest first (empty once erased, or for an unknown one). */
  documentVersions(tenantId: string, documentId: string): Promise<readonly DocumentVersion[]>;

  /**
   * Every blob and key slot a document that is not erased references (deleted documents can
   * be restored, so theirs count), each once; of one tenant, or of all. Fits the blob-store
   * garbage collector's `ReferenceSource`.
   */
  blobReferences(tenantId?: string): AsyncIterable<BlobReference>;

  /** Audit entries in log order, filtered by subject and/or actor. */
  auditTrail(query: AuditQuery): Promise<Page<AuditEntry>>;

  /**
   * Every row of every read model in a canonical text form (tables and rows in key order): two
   * stores with equal snapshots hold equal read models. For rebuild checks and tests.
   */
  snapshot(): Promise<string>;
  close(): Promise<void>;
}

/**
 * Whether the device may act at `nowSeconds` (Unix seconds); validity includes both ends, as
 * the domain's `requireValidAt` judges it.
 */
export function deviceStatusAt(standing: DeviceStanding, nowSeconds: number): DeviceStatus {
  if (standing.revoked) return 'revoked';
  if (nowSeconds < standing.notBefore) return 'notYetValid';
  if (nowSeconds > standing.notAfter) return 'expired';
  return 'valid';
}
