import type { MembershipChanged, MembershipCoSigned } from '@ratsfach/domain';
import type { ProjectedEvent } from '../readModelStore.js';
import { hex } from './projection.js';
import type { MembershipRow, ProjectionState } from './projectionState.js';

/** What a membership record did to the member's reading rights. */
export type MembershipEffect =
  | { readonly kind: 'joined'; readonly role: string }
  | { readonly kind: 'left' }
  | { readonly kind: 'roleChanged'; readonly role: string }
  | { readonly kind: 'none' };

export interface MembershipTransition {
  readonly committeeId: string;
  readonly userId: string;
  /** The membership row after the event; null when the member was removed. */
  readonly after: MembershipRow | null;
  readonly effect: MembershipEffect;
}

/**
 * The membership a `MembershipChanged` or `MembershipCoSigned` leaves, and its effect on
 * reading, by the domain's rules (`evolveCommittee`): an addition counts once a staff device
 * co-signs it; a promotion to staff counts once co-signed, other role changes at once.
 * Returns null for any other event.
 */
export function membershipTransition(
  state: ProjectionState,
  e: ProjectedEvent,
): MembershipTransition | null {
  const { event } = e;
  if (event.type !== 'MembershipChanged' && event.type !== 'MembershipCoSigned') return null;
  const committeeId = e.streamId;
  const userId = event.data.userId;
  const before = state.membership(e.tenantId, committeeId, userId);
  const base = { committeeId, userId };
  if (event.type === 'MembershipCoSigned') return coSigned(base, before, event, e.position);
  return changed(base, before, event, e);
}

function coSigned(
  base: { committeeId: string; userId: string },
  before: MembershipRow | undefined,
  event: MembershipCoSigned,
  position: bigint,
): MembershipTransition {
  if (before === undefined) return { ...base, after: null, effect: { kind: 'none' } };
  const promoted =
    before.pendingStaffSequence !== null &&
    before.pendingStaffSequence === event.data.membershipSequence &&
    before.pendingStaffHash === hex(event.data.membershipHash);
  if (promoted) {
    const after = {
      ...before,
      role: 'staff',
      pendingStaffSequence: null,
      pendingStaffHash: null,
      changedAt: position,
    };
    return {
      ...base,
      after,
      effect: before.effective ? { kind: 'roleChanged', role: 'staff' } : { kind: 'none' },
    };
  }
  const after = { ...before, effective: true, changedAt: position };
  return {
    ...base,
    after,
    effect: before.effective ? { kind: 'none' } : { kind: 'joined', role: before.role },
  };
}

function changed(
  base: { committeeId: string; userId: string },
  before: MembershipRow | undefined,
  event: MembershipChanged,
  e: ProjectedEvent,
): MembershipTransition {
  const { change, role } = event.data;
  switch (change) {
    case 'add':
      return {
        ...base,
        after: {
          tenantId: e.tenantId,
          committeeId: base.committeeId,
          userId: base.userId,
          role,
          effective: false,
          pendingStaffSequence: null,
          pendingStaffHash: null,
          changedAt: e.position,
        },
        // A re-addition of a reading member starts over: they stop reading until co-signed.
        effect: before?.effective === true ? { kind: 'left' } : { kind: 'none' },
      };
    case 'remove':
      return {
        ...base,
        after: null,
        effect: before?.effective === true ? { kind: 'left' } : { kind: 'none' },
      };
    case 'changeRole': {
      if (before === undefined) return { ...base, after: null, effect: { kind: 'none' } };
      if (role === 'staff' && before.role !== 'staff') {
        const after = {
          ...before,
          pendingStaffSequence: event.data.sequence,
          pendingStaffHash: hex(event.data.recordHash),
          changedAt: e.position,
        };
        return { ...base, after, effect: { kind: 'none' } };
      }
      const after = {
        ...before,
        role,
        pendingStaffSequence: null,
        pendingStaffHash: null,
        changedAt: e.position,
      };
      const effect: MembershipEffect =
        before.effective && before.role !== role ? { kind: 'roleChanged', role } : { kind: 'none' };
      return { ...base, after, effect };
    }
  }
}
