import { Type } from 'typebox';
import type { Static, TSchema } from 'typebox';
import { MembershipChange } from '@ratsfach/kernel';
import { MemberRole } from '../streams/committee/roles.js';
import {
  BytesSchema,
  IdSchema,
  IntSchema,
  IsoTimeSchema,
  RecordJsonSchema,
  closed,
} from './fieldSchemas.js';
import type { DataOf } from './fieldSchemas.js';

/**
 * The data of every command, built once for a spelling of the signed record: in memory
 * (`Uint8Array`) for `parseCommand` and the deciders' types, and as base64url text for JSON
 * request bodies. Both come from this one function, so the API and the domain cannot drift.
 */
function commandDataSchemasOf<Bytes extends TSchema>(record: Bytes) {
  const tenantSigned = { tenantId: IdSchema, record };
  const adminSignedCommittee = {
    tenantId: IdSchema,
    committeeId: IdSchema,
    signerDeviceId: IdSchema,
    record,
  };
  const memberSignedCommittee = { ...adminSignedCommittee, signerUserId: IdSchema };
  const writerSigned = {
    tenantId: IdSchema,
    documentId: IdSchema,
    signerUserId: IdSchema,
    signerDeviceId: IdSchema,
    record,
  };
  const keyRecords = {
    ...memberSignedCommittee,
    epoch: IntSchema,
    recipients: Type.Array(Type.Object({ userId: IdSchema, deviceId: IdSchema }, closed)),
  };
  const legalHold = { ...adminSignedCommittee, documentId: Type.Union([IdSchema, Type.Null()]) };
  return {
    CreateTenant: Type.Object(tenantSigned, closed),
    CertifyAdminDevice: Type.Object({ ...tenantSigned, deviceId: IdSchema }, closed),
    RevokeAdminDevice: Type.Object({ ...tenantSigned, deviceId: IdSchema }, closed),
    RecordHeartbeat: Type.Object({ ...tenantSigned, signerDeviceId: IdSchema }, closed),
    RecordCheckpoint: Type.Object({ ...tenantSigned, signerDeviceId: IdSchema }, closed),
    CreateUser: Type.Object(
      { ...tenantSigned, userId: IdSchema, signerDeviceId: IdSchema },
      closed,
    ),
    CertifyDevice: Type.Object(
      { ...tenantSigned, userId: IdSchema, deviceId: IdSchema, signerDeviceId: IdSchema },
      closed,
    ),
    RevokeDevice: Type.Object(
      { ...tenantSigned, userId: IdSchema, deviceId: IdSchema, signerDeviceId: IdSchema },
      closed,
    ),
    RecordHeadsSeen: Type.Object({ ...tenantSigned, userId: IdSchema, deviceId: IdSchema }, closed),
    ConfirmDevice: Type.Object(
      {
        ...tenantSigned,
        userId: IdSchema,
        deviceId: IdSchema,
        signerUserId: IdSchema,
        signerDeviceId: IdSchema,
        committeeId: Type.Union([IdSchema, Type.Null()]),
      },
      closed,
    ),
    CreateCommittee: Type.Object(adminSignedCommittee, closed),
    ChangeMembership: Type.Object(
      {
        ...adminSignedCommittee,
        change: Type.Enum(Object.values(MembershipChange)),
        userId: IdSchema,
        role: Type.Enum(Object.values(MemberRole)),
      },
      closed,
    ),
    CoSignMembership: Type.Object({ ...memberSignedCommittee, userId: IdSchema }, closed),
    StartKeyEpoch: Type.Object(keyRecords, closed),
    WrapEpochKeys: Type.Object(keyRecords, closed),
    SetRetention: Type.Object(
      {
        tenantId: IdSchema,
        committeeId: IdSchema,
        signerUserId: Type.Union([IdSchema, Type.Null()]),
        signerDeviceId: IdSchema,
        retentionDays: Type.Union([IntSchema, Type.Null()]),
        record,
      },
      closed,
    ),
    PlaceLegalHold: Type.Object(legalHold, closed),
    LiftLegalHold: Type.Object(legalHold, closed),
    CreateDocument: Type.Object({ ...writerSigned, committeeId: IdSchema }, closed),
    CommitVersion: Type.Object(writerSigned, closed),
    MoveDocument: Type.Object(writerSigned, closed),
    DeleteDocument: Type.Object(writerSigned, closed),
    RestoreDocument: Type.Object(writerSigned, closed),
    EraseDocument: Type.Object(writerSigned, closed),
    RecordDelivery: Type.Object(
      {
        tenantId: IdSchema,
        committeeId: IdSchema,
        documentId: IdSchema,
        version: IntSchema,
        userId: IdSchema,
        deviceId: IdSchema,
        deliveredAt: IsoTimeSchema,
      },
      closed,
    ),
  };
}

/** The data of each command type as the deciders receive it (bytes as `Uint8Array`). */
export const commandDataSchemas = commandDataSchemasOf(BytesSchema);

/**
 * The data of each command type in a JSON body: the signed record as base64url text. Reuse
 * these for the API's request bodies; `commandFromJson` decodes a body into a command.
 */
export const commandDataJsonSchemas = commandDataSchemasOf(RecordJsonSchema);

/** The type name of every command. */
export type CommandType = keyof typeof commandDataSchemas;

/** The data of command type `T` (from its schema). */
export type CommandData<T extends CommandType> = DataOf<(typeof commandDataSchemas)[T]>;

/** Metadata every command carries: a client-chosen id and the decision time. */
export const CommandMetadataSchema = Type.Object(
  {
    commandId: Type.String({ minLength: 1, maxLength: 128 }),
    now: IsoTimeSchema,
  },
  closed,
);

const commandSchemaOf = <T extends CommandType, Data extends TSchema>(type: T, data: Data) =>
  Type.Object({ type: Type.Literal(type), data, metadata: CommandMetadataSchema }, closed);

type CommandSchemas<Schemas extends Record<CommandType, TSchema>> = {
  readonly [T in CommandType]: ReturnType<typeof commandSchemaOf<T, Schemas[T]>>;
};

const commandSchemasOf = <Schemas extends Record<CommandType, TSchema>>(
  data: Schemas,
): CommandSchemas<Schemas> =>
  Object.fromEntries(
    (Object.keys(data) as CommandType[]).map((type) => [type, commandSchemaOf(type, data[type])]),
  ) as unknown as CommandSchemas<Schemas>;

/** Each whole command `{ type, data, metadata }` in memory; `parseCommand` checks with these. */
export const commandSchemas = commandSchemasOf(commandDataSchemas);

/** Each whole command as a JSON body (the record as base64url text). */
export const commandJsonSchemas = commandSchemasOf(commandDataJsonSchemas);

/** A command as a JSON body (what a client sends). */
export type CommandJson = Static<(typeof commandJsonSchemas)[CommandType]>;
