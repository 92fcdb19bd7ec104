import type { Command, Event } from '@ratsfach/kernel';
import type { CommandData } from '../../schemas/commandSchemas.js';
import type { EventData } from '../../schemas/eventSchemas.js';
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
      /**
       * The devices that co-signed their own founding-staff addition (the bootstrap), oldest
       * first: the roots device confirmations count from (FORMAT.md "Device confirmation").
       * Once there is one, the committee has had staff and is never founded again.
       */
      readonly founders: readonly KeyRecipientRef[];
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

/** An admin device creates a committee. */
export type CreateCommittee = Command<'CreateCommittee', CommandData<'CreateCommittee'>>;
/** An admin device adds or removes a member or changes a member's role. */
export type ChangeMembership = Command<'ChangeMembership', CommandData<'ChangeMembership'>>;
/**
 * A staff device co-signs the addition of `userId` (the record names the membership record by
 * sequence and hash). The founding staff member of a committee without staff co-signs their own.
 */
export type CoSignMembership = Command<'CoSignMembership', CommandData<'CoSignMembership'>>;
/** A staff device starts the next key epoch, wrapping its key for the devices named. */
export type StartKeyEpoch = Command<'StartKeyEpoch', CommandData<'StartKeyEpoch'>>;
/** A staff device wraps the current epoch key for more devices of members. */
export type WrapEpochKeys = Command<'WrapEpochKeys', CommandData<'WrapEpochKeys'>>;
/** An admin device (`signerUserId` null) or a staff device sets the retention rule. */
export type SetRetention = Command<'SetRetention', CommandData<'SetRetention'>>;
/** An admin device places a legal hold on one document, or on the whole committee (null). */
export type PlaceLegalHold = Command<'PlaceLegalHold', CommandData<'PlaceLegalHold'>>;
/** An admin device lifts a legal hold. */
export type LiftLegalHold = Command<'LiftLegalHold', CommandData<'LiftLegalHold'>>;
export type CommitteeCommand =
  | CreateCommittee
  | ChangeMembership
  | CoSignMembership
  | StartKeyEpoch
  | WrapEpochKeys
  | SetRetention
  | PlaceLegalHold
  | LiftLegalHold;

export type CommitteeCreated = Event<'CommitteeCreated', EventData<'CommitteeCreated'>>;
export type MembershipChanged = Event<'MembershipChanged', EventData<'MembershipChanged'>>;
export type MembershipCoSigned = Event<'MembershipCoSigned', EventData<'MembershipCoSigned'>>;
export type KeyEpochStarted = Event<'KeyEpochStarted', EventData<'KeyEpochStarted'>>;
export type EpochKeysWrapped = Event<'EpochKeysWrapped', EventData<'EpochKeysWrapped'>>;
export type RetentionSet = Event<'RetentionSet', EventData<'RetentionSet'>>;
export type LegalHoldPlaced = Event<'LegalHoldPlaced', EventData<'LegalHoldPlaced'>>;
export type LegalHoldLifted = Event<'LegalHoldLifted', EventData<'LegalHoldLifted'>>;
export type CommitteeEvent =
  | CommitteeCreated
  | MembershipChanged
  | MembershipCoSigned
  | KeyEpochStarted
  | EpochKeysWrapped
  | RetentionSet
  | LegalHoldPlaced
  | LegalHoldLifted;
