import type { CommandJsonOf } from '@ratsfach/api-contract';
import { signRecord, unchained, type ChainLink, type SigningKeyPair } from '@ratsfach/crypto';
import type { MemberRole, MembershipChange } from '@ratsfach/domain';
import { toCommandJson, type CommandOptions } from './toCommandJson.js';

/** What every committee record names: its committee, signer and where the signer is judged. */
export interface CommitteeSigned {
  readonly tenantId: string;
  readonly committeeId: string;
  /** The tenant chain's length the signing device has seen. */
  readonly tenantPosition: number;
  readonly signerDeviceId: string;
  readonly signer: SigningKeyPair;
}

/** `CreateCommittee`: an admin device starts a committee chain (position 0). */
export function createCommitteeCommand(
  input: CommitteeSigned,
  options?: CommandOptions,
): CommandJsonOf<'CreateCommittee'> {
  const { tenantId, committeeId, tenantPosition, signerDeviceId, signer } = input;
  const record = signRecord(
    'committee-created',
    unchained,
    { tenantId, committeeId, tenantPosition },
    signer,
  );
  return toCommandJson(
    'CreateCommittee',
    { tenantId, committeeId, signerDeviceId, record },
    options,
  );
}

export interface MembershipInput extends CommitteeSigned {
  readonly userId: string;
  readonly change: MembershipChange;
  /** The role added or changed to (for a removal: the role the member held). */
  readonly role: MemberRole;
  readonly link: ChainLink;
}

/**
 * `ChangeMembership`: an admin device adds, removes or changes the role of a member. An addition
 * gives keys only once a staff device co-signs it (`coSignMembershipCommand`).
 */
export function changeMembershipCommand(
  input: MembershipInput,
  options?: CommandOptions,
): CommandJsonOf<'ChangeMembership'> {
  const { tenantId, committeeId, userId, change, role, tenantPosition } = input;
  const record = signRecord(
    'membership',
    input.link,
    { tenantId, committeeId, userId, change, role, tenantPosition },
    input.signer,
  );
  return toCommandJson(
    'ChangeMembership',
    { tenantId, committeeId, signerDeviceId: input.signerDeviceId, change, userId, role, record },
    options,
  );
}

export interface CoSignatureInput extends CommitteeSigned {
  /** The member whose membership record is co-signed. */
  readonly userId: string;
  /** Position and hash of that membership record in the committee chain. */
  readonly membershipSequence: number;
  readonly membershipHash: Uint8Array;
  /** The staff member signing (the signer device's user). */
  readonly signerUserId: string;
  readonly link: ChainLink;
}

/** `CoSignMembership`: a staff device co-signs a membership record (then keys may be wrapped). */
export function coSignMembershipCommand(
  input: CoSignatureInput,
  options?: CommandOptions,
): CommandJsonOf<'CoSignMembership'> {
  const { tenantId, committeeId, membershipSequence, membershipHash, tenantPosition } = input;
  const record = signRecord(
    'membership-cosignature',
    input.link,
    { tenantId, committeeId, membershipSequence, membershipHash, tenantPosition },
    input.signer,
  );
  return toCommandJson(
    'CoSignMembership',
    {
      tenantId,
      committeeId,
      signerDeviceId: input.signerDeviceId,
      signerUserId: input.signerUserId,
      userId: input.userId,
      record,
    },
    options,
  );
}

export interface RetentionInput extends CommitteeSigned {
  /** Days a deleted document is kept before it may be erased; null: no rule. */
  readonly retentionDays: number | null;
  /** The staff member signing, or null when an admin device signs. */
  readonly signerUserId: string | null;
  readonly link: ChainLink;
}

/** `SetRetention`: a staff or admin device sets the committee's retention rule. */
export function setRetentionCommand(
  input: RetentionInput,
  options?: CommandOptions,
): CommandJsonOf<'SetRetention'> {
  const { tenantId, committeeId, tenantPosition, retentionDays } = input;
  const record = signRecord(
    'retention',
    input.link,
    { tenantId, committeeId, tenantPosition, retentionDays },
    input.signer,
  );
  return toCommandJson(
    'SetRetention',
    {
      tenantId,
      committeeId,
      signerUserId: input.signerUserId,
      signerDeviceId: input.signerDeviceId,
      retentionDays,
      record,
    },
    options,
  );
}

export interface LegalHoldInput extends CommitteeSigned {
  /** The document held, or null for the whole committee. */
  readonly documentId: string | null;
  /** The case or file reference the hold is for. */
  readonly reference: string;
  readonly link: ChainLink;
}

const legalHold = <T extends 'PlaceLegalHold' | 'LiftLegalHold'>(
  type: T,
  input: LegalHoldInput,
  options: CommandOptions | undefined,
): CommandJsonOf<T> => {
  // Both hold commands have the same data; TypeScript cannot see that through the union of T.
  const holdType = type as 'PlaceLegalHold';
  const { tenantId, committeeId, documentId, reference, tenantPosition } = input;
  const record = signRecord(
    'legal-hold',
    input.link,
    {
      tenantId,
      committeeId,
      documentId,
      active: type === 'PlaceLegalHold',
      reference,
      tenantPosition,
    },
    input.signer,
  );
  return toCommandJson(
    holdType,
    { tenantId, committeeId, documentId, signerDeviceId: input.signerDeviceId, record },
    options,
  ) as CommandJsonOf<T>;
};

/** `PlaceLegalHold`: an admin device holds a document (or the committee) against erasure. */
export const placeLegalHoldCommand = (input: LegalHoldInput, options?: CommandOptions) =>
  legalHold('PlaceLegalHold', input, options);

/** `LiftLegalHold`: an admin device lifts a hold. */
export const liftLegalHoldCommand = (input: LegalHoldInput, options?: CommandOptions) =>
  legalHold('LiftLegalHold', input, options);
