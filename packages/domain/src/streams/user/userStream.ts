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
export type UserCommand = CreateUser | CertifyDevice | RevokeDevice | RecordHeadsSeen;

export type UserCreated = Event<'UserCreated', EventData<'UserCreated'>>;
export type DeviceCertified = Event<'DeviceCertified', EventData<'DeviceCertified'>>;
export type DeviceRevoked = Event<'DeviceRevoked', EventData<'DeviceRevoked'>>;
export type HeadsSeen = Event<'HeadsSeen', EventData<'HeadsSeen'>>;
export type UserEvent = UserCreated | DeviceCertified | DeviceRevoked | HeadsSeen;
