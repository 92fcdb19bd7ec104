import Type, { type Static } from 'typebox';
import { TenantParams } from './auth.js';
import { apiPrefix } from './paths.js';
import { defineRoute, RouteAuth } from './route.js';

/** Most entries one delta page may hold. */
export const maxManifestPage = 10_000;

export const ManifestQuery = Type.Object(
  {
    /** The cursor of the previous page, opaque; absent for everything from the start. */
    since: Type.Optional(Type.String({ minLength: 1, maxLength: 65_536 })),
    /** Most entries (decimal, 1 to 10,000; default 500). */
    limit: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,4}$' })),
  },
  { additionalProperties: false },
);
export type ManifestQuery = Static<typeof ManifestQuery>;

const nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);

/**
 * One change in a feed the user may read. `feed: 'committee'` entries name a document or
 * committee record (`stream`, `revision`: fetch and verify the signed record there);
 * `feed: 'user'` entries name the user's own devices and memberships (`DeviceCertified`,
 * `DeviceRevoked`, `Joined`, `Left`, `RoleChanged`). Fields that do not apply are null.
 */
export const ManifestEntryReply = Type.Object(
  {
    feed: Type.Enum(['user', 'committee']),
    /** Position in its feed, from 1 without gaps. */
    seq: Type.Integer({ minimum: 1 }),
    /** Position of the causing event in the whole log (decimal). */
    position: Type.String({ pattern: '^[0-9]+$' }),
    stream: Type.String(),
    revision: Type.Integer({ minimum: 0 }),
    type: Type.String(),
    committeeId: nullable(Type.String()),
    documentId: nullable(Type.String()),
    version: nullable(Type.Integer()),
    epoch: nullable(Type.Integer()),
    userId: nullable(Type.String()),
    deviceId: nullable(Type.String()),
    role: nullable(Type.String()),
    occurredAt: Type.String(),
  },
  { additionalProperties: false },
);
export type ManifestEntryReply = Static<typeof ManifestEntryReply>;

export const ManifestDeltaReply = Type.Object(
  {
    /** In log order. */
    entries: Type.Array(ManifestEntryReply),
    /** Send this as `since` next time (also when `entries` is empty). */
    cursor: Type.String(),
    /** True when more changes follow: ask again at once with the new cursor. */
    hasMore: Type.Boolean(),
  },
  { additionalProperties: false },
);
export type ManifestDeltaReply = Static<typeof ManifestDeltaReply>;

/**
 * GET /v1/tenants/:tenantId/manifest?since=<cursor>&limit=<n>: what changed since the cursor in
 * the feeds the device's user may read (their own feed and their committees'), paged. A cursor
 * of another user or tenant is refused (403 RATSFACH_READ_MODEL_CURSOR_FOREIGN), one from the
 * future or malformed with 400 (RATSFACH_READ_MODEL_CURSOR_FUTURE, _INVALID).
 */
export const manifestDelta = defineRoute({
  method: 'GET',
  url: `${apiPrefix}/tenants/:tenantId/manifest`,
  operationId: 'manifestDelta',
  summary: 'What changed in the caller’s feeds since a cursor (paged)',
  area: 'manifest',
  auth: RouteAuth.device,
  schemas: {
    params: TenantParams,
    querystring: ManifestQuery,
    response: { 200: ManifestDeltaReply },
  },
});
