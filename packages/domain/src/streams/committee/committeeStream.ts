import type { Command, Event, MembershipChange, RecordCarrier } from '@ratsfach/kernel';
import type { Chain } from '../../chain.js';
import type { MemberRole } from './roles.js';

/** A committee member as the committee stream knows them. */
export interface CommitteeMember {
  readonly userId: string;
  readonly role: MemberRole;
  /** Chain position of the admin-signed record that added the member; a co-signature names it. */
  readonly membershipSequence: number;
  /** Hash of that record. */
  readonly membershipHash: Uint8Array;
  /** True once a staff device co-signed the addition: only then does the membership count. */
  readonly cosigned: boolean;
  /**
   * An admin-signed promotion to staff awaiting a staff co-signature (chain position and hash of
   * its membership record); the member keeps their old role until it is co-signed, as devices
   * (`@ratsfach/crypto` CommitteeState) count it. Absent when none is pending.
   */
  readonly pendingStaff?: { readonly sequence: number; readonly hash: Uint8Array };
}

/** Legal holds on the whole committee are keyed by this instead of a document id. */
export const wholeCommittee = '*';

/** The committee stream (`committee-<t>-<id>`) folded. */
export type CommitteeState =
  | { readonly status: 'absent' }
  | {
      readonly status: 'active';
      readonly tenantId: string;
      readonly committeeId: string;
      readonly members: Readonly<Record<string, CommitteeMember>>;
      /** Current key epoch (the first is 0); null before the first. */
      readonly epoch: number | null;
      /** True after a member who held keys left, until a new epoch starts: nothing is written meanwhile. */
      readonly rotationRequired: boolean;
      /** The devices the current epoch key was wrapped for. */
      readonly keyHolders: readonly KeyRecipient[];
      /** Days a deleted document is kept before it may be erased; null: no rule. */
      readonly retentionDays: number | null;
      /** Document ids under legal hold, or `wholeCommittee`. */
      readonly legalHolds: readonly string[];
      readonly chain: Chain;
    };

/** A device a key record wraps the epoch key for. */
export interface KeyRecipientRef {
  readonly userId: string;
  readonly deviceId: string;
}

/** A device a key record wrapped the epoch key for, as indexed in the event. */
export interface KeyRecipient extends KeyRecipientRef {
  readonly fingerprint: string;
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
    readonly role: MemberRole;
  }
>;
/**
 * A staff device co-signs the addition of `userId` (the record names the membership record by
 * sequence and hash). The founding staff member of a committee without staff co-signs their own.
 */
export type CoSignMembership = Command<
  'CoSignMembership',
  MemberSigned & { readonly userId: string }
>;
/** A staff device starts the next key epoch, wrapping its key for the devices named. */
export type StartKeyEpoch = Command<
  'StartKeyEpoch',
  MemberSigned & { readonly epoch: number; readonly recipients: readonly KeyRecipientRef[] }
>;
/** A staff device wraps the current epoch key for more devices of members. */
export type WrapEpochKeys = Command<
  'WrapEpochKeys',
  MemberSigned & { readonly epoch: number; readonly recipients: readonly KeyRecipientRef[] }
>;
/** An admin device (`signerUserId` null) or a staff device sets the retention rule. */
export type SetRetention = Command<
  'SetRetention',
  {
    readonly tenantId: string;
    readonly committeeId: string;
    readonly signerUserId: string | null;
    readonly signerDeviceId: string;
    readonly retentionDays: number | null;
    readonly record: Uint8Array;
  }
>;
/** An admin device places a legal hold on one document, or on the whole committee (null). */
export type PlaceLegalHold = Command<
  'PlaceLegalHold',
  AdminSigned & { readonly documentId: string | null }
>;
/** An admin device lifts a legal hold. */
export type LiftLegalHold = Command<
  'LiftLegalHold',
  AdminSigned & { readonly documentId: string | null }
>;
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
    readonly role: MemberRole;
  }
>;
export type MembershipCoSigned = Event<
  'MembershipCoSigned',
  MemberSignedEvent & {
    readonly userId: string;
    readonly membershipSequence: number;
    readonly membershipHash: Uint8Array;
  }
>;
export type KeyEpochStarted = Event<
  'KeyEpochStarted',
  MemberSignedEvent & { readonly epoch: number; readonly recipients: readonly KeyRecipient[] }
>;
export type EpochKeysWrapped = Event<
  'EpochKeysWrapped',
  MemberSignedEvent & { readonly epoch: number; readonly recipients: readonly KeyRecipient[] }
>;
export type RetentionSet = Event<
  'RetentionSet',
  RecordCarrier & {
    readonly signerUserId: string | null;
    readonly signerDeviceId: string;
    readonly retentionDays: number | null;
  }
>;
export type LegalHoldPlaced = Event<
  'LegalHoldPlaced',
  AdminSignedEvent & { readonly documentId: string | null }
>;
export type LegalHoldLifted = Event<
  'LegalHoldLifted',
  AdminSignedEvent & { readonly documentId: string | null }
>;
export type CommitteeEvent =
  | CommitteeCreated
  | MembershipChanged
  | MembershipCoSigned
  | KeyEpochStarted
  | EpochKeysWrapped
  | RetentionSet
  | LegalHoldPlaced
  | LegalHoldLifted;
