import { Type } from 'typebox';
import { MembershipChange } from '@ratsfach/kernel';
import { MemberRole } from '../streams/committee/roles.js';
import { serverAttested } from '../streams/delivery/deliveryStream.js';
import {
  BytesSchema,
  FingerprintSchema,
  HashSchema,
  IdSchema,
  IntSchema,
  IsoTimeSchema,
  closed,
} from './fieldSchemas.js';
import type { DataOf } from './fieldSchemas.js';

const carrier = { record: BytesSchema, recordHash: HashSchema, sequence: IntSchema };
const adminSigned = { signerDeviceId: IdSchema, ...carrier };
const memberSigned = { signerUserId: IdSchema, signerDeviceId: IdSchema, ...carrier };
const committeeRef = { committeeSequence: IntSchema, committeeHead: HashSchema };
const recipients = Type.Array(
  Type.Object({ userId: IdSchema, deviceId: IdSchema, fingerprint: FingerprintSchema }, closed),
);
const nullableId = Type.Union([IdSchema, Type.Null()]);

/**
 * The data of each event type at its current version, in memory (bytes as `Uint8Array`, as
 * canonical JSON decodes them). `decodeEvent` checks stored data against these after the
 * upcasters ran, and `encodeEvent` before anything reaches the log.
 */
export const eventDataSchemas = {
  TenantCreated: Type.Object(
    { tenantId: IdSchema, rootFingerprint: FingerprintSchema, createdAt: IntSchema, ...carrier },
    closed,
  ),
  AdminDeviceCertified: Type.Object(
    {
      deviceId: IdSchema,
      userId: IdSchema,
      fingerprint: FingerprintSchema,
      notBefore: IntSchema,
      notAfter: IntSchema,
      ...carrier,
    },
    closed,
  ),
  AdminDeviceRevoked: Type.Object(
    { deviceId: IdSchema, fingerprint: FingerprintSchema, ...carrier },
    closed,
  ),
  Heartbeat: Type.Object(
    {
      signerDeviceId: IdSchema,
      time: IntSchema,
      userHeads: Type.Record(Type.String(), HashSchema),
      /** Since v2: every committee chain's head the heartbeat names. */
      committeeHeads: Type.Record(
        Type.String(),
        Type.Object({ length: IntSchema, hash: HashSchema }, closed),
      ),
      ...carrier,
    },
    closed,
  ),
  Checkpoint: Type.Object(
    {
      signerDeviceId: IdSchema,
      treeSize: IntSchema,
      rootHash: HashSchema,
      serviceSignature: BytesSchema,
      ...carrier,
    },
    closed,
  ),
  UserCreated: Type.Object(
    { tenantId: IdSchema, userId: IdSchema, signerDeviceId: IdSchema, ...carrier },
    closed,
  ),
  DeviceCertified: Type.Object(
    {
      deviceId: IdSchema,
      fingerprint: FingerprintSchema,
      notBefore: IntSchema,
      notAfter: IntSchema,
      signerDeviceId: IdSchema,
      ...carrier,
    },
    closed,
  ),
  DeviceRevoked: Type.Object(
    { deviceId: IdSchema, fingerprint: FingerprintSchema, signerDeviceId: IdSchema, ...carrier },
    closed,
  ),
  HeadsSeen: Type.Object(
    {
      deviceId: IdSchema,
      heads: Type.Array(
        Type.Object({ stream: Type.String(), length: IntSchema, hash: HashSchema }, closed),
      ),
      ...carrier,
    },
    closed,
  ),
  DeviceConfirmed: Type.Object(
    {
      deviceId: IdSchema,
      fingerprint: FingerprintSchema,
      committeeId: nullableId,
      ...memberSigned,
    },
    closed,
  ),
  CommitteeCreated: Type.Object(
    { tenantId: IdSchema, committeeId: IdSchema, ...adminSigned },
    closed,
  ),
  MembershipChanged: Type.Object(
    {
      change: Type.Enum(Object.values(MembershipChange)),
      userId: IdSchema,
      role: Type.Enum(Object.values(MemberRole)),
      ...adminSigned,
    },
    closed,
  ),
  MembershipCoSigned: Type.Object(
    {
      userId: IdSchema,
      membershipSequence: IntSchema,
      membershipHash: HashSchema,
      ...memberSigned,
    },
    closed,
  ),
  KeyEpochStarted: Type.Object({ epoch: IntSchema, recipients, ...memberSigned }, closed),
  EpochKeysWrapped: Type.Object({ epoch: IntSchema, recipients, ...memberSigned }, closed),
  RetentionSet: Type.Object(
    {
      retentionDays: Type.Union([IntSchema, Type.Null()]),
      signerUserId: nullableId,
      signerDeviceId: IdSchema,
      ...carrier,
    },
    closed,
  ),
  LegalHoldPlaced: Type.Object({ documentId: nullableId, ...adminSigned }, closed),
  LegalHoldLifted: Type.Object({ documentId: nullableId, ...adminSigned }, closed),
  DocumentCreated: Type.Object(
    {
      tenantId: IdSchema,
      documentId: IdSchema,
      committeeId: IdSchema,
      epoch: IntSchema,
      ...committeeRef,
      ...memberSigned,
    },
    closed,
  ),
  VersionCommitted: Type.Object(
    {
      version: IntSchema,
      parentVersion: Type.Union([IntSchema, Type.Null()]),
      epoch: IntSchema,
      ...committeeRef,
      contentHash: HashSchema,
      size: IntSchema,
      keySlotHash: HashSchema,
      ...memberSigned,
    },
    closed,
  ),
  DocumentMoved: Type.Object({ epoch: IntSchema, ...memberSigned }, closed),
  DocumentDeleted: Type.Object(memberSigned, closed),
  DocumentRestored: Type.Object(memberSigned, closed),
  DocumentErased: Type.Object(memberSigned, closed),
  DocumentDelivered: Type.Object(
    {
      tenantId: IdSchema,
      committeeId: IdSchema,
      documentId: IdSchema,
      version: IntSchema,
      userId: IdSchema,
      deviceId: IdSchema,
      deliveredAt: IsoTimeSchema,
      attestedBy: Type.Literal(serverAttested),
    },
    closed,
  ),
};

/** The type name of every event. */
export type EventType = keyof typeof eventDataSchemas;

/** The data of event type `T` (from its schema). */
export type EventData<T extends EventType> = DataOf<(typeof eventDataSchemas)[T]>;

/** Metadata every event carries: the command that caused it and its decision time. */
export const EventMetadataSchema = Type.Object(
  { commandId: Type.String(), occurredAt: IsoTimeSchema },
  closed,
);
