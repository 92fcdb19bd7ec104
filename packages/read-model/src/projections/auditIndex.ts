import { TableName, type RowChange } from '../tables.js';
import { AuditAction, type AuditEntry, type ProjectedEvent } from '../readModelStore.js';
import { defineProjection } from './projection.js';
import type { ProjectionState } from './projectionState.js';

type Fact = Pick<
  AuditEntry,
  | 'action'
  | 'actorUserId'
  | 'actorDeviceId'
  | 'subjectKind'
  | 'subjectId'
  | 'targetUserId'
  | 'committeeId'
>;

/** The user an admin device acts for (admin-signed records name only the device). */
const adminActor = (state: ProjectionState, tenantId: string, deviceId: string) => ({
  actorUserId: state.adminOwner(tenantId, deviceId) ?? null,
  actorDeviceId: deviceId,
});

function factsOf(state: ProjectionState, e: ProjectedEvent): Fact[] {
  const { event, tenantId, streamId } = e;
  const none = { targetUserId: null, committeeId: null };
  const root = { actorUserId: null, actorDeviceId: null };
  switch (event.type) {
    case 'TenantCreated':
      return [
        {
          ...none,
          ...root,
          action: AuditAction.changed,
          subjectKind: 'tenant',
          subjectId: tenantId,
        },
      ];
    case 'AdminDeviceCertified':
    case 'AdminDeviceRevoked': {
      const targetUserId =
        event.type === 'AdminDeviceCertified'
          ? event.data.userId
          : (state.adminOwner(tenantId, event.data.deviceId) ?? null);
      const action =
        event.type === 'AdminDeviceCertified' ? AuditAction.granted : AuditAction.revoked;
      return [
        {
          ...none,
          ...root,
          action,
          subjectKind: 'device',
          subjectId: event.data.deviceId,
          targetUserId,
        },
      ];
    }
    case 'UserCreated':
      return [
        {
          ...none,
          ...adminActor(state, tenantId, event.data.signerDeviceId),
          action: AuditAction.changed,
          subjectKind: 'user',
          subjectId: streamId,
        },
      ];
    case 'DeviceCertified':
    case 'DeviceRevoked':
      return [
        {
          ...none,
          ...adminActor(state, tenantId, event.data.signerDeviceId),
          action: event.type === 'DeviceCertified' ? AuditAction.granted : AuditAction.revoked,
          subjectKind: 'device',
          subjectId: event.data.deviceId,
          targetUserId: streamId,
        },
      ];
    case 'CommitteeCreated':
    case 'RetentionSet':
    case 'LegalHoldPlaced':
    case 'LegalHoldLifted': {
      const documentId =
        event.type === 'LegalHoldPlaced' || event.type === 'LegalHoldLifted'
          ? event.data.documentId
          : null;
      const actor =
        event.type === 'RetentionSet' && event.data.signerUserId !== null
          ? { actorUserId: event.data.signerUserId, actorDeviceId: event.data.signerDeviceId }
          : adminActor(state, tenantId, event.data.signerDeviceId);
      return [
        {
          ...none,
          ...actor,
          action: AuditAction.changed,
          subjectKind: documentId === null ? 'committee' : 'document',
          subjectId: documentId ?? streamId,
          committeeId: streamId,
        },
      ];
    }
    case 'MembershipChanged':
      return [
        {
          ...adminActor(state, tenantId, event.data.signerDeviceId),
          action: event.data.change === 'remove' ? AuditAction.revoked : AuditAction.granted,
          subjectKind: 'committee',
          subjectId: streamId,
          targetUserId: event.data.userId,
          committeeId: streamId,
        },
      ];
    case 'MembershipCoSigned':
      return [
        {
          actorUserId: event.data.signerUserId,
          actorDeviceId: event.data.signerDeviceId,
          action: AuditAction.granted,
          subjectKind: 'committee',
          subjectId: streamId,
          targetUserId: event.data.userId,
          committeeId: streamId,
        },
      ];
    case 'KeyEpochStarted':
    case 'EpochKeysWrapped':
      // One entry per device the epoch key was wrapped for: who can decrypt what is a grant.
      return event.data.recipients.map((recipient) => ({
        actorUserId: event.data.signerUserId,
        actorDeviceId: event.data.signerDeviceId,
        action: AuditAction.granted,
        subjectKind: 'device' as const,
        subjectId: recipient.deviceId,
        targetUserId: recipient.userId,
        committeeId: streamId,
      }));
    case 'DocumentCreated':
    case 'VersionCommitted':
    case 'DocumentMoved':
    case 'DocumentDeleted':
    case 'DocumentRestored':
    case 'DocumentErased': {
      const committeeId =
        event.type === 'DocumentCreated'
          ? event.data.committeeId
          : (state.document(tenantId, streamId)?.committeeId ?? null);
      return [
        {
          actorUserId: event.data.signerUserId,
          actorDeviceId: event.data.signerDeviceId,
          action: AuditAction.changed,
          subjectKind: 'document',
          subjectId: streamId,
          targetUserId: null,
          committeeId,
        },
      ];
    }
    case 'DocumentDelivered':
      return [
        {
          actorUserId: event.data.userId,
          actorDeviceId: event.data.deviceId,
          action: AuditAction.accessed,
          subjectKind: 'document',
          subjectId: event.data.documentId,
          targetUserId: null,
          committeeId: event.data.committeeId,
        },
      ];
    default:
      // Heartbeats, checkpoints and seen heads are integrity records, not access or change.
      return [];
  }
}

/**
 * The audit index: who accessed (deliveries), changed (documents, committees, users) or was
 * granted or lost what (certificates, memberships, epoch keys), keyed by log position.
 */
export const auditIndexProjection = defineProjection({
  name: 'auditIndex',
  canHandle: [
    'TenantCreated',
    'AdminDeviceCertified',
    'AdminDeviceRevoked',
    'UserCreated',
    'DeviceCertified',
    'DeviceRevoked',
    'CommitteeCreated',
    'RetentionSet',
    'LegalHoldPlaced',
    'LegalHoldLifted',
    'MembershipChanged',
    'MembershipCoSigned',
    'KeyEpochStarted',
    'EpochKeysWrapped',
    'DocumentCreated',
    'VersionCommitted',
    'DocumentMoved',
    'DocumentDeleted',
    'DocumentRestored',
    'DocumentErased',
    'DocumentDelivered',
  ],
  evolve(state, e): RowChange[] {
    return factsOf(state, e).map((fact, idx) => ({
      table: TableName.audit,
      op: 'upsert',
      row: {
        position: e.position,
        idx,
        tenantId: e.tenantId,
        type: e.event.type,
        occurredAt: e.event.metadata.occurredAt,
        ...fact,
      },
    }));
  },
});
