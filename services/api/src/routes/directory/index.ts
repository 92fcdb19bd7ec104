import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  ApiErrorCode,
  eraseDirectoryEntry,
  getDirectoryEntry,
  listDirectory,
  putDirectoryEntry,
  type DirectoryEntry,
} from '@ratsfach/api-contract';
import { ApiError } from '../../apiError.js';
import type { DirectoryRow } from '../../state/serviceState.js';
import { contractRoute } from '../contractRoute.js';
import type { IdentityRouteOptions } from '../identityRouteOptions.js';

const entryReply = (row: DirectoryRow): DirectoryEntry => ({
  userId: row.userId,
  displayName: row.displayName,
  email: row.email,
  updatedAt: new Date(row.updatedAt).toISOString(),
});

/**
 * The directory: people's names and contact data, outside the log so that they can be erased
 * (the log names people by id only). Admin devices write and erase; any device of the tenant
 * reads, to show who wrote what.
 */
export const directoryRoutes: FastifyPluginAsync<IdentityRouteOptions> = async (app, options) => {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  const { state } = options;

  typed.route({
    ...contractRoute(putDirectoryEntry),
    handler: async (request) => {
      const row: DirectoryRow = {
        tenantId: request.params.tenantId,
        userId: request.params.userId,
        displayName: request.body.displayName,
        email: request.body.email ?? null,
        updatedAt: options.now(),
      };
      await state.putDirectoryEntry(row);
      return entryReply(row);
    },
  });

  typed.route({
    ...contractRoute(listDirectory),
    handler: async (request) => ({
      entries: (await state.listDirectory(request.params.tenantId)).map(entryReply),
    }),
  });

  typed.route({
    ...contractRoute(getDirectoryEntry),
    handler: async (request) => {
      const row = await state.directoryEntry(request.params.tenantId, request.params.userId);
      if (row === null) {
        throw new ApiError(ApiErrorCode.notFound, 'no directory entry for this person', {
          hint: 'an administrator adds names with `ratsfach admin people add`',
        });
      }
      return entryReply(row);
    },
  });

  typed.route({
    ...contractRoute(eraseDirectoryEntry),
    handler: async (request, reply) => {
      const { tenantId, userId } = request.params;
      const erased = await state.eraseDirectoryEntry(tenantId, userId);
      request.log.info({ tenantId, userId, erased }, 'directory entry erased');
      return reply.status(204).send(null);
    },
  });
};
