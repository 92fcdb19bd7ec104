import type { Command, Event, RecordCarrier } from './message.js';
import type { Chain } from './chain.js';

/** An admin device as the tenant stream knows it. */
export interface AdminDevice {
  readonly deviceId: string;
  /** Fingerprint of the device's signing key, as the root certified it. */
  readonly fingerprint: string;
  readonly validUntil: string;
  readonly revoked: boolean;
}

/** The tenant stream (`tenant-<t>`) folded. */
export type TenantState =
  | { readonly status: 'absent' }
  | {
      readonly status: 'active';
      readonly tenantId: string;
      readonly rootFingerprint: string;
      readonly adminDevices: Readonly<Record<string, AdminDevice>>;
      readonly chain: Chain;
      /** Decision time of the newest admin heartbeat, or null before the first. */
      readonly lastHeartbeatAt: string | null;
      /** Tree size of the newest countersigned checkpoint (0n before the first). */
      readonly checkpointTreeSize: bigint;
    };

// Commands. Every command names its tenant; signed records come as the exact signed bytes.

/** Creates the tenant; the record is signed by the offline root whose fingerprint it names. */
export type CreateTenant = Command<
  'CreateTenant',
  { readonly tenantId: string; readonly rootFingerprint: string; readonly record: Uint8Array }
>;
/** The root certifies an admin device. */
export type CertifyAdminDevice = Command<
  'CertifyAdminDevice',
  {
    readonly tenantId: string;
    readonly deviceId: string;
    readonly fingerprint: string;
    readonly validUntil: string;
    readonly record: Uint8Array;
  }
>;
/** The root revokes an admin device. */
export type RevokeAdminDevice = Command<
  'RevokeAdminDevice',
  { readonly tenantId: string; readonly deviceId: string; readonly record: Uint8Array }
>;
/** An admin device's heartbeat, naming every member's user-chain head. */
export type RecordHeartbeat = Command<
  'RecordHeartbeat',
  {
    readonly tenantId: string;
    readonly signerDeviceId: string;
    /** User id to the hash of the head of that user's chain. */
    readonly userHeads: Readonly<Record<string, Uint8Array>>;
    readonly record: Uint8Array;
  }
>;
/** An admin device countersigns the service's signed tree head of the Merkle log. */
export type RecordCheckpoint = Command<
  'RecordCheckpoint',
  {
    readonly tenantId: string;
    readonly treeSize: bigint;
    readonly rootHash: Uint8Array;
    /** The service's own signature over the tree head, kept for auditors. */
    readonly serviceSignature: Uint8Array;
    readonly signerDeviceId: string;
    readonly record: Uint8Array;
  }
>;
export type TenantCommand =
  CreateTenant | CertifyAdminDevice | RevokeAdminDevice | RecordHeartbeat | RecordCheckpoint;

// Events.

export type TenantCreated = Event<
  'TenantCreated',
  { readonly tenantId: string; readonly rootFingerprint: string } & RecordCarrier
>;
export type AdminDeviceCertified = Event<
  'AdminDeviceCertified',
  {
    readonly deviceId: string;
    readonly fingerprint: string;
    readonly validUntil: string;
  } & RecordCarrier
>;
export type AdminDeviceRevoked = Event<
  'AdminDeviceRevoked',
  { readonly deviceId: string } & RecordCarrier
>;
export type Heartbeat = Event<
  'Heartbeat',
  {
    readonly signerDeviceId: string;
    readonly userHeads: Readonly<Record<string, Uint8Array>>;
  } & RecordCarrier
>;
export type Checkpoint = Event<
  'Checkpoint',
  {
    readonly treeSize: bigint;
    readonly rootHash: Uint8Array;
    readonly serviceSignature: Uint8Array;
    readonly signerDeviceId: string;
  } & RecordCarrier
>;
export type TenantEvent =
  TenantCreated | AdminDeviceCertified | AdminDeviceRevoked | Heartbeat | Checkpoint;
