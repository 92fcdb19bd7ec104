import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { manifestDelta, type ManifestEntryReply } from '@ratsfach/api-contract';
import type { ManifestEntry, ReadModelStore } from '@ratsfach/read-model';
import { contractRoute } from '../contractRoute.js';

export interface ManifestRouteOptions {
  readonly readModel: ReadModelStore;
}

/** One feed entry as the API sends it: positions as decimal text, absent fields as null. */
export function manifestEntryReply(entry: ManifestEntry): ManifestEntryReply {
  const common = {
    seq: entry.seq,
    position: entry.position.toString(),
    stream: entry.stream,
    revision: Number(entry.revision),
    type: entry.type,
    occurredAt: entry.occurredAt,
  };
  if (entry.feed === 'user') {
    return {
      feed: 'user',
      ...common,
      committeeId: entry.committeeId,
      documentId: null,
      version: null,
      epoch: null,
      userId: entry.userId,
      deviceId: entry.deviceId,
      role: entry.role,
    };
  }
  return {
    feed: 'committee',
    ...common,
    committeeId: entry.committeeId,
    documentId: entry.documentId,
    version: entry.version,
    epoch: entry.epoch,
    userId: entry.userId,
    deviceId: null,
    role: null,
  };
}

/**
 * The manifest delta: what changed in the feeds the device's user may read since its cursor,
 * paged. The read model refuses a cursor of another user or tenant (403) and one from the
 * future or malformed (400), with its own codes.
 */
export const manifestRoutes: FastifyPluginAsync<ManifestRouteOptions> = async (app, options) => {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  typed.route({
    ...contractRoute(manifestDelta),
    handler: async (request) => {
      const device = request.device!;
      const delta = await options.readModel.manifestDelta({
        tenantId: device.tenantId,
        userId: device.userId,
        cursor: request.query.since ?? null,
        limit: Math.min(Number(request.query.limit ?? '500'), 10_000),
      });
      return {
        entries: delta.entries.map(manifestEntryReply),
        cursor: delta.cursor,
        hasMore: delta.hasMore,
      };
    },
  });
};
