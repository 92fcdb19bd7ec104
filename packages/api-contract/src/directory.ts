import Type, { type Static } from 'typebox';
import { Id } from './auth.js';
import { apiPrefix } from './paths.js';
import { defineRoute, RouteAuth } from './route.js';

export const DirectoryParams = Type.Object(
  { tenantId: Id, userId: Id },
  { additionalProperties: false },
);

export const DirectoryEntryRequest = Type.Object(
  {
    displayName: Type.String({ minLength: 1, maxLength: 200 }),
    email: Type.Optional(
      Type.Union([Type.String({ maxLength: 254, pattern: '^[^@\\s]+@[^@\\s]+$' }), Type.Null()]),
    ),
  },
  { additionalProperties: false },
);
export type DirectoryEntryRequest = Static<typeof DirectoryEntryRequest>;

export const DirectoryEntry = Type.Object(
  {
    userId: Type.String(),
    displayName: Type.String(),
    email: Type.Union([Type.String(), Type.Null()]),
    updatedAt: Type.String(),
  },
  { additionalProperties: false },
);
export type DirectoryEntry = Static<typeof DirectoryEntry>;

/**
 * PUT …/directory/:userId: an admin device sets a person's name and contact data. The directory
 * lives outside the log, so it can be erased; the log names people by id only.
 */
export const putDirectoryEntry = defineRoute({
  method: 'PUT',
  url: `${apiPrefix}/tenants/:tenantId/directory/:userId`,
  operationId: 'putDirectoryEntry',
  summary: "Set a person's display name and e-mail",
  area: 'directory',
  auth: RouteAuth.admin,
  schemas: {
    params: DirectoryParams,
    body: DirectoryEntryRequest,
    response: { 200: DirectoryEntry },
  },
});

/** GET …/directory: every entry of the tenant, for any device of it. */
export const listDirectory = defineRoute({
  method: 'GET',
  url: `${apiPrefix}/tenants/:tenantId/directory`,
  operationId: 'listDirectory',
  summary: 'The names and contact data of the tenant',
  area: 'directory',
  auth: RouteAuth.device,
  schemas: {
    params: Type.Object({ tenantId: Id }, { additionalProperties: false }),
    response: {
      200: Type.Object({ entries: Type.Array(DirectoryEntry) }, { additionalProperties: false }),
    },
  },
});

/** GET …/directory/:userId: one entry (404 RATSFACH_API_NOT_FOUND when none). */
export const getDirectoryEntry = defineRoute({
  method: 'GET',
  url: `${apiPrefix}/tenants/:tenantId/directory/:userId`,
  operationId: 'getDirectoryEntry',
  summary: "One person's directory entry",
  area: 'directory',
  auth: RouteAuth.device,
  schemas: { params: DirectoryParams, response: { 200: DirectoryEntry } },
});

/** DELETE …/directory/:userId: erases the entry for good (204 also when there was none). */
export const eraseDirectoryEntry = defineRoute({
  method: 'DELETE',
  url: `${apiPrefix}/tenants/:tenantId/directory/:userId`,
  operationId: 'eraseDirectoryEntry',
  summary: "Erase a person's directory entry",
  area: 'directory',
  auth: RouteAuth.admin,
  schemas: { params: DirectoryParams, response: { 204: Type.Null() } },
});
