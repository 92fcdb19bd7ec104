import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from './errors.js';
import { DomainErrorCode } from './domainErrorCode.js';
import type { Decider } from './decider.js';
import type { DomainContext } from './domainContext.js';
import { RecordPurpose } from './signedRecord.js';
import { checkRecord } from './checkRecord.js';
import { advanceChain, emptyChain } from './chain.js';
import { eventMetadata } from './message.js';
import {
  requireAdminSigner,
  requireMemberSigner,
  requireUser,
  requireUserDevice,
} from './authorize.js';
import { MemberRole, Right, membershipEffective } from './roles.js';
import { bytesEqual } from './valueEqual.js';
import {
  assertNever,
  checkHash,
  checkId,
  checkInt,
  checkMetadata,
  checkRecordBytes,
  commandMalformed,
  contextMissing,
} from './validate.js';
import type { TenantState } from './tenantStream.js';
import { MembershipChange } from './committeeStream.js';
import type { CommitteeCommand, CommitteeEvent, CommitteeState } from './committeeStream.js';

type ActiveCommittee = Extract<CommitteeState, { status: 'active' }>;
type ActiveTenant = Extract<TenantState, { status: 'active' }>;

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

const requireTenantContext = (context: DomainContext, tenantId: string): ActiveTenant => {
  const tenant = context.tenant;
  if (tenant === undefined) throw contextMissing('the tenant state');
  if (tenant.status !== 'active' || tenant.tenantId !== tenantId) {
    throw new NotFoundError(DomainErrorCode.tenantUnknown, `tenant ${tenantId} does not exist`, {
      hint: 'create the tenant first',
      details: { tenantId },
    });
  }
  return tenant;
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
      const verified = checkRecord(verifier, record, RecordPurpose.committeeCreated, emptyChain(), {
        tenantId,
        committeeId,
      });
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
      if (
        change === MembershipChange.removed
          ? role !== null
          : role === null || !memberRoles.has(role)
      ) {
        throw commandMalformed(
          'role',
          change === MembershipChange.removed
            ? 'a removal names no role'
            : `expected one of ${[...memberRoles].join(', ')}`,
        );
      }
      const committee = requireCommittee(state, tenantId, committeeId);
      const tenant = requireTenantContext(context, tenantId);
      const verified = checkRecord(verifier, record, RecordPurpose.membership, committee.chain, {
        tenantId,
        committeeId,
        change,
        userId,
        role,
      });
      requireAdminSigner(tenant, signerDeviceId, verified);
      const member = committee.members[userId];
      if (change === MembershipChange.added) {
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
      } else if (change === MembershipChange.roleChanged && member.role === role) {
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
      const { userId, membershipHash, signerUserId } = command.data;
      checkId('userId', userId);
      checkId('signerUserId', signerUserId);
      checkHash('membershipHash', membershipHash);
      const committee = requireCommittee(state, tenantId, committeeId);
      const verified = checkRecord(
        verifier,
        record,
        RecordPurpose.membershipCosignature,
        committee.chain,
        {
          tenantId,
          committeeId,
          userId,
          membershipHash,
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
      if (!bytesEqual(member.membershipHash, membershipHash)) {
        throw new ConflictError(
          DomainErrorCode.membershipChanged,
          `the co-signature names another membership record of user ${userId}`,
          {
            hint: 'sync and co-sign the current membership record',
            details: { userId },
          },
        );
      }
      if (member.cosigned) {
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
        if (hasEffectiveStaff(committee) || member.role !== MemberRole.staff) {
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
        );
      } else {
        requireMemberSigner(
          committee,
          contextUser(context, signerUserId),
          signerUserId,
          signerDeviceId,
          verified,
          Right.wrapKeys,
        );
      }
      return [
        {
          type: 'MembershipCoSigned',
          data: {
            userId,
            membershipHash,
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
    case 'StartKeyEpoch': {
      const { epoch, signerUserId } = command.data;
      checkId('signerUserId', signerUserId);
      checkInt('epoch', epoch, 1);
      const committee = requireCommittee(state, tenantId, committeeId);
      const verified = checkRecord(verifier, record, RecordPurpose.keyEpoch, committee.chain, {
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
        Right.startEpochs,
      );
      if (epoch !== committee.epoch + 1) {
        throw new ConflictError(
          DomainErrorCode.epochNotNext,
          `epoch ${epoch} does not follow the current epoch ${committee.epoch}`,
          {
            hint: 'sync and start the next epoch',
            details: { epoch, current: committee.epoch },
          },
        );
      }
      return [
        {
          type: 'KeyEpochStarted',
          data: {
            epoch,
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
    case 'WrapEpochKeys': {
      const { epoch, recipients, signerUserId } = command.data;
      checkId('signerUserId', signerUserId);
      checkInt('epoch', epoch, 1);
      if (!Array.isArray(recipients) || recipients.length === 0) {
        throw new ValidationError(
          DomainErrorCode.keyListEmpty,
          'a key-wrapping record must name at least one recipient',
          {
            hint: 'an empty key list is an error, never "no encryption": wrap the key for at least one device',
          },
        );
      }
      const seen = new Set<string>();
      for (const recipient of recipients) {
        checkId('recipients.userId', recipient.userId);
        checkId('recipients.deviceId', recipient.deviceId);
        checkHash('recipients.wrappedKeyHash', recipient.wrappedKeyHash);
        const key = `${recipient.userId}/${recipient.deviceId}`;
        if (seen.has(key)) throw commandMalformed('recipients', `device ${key} is named twice`);
        seen.add(key);
      }
      const committee = requireCommittee(state, tenantId, committeeId);
      const verified = checkRecord(verifier, record, RecordPurpose.epochKeys, committee.chain, {
        tenantId,
        committeeId,
        epoch,
        recipients: recipients.map(({ userId, deviceId, wrappedKeyHash }) => ({
          userId,
          deviceId,
          wrappedKeyHash,
        })),
      });
      requireMemberSigner(
        committee,
        contextUser(context, signerUserId),
        signerUserId,
        signerDeviceId,
        verified,
        Right.wrapKeys,
      );
      if (epoch !== committee.epoch) {
        throw new ConflictError(
          DomainErrorCode.epochNotCurrent,
          `epoch ${epoch} is not the current epoch ${committee.epoch}`,
          {
            hint: 'sync and wrap the current epoch key',
            details: { epoch, current: committee.epoch },
          },
        );
      }
      for (const recipient of recipients) {
        const member = committee.members[recipient.userId];
        if (member === undefined || !membershipEffective(member)) {
          throw new ForbiddenError(
            DomainErrorCode.recipientNotMember,
            `user ${recipient.userId} is not a member in effect of committee ${committeeId}`,
            {
              hint: 'wrap keys only for members whose addition a staff device co-signed',
              details: { userId: recipient.userId },
            },
          );
        }
        const user = contextUser(context, recipient.userId);
        const device = user?.status === 'active' ? user.devices[recipient.deviceId] : undefined;
        if (device === undefined || device.revoked) {
          throw new ForbiddenError(
            DomainErrorCode.recipientDeviceInvalid,
            `device ${recipient.deviceId} of user ${recipient.userId} is not certified or is revoked`,
            {
              hint: 'wrap keys only for certified devices in good standing',
              details: { ...recipient, wrappedKeyHash: undefined },
            },
          );
        }
      }
      return [
        {
          type: 'EpochKeysWrapped',
          data: {
            epoch,
            recipients,
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
    case 'SetRetention': {
      const { retentionDays } = command.data;
      if (retentionDays !== null) checkInt('retentionDays', retentionDays, 0, maxRetentionDays);
      const committee = requireCommittee(state, tenantId, committeeId);
      const tenant = requireTenantContext(context, tenantId);
      const verified = checkRecord(verifier, record, RecordPurpose.retention, committee.chain, {
        tenantId,
        committeeId,
        retentionDays,
      });
      requireAdminSigner(tenant, signerDeviceId, verified);
      return [
        {
          type: 'RetentionSet',
          data: {
            retentionDays,
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
      const place = command.type === 'PlaceLegalHold';
      const committee = requireCommittee(state, tenantId, committeeId);
      const tenant = requireTenantContext(context, tenantId);
      const verified = checkRecord(verifier, record, RecordPurpose.legalHold, committee.chain, {
        tenantId,
        committeeId,
        active: place,
      });
      requireAdminSigner(tenant, signerDeviceId, verified);
      if (place && committee.legalHold) {
        throw new ConflictError(
          DomainErrorCode.legalHoldAlreadyPlaced,
          `committee ${committeeId} is under legal hold already`,
          {
            hint: 'nothing to do',
            details: { committeeId },
          },
        );
      }
      if (!place && !committee.legalHold) {
        throw new ConflictError(
          DomainErrorCode.legalHoldNotPlaced,
          `committee ${committeeId} is not under legal hold`,
          {
            hint: 'nothing to do',
            details: { committeeId },
          },
        );
      }
      const data = {
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
      epoch: 0,
      rotationRequired: false,
      retentionDays: null,
      legalHold: false,
      chain: advanceChain(emptyChain(), event.data.recordHash),
    };
  }
  if (state.status !== 'active') return state;
  const chain = advanceChain(state.chain, event.data.recordHash);
  switch (event.type) {
    case 'MembershipChanged': {
      const { change, userId, role } = event.data;
      const member = state.members[userId];
      switch (change) {
        case 'added':
          if (role === null) return { ...state, chain };
          return {
            ...state,
            chain,
            members: {
              ...state.members,
              [userId]: { userId, role, membershipHash: event.data.recordHash, cosigned: false },
            },
          };
        case 'removed': {
          const { [userId]: _removed, ...members } = state.members;
          // A member who held keys leaves: nothing may be written until a new epoch starts.
          const heldKeys = member !== undefined && member.cosigned && state.epoch > 0;
          return { ...state, chain, members, rotationRequired: state.rotationRequired || heldKeys };
        }
        case 'roleChanged':
          if (member === undefined || role === null) return { ...state, chain };
          return { ...state, chain, members: { ...state.members, [userId]: { ...member, role } } };
        default:
          return assertNever(change);
      }
    }
    case 'MembershipCoSigned': {
      const member = state.members[event.data.userId];
      if (member === undefined) return { ...state, chain };
      return {
        ...state,
        chain,
        members: { ...state.members, [member.userId]: { ...member, cosigned: true } },
      };
    }
    case 'KeyEpochStarted':
      return { ...state, chain, epoch: event.data.epoch, rotationRequired: false };
    case 'EpochKeysWrapped':
      return { ...state, chain };
    case 'RetentionSet':
      return { ...state, chain, retentionDays: event.data.retentionDays };
    case 'LegalHoldPlaced':
      return { ...state, chain, legalHold: true };
    case 'LegalHoldLifted':
      return { ...state, chain, legalHold: false };
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
