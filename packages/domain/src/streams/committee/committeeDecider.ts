import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../../errors.js';
import { DomainErrorCode } from '../../domainErrorCode.js';
import type { Decider } from '../../decider.js';
import type { DomainContext } from '../domainContext.js';
import { RecordPurpose } from '../../signedRecord.js';
import { checkRecord, recordMismatch } from '../checkRecord.js';
import { advanceChain, emptyChain } from '../../chain.js';
import { eventMetadata } from '../../message.js';
import {
  requireAdminSigner,
  requireMemberSigner,
  requireUser,
  requireUserDevice,
} from '../authorize.js';
import { MemberRole, Right, membershipEffective } from './roles.js';
import { bytesEqual } from '../../valueEqual.js';
import {
  assertNever,
  checkId,
  checkInt,
  checkMetadata,
  checkRecordBytes,
  commandMalformed,
  contextMissing,
} from '../../validate.js';
import { requireTenantContext } from '../user/userDecider.js';
import type { WrappedKeyView } from '../../recordViews.js';
import { MembershipChange, wholeCommittee } from './committeeStream.js';
import type {
  CommitteeCommand,
  CommitteeEvent,
  CommitteeMember,
  CommitteeState,
  KeyRecipient,
  KeyRecipientRef,
} from './committeeStream.js';

type ActiveCommittee = Extract<CommitteeState, { status: 'active' }>;

const memberRoles: ReadonlySet<string> = new Set(Object.values(MemberRole));
const changes: ReadonlySet<string> = new Set(Object.values(MembershipChange));

/** Longest retention rule accepted, in days (100 years). */
export const maxRetentionDays = 36_500;

const requireCommittee = (
  state: CommitteeState,
  tenantId: string,
  committeeId: string,
): ActiveCommittee => {
  if (state.status !== 'active') {
    throw new NotFoundError(
      DomainErrorCode.committeeUnknown,
      `committee ${committeeId} does not exist`,
      {
        hint: 'create the committee first',
        details: { committeeId },
      },
    );
  }
  if (state.tenantId !== tenantId || state.committeeId !== committeeId) {
    throw commandMalformed(
      'committeeId',
      `names ${tenantId}/${committeeId}, the stream belongs to ${state.tenantId}/${state.committeeId}`,
    );
  }
  return state;
};

const contextUser = (context: DomainContext, userId: string) => {
  if (context.users === undefined || !Object.hasOwn(context.users, userId)) {
    throw contextMissing(`the state of user ${userId}`);
  }
  return context.users[userId];
};

const hasEffectiveStaff = (committee: ActiveCommittee): boolean =>
  Object.values(committee.members).some(
    (member) => member.role === MemberRole.staff && membershipEffective(member),
  );

const keyListEmpty = (): ValidationError =>
  new ValidationError(
    DomainErrorCode.keyListEmpty,
    'a key record must wrap the key for at least one device',
    {
      hint: 'an empty key list is an error, never "no encryption": wrap the key for at least one device',
    },
  );

/**
 * Checks the devices a key record wraps for: each a certified, unrevoked device of a member in
 * effect, and exactly the set of recipients the signed record names (by fingerprint).
 */
function checkRecipients(
  committee: ActiveCommittee,
  context: DomainContext,
  refs: readonly KeyRecipientRef[],
  wrapped: readonly WrappedKeyView[],
): KeyRecipient[] {
  if (!Array.isArray(refs) || refs.length === 0 || wrapped.length === 0) throw keyListEmpty();
  const recipients: KeyRecipient[] = [];
  const seen = new Set<string>();
  for (const { userId, deviceId } of refs) {
    checkId('recipients.userId', userId);
    checkId('recipients.deviceId', deviceId);
    if (seen.has(`${userId}/${deviceId}`))
      throw commandMalformed('recipients', `device ${userId}/${deviceId} is named twice`);
    seen.add(`${userId}/${deviceId}`);
    const member = committee.members[userId];
    if (member === undefined || !membershipEffective(member)) {
      throw new ForbiddenError(
        DomainErrorCode.recipientNotMember,
        `user ${userId} is not a member in effect of committee ${committee.committeeId}`,
        {
          hint: 'wrap keys only for members whose addition a staff device co-signed',
          details: { userId },
        },
      );
    }
    const user = contextUser(context, userId);
    const device = user?.status === 'active' ? user.devices[deviceId] : undefined;
    if (device === undefined || device.revoked) {
      throw new ForbiddenError(
        DomainErrorCode.recipientDeviceInvalid,
        `device ${deviceId} of user ${userId} is not certified or is revoked`,
        {
          hint: 'wrap keys only for certified devices in good standing',
          details: { userId, deviceId },
        },
      );
    }
    recipients.push({ userId, deviceId, fingerprint: device.fingerprint });
  }
  const signed = new Set(wrapped.map((key) => key.recipient));
  if (
    signed.size !== wrapped.length ||
    signed.size !== recipients.length ||
    recipients.some((r) => !signed.has(r.fingerprint))
  ) {
    throw recordMismatch('wrappedKeys');
  }
  return recipients;
}

/** Decides commands of a committee stream: membership, key epochs, retention and legal holds. */
export function decideCommittee(
  command: CommitteeCommand,
  state: CommitteeState,
  context: DomainContext,
): CommitteeEvent[] {
  checkMetadata(command.metadata);
  const metadata = eventMetadata(command.metadata);
  const { verifier } = context;
  const { tenantId, committeeId, signerDeviceId, record } = command.data;
  checkId('tenantId', tenantId);
  checkId('committeeId', committeeId);
  checkId('signerDeviceId', signerDeviceId);
  checkRecordBytes(record);
  switch (command.type) {
    case 'CreateCommittee': {
      if (state.status !== 'absent') {
        throw new ConflictError(
          DomainErrorCode.committeeExists,
          `committee ${committeeId} exists already`,
          {
            hint: 'pick another committee id',
            details: { committeeId },
          },
        );
      }
      const tenant = requireTenantContext(context, tenantId);
      const { verified } = checkRecord(
        verifier,
        record,
        RecordPurpose.committeeCreated,
        emptyChain(),
        { tenantId, committeeId },
      );
      requireAdminSigner(tenant, signerDeviceId, verified);
      return [
        {
          type: 'CommitteeCreated',
          data: {
            tenantId,
            committeeId,
            signerDeviceId,
            record,
            recordHash: verified.hash,
            sequence: verified.sequence,
          },
          metadata,
        },
      ];
    }
    case 'ChangeMembership': {
      const { change, userId, role } = command.data;
      checkId('userId', userId);
      if (!changes.has(change))
        throw commandMalformed('change', `expected one of ${[...changes].join(', ')}`);
      if (!memberRoles.has(role))
        throw commandMalformed('role', `expected one of ${[...memberRoles].join(', ')}`);
      const committee = requireCommittee(state, tenantId, committeeId);
      const tenant = requireTenantContext(context, tenantId);
      const { verified } = checkRecord(
        verifier,
        record,
        RecordPurpose.membership,
        committee.chain,
        {
          tenantId,
          committeeId,
          change,
          userId,
          role,
        },
      );
      requireAdminSigner(tenant, signerDeviceId, verified);
      const member = committee.members[userId];
      if (change === MembershipChange.add) {
        if (member !== undefined) {
          throw new ConflictError(
            DomainErrorCode.memberExists,
            `user ${userId} is a member of committee ${committeeId} already`,
            {
              hint: 'change the role instead of adding the member again',
              details: { userId, committeeId },
            },
          );
        }
        requireUser(contextUser(context, userId), userId);
      } else if (member === undefined) {
        throw new NotFoundError(
          DomainErrorCode.memberUnknown,
          `user ${userId} is not a member of committee ${committeeId}`,
          {
            hint: 'add the member first',
            details: { userId, committeeId },
          },
        );
      } else if (
        change === MembershipChange.changeRole &&
        member.role === role &&
        member.pendingStaff === undefined
      ) {
        throw new ConflictError(
          DomainErrorCode.roleUnchanged,
          `user ${userId} holds role ${role} already`,
          {
            hint: 'nothing to do',
            details: { userId, role },
          },
        );
      }
      return [
        {
          type: 'MembershipChanged',
          data: {
            change,
            userId,
            role,
            signerDeviceId,
            record,
            recordHash: verified.hash,
            sequence: verified.sequence,
          },
          metadata,
        },
      ];
    }
    case 'CoSignMembership': {
      const { userId, signerUserId } = command.data;
      checkId('userId', userId);
      checkId('signerUserId', signerUserId);
      const committee = requireCommittee(state, tenantId, committeeId);
      const { verified, fields } = checkRecord(
        verifier,
        record,
        RecordPurpose.membershipCosignature,
        committee.chain,
        {
          tenantId,
          committeeId,
        },
      );
      const member = committee.members[userId];
      if (member === undefined) {
        throw new NotFoundError(
          DomainErrorCode.memberUnknown,
          `user ${userId} is not a member of committee ${committeeId}`,
          {
            hint: 'an admin must sign the addition before staff co-sign it',
            details: { userId, committeeId },
          },
        );
      }
      // A co-signature names either the pending promotion to staff or the addition record.
      const pending = member.pendingStaff;
      const promotion =
        pending !== undefined &&
        fields.membershipSequence === pending.sequence &&
        bytesEqual(fields.membershipHash, pending.hash);
      if (
        !promotion &&
        (fields.membershipSequence !== member.membershipSequence ||
          !bytesEqual(fields.membershipHash, member.membershipHash))
      ) {
        throw new ConflictError(
          DomainErrorCode.membershipChanged,
          `the co-signature does not name the membership record of user ${userId}`,
          {
            hint: 'sync and co-sign the current membership record',
            details: { userId },
          },
        );
      }
      if (!promotion && member.cosigned) {
        throw new ConflictError(
          DomainErrorCode.membershipAlreadyCosigned,
          `the membership of user ${userId} is co-signed already`,
          {
            hint: 'nothing to do',
            details: { userId },
          },
        );
      }
      if (signerUserId === userId) {
        // Founding: a committee without staff in effect gets its first staff member this way.
        const becomesStaff = promotion || member.role === MemberRole.staff;
        if (hasEffectiveStaff(committee) || !becomesStaff) {
          throw new ForbiddenError(
            DomainErrorCode.selfCosign,
            `user ${userId} cannot co-sign their own membership`,
            {
              hint: 'another staff member of the committee must co-sign it',
              details: { userId },
            },
          );
        }
        requireUserDevice(
          requireUser(contextUser(context, signerUserId), signerUserId),
          signerDeviceId,
          verified,
          requireTenantContext(context, tenantId),
        );
      } else {
        requireMemberSigner(
          committee,
          contextUser(context, signerUserId),
          signerUserId,
          signerDeviceId,
          verified,
          Right.wrapKeys,
          requireTenantContext(context, tenantId),
        );
      }
      return [
        {
          type: 'MembershipCoSigned',
          data: {
            userId,
            membershipSequence: fields.membershipSequence,
            membershipHash: fields.membershipHash,
            signerUserId,
            signerDeviceId,
            record,
            recordHash: verified.hash,
            sequence: verified.sequence,
          },
          metadata,
        },
      ];
    }
    case 'StartKeyEpoch':
    case 'WrapEpochKeys': {
      const { epoch, recipients, signerUserId } = command.data;
      const starting = command.type === 'StartKeyEpoch';
      checkId('signerUserId', signerUserId);
      checkInt('epoch', epoch, 0);
      const committee = requireCommittee(state, tenantId, committeeId);
      const purpose = starting ? RecordPurpose.keyEpoch : RecordPurpose.epochKeys;
      const { verified, fields } = checkRecord(verifier, record, purpose, committee.chain, {
        tenantId,
        committeeId,
        epoch,
      });
      requireMemberSigner(
        committee,
        contextUser(context, signerUserId),
        signerUserId,
        signerDeviceId,
        verified,
        starting ? Right.startEpochs : Right.wrapKeys,
        requireTenantContext(context, tenantId),
      );
      if (starting) {
        const next = committee.epoch === null ? 0 : committee.epoch + 1;
        if (epoch !== next) {
          throw new ConflictError(
            DomainErrorCode.epochNotNext,
            `epoch ${epoch} does not follow the current epoch ${String(committee.epoch)}`,
            {
              hint: 'sync and start the next epoch',
              details: { epoch, next },
            },
          );
        }
      } else if (epoch !== committee.epoch) {
        throw new ConflictError(
          DomainErrorCode.epochNotCurrent,
          `epoch ${epoch} is not the current epoch ${String(committee.epoch)}`,
          {
            hint: 'sync and wrap the current epoch key',
            details: { epoch, current: committee.epoch },
          },
        );
      }
      const indexed = checkRecipients(committee, context, recipients, fields.wrappedKeys);
      const data = {
        epoch,
        recipients: indexed,
        signerUserId,
        signerDeviceId,
        record,
        recordHash: verified.hash,
        sequence: verified.sequence,
      };
      return [
        starting
          ? { type: 'KeyEpochStarted', data, metadata }
          : { type: 'EpochKeysWrapped', data, metadata },
      ];
    }
    case 'SetRetention': {
      const { retentionDays, signerUserId } = command.data;
      if (retentionDays !== null) checkInt('retentionDays', retentionDays, 0, maxRetentionDays);
      if (signerUserId !== null) checkId('signerUserId', signerUserId);
      const committee = requireCommittee(state, tenantId, committeeId);
      const { verified } = checkRecord(verifier, record, RecordPurpose.retention, committee.chain, {
        tenantId,
        committeeId,
        retentionDays,
      });
      if (signerUserId === null)
        requireAdminSigner(requireTenantContext(context, tenantId), signerDeviceId, verified);
      else
        requireMemberSigner(
          committee,
          contextUser(context, signerUserId),
          signerUserId,
          signerDeviceId,
          verified,
          Right.writeDocuments,
          requireTenantContext(context, tenantId),
        );
      return [
        {
          type: 'RetentionSet',
          data: {
            retentionDays,
            signerUserId,
            signerDeviceId,
            record,
            recordHash: verified.hash,
            sequence: verified.sequence,
          },
          metadata,
        },
      ];
    }
    case 'PlaceLegalHold':
    case 'LiftLegalHold': {
      const { documentId } = command.data;
      if (documentId !== null) checkId('documentId', documentId);
      const place = command.type === 'PlaceLegalHold';
      const committee = requireCommittee(state, tenantId, committeeId);
      const tenant = requireTenantContext(context, tenantId);
      const { verified } = checkRecord(verifier, record, RecordPurpose.legalHold, committee.chain, {
        tenantId,
        committeeId,
        documentId,
        active: place,
      });
      requireAdminSigner(tenant, signerDeviceId, verified);
      const held = committee.legalHolds.includes(documentId ?? wholeCommittee);
      if (place && held) {
        throw new ConflictError(
          DomainErrorCode.legalHoldAlreadyPlaced,
          `the legal hold on ${documentId ?? committeeId} is placed already`,
          {
            hint: 'nothing to do',
            details: { committeeId, documentId },
          },
        );
      }
      if (!place && !held) {
        throw new ConflictError(
          DomainErrorCode.legalHoldNotPlaced,
          `${documentId ?? committeeId} is not under legal hold`,
          {
            hint: 'nothing to do',
            details: { committeeId, documentId },
          },
        );
      }
      const data = {
        documentId,
        signerDeviceId,
        record,
        recordHash: verified.hash,
        sequence: verified.sequence,
      };
      return [
        place
          ? { type: 'LegalHoldPlaced', data, metadata }
          : { type: 'LegalHoldLifted', data, metadata },
      ];
    }
    default:
      return assertNever(command);
  }
}

/** Folds one committee event into the state. */
export function evolveCommittee(state: CommitteeState, event: CommitteeEvent): CommitteeState {
  if (event.type === 'CommitteeCreated') {
    return {
      status: 'active',
      tenantId: event.data.tenantId,
      committeeId: event.data.committeeId,
      members: {},
      epoch: null,
      rotationRequired: false,
      keyHolders: [],
      retentionDays: null,
      legalHolds: [],
      chain: advanceChain(emptyChain(), event.data.recordHash),
    };
  }
  if (state.status !== 'active') return state;
  const chain = advanceChain(state.chain, event.data.recordHash);
  switch (event.type) {
    case 'MembershipChanged': {
      const { change, userId, role, recordHash, sequence } = event.data;
      const member = state.members[userId];
      switch (change) {
        case 'add':
          return {
            ...state,
            chain,
            members: {
              ...state.members,
              [userId]: {
                userId,
                role,
                membershipSequence: sequence,
                membershipHash: recordHash,
                cosigned: false,
              },
            },
          };
        case 'remove': {
          const { [userId]: _removed, ...members } = state.members;
          // A member who held keys leaves: nothing may be written until a new epoch starts.
          const heldKeys = member !== undefined && member.cosigned && state.epoch !== null;
          return { ...state, chain, members, rotationRequired: state.rotationRequired || heldKeys };
        }
        case 'changeRole': {
          if (member === undefined) return { ...state, chain };
          const { pendingStaff: _dropped, ...rest } = member;
          // A promotion to staff counts only once a staff device co-signs it (as an addition
          // does); until then the member keeps their role. Other role changes apply at once.
          const changed: CommitteeMember =
            role === MemberRole.staff && member.role !== MemberRole.staff
              ? { ...member, pendingStaff: { sequence, hash: recordHash } }
              : { ...rest, role };
          return { ...state, chain, members: { ...state.members, [userId]: changed } };
        }
        default:
          return assertNever(change);
      }
    }
    case 'MembershipCoSigned': {
      const member = state.members[event.data.userId];
      if (member === undefined) return { ...state, chain };
      const { pendingStaff, ...rest } = member;
      const promoted =
        pendingStaff !== undefined &&
        pendingStaff.sequence === event.data.membershipSequence &&
        bytesEqual(pendingStaff.hash, event.data.membershipHash);
      const cosigned: CommitteeMember = promoted
        ? { ...rest, role: MemberRole.staff }
        : { ...member, cosigned: true };
      return { ...state, chain, members: { ...state.members, [member.userId]: cosigned } };
    }
    case 'KeyEpochStarted':
      return {
        ...state,
        chain,
        epoch: event.data.epoch,
        rotationRequired: false,
        keyHolders: event.data.recipients,
      };
    case 'EpochKeysWrapped':
      return { ...state, chain, keyHolders: [...state.keyHolders, ...event.data.recipients] };
    case 'RetentionSet':
      return { ...state, chain, retentionDays: event.data.retentionDays };
    case 'LegalHoldPlaced':
      return {
        ...state,
        chain,
        legalHolds: [...state.legalHolds, event.data.documentId ?? wholeCommittee],
      };
    case 'LegalHoldLifted': {
      const key = event.data.documentId ?? wholeCommittee;
      return { ...state, chain, legalHolds: state.legalHolds.filter((held) => held !== key) };
    }
    default:
      return assertNever(event);
  }
}

/** A committee stream's decider. */
export const committeeDecider: Decider<
  CommitteeCommand,
  CommitteeEvent,
  CommitteeState,
  DomainContext
> = {
  decide: decideCommittee,
  evolve: evolveCommittee,
  initialState: () => ({ status: 'absent' }),
};
