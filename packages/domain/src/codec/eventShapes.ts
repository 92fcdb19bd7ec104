import { type EventMetadata, MembershipChange } from '@ratsfach/kernel';
import type { DomainEvent } from '../routing/deciders.js';
import type { ObjectShape, ShapeOf } from '../shape.js';
import { MemberRole } from '../streams/committee/roles.js';

const carrier = { record: 'bytes', recordHash: 'hash', sequence: 'int' } as const;
const adminSigned = { signerDeviceId: 'id', ...carrier } as const;
const memberSigned = { signerUserId: 'id', signerDeviceId: 'id', ...carrier } as const;
const committeeRef = { committeeSequence: 'int', committeeHead: 'hash' } as const;
const recipients = {
  arrayOf: { userId: 'id', deviceId: 'id', fingerprint: 'fingerprint' },
} as const;

type DataOf<T extends DomainEvent['type']> = Extract<DomainEvent, { type: T }>['data'];

/** The shape of each event type's data at its current version. */
export const eventShapes = {
  TenantCreated: { tenantId: 'id', rootFingerprint: 'fingerprint', createdAt: 'int', ...carrier },
  AdminDeviceCertified: {
    deviceId: 'id',
    userId: 'id',
    fingerprint: 'fingerprint',
    notBefore: 'int',
    notAfter: 'int',
    ...carrier,
  },
  AdminDeviceRevoked: { deviceId: 'id', fingerprint: 'fingerprint', ...carrier },
  Heartbeat: { signerDeviceId: 'id', time: 'int', userHeads: { recordOf: 'hash' }, ...carrier },
  Checkpoint: {
    signerDeviceId: 'id',
    treeSize: 'int',
    rootHash: 'hash',
    serviceSignature: 'bytes',
    ...carrier,
  },
  UserCreated: { tenantId: 'id', userId: 'id', signerDeviceId: 'id', ...carrier },
  DeviceCertified: {
    deviceId: 'id',
    fingerprint: 'fingerprint',
    notBefore: 'int',
    notAfter: 'int',
    signerDeviceId: 'id',
    ...carrier,
  },
  DeviceRevoked: { deviceId: 'id', fingerprint: 'fingerprint', signerDeviceId: 'id', ...carrier },
  HeadsSeen: {
    deviceId: 'id',
    heads: { arrayOf: { stream: 'string', length: 'int', hash: 'hash' } },
    ...carrier,
  },
  CommitteeCreated: { tenantId: 'id', committeeId: 'id', ...adminSigned },
  MembershipChanged: {
    change: { oneOf: Object.values(MembershipChange) },
    userId: 'id',
    role: { oneOf: Object.values(MemberRole) },
    ...adminSigned,
  },
  MembershipCoSigned: {
    userId: 'id',
    membershipSequence: 'int',
    membershipHash: 'hash',
    ...memberSigned,
  },
  KeyEpochStarted: { epoch: 'int', recipients, ...memberSigned },
  EpochKeysWrapped: { epoch: 'int', recipients, ...memberSigned },
  RetentionSet: {
    retentionDays: { nullable: 'int' },
    signerUserId: { nullable: 'id' },
    signerDeviceId: 'id',
    ...carrier,
  },
  LegalHoldPlaced: { documentId: { nullable: 'id' }, ...adminSigned },
  LegalHoldLifted: { documentId: { nullable: 'id' }, ...adminSigned },
  DocumentCreated: {
    tenantId: 'id',
    documentId: 'id',
    committeeId: 'id',
    epoch: 'int',
    ...committeeRef,
    ...memberSigned,
  },
  VersionCommitted: {
    version: 'int',
    parentVersion: { nullable: 'int' },
    epoch: 'int',
    ...committeeRef,
    contentHash: 'hash',
    size: 'int',
    keySlotHash: 'hash',
    ...memberSigned,
  },
  DocumentMoved: { epoch: 'int', ...memberSigned },
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
