import { bytesEqual } from '@ratsfach/kernel';
import { advanceChain, emptyChain } from '../../chain.js';
import { assertNever } from '../../validate.js';
import { MemberRole } from './roles.js';
import { wholeCommittee } from './committeeStream.js';
import type { CommitteeEvent, CommitteeMember, CommitteeState } from './committeeStream.js';

/** Folds one committee event into the state. */
export function evolveCommittee(state: CommitteeState, event: CommitteeEvent): CommitteeState {
  if (event.type === 'CommitteeCreated') {
    return {
      status: 'active',
      tenantId: event.data.tenantId,
      committeeId: event.data.committeeId,
      members: {},
      founders: [],
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
      // A member co-signs their own addition only as the committee's founder (coSignMembership).
      const { signerUserId, signerDeviceId } = event.data;
      const founders =
        signerUserId === member.userId
          ? [...state.founders, { userId: signerUserId, deviceId: signerDeviceId }]
          : state.founders;
      return {
        ...state,
        chain,
        founders,
        members: { ...state.members, [member.userId]: cosigned },
      };
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
