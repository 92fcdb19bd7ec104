import type { Command, Event, RecordCarrier } from './message.js';
import type { Chain } from './chain.js';
import type { MemberRole } from './roles.js';

/** A committee member as the committee stream knows them. */
export interface CommitteeMember {
  readonly userId: string;
  readonly role: MemberRole;
  /** Hash of the admin-signed record that added the member; a co-signature names it. */
  readonly membershipHash: Uint8Array;
  /** True once a staff device co-signed the addition: only then does the membership count. */
  readonly cosigned: boolean;
}

/** The committee stream (`committee-<t>-<id>`) folded. */
export type CommitteeState =
  | { readonly status: 'absent' }
  | {
      readonly status: 'active';
      readonly tenantId: string;
      readonly committeeId: string;
      readonly members: Readonly<Record<string, CommitteeMember>>;
      /** Current key epoch; 0 before the first. */
      readonly epoch: number;
      /** True after a member left until a new epoch starts: nothing is written meanwhile. */
      readonly rotationRequired: boolean;
      /** Days a document must be kept after creation before it may be erased; null: no rule. */
      readonly retentionDays: number | null;
      readonly legalHold: boolean;
      readonly chain: Chain;
    };

/** The kinds of membership change an admin device signs. */
export const MembershipChange = {
  added: 'added',
  removed: 'removed',
  roleChanged: 'roleChanged',
} as const;
export type MembershipChange = (typeof MembershipChange)[keyof typeof MembershipChange];

/** A wrapped epoch key for one device; the wrapped key itself lives in the blob store. */
export interface KeyRecipient {
  readonly userId: string;
  readonly deviceId: string;
  readonly wrappedKeyHash: Uint8Array;
}

interface AdminSigned {
  readonly tenantId: string;
  readonly committeeId: string;
  readonly signerDeviceId: string;
  readonly record: Uint8Array;
}
interface MemberSigned {
  readonly tenantId: string;
  readonly committeeId: string;
  readonly signerUserId: string;
  readonly signerDeviceId: string;
  readonly record: Uint8Array;
}

/** An admin device creates a committee. */
export type CreateCommittee = Command<'CreateCommittee', AdminSigned>;
/** An admin device adds or removes a member or changes a member's role. */
export type ChangeMembership = Command<
  'ChangeMembership',
  AdminSigned & {
    readonly change: MembershipChange;
    readonly userId: string;
    /** The new role for `added` and `roleChanged`; null for `removed`. */
    readonly role: MemberRole | null;
  }
>;
/** A staff device co-signs a membership addition (the founding staff member co-signs their own). */
export type CoSignMembership = Command<
  'CoSignMembership',
  MemberSigned & { readonly userId: string; readonly membershipHash: Uint8Array }
>;
/** A staff device starts the next key epoch. */
export type StartKeyEpoch = Command<'StartKeyEpoch', MemberSigned & { readonly epoch: number }>;
/** A staff device wraps the current epoch key for devices of members. */
export type WrapEpochKeys = Command<
  'WrapEpochKeys',
  MemberSigned & { readonly epoch: number; readonly recipients: readonly KeyRecipient[] }
>;
/** An admin device sets how long documents must be kept (null: no rule). */
export type SetRetention = Command<
  'SetRetention',
  AdminSigned & { readonly retentionDays: number | null }
>;
/** An admin device places a legal hold: nothing may be deleted or erased while it holds. */
export type PlaceLegalHold = Command<'PlaceLegalHold', AdminSigned>;
/** An admin device lifts the legal hold. */
export type LiftLegalHold = Command<'LiftLegalHold', AdminSigned>;
export type CommitteeCommand =
  | CreateCommittee
  | ChangeMembership
  | CoSignMembership
  | StartKeyEpoch
  | WrapEpochKeys
  | SetRetention
  | PlaceLegalHold
  | LiftLegalHold;

interface AdminSignedEvent extends RecordCarrier {
  readonly signerDeviceId: string;
}
interface MemberSignedEvent extends RecordCarrier {
  readonly signerUserId: string;
  readonly signerDeviceId: string;
}

export type CommitteeCreated = Event<
  'CommitteeCreated',
  AdminSignedEvent & { readonly tenantId: string; readonly committeeId: string }
>;
export type MembershipChanged = Event<
  'MembershipChanged',
  AdminSignedEvent & {
    readonly change: MembershipChange;
    readonly userId: string;
    readonly role: MemberRole | null;
  }
>;
export type MembershipCoSigned = Event<
  'MembershipCoSigned',
  MemberSignedEvent & { readonly userId: string; readonly membershipHash: Uint8Array }
>;
export type KeyEpochStarted = Event<
  'KeyEpochStarted',
  MemberSignedEvent & { readonly epoch: number }
>;
export type EpochKeysWrapped = Event<
  'EpochKeysWrapped',
  MemberSignedEvent & { readonly epoch: number; readonly recipients: readonly KeyRecipient[] }
>;
export type RetentionSet = Event<
  'RetentionSet',
  AdminSignedEvent & { readonly retentionDays: number | null }
>;
export type LegalHoldPlaced = Event<'LegalHoldPlaced', AdminSignedEvent>;
export type LegalHoldLifted = Event<'LegalHoldLifted', AdminSignedEvent>;
export type CommitteeEvent =
  | CommitteeCreated
  | MembershipChanged
  | MembershipCoSigned
  | KeyEpochStarted
  | EpochKeysWrapped
  | RetentionSet
  | LegalHoldPlaced
  | LegalHoldLifted;
