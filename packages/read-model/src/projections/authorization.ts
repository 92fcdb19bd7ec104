import { TableName, type Row, type RowChange } from '../tables.js';
import { defineProjection } from './projection.js';
import { membershipTransition } from './membershipTransition.js';

/**
 * What authorisation reads: tenants, users, devices (user devices and admin devices, with
 * validity and revocation) and committee memberships (role, co-signed or not, a pending
 * promotion). Runs after the feeds and the manifest, which compare memberships before and
 * after the event.
 */
export const authorizationProjection = defineProjection({
  name: 'authorization',
  canHandle: [
    'TenantCreated',
    'AdminDeviceCertified',
    'AdminDeviceRevoked',
    'UserCreated',
    'DeviceCertified',
    'DeviceRevoked',
    'CommitteeCreated',
    'MembershipChanged',
    'MembershipCoSigned',
  ],
  evolve(state, e): RowChange[] {
    const { event, tenantId, position } = e;
    const upsert = (table: TableName, row: Row): RowChange[] => [{ table, op: 'upsert', row }];
    switch (event.type) {
      case 'TenantCreated':
        return upsert(TableName.tenants, {
          tenantId,
          rootFingerprint: event.data.rootFingerprint,
          createdAt: event.data.createdAt,
          position,
        });
      case 'UserCreated':
        return upsert(TableName.users, { tenantId, userId: e.streamId, position });
      case 'CommitteeCreated':
        return upsert(TableName.committees, { tenantId, committeeId: e.streamId, position });
      case 'AdminDeviceCertified':
      case 'DeviceCertified': {
        const admin = event.type === 'AdminDeviceCertified';
        const userId = event.type === 'AdminDeviceCertified' ? event.data.userId : e.streamId;
        return upsert(TableName.devices, {
          tenantId,
          deviceId: event.data.deviceId,
          userId,
          admin,
          fingerprint: event.data.fingerprint,
          notBefore: event.data.notBefore,
          notAfter: event.data.notAfter,
          revoked: false,
          certifiedAt: position,
          revokedAt: null,
        });
      }
      case 'AdminDeviceRevoked':
      case 'DeviceRevoked': {
        const userId =
          event.type === 'DeviceRevoked'
            ? e.streamId
            : state.adminOwner(tenantId, event.data.deviceId);
        const device =
          userId === undefined ? undefined : state.device(tenantId, userId, event.data.deviceId);
        if (device === undefined) return [];
        return upsert(TableName.devices, { ...device, revoked: true, revokedAt: position });
      }
      case 'MembershipChanged':
      case 'MembershipCoSigned': {
        const transition = membershipTransition(state, e);
        if (transition === null) return [];
        if (transition.after !== null) {
          return upsert(TableName.memberships, transition.after as unknown as Row);
        }
        if (state.membership(tenantId, transition.committeeId, transition.userId) === undefined)
          return [];
        return [
          {
            table: TableName.memberships,
            op: 'delete',
            key: { tenantId, committeeId: transition.committeeId, userId: transition.userId },
          },
        ];
      }
      default:
        return [];
    }
  },
});
