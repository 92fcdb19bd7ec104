import { TableName, type Row, type RowChange } from '../tables.js';

/** A document as the projections need it (a `documents` row). */
export interface DocumentRow {
  readonly tenantId: string;
  readonly documentId: string;
  readonly committeeId: string;
  readonly status: 'active' | 'deleted' | 'erased';
  readonly headVersion: number;
  readonly createdAt: string;
  readonly deletedAt: string | null;
}

/** A membership as the projections need it (a `memberships` row). */
export interface MembershipRow {
  readonly tenantId: string;
  readonly committeeId: string;
  readonly userId: string;
  readonly role: string;
  readonly effective: boolean;
  readonly pendingStaffSequence: number | null;
  readonly pendingStaffHash: string | null;
  readonly changedAt: bigint;
}

/** A device as the projections need it (a `devices` row). */
export interface DeviceRow {
  readonly tenantId: string;
  readonly deviceId: string;
  readonly userId: string;
  readonly admin: boolean;
  readonly fingerprint: string;
  readonly notBefore: number;
  readonly notAfter: number;
  readonly revoked: boolean;
  readonly certifiedAt: bigint;
  readonly revokedAt: bigint | null;
}

/** A manifest row: a committee a user reads (or read until `leftAtSeq`). */
export interface ManifestRow {
  readonly tenantId: string;
  readonly userId: string;
  readonly committeeId: string;
  readonly role: string;
  readonly joinedAt: bigint;
  readonly leftAtSeq: number | null;
}

const k = (...parts: string[]): string => parts.join('/');

/**
 * The rows the projections read while they project: feed heads, documents, memberships,
 * devices and manifest rows. It is a cache of read-model rows, kept by applying the same row
 * changes the store writes, so a store can load it back from its tables after a restart and
 * a projection stays a pure function of (state, event).
 */
export class ProjectionState {
  readonly committeeHeads = new Map<string, number>();
  readonly userHeads = new Map<string, number>();
  readonly documents = new Map<string, DocumentRow>();
  readonly memberships = new Map<string, MembershipRow>();
  /** By tenant/user/device. */
  readonly devices = new Map<string, DeviceRow>();
  /** Admin devices by tenant/device: their user. */
  readonly adminOwners = new Map<string, string>();
  readonly manifest = new Map<string, ManifestRow>();

  committeeHead = (tenantId: string, committeeId: string): number =>
    this.committeeHeads.get(k(tenantId, committeeId)) ?? 0;
  userHead = (tenantId: string, userId: string): number =>
    this.userHeads.get(k(tenantId, userId)) ?? 0;
  document = (tenantId: string, documentId: string): DocumentRow | undefined =>
    this.documents.get(k(tenantId, documentId));
  membership = (tenantId: string, committeeId: string, userId: string): MembershipRow | undefined =>
    this.memberships.get(k(tenantId, committeeId, userId));
  device = (tenantId: string, userId: string, deviceId: string): DeviceRow | undefined =>
    this.devices.get(k(tenantId, userId, deviceId));
  adminOwner = (tenantId: string, deviceId: string): string | undefined =>
    this.adminOwners.get(k(tenantId, deviceId));
  manifestRow = (tenantId: string, userId: string, committeeId: string): ManifestRow | undefined =>
    this.manifest.get(k(tenantId, userId, committeeId));

  /** Keeps the cached rows in step with a change the store is about to write. */
  apply(change: RowChange): void {
    const row: Row = change.op === 'upsert' ? change.row : change.key;
    const s = (name: string): string => String(row[name]);
    switch (change.table) {
      case TableName.committeeFeed: {
        const key = k(s('tenantId'), s('committeeId'));
        const seq = Number(row['seq']);
        if (change.op === 'upsert' && seq > (this.committeeHeads.get(key) ?? 0)) {
          this.committeeHeads.set(key, seq);
        }
        return;
      }
      case TableName.userFeed: {
        const key = k(s('tenantId'), s('userId'));
        const seq = Number(row['seq']);
        if (change.op === 'upsert' && seq > (this.userHeads.get(key) ?? 0)) {
          this.userHeads.set(key, seq);
        }
        return;
      }
      case TableName.documents:
        return this.#put(this.documents, k(s('tenantId'), s('documentId')), change);
      case TableName.memberships:
        return this.#put(this.memberships, k(s('tenantId'), s('committeeId'), s('userId')), change);
      case TableName.manifest:
        return this.#put(this.manifest, k(s('tenantId'), s('userId'), s('committeeId')), change);
      case TableName.devices: {
        this.#put(this.devices, k(s('tenantId'), s('userId'), s('deviceId')), change);
        if (change.op === 'upsert' && row['admin'] === true) {
          this.adminOwners.set(k(s('tenantId'), s('deviceId')), s('userId'));
        }
        return;
      }
      default:
        return;
    }
  }

  #put<T>(map: Map<string, T>, key: string, change: RowChange): void {
    if (change.op === 'upsert') map.set(key, change.row as unknown as T);
    else map.delete(key);
  }

  /** Sets a feed head directly (a store loading its state back from `max(seq)`). */
  setHead(feed: 'committee' | 'user', tenantId: string, id: string, seq: number): void {
    (feed === 'committee' ? this.committeeHeads : this.userHeads).set(k(tenantId, id), seq);
  }

  clear(): void {
    for (const map of [
      this.committeeHeads,
      this.userHeads,
      this.documents,
      this.memberships,
      this.devices,
      this.adminOwners,
      this.manifest,
    ]) {
      map.clear();
    }
  }
}

/** The tables whose rows `ProjectionState` caches (a store loads them back at start). */
export const stateTables = [
  TableName.documents,
  TableName.memberships,
  TableName.devices,
  TableName.manifest,
] as const;
