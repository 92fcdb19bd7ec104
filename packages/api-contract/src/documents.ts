import Type, { type Static } from 'typebox';
import type { CommandType } from '@ratsfach/domain';
import { Id, TenantParams } from './auth.js';
import { commandBodyOf } from './commandBody.js';
import { apiPrefix } from './paths.js';
import { defineRoute, RouteAuth } from './route.js';
import { BlobHashHex } from './uploads.js';

/** Hex BLAKE2b-512 of a chain's last record; '' while the chain is empty. */
const ChainHashHex = Type.String({ pattern: '^([0-9a-f]{128})?$' });

/** A document chain's head: its length and the hash of its last record (hex). */
export const DocumentHead = Type.Object(
  { length: Type.Integer({ minimum: 0 }), hash: ChainHashHex },
  { additionalProperties: false },
);
export type DocumentHead = Static<typeof DocumentHead>;

export const DocumentParams = Type.Object(
  { tenantId: Id, documentId: Id },
  { additionalProperties: false },
);

export const VersionParams = Type.Object(
  {
    tenantId: Id,
    documentId: Id,
    /** Decimal version number, from 1 (path parameters are strings; no coercion). */
    version: Type.String({ pattern: '^[1-9][0-9]{0,8}$' }),
  },
  { additionalProperties: false },
);

export const DocumentStatus = Type.Enum(['active', 'deleted', 'erased']);

/**
 * What an accepted document command returns: where its event landed and the document's state
 * after it. A retry with the same command id returns the first result with `replayed: true`.
 */
export const DocumentCommandReply = Type.Object(
  {
    stream: Type.String(),
    /** Revision of the command's (last) event in the document stream. */
    revision: Type.Integer({ minimum: 0 }),
    /** Position of that event in the whole log (decimal; may exceed 2^53 on some stores). */
    position: Type.String({ pattern: '^[0-9]+$' }),
    replayed: Type.Boolean(),
    status: DocumentStatus,
    /** Number of the newest version after the command; 0 before the first. */
    headVersion: Type.Integer({ minimum: 0 }),
    /** The document chain's head after the command (the next record's link). */
    head: DocumentHead,
  },
  { additionalProperties: false },
);
export type DocumentCommandReply = Static<typeof DocumentCommandReply>;

/**
 * The `current` member of a 409 problem on a document route: what the document is now, so the
 * device can sync and write on top of it: the newest version, the document chain's head
 * (`length`, hex `hash`) and its status (`absent` before it was created).
 */
export const DocumentConflictCurrent = Type.Object(
  {
    headVersion: Type.Integer({ minimum: 0 }),
    length: Type.Integer({ minimum: 0 }),
    hash: ChainHashHex,
    status: Type.Enum(['absent', 'active', 'deleted', 'erased']),
  },
  { additionalProperties: false },
);
export type DocumentConflictCurrent = Static<typeof DocumentConflictCurrent>;

const documentCommand = <const T extends CommandType>(
  operationId: string,
  path: string,
  summary: string,
  type: T,
) =>
  defineRoute({
    method: 'POST',
    url: `${apiPrefix}/tenants/:tenantId/documents/:documentId${path}`,
    operationId,
    summary,
    area: 'documents',
    auth: RouteAuth.device,
    schemas: {
      params: DocumentParams,
      body: commandBodyOf([type]),
      response: { 201: DocumentCommandReply },
    },
  });

/**
 * POST …/documents/:documentId: a staff device creates a document in a committee with its signed
 * `document-created` record (the first record of the document chain). The path's tenant and
 * document must be the command's, and the command must be signed by the calling device.
 */
export const createDocument = documentCommand(
  'createDocument',
  '',
  'Create a document (signed document-created record)',
  'CreateDocument',
);

/**
 * POST …/documents/:documentId/versions: commits a signed version record. Refused unless the
 * content blob and key slot it names are stored, complete and of the signed hash and size
 * (RATSFACH_BLOB_NOT_FOUND, RATSFACH_DOCUMENTS_BLOB_MISMATCH); 409 with the document's current
 * head (`DocumentConflictCurrent` in the problem's `current`) when the parent is not the head.
 */
export const commitVersion = documentCommand(
  'commitVersion',
  '/versions',
  'Commit a signed version whose blob and key slot are uploaded',
  'CommitVersion',
);

/** POST …/move: moves or renames a document (new metadata encrypted in the signed record). */
export const moveDocument = documentCommand(
  'moveDocument',
  '/move',
  'Move or rename a document (signed document-moved record)',
  'MoveDocument',
);

/** POST …/delete: deletes a document; it can be restored until it is erased. */
export const deleteDocument = documentCommand(
  'deleteDocument',
  '/delete',
  'Delete a document (signed document-deleted record)',
  'DeleteDocument',
);

/** POST …/restore: restores a deleted document. */
export const restoreDocument = documentCommand(
  'restoreDocument',
  '/restore',
  'Restore a deleted document (signed document-restored record)',
  'RestoreDocument',
);

/** One version as the history lists it: the indexed fields of its signed record. */
export const VersionSummary = Type.Object(
  {
    version: Type.Integer({ minimum: 1 }),
    parentVersion: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()]),
    epoch: Type.Integer({ minimum: 0 }),
    contentHash: BlobHashHex,
    size: Type.Integer({ minimum: 0 }),
    keySlotHash: BlobHashHex,
    signerUserId: Type.String(),
    signerDeviceId: Type.String(),
    /** Where the signed record is: its revision in the document stream. */
    revision: Type.Integer({ minimum: 0 }),
    occurredAt: Type.String(),
  },
  { additionalProperties: false },
);
export type VersionSummary = Static<typeof VersionSummary>;

export const DocumentHistoryReply = Type.Object(
  {
    documentId: Type.String(),
    committeeId: Type.String(),
    status: DocumentStatus,
    headVersion: Type.Integer({ minimum: 0 }),
    createdAt: Type.String(),
    deletedAt: Type.Union([Type.String(), Type.Null()]),
    /** Oldest first; empty once the document is erased. */
    versions: Type.Array(VersionSummary),
  },
  { additionalProperties: false },
);
export type DocumentHistoryReply = Static<typeof DocumentHistoryReply>;

/**
 * GET …/documents/:documentId/versions: the version history, for a device whose user may read
 * the document's committee. An unknown document and one the caller may not read answer alike
 * (404 RATSFACH_DOCUMENTS_NOT_FOUND), so nothing is learnt about documents of others.
 */
export const documentHistory = defineRoute({
  method: 'GET',
  url: `${apiPrefix}/tenants/:tenantId/documents/:documentId/versions`,
  operationId: 'documentHistory',
  summary: 'The version history of a document',
  area: 'documents',
  auth: RouteAuth.device,
  schemas: { params: DocumentParams, response: { 200: DocumentHistoryReply } },
});

export const DocumentRecordsQuery = Type.Object(
  {
    /** The first sequence to return (decimal; default 0). */
    from: Type.Optional(Type.String({ pattern: '^(0|[1-9][0-9]{0,15})$' })),
    /** At most this many records (decimal; default and maximum 500). */
    limit: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,2}$' })),
  },
  { additionalProperties: false },
);
export type DocumentRecordsQuery = Static<typeof DocumentRecordsQuery>;

export const DocumentRecordsReply = Type.Object(
  {
    stream: Type.String(),
    records: Type.Array(
      Type.Object(
        {
          /** The record's position in the document chain (from 0). */
          sequence: Type.Integer({ minimum: 0 }),
          /** The event type that carries it (`VersionCommitted`, …). */
          type: Type.String(),
          /** The exact signed bytes, base64url: verify them, never trust the other fields. */
          record: Type.String({ pattern: '^[A-Za-z0-9_-]*$', maxLength: 1_500_000 }),
        },
        { additionalProperties: false },
      ),
    ),
    /** The chain's length when read. */
    length: Type.Integer({ minimum: 0 }),
    /** The `from` of the next page, or null when this page reaches the head. */
    next: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]),
  },
  { additionalProperties: false },
);
export type DocumentRecordsReply = Static<typeof DocumentRecordsReply>;

/**
 * GET …/documents/:documentId/records?from=&limit=: the document chain's signed records from a
 * sequence, paged, for a device whose user may read the document's committee (the manifest
 * names the document; the device verifies every record itself). Unknown or not readable: 404.
 */
export const documentRecords = defineRoute({
  method: 'GET',
  url: `${apiPrefix}/tenants/:tenantId/documents/:documentId/records`,
  operationId: 'documentRecords',
  summary: "A document chain's signed records from a position, paged",
  area: 'documents',
  auth: RouteAuth.device,
  schemas: {
    params: DocumentParams,
    querystring: DocumentRecordsQuery,
    response: { 200: DocumentRecordsReply },
  },
});

/** Most key slots one batch may ask for. */
export const maxKeySlotBatch = 256;

export const KeySlotRequest = Type.Object(
  { documentId: Id, version: Type.Integer({ minimum: 1, maximum: 2 ** 32 - 1 }) },
  { additionalProperties: false },
);

export const KeySlotBatchRequest = Type.Object(
  { slots: Type.Array(KeySlotRequest, { minItems: 1, maxItems: maxKeySlotBatch }) },
  { additionalProperties: false },
);
export type KeySlotBatchRequest = Static<typeof KeySlotBatchRequest>;

export const KeySlotReply = Type.Object(
  {
    documentId: Type.String(),
    version: Type.Integer(),
    /** The hash the signed version record names; the device checks the bytes against it. */
    keySlotHash: BlobHashHex,
    /** The key slot's bytes, base64url (unpadded). */
    keySlot: Type.String({ pattern: '^[A-Za-z0-9_-]*$', maxLength: 1024 }),
  },
  { additionalProperties: false },
);
export type KeySlotReply = Static<typeof KeySlotReply>;

/**
 * Why a key slot asked for is not in the answer: `notFound` (no such document or version, or
 * the caller may not read its committee: indistinguishable) or `erased` (its key slots are
 * destroyed).
 */
export const KeySlotMissingReason = Type.Enum(['notFound', 'erased']);

export const KeySlotBatchReply = Type.Object(
  {
    slots: Type.Array(KeySlotReply),
    missing: Type.Array(
      Type.Object(
        { documentId: Type.String(), version: Type.Integer(), reason: KeySlotMissingReason },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type KeySlotBatchReply = Static<typeof KeySlotBatchReply>;

/**
 * POST …/keyslots: the key slots of many versions in one request (at most `maxKeySlotBatch`),
 * each only for a document whose committee the caller's user may read.
 */
export const fetchKeySlots = defineRoute({
  method: 'POST',
  url: `${apiPrefix}/tenants/:tenantId/keyslots`,
  operationId: 'fetchKeySlots',
  summary: 'Fetch the key slots of many versions at once',
  area: 'documents',
  auth: RouteAuth.device,
  schemas: {
    params: TenantParams,
    body: KeySlotBatchRequest,
    response: { 200: KeySlotBatchReply },
  },
});

/**
 * GET …/documents/:documentId/versions/:version/content: the encrypted content blob, streamed
 * as `application/octet-stream`. Honours one `Range: bytes=a-b` (206 with `Content-Range`; 416
 * RATSFACH_DOCUMENTS_RANGE_INVALID when it does not fit), sends `ETag` (the content hash) and
 * `Accept-Ranges: bytes`. Each download is recorded as a server-attested delivery (once per
 * device, version and day). Only for a device whose user may read the document's committee.
 */
export const downloadContent = defineRoute({
  method: 'GET',
  url: `${apiPrefix}/tenants/:tenantId/documents/:documentId/versions/:version/content`,
  operationId: 'downloadContent',
  summary: 'Download a version’s encrypted content (HTTP ranges supported)',
  area: 'documents',
  auth: RouteAuth.device,
  schemas: {
    params: VersionParams,
    response: {
      200: Type.String({ description: 'the encrypted bytes (application/octet-stream)' }),
      206: Type.String({ description: 'the requested range of the encrypted bytes' }),
    },
  },
});

export const ContentUrlReply = Type.Object(
  {
    /**
     * A URL of the blob store that serves the blob without the API in the path, valid until
     * `expiresAt` (at most 60 s); null when the store cannot presign (filesystem): download
     * through `downloadContent` then.
     */
    url: Type.Union([Type.String(), Type.Null()]),
    expiresAt: Type.Union([Type.String(), Type.Null()]),
    contentHash: BlobHashHex,
    size: Type.Integer({ minimum: 0 }),
  },
  { additionalProperties: false },
);
export type ContentUrlReply = Static<typeof ContentUrlReply>;

/**
 * GET …/versions/:version/content-url: a presigned URL of the content blob (S3; at most 60 s),
 * recorded as a delivery like a download. Same authorisation as `downloadContent`.
 */
export const contentUrl = defineRoute({
  method: 'GET',
  url: `${apiPrefix}/tenants/:tenantId/documents/:documentId/versions/:version/content-url`,
  operationId: 'contentUrl',
  summary: 'A short-lived presigned URL of a version’s encrypted content',
  area: 'documents',
  auth: RouteAuth.device,
  schemas: { params: VersionParams, response: { 200: ContentUrlReply } },
});

/** Stable codes the documents routes answer with (besides the domain's and the stores'). */
export const DocumentsErrorCode = {
  /** No such document or version, or the caller may not read its committee (404). */
  notFound: 'RATSFACH_DOCUMENTS_NOT_FOUND',
  /** The caller's user is not a writer (staff) of the committee (403). */
  notWriter: 'RATSFACH_DOCUMENTS_NOT_WRITER',
  /** The stored blob or key slot differs in size from what the signed record names (422). */
  blobMismatch: 'RATSFACH_DOCUMENTS_BLOB_MISMATCH',
  /** The path names another tenant or document than the command does (400). */
  pathMismatch: 'RATSFACH_DOCUMENTS_PATH_MISMATCH',
  /** The command is signed for another device than the one whose token sends it (403). */
  signerMismatch: 'RATSFACH_DOCUMENTS_SIGNER_MISMATCH',
  /** A Range header that is malformed or does not fit the blob (416). */
  rangeInvalid: 'RATSFACH_DOCUMENTS_RANGE_INVALID',
} as const;
export type DocumentsErrorCode = (typeof DocumentsErrorCode)[keyof typeof DocumentsErrorCode];
