import Type, { type Static } from 'typebox';
import { Id, TenantParams } from './auth.js';
import { apiPrefix } from './paths.js';
import { defineRoute, RouteAuth } from './route.js';

/** The part-wise BLAKE2b-512 hash of an object: 128 lowercase hex digits. */
export const BlobHashHex = Type.String({ pattern: '^[0-9a-f]{128}$' });
export const BlobKindName = Type.Enum(['blob', 'keyslot']);

export const CreateUploadRequest = Type.Object(
  {
    /** The committee the object is for: only its writers (staff) may upload. */
    committeeId: Id,
    kind: BlobKindName,
    hash: BlobHashHex,
    size: Type.Integer({ minimum: 0, maximum: 2 ** 40 }),
  },
  { additionalProperties: false },
);
export type CreateUploadRequest = Static<typeof CreateUploadRequest>;

export const UploadSessionReply = Type.Object(
  {
    sessionId: Type.String(),
    kind: BlobKindName,
    hash: BlobHashHex,
    size: Type.Integer(),
    /** Part i holds bytes [i * partSize, min(size, (i + 1) * partSize)). */
    partSize: Type.Integer(),
    partCount: Type.Integer(),
  },
  { additionalProperties: false },
);
export type UploadSessionReply = Static<typeof UploadSessionReply>;

export const UploadParams = Type.Object(
  { tenantId: Id, sessionId: Type.String({ pattern: '^[A-Za-z0-9_-]{1,128}$' }) },
  { additionalProperties: false },
);
export const PartParams = Type.Object(
  {
    tenantId: Id,
    sessionId: Type.String({ pattern: '^[A-Za-z0-9_-]{1,128}$' }),
    /** Decimal part index (path parameters are strings; no coercion). */
    index: Type.String({ pattern: '^(0|[1-9][0-9]{0,8})$' }),
  },
  { additionalProperties: false },
);

export const PartReply = Type.Object(
  { index: Type.Integer(), size: Type.Integer(), hash: BlobHashHex },
  { additionalProperties: false },
);
export type PartReply = Static<typeof PartReply>;

export const PartsReply = Type.Object(
  { parts: Type.Array(PartReply) },
  { additionalProperties: false },
);

export const StoredObjectReply = Type.Object(
  { kind: BlobKindName, hash: BlobHashHex, size: Type.Integer() },
  { additionalProperties: false },
);
export type StoredObjectReply = Static<typeof StoredObjectReply>;

/**
 * POST …/uploads: starts an upload of one blob or key slot of a known size and hash, for a
 * committee whose writer (staff) the caller's user is (else 403 RATSFACH_DOCUMENTS_NOT_WRITER).
 */
export const createUpload = defineRoute({
  method: 'POST',
  url: `${apiPrefix}/tenants/:tenantId/uploads`,
  operationId: 'createUpload',
  summary: 'Start an upload session for a blob or key slot',
  area: 'uploads',
  auth: RouteAuth.device,
  schemas: {
    params: TenantParams,
    body: CreateUploadRequest,
    response: { 201: UploadSessionReply },
  },
});

/**
 * PUT …/uploads/:sessionId/parts/:index: one part as `multipart/form-data` with a single file
 * field `part`, streamed into the store as it arrives.
 */
export const putUploadPart = defineRoute({
  method: 'PUT',
  url: `${apiPrefix}/tenants/:tenantId/uploads/:sessionId/parts/:index`,
  operationId: 'putUploadPart',
  summary: 'Send one part (multipart/form-data, one file field "part")',
  area: 'uploads',
  auth: RouteAuth.device,
  consumes: 'multipart/form-data',
  schemas: { params: PartParams, response: { 200: PartReply } },
});

/** GET …/uploads/:sessionId/parts: the parts stored so far, to resume. */
export const listUploadParts = defineRoute({
  method: 'GET',
  url: `${apiPrefix}/tenants/:tenantId/uploads/:sessionId/parts`,
  operationId: 'listUploadParts',
  summary: 'The parts stored so far (to resume an upload)',
  area: 'uploads',
  auth: RouteAuth.device,
  schemas: { params: UploadParams, response: { 200: PartsReply } },
});

/** POST …/uploads/:sessionId/complete: checks every part, size and hash; makes the object visible. */
export const completeUpload = defineRoute({
  method: 'POST',
  url: `${apiPrefix}/tenants/:tenantId/uploads/:sessionId/complete`,
  operationId: 'completeUpload',
  summary: 'Check the parts against the size and hash and store the object',
  area: 'uploads',
  auth: RouteAuth.device,
  schemas: { params: UploadParams, response: { 200: StoredObjectReply } },
});
