import { type CommandMetadata, MembershipChange } from '@ratsfach/kernel';
import { domainErrors } from '../domainErrors.js';
import type { DomainCommand } from './deciders.js';
import { objectShapeProblem } from '../shape.js';
import type { ShapeOf } from '../shape.js';
import { MemberRole } from '../streams/committee/roles.js';

type DataOf<T extends DomainCommand['type']> = Extract<DomainCommand, { type: T }>['data'];

const tenantSigned = { tenantId: 'id', record: 'bytes' } as const;
const adminSignedCommittee = {
  tenantId: 'id',
  committeeId: 'id',
  signerDeviceId: 'id',
  record: 'bytes',
} as const;
const memberSignedCommittee = { ...adminSignedCommittee, signerUserId: 'id' } as const;
const writerSigned = {
  tenantId: 'id',
  documentId: 'id',
  signerUserId: 'id',
  signerDeviceId: 'id',
  record: 'bytes',
} as const;
const keyRecords = {
  ...memberSignedCommittee,
  epoch: 'int',
  recipients: { arrayOf: { userId: 'id', deviceId: 'id' } },
} as const;

/** The shape of each command's data, as a service receives it. */
export const commandShapes = {
  CreateTenant: tenantSigned,
  CertifyAdminDevice: { ...tenantSigned, deviceId: 'id' },
  RevokeAdminDevice: { ...tenantSigned, deviceId: 'id' },
  RecordHeartbeat: { ...tenantSigned, signerDeviceId: 'id' },
  RecordCheckpoint: { ...tenantSigned, signerDeviceId: 'id' },
  CreateUser: { ...tenantSigned, userId: 'id', signerDeviceId: 'id' },
  CertifyDevice: { ...tenantSigned, userId: 'id', deviceId: 'id', signerDeviceId: 'id' },
  RevokeDevice: { ...tenantSigned, userId: 'id', deviceId: 'id', signerDeviceId: 'id' },
  RecordHeadsSeen: { ...tenantSigned, userId: 'id', deviceId: 'id' },
  CreateCommittee: adminSignedCommittee,
  ChangeMembership: {
    ...adminSignedCommittee,
    change: { oneOf: Object.values(MembershipChange) },
    userId: 'id',
    role: { oneOf: Object.values(MemberRole) },
  },
  CoSignMembership: { ...memberSignedCommittee, userId: 'id' },
  StartKeyEpoch: keyRecords,
  WrapEpochKeys: keyRecords,
  SetRetention: {
    tenantId: 'id',
    committeeId: 'id',
    signerUserId: { nullable: 'id' },
    signerDeviceId: 'id',
    retentionDays: { nullable: 'int' },
    record: 'bytes',
  },
  PlaceLegalHold: { ...adminSignedCommittee, documentId: { nullable: 'id' } },
  LiftLegalHold: { ...adminSignedCommittee, documentId: { nullable: 'id' } },
  CreateDocument: { ...writerSigned, committeeId: 'id' },
  CommitVersion: writerSigned,
  MoveDocument: writerSigned,
  DeleteDocument: writerSigned,
  RestoreDocument: writerSigned,
  EraseDocument: writerSigned,
  RecordDelivery: {
    tenantId: 'id',
    committeeId: 'id',
    documentId: 'id',
    version: 'int',
    userId: 'id',
    deviceId: 'id',
    deliveredAt: 'time',
  },
} as const satisfies { readonly [T in DomainCommand['type']]: ShapeOf<DataOf<T>> };

const metadataShape = {
  commandId: 'string',
  now: 'time',
} as const satisfies ShapeOf<CommandMetadata>;

const isCommandType = (type: unknown): type is DomainCommand['type'] =>
  typeof type === 'string' && Object.hasOwn(commandShapes, type);

/**
 * Checks that a value built from untrusted input (a request body with its bytes decoded) is a
 * command of a known type with exactly the fields that type has. Refuses with ValidationError
 * RATSFACH_DOMAIN_TYPE_UNKNOWN or RATSFACH_DOMAIN_COMMAND_MALFORMED (naming the first bad field);
 * the decider then checks the rules.
 */
export function parseCommand(value: unknown): DomainCommand {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw domainErrors.commandNotAnObject();
  }
  const record = value as { readonly type?: unknown };
  if (!isCommandType(record.type)) throw domainErrors.typeUnknown(record.type);
  const problem = objectShapeProblem(
    {
      type: 'string',
      data: { object: commandShapes[record.type] },
      metadata: { object: metadataShape },
    },
    value,
    'command',
  );
  if (problem !== null) throw domainErrors.commandShape(record.type, problem);
  return value as DomainCommand;
}
