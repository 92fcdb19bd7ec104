import type { Command, Event } from '@ratsfach/kernel';
import type { CommandData } from '../../schemas/commandSchemas.js';
import type { EventData } from '../../schemas/eventSchemas.js';
import type { Chain } from '../../chain.js';

/** An admin device as the tenant stream knows it. */
export interface AdminDevice {
  readonly deviceId: string;
  /** The admin person the device belongs to. */
  readonly userId: string;
  /** Fingerprint of the device's signing key (from the root-signed certificate). */
  readonly fingerprint: string;
  /** Validity of the certificate, Unix seconds. */
  readonly notBefore: number;
  readonly notAfter: number;
  readonly revoked: boolean;
}

/** The tenant stream (`tenant-<t>`) folded. */
export type TenantState =
  | { readonly status: 'absent' }
  | {
      readonly status: 'active';
      readonly tenantId: string;
      /** Fingerprint of the offline root that signed the genesis record. */
      readonly rootFingerprint: string;
      readonly adminDevices: Readonly<Record<string, AdminDevice>>;
      readonly chain: Chain;
      /**
       * The signed time at each tenant chain position (index = position - 1): the genesis time,
       * then the newest heartbeat's. Certificates are judged at the position a record names.
       */
      readonly times: readonly number[];
      /** Signed time (Unix seconds) of the newest admin heartbeat, or null before the first. */
      readonly lastHeartbeatTime: number | null;
      /** Tree size of the newest countersigned checkpoint (0 before the first). */
      readonly checkpointTreeSize: number;
    };

// Commands name their tenant and carry the exact signed bytes; the indexed fields come from the
// verified record itself.

/** Creates the tenant from its genesis record, signed by the offline root. */
export type CreateTenant = Command<'CreateTenant', CommandData<'CreateTenant'>>;
/** The root certifies an admin device. */
export type CertifyAdminDevice = Command<'CertifyAdminDevice', CommandData<'CertifyAdminDevice'>>;
/** The root revokes an admin device. */
export type RevokeAdminDevice = Command<'RevokeAdminDevice', CommandData<'RevokeAdminDevice'>>;
/** An admin device's heartbeat, naming every member's user-chain head. */
export type RecordHeartbeat = Command<'RecordHeartbeat', CommandData<'RecordHeartbeat'>>;
/** An admin device countersigns the service's signed tree head of the Merkle log. */
export type RecordCheckpoint = Command<'RecordCheckpoint', CommandData<'RecordCheckpoint'>>;
export type TenantCommand =
  CreateTenant | CertifyAdminDevice | RevokeAdminDevice | RecordHeartbeat | RecordCheckpoint;

export type TenantCreated = Event<'TenantCreated', EventData<'TenantCreated'>>;
export type AdminDeviceCertified = Event<'AdminDeviceCertified', EventData<'AdminDeviceCertified'>>;
export type AdminDeviceRevoked = Event<'AdminDeviceRevoked', EventData<'AdminDeviceRevoked'>>;
export type Heartbeat = Event<'Heartbeat', EventData<'Heartbeat'>>;
export type Checkpoint = Event<'Checkpoint', EventData<'Checkpoint'>>;
export type TenantEvent =
  TenantCreated | AdminDeviceCertified | AdminDeviceRevoked | Heartbeat | Checkpoint;
