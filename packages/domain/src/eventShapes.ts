import type { DomainEvent } from './deciders.js';
import type { EventMetadata } from './message.js';
import type { ObjectShape, ShapeOf } from './shape.js';
import { MembershipChange } from './committeeStream.js';
import { MemberRole } from './roles.js';

const carrier = { record: 'bytes', recordHash: 'hash', sequence: 'int' } as const;
const adminSigned = { signerDeviceId: 'id', ...carrier } as const;
const memberSigned = { signerUserId: 'id', signerDeviceId: 'id', ...carrier } as const;
const memberRole = { oneOf: Object.values(MemberRole) } as const;

type DataOf<T extends DomainEvent['type']> = Extract<DomainEvent, { type: T }>['data'];

/** The shape of each event type's data at its current version. */
export const eventShapes = {
  TenantCreated: { tenantId: 'id', rootFingerprint: 'string', ...carrier },
  AdminDeviceCertified: { deviceId: 'id', fingerprint: 'string', validUntil: 'time', ...carrier },
  AdminDeviceRevoked: { deviceId: 'id', ...carrier },
  Heartbeat: { signerDeviceId: 'id', userHeads: { recordOf: 'hash' }, ...carrier },
  Checkpoint: {
    treeSize: 'bigint',
    rootHash: 'hash',
    serviceSignature: 'bytes',
    signerDeviceId: 'id',
    ...carrier,
  },
  UserCreated: { tenantId: 'id', userId: 'id', signerDeviceId: 'id', ...carrier },
  DeviceCertified: {
    deviceId: 'id',
    fingerprint: 'string',
    validUntil: 'time',
    signerDeviceId: 'id',
    ...carrier,
  },
  DeviceRevoked: { deviceId: 'id', signerDeviceId: 'id', ...carrier },
  HeadsSeen: {
    deviceId: 'id',
    heads: { recordOf: { object: { sequence: 'int', hash: 'hash' } } },
    ...carrier,
  },
  CommitteeCreated: { tenantId: 'id', committeeId: 'id', ...adminSigned },
  MembershipChanged: {
    change: { oneOf: Object.values(MembershipChange) },
    userId: 'id',
    role: { nullable: memberRole },
    ...adminSigned,
  },
  MembershipCoSigned: { userId: 'id', membershipHash: 'hash', ...memberSigned },
  KeyEpochStarted: { epoch: 'int', ...memberSigned },
  EpochKeysWrapped: {
    epoch: 'int',
    recipients: { arrayOf: { userId: 'id', deviceId: 'id', wrappedKeyHash: 'hash' } },
    ...memberSigned,
  },
  RetentionSet: { retentionDays: { nullable: 'int' }, ...adminSigned },
  LegalHoldPlaced: adminSigned,
  LegalHoldLifted: adminSigned,
  DocumentCreated: { tenantId: 'id', documentId: 'id', committeeId: 'id', ...memberSigned },
  VersionCommitted: {
    version: 'int',
    parentVersion: { nullable: 'int' },
    epoch: 'int',
    committeeSequence: 'int',
    committeeHead: 'hash',
    contentHash: 'hash',
    size: 'int',
    partSize: 'int',
    ...memberSigned,
  },
  DocumentMoved: memberSigned,
  DocumentDeleted: memberSigned,
  DocumentRestored: memberSigned,
  DocumentErased: memberSigned,
  DocumentDelivered: {
    tenantId: 'id',
    committeeId: 'id',
    documentId: 'id',
    version: 'int',
    userId: 'id',
    deviceId: 'id',
    deliveredAt: 'time',
    attestedBy: { oneOf: ['server'] },
  },
} as const satisfies { readonly [T in DomainEvent['type']]: ShapeOf<DataOf<T>> };

/** The shape of every event's metadata. */
export const eventMetadataShape = {
  commandId: 'string',
  occurredAt: 'time',
} as const satisfies ShapeOf<EventMetadata>;

/** Looks up the current shape of an event type's data. */
export const eventShape = (type: DomainEvent['type']): ObjectShape => eventShapes[type];
