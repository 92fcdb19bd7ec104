import type { Command, Event, RecordCarrier, SeenHead } from '@ratsfach/kernel';
import type { Chain } from '../../chain.js';

/** A user's device as the user stream knows it. */
export interface UserDevice {
  readonly deviceId: string;
  /** Fingerprint of the device's signing key (from the admin-signed certificate). */
  readonly fingerprint: string;
  /** Validity of the certificate, Unix seconds. */
  readonly notBefore: number;
  readonly notAfter: number;
  readonly revoked: boolean;
}

/** The user stream (`user-<t>-<id>`) folded. */
export type UserState =
  | { readonly status: 'absent' }
  | {
      readonly status: 'active';
      readonly tenantId: string;
      readonly userId: string;
      readonly devices: Readonly<Record<string, UserDevice>>;
      readonly chain: Chain;
      /** Per device, the heads it reported last. */
      readonly headsSeen: Readonly<Record<string, readonly SeenHead[]>>;
    };

/** An admin device creates a user (the person's name lives in the directory, not here). */
export type CreateUser = Command<
  'CreateUser',
  {
    readonly tenantId: string;
    readonly userId: string;
    readonly signerDeviceId: string;
    readonly record: Uint8Array;
  }
>;
/** An admin device certifies a user device, or renews the certificate of one in good standing. */
export type CertifyDevice = Command<
  'CertifyDevice',
  {
    readonly tenantId: string;
    readonly userId: string;
    readonly deviceId: string;
    readonly signerDeviceId: string;
    readonly record: Uint8Array;
  }
>;
/** An admin device revokes a user device. */
export type RevokeDevice = Command<
  'RevokeDevice',
  {
    readonly tenantId: string;
    readonly userId: string;
    readonly deviceId: string;
    readonly signerDeviceId: string;
    readonly record: Uint8Array;
  }
>;
/** A user's device records the chain heads it has seen. */
export type RecordHeadsSeen = Command<
  'RecordHeadsSeen',
  {
    readonly tenantId: string;
    readonly userId: string;
    readonly deviceId: string;
    readonly record: Uint8Array;
  }
>;
export type UserCommand = CreateUser | CertifyDevice | RevokeDevice | RecordHeadsSeen;

export type UserCreated = Event<
  'UserCreated',
  {
    readonly tenantId: string;
    readonly userId: string;
    readonly signerDeviceId: string;
  } & RecordCarrier
>;
export type DeviceCertified = Event<
  'DeviceCertified',
  {
    readonly deviceId: string;
    readonly fingerprint: string;
    readonly notBefore: number;
    readonly notAfter: number;
    readonly signerDeviceId: string;
  } & RecordCarrier
>;
export type DeviceRevoked = Event<
  'DeviceRevoked',
  {
    readonly deviceId: string;
    readonly fingerprint: string;
    readonly signerDeviceId: string;
  } & RecordCarrier
>;
export type HeadsSeen = Event<
  'HeadsSeen',
  { readonly deviceId: string; readonly heads: readonly SeenHead[] } & RecordCarrier
>;
export type UserEvent = UserCreated | DeviceCertified | DeviceRevoked | HeadsSeen;
