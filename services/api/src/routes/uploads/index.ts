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
import { BlobSessionNotFoundError } from '@ratsfach/blob-store';
import type { ReadModelStore } from '@ratsfach/read-model';
import { ApiError } from '../../apiError.js';
import type { AuthenticatedDevice } from '../../plugins/auth.js';
import type { ServiceState, UploadRow } from '../../state/serviceState.js';
import { contractRoute } from '../contractRoute.js';
import { requireWriter } from '../documents/committeeAccess.js';

export interface UploadRouteOptions {
  /** Memberships: only a committee's writers (staff) start uploads for it. */
  readonly readModel: ReadModelStore;
  /** Who opened each session (its device and committee). */
  readonly state: ServiceState;
  /** Unix milliseconds. */
  readonly now: () => number;
}

/**
 * The one answer for a session that does not exist and for one another device opened: the same
 * code, text and status, so a device learns nothing about sessions that are not its own.
 */
export const sessionNotFound = (tenant: string, sessionId: string) =>
  new BlobSessionNotFoundError(`no upload session ${JSON.stringify(sessionId)} in this tenant`, {
    details: { tenant, sessionId },
  });

/**
 * Upload sessions (docs/security.md 18): a part is streamed from the multipart body straight into the
 * blob store's session, never buffered whole; the store checks its length and hash, and a part
 * that fails or is cut off is absent, so nothing partial is ever visible. Multipart is
 * registered here only, so no other route accepts it. Only a writer (staff) of the committee a
 * session is for may start one, and the session belongs to the device that started it: parts,
 * the part list and completion answer any other device (of the same user, a reader, staff of
 * another committee) as if the session did not exist, and only while the starter is still a
 * writer of the session's committee.
 */
export const uploadRoutes: FastifyPluginAsync<UploadRouteOptions> = async (app, options) => {
  const { blobStore } = app.stores;
  const { readModel, state } = options;

  /** The calling device's own session, before the store is touched; else the unknown answer. */
  const ownSession = async (
    device: AuthenticatedDevice,
    tenantId: string,
    sessionId: string,
  ): Promise<UploadRow> => {
    const row = await state.upload(tenantId, sessionId);
    if (row === null || row.deviceId !== device.deviceId)
      throw sessionNotFound(tenantId, sessionId);
    // A writer removed from the committee since keeps no way to store bytes for it.
    await requireWriter(readModel, device, row.committeeId);
    return row;
  };
  await app.register(multipart, {
    limits: { files: 1, fields: 0, parts: 1, fileSize: blobStore.partSize + 1, headerPairs: 20 },
  });
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();

  typed.route({
    ...contractRoute(createUpload),
    handler: async (request, reply) => {
      const { committeeId, kind, hash, size } = request.body;
      // Objects are shared by hash in the tenant, but a session is the starting device's, for
      // the committee it names (a writer's, checked against the memberships).
      const device = request.device!;
      await requireWriter(readModel, device, committeeId);
      const session = await blobStore.createSession({
        tenant: request.params.tenantId,
        kind,
        hash,
        size,
      });
      // Recorded after the store made the session: should this fail, the session belongs to
      // nobody, answers every device as unknown and is swept as abandoned.
      await state.openUpload({
        tenantId: request.params.tenantId,
        sessionId: session.id,
        deviceId: device.deviceId,
        committeeId,
        kind,
        hash,
        createdAt: options.now(),
        completedAt: null,
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
      // The session first: an unknown one, or another device's, is refused before a byte of
      // the body is read.
      await ownSession(request.device!, tenantId, sessionId);
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
    handler: async (request) => {
      const { tenantId, sessionId } = request.params;
      await ownSession(request.device!, tenantId, sessionId);
      return { parts: await blobStore.listParts(tenantId, sessionId) };
    },
  });

  typed.route({
    ...contractRoute(completeUpload),
    handler: async (request) => {
      const { tenantId, sessionId } = request.params;
      await ownSession(request.device!, tenantId, sessionId);
      const info = await blobStore.completeSession(tenantId, sessionId);
      // Only now may the device name the object in a commit (a retry after a lost answer
      // completes again and records it then).
      await state.completeUpload(tenantId, sessionId, options.now());
      return { kind: info.kind, hash: info.hash, size: info.size };
    },
  });
};
