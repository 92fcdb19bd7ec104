import type { FastifyPluginAsync } from 'fastify';
import multipart from '@fastify/multipart';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  ApiErrorCode,
  completeUpload,
  createUpload,
  listUploadParts,
  putUploadPart,
} from '@ratsfach/api-contract';
import type { ReadModelStore } from '@ratsfach/read-model';
import { ApiError } from '../../apiError.js';
import { contractRoute } from '../contractRoute.js';
import { requireWriter } from '../documents/committeeAccess.js';

export interface UploadRouteOptions {
  /** Memberships: only a committee's writers (staff) start uploads for it. */
  readonly readModel: ReadModelStore;
}

/**
 * Upload sessions (docs/security.md 18): a part is streamed from the multipart body straight into the
 * blob store's session, never buffered whole; the store checks its length and hash, and a part
 * that fails or is cut off is absent, so nothing partial is ever visible. Multipart is
 * registered here only, so no other route accepts it. Only a writer (staff) of the committee a
 * session is for may start one; parts and completion need the session's id, which only its
 * starter learns.
 */
export const uploadRoutes: FastifyPluginAsync<UploadRouteOptions> = async (app, options) => {
  const { blobStore } = app.stores;
  await app.register(multipart, {
    limits: { files: 1, fields: 0, parts: 1, fileSize: blobStore.partSize + 1, headerPairs: 20 },
  });
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();

  typed.route({
    ...contractRoute(createUpload),
    handler: async (request, reply) => {
      const { committeeId, kind, hash, size } = request.body;
      // Sessions are bound to the tenant only (objects are shared by hash); starting one is what
      // a writer of some committee may do, checked here against the memberships.
      await requireWriter(options.readModel, request.device!, committeeId);
      const session = await blobStore.createSession({
        tenant: request.params.tenantId,
        kind,
        hash,
        size,
      });
      return reply.status(201).send({
        sessionId: session.id,
        kind: session.kind,
        hash: session.hash,
        size: session.size,
        partSize: session.partSize,
        partCount: session.partCount,
      });
    },
  });

  typed.route({
    ...contractRoute(putUploadPart),
    handler: async (request) => {
      const { tenantId, sessionId, index } = request.params;
      // The session first: an unknown one is refused before a byte of the body is read.
      const session = await blobStore.getSession(tenantId, sessionId);
      // One byte over the part size gets through, so the store sees an oversized part as too
      // long and refuses it: at exactly the limit busboy would cut it off and end the stream as
      // if the part were complete.
      const file = await request.file({
        limits: { files: 1, fields: 0, parts: 1, fileSize: session.partSize + 1 },
      });
      if (!file || file.fieldname !== 'part') {
        throw new ApiError(ApiErrorCode.requestInvalid, 'the body holds no file field "part"', {
          hint: 'send the part as multipart/form-data with one file field named "part"',
        });
      }
      return blobStore.putPart(tenantId, sessionId, Number(index), file.file);
    },
  });

  typed.route({
    ...contractRoute(listUploadParts),
    handler: async (request) => ({
      parts: await blobStore.listParts(request.params.tenantId, request.params.sessionId),
    }),
  });

  typed.route({
    ...contractRoute(completeUpload),
    handler: async (request) => {
      const info = await blobStore.completeSession(
        request.params.tenantId,
        request.params.sessionId,
      );
      return { kind: info.kind, hash: info.hash, size: info.size };
    },
  });
};
