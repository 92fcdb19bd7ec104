import Type, { type Static } from 'typebox';
import { Base64Url, LoginRequest, TenantParams } from './auth.js';
import { commandBodyOf } from './commandBody.js';
import { apiPrefix } from './paths.js';
import { defineRoute, RouteAuth } from './route.js';

/**
 * The commands a device submits through the signed-command route: every record of the tenant,
 * user and committee chains except the tenant's genesis (bootstrap) and the document chains
 * (the documents routes, which check blobs and key slots first).
 */
export const signedCommandTypes = [
  'CertifyAdminDevice',
  'RevokeAdminDevice',
  'RecordHeartbeat',
  'RecordCheckpoint',
  'CreateUser',
  'CertifyDevice',
  'RevokeDevice',
  'RecordHeadsSeen',
  'ConfirmDevice',
  'CreateCommittee',
  'ChangeMembership',
  'CoSignMembership',
  'StartKeyEpoch',
  'WrapEpochKeys',
  'SetRetention',
  'PlaceLegalHold',
  'LiftLegalHold',
] as const;
export type SignedCommandType = (typeof signedCommandTypes)[number];

/**
 * Who may submit each command, besides holding a token of the record's tenant:
 * `admin`: a device with a valid admin certificate; when the command names a signer device
 * (`signerDeviceId`) it must be that very device (root-signed records name none: any admin
 * device of the tenant carries them). `signer`: only the device that signed the record, as the
 * command names it (`signerUserId`/`signerDeviceId`, or `userId`/`deviceId` of heads-seen).
 */
export const submitterRule: Readonly<Record<SignedCommandType, 'admin' | 'signer'>> = {
  CertifyAdminDevice: 'admin',
  RevokeAdminDevice: 'admin',
  RecordHeartbeat: 'admin',
  RecordCheckpoint: 'admin',
  CreateUser: 'admin',
  CertifyDevice: 'admin',
  RevokeDevice: 'admin',
  RecordHeadsSeen: 'signer',
  ConfirmDevice: 'signer',
  CreateCommittee: 'admin',
  ChangeMembership: 'admin',
  CoSignMembership: 'signer',
  StartKeyEpoch: 'signer',
  WrapEpochKeys: 'signer',
  SetRetention: 'signer',
  PlaceLegalHold: 'admin',
  LiftLegalHold: 'admin',
};

/** A domain command (`commandToJson`) carrying one signed record. */
export const SignedCommand = commandBodyOf(signedCommandTypes);
export type SignedCommand = Static<typeof SignedCommand>;

/** A chain's head: its length and the hash of its last record (hex; empty for an empty chain). */
export const ChainHeadReply = Type.Object(
  {
    length: Type.Integer({ minimum: 0 }),
    /** BLAKE2b-512 of the last record, 128 hex digits; '' while the chain is empty. */
    hash: Type.String({ pattern: '^([0-9a-f]{128})?$' }),
  },
  { additionalProperties: false },
);
export type ChainHeadReply = Static<typeof ChainHeadReply>;

export const SubmitRecordReply = Type.Object(
  {
    commandId: Type.String(),
    /** The stream the record went to (`user-<tenant>-<user>`, …). */
    stream: Type.String(),
    /** The event types appended (or, for a replay, appended before). */
    events: Type.Array(Type.String()),
    /** True when this command id had been accepted before: nothing new was written. */
    replayed: Type.Boolean(),
    /** The record chain's head after the command. */
    head: ChainHeadReply,
  },
  { additionalProperties: false },
);
export type SubmitRecordReply = Static<typeof SubmitRecordReply>;

/**
 * POST …/records: one signed tenant, user or committee record as a domain command. 201 with the
 * chain's new head; a record that does not extend the head is 409 with `current` = the head
 * (`stream`, `length`, `hash`); a record the domain refuses is the domain's code (400/403/422).
 * Idempotent by command id: a retry returns the first result with `replayed: true`.
 */
export const submitRecord = defineRoute({
  method: 'POST',
  url: `${apiPrefix}/tenants/:tenantId/records`,
  operationId: 'submitRecord',
  summary: 'Append a signed tenant, user or committee record',
  area: 'records',
  auth: RouteAuth.device,
  schemas: {
    params: TenantParams,
    body: SignedCommand,
    response: { 201: SubmitRecordReply },
  },
});

/** A decimal count or position (query strings are text; no coercion). */
export const DecimalText = Type.String({ pattern: '^(0|[1-9][0-9]{0,15})$' });

export const ListRecordsQuery = Type.Object(
  {
    /** `tenant-<t>`, `user-<t>-<user>` or `committee-<t>-<committee>`, of the path's tenant. */
    stream: Type.String({ pattern: '^(tenant|user|committee)-[a-z0-9_-]{1,140}$' }),
    /** The first sequence to return (default 0). */
    from: Type.Optional(DecimalText),
    /** At most this many records (default and maximum 500). */
    limit: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,2}$' })),
  },
  { additionalProperties: false },
);
export type ListRecordsQuery = Static<typeof ListRecordsQuery>;

export const StoredRecord = Type.Object(
  {
    /** The record's position in its chain (from 0). */
    sequence: Type.Integer({ minimum: 0 }),
    /** The event type that carries it (`DeviceCertified`, …). */
    type: Type.String(),
    /** The exact signed bytes, base64url: verify them, never trust the other fields. */
    record: Base64Url(1_500_000),
  },
  { additionalProperties: false },
);
export type StoredRecord = Static<typeof StoredRecord>;

export const ListRecordsReply = Type.Object(
  {
    stream: Type.String(),
    records: Type.Array(StoredRecord),
    /** The chain's length when read: more records follow when `next` is not null. */
    length: Type.Integer({ minimum: 0 }),
    /** The `from` of the next page, or null when this page reaches the head. */
    next: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]),
  },
  { additionalProperties: false },
);
export type ListRecordsReply = Static<typeof ListRecordsReply>;

/**
 * GET …/records?stream=…&from=…&limit=…: a chain's signed records from a sequence, paged. The
 * tenant chain and every user chain: any device of the tenant; a committee chain: devices of
 * its members. A stream without records, or one the device may not read, is 404 alike.
 */
export const listRecords = defineRoute({
  method: 'GET',
  url: `${apiPrefix}/tenants/:tenantId/records`,
  operationId: 'listRecords',
  summary: "A chain's signed records from a position, paged",
  area: 'records',
  auth: RouteAuth.device,
  schemas: {
    params: TenantParams,
    querystring: ListRecordsQuery,
    response: { 200: ListRecordsReply },
  },
});

export const OwnChainsReply = Type.Object(
  {
    /** The tenant chain from its first record (exact signed bytes, to verify from the root). */
    tenant: Type.Array(StoredRecord),
    /** The user chain of the device's user from its first record. */
    user: Type.Array(StoredRecord),
    /**
     * The user chains of every other user whose device signed a record in these chains (a staff
     * member confirming a first device), and so on: what the device needs to verify them.
     */
    signers: Type.Record(Type.String(), Type.Array(StoredRecord)),
  },
  { additionalProperties: false },
);
export type OwnChainsReply = Static<typeof OwnChainsReply>;

/**
 * POST …/login/chains: a device proves it holds its key exactly as for a login (a login proof
 * over a fresh challenge) and gets the tenant chain and its own user chain, whatever its
 * standing. A device whose login is refused uses it to verify from its pinned root whether it
 * really was revoked (and only then wipes); a status code alone proves nothing. A proof that
 * does not verify is the login's one refusal; rate-limited like a login.
 */
export const ownChains = defineRoute({
  method: 'POST',
  url: `${apiPrefix}/tenants/:tenantId/login/chains`,
  operationId: 'ownChains',
  summary: "The tenant chain and the device's own user chain, for a signed login proof",
  area: 'auth',
  auth: RouteAuth.none,
  schemas: { params: TenantParams, body: LoginRequest, response: { 200: OwnChainsReply } },
});

export const TenantChainsReply = Type.Object(
  {
    /** Ids of the tenant's users (each has a user chain), sorted. */
    users: Type.Array(Type.String()),
    /** Ids of the tenant's committees (each has a committee chain), sorted. */
    committees: Type.Array(Type.String()),
  },
  { additionalProperties: false },
);
export type TenantChainsReply = Static<typeof TenantChainsReply>;

/**
 * GET …/records/chains: the ids of the tenant's user and committee chains, for admin devices
 * only (a second admin device, or one whose profile was lost, finds the tenant's people and
 * committees). Ids only: names come from the directory, and everything signed is read from the
 * chains and verified there, never taken from this listing.
 */
export const listTenantChains = defineRoute({
  method: 'GET',
  url: `${apiPrefix}/tenants/:tenantId/records/chains`,
  operationId: 'listTenantChains',
  summary: "The ids of the tenant's user and committee chains (admin devices)",
  area: 'records',
  auth: RouteAuth.admin,
  schemas: { params: TenantParams, response: { 200: TenantChainsReply } },
});
