import { TableName, type RowChange } from '../tables.js';
import { UserFeedEntryType, type ProjectedEvent } from '../readModelStore.js';
import { defineProjection } from './projection.js';
import type { ProjectionState } from './projectionState.js';
import { membershipTransition } from './membershipTransition.js';

interface Entry {
  readonly userId: string;
  readonly type: UserFeedEntryType;
  readonly deviceId: string | null;
  readonly committeeId: string | null;
  readonly role: string | null;
}

function entryOf(state: ProjectionState, e: ProjectedEvent): Entry | null {
  const { event } = e;
  const none = { deviceId: null, committeeId: null, role: null };
  switch (event.type) {
    case 'DeviceCertified':
      return {
        ...none,
        userId: e.streamId,
        type: UserFeedEntryType.deviceCertified,
        deviceId: event.data.deviceId,
      };
    case 'DeviceRevoked':
      return {
        ...none,
        userId: e.streamId,
        type: UserFeedEntryType.deviceRevoked,
        deviceId: event.data.deviceId,
      };
    case 'AdminDeviceCertified':
      return {
        ...none,
        userId: event.data.userId,
        type: UserFeedEntryType.deviceCertified,
        deviceId: event.data.deviceId,
      };
    case 'AdminDeviceRevoked': {
      const userId = state.adminOwner(e.tenantId, event.data.deviceId);
      if (userId === undefined) return null;
      return {
        ...none,
        userId,
        type: UserFeedEntryType.deviceRevoked,
        deviceId: event.data.deviceId,
      };
    }
    default: {
      const transition = membershipTransition(state, e);
      if (transition === null) return null;
      const { effect, userId, committeeId } = transition;
      switch (effect.kind) {
        case 'joined':
          return {
            ...none,
            userId,
            committeeId,
            type: UserFeedEntryType.joined,
            role: effect.role,
          };
        case 'left':
          return { ...none, userId, committeeId, type: UserFeedEntryType.left };
        case 'roleChanged':
          return {
            ...none,
            userId,
            committeeId,
            type: UserFeedEntryType.roleChanged,
            role: effect.role,
          };
        case 'none':
          return null;
      }
    }
  }
}

/**
 * Each user's own feed: certificates (and renewals) and revocations of their devices, admin
 * devices included, and the committees they join (once the addition is co-signed), leave and
 * change role in, numbered 1, 2, 3, … per user.
 */
export const userFeedProjection = defineProjection({
  name: 'userFeed',
  canHandle: [
    'DeviceCertified',
    'DeviceRevoked',
    'AdminDeviceCertified',
    'AdminDeviceRevoked',
    'MembershipChanged',
    'MembershipCoSigned',
  ],
  evolve(state, e): RowChange[] {
    const entry = entryOf(state, e);
    if (entry === null) return [];
    return [
      {
        table: TableName.userFeed,
        op: 'upsert',
        row: {
          tenantId: e.tenantId,
          userId: entry.userId,
          seq: state.userHead(e.tenantId, entry.userId) + 1,
          position: e.position,
          stream: e.stream,
          revision: e.revision,
          type: entry.type,
          deviceId: entry.deviceId,
          committeeId: entry.committeeId,
          role: entry.role,
          occurredAt: e.event.metadata.occurredAt,
        },
      },
    ];
  },
});
