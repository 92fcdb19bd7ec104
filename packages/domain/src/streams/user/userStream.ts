import type { Command, Event, SeenHead } from '@ratsfach/kernel';
import type { CommandData } from '../../schemas/commandSchemas.js';
import type { EventData } from '../../schemas/eventSchemas.js';
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
  /**
   * Whether, when it was certified, the user had no unrevoked device: only such a first device
   * may be confirmed by a staff member (FORMAT.md "Device confirmation"). Absent in states built
   * by hand before confirmations existed; read as false.
   */
  readonly firstDevice?: boolean;
  /**
   * The device-confirmations naming it, oldest first. Which of them count for a committee is
   * `confirmedForCommittee`'s call (the same closure devices compute); absent: none.
   */
  readonly confirmedBy?: readonly DeviceVoucher[];
}

/** Who signed a `DeviceConfirmed` for a device, and the committee a staff signer named. */
export interface DeviceVoucher {
  readonly signerUserId: string;
  readonly signerDeviceId: string;
  /** Null for a device of the same user; the committee a staff device confirmed as. */
  readonly committeeId: string | null;
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
export type CreateUser = Command<'CreateUser', CommandData<'CreateUser'>>;
/** An admin device certifies a user device, or renews the certificate of one in good standing. */
export type CertifyDevice = Command<'CertifyDevice', CommandData<'CertifyDevice'>>;
/** An admin device revokes a user device. */
export type RevokeDevice = Command<'RevokeDevice', CommandData<'RevokeDevice'>>;
/** A user's device records the chain heads it has seen. */
export type RecordHeadsSeen = Command<'RecordHeadsSeen', CommandData<'RecordHeadsSeen'>>;
/**
 * A device confirms another device of its user, or a staff device confirms a user's first
 * device naming its committee: only confirmed devices receive epoch keys.
 */
export type ConfirmDevice = Command<'ConfirmDevice', CommandData<'ConfirmDevice'>>;
export type UserCommand =
  CreateUser | CertifyDevice | RevokeDevice | RecordHeadsSeen | ConfirmDevice;

export type UserCreated = Event<'UserCreated', EventData<'UserCreated'>>;
export type DeviceCertified = Event<'DeviceCertified', EventData<'DeviceCertified'>>;
export type DeviceRevoked = Event<'DeviceRevoked', EventData<'DeviceRevoked'>>;
export type HeadsSeen = Event<'HeadsSeen', EventData<'HeadsSeen'>>;
export type DeviceConfirmed = Event<'DeviceConfirmed', EventData<'DeviceConfirmed'>>;
export type UserEvent = UserCreated | DeviceCertified | DeviceRevoked | HeadsSeen | DeviceConfirmed;
