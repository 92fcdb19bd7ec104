import { createHash } from 'node:crypto';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  commitVersion,
  contentUrl,
  createDocument,
  deleteDocument,
  documentHistory,
  documentRecords,
  DocumentsErrorCode,
  downloadContent,
  fetchKeySlots,
  moveDocument,
  problemMediaType,
  problemType,
  restoreDocument,
  type DocumentCommandReply,
  type KeySlotBatchReply,
  type RouteContract,
  type RouteSchemas,
} from '@ratsfach/api-contract';
import {
  BlobCommitGuard,
  BlobKind,
  BlobNotFoundError,
  type BlobRef,
  type BlobStore,
} from '@ratsfach/blob-store';
import { openRecord } from '@ratsfach/crypto';
import {
  ConflictError,
  ForbiddenError,
  IntegrityError,
  ValidationError,
  commandFromJson,
  deciders,
  domainErrors,
  encodeEvent,
  deliveryDay,
  isRatsfachError,
  streamName,
  StreamKind,
  type DocumentState,
  type DomainCommand,
  type DomainEvent,
} from '@ratsfach/domain';
import { ANY, CommandIdReusedError, type EventStore } from '@ratsfach/event-store';
import type { ReadModelStore } from '@ratsfach/read-model';
import type { DomainCommands } from '../../commands/domainCommands.js';
import type { AuthenticatedDevice } from '../../plugins/auth.js';
import type { ServiceState } from '../../state/serviceState.js';
import { contractRoute } from '../contractRoute.js';
import { readRecordPage } from '../recordPage.js';
import { parseByteRange } from './byteRange.js';
import { documentNotFound, effectiveRoles, readableDocument } from './committeeAccess.js';

export interface DocumentRouteOptions {
  readonly commands: DomainCommands;
  readonly readModel: ReadModelStore;
  readonly eventStore: EventStore;
  readonly blobStore: BlobStore;
  /** Who stored which object through an upload session (device and committee). */
  readonly state: ServiceState;
  /** Unix milliseconds. */
  readonly now: () => number;
  /** Lifetime of a presigned download URL, seconds (at most 60). Default 60. */
  readonly presignTtlSeconds?: number;
}

type DocumentCommandType =
  'CreateDocument' | 'CommitVersion' | 'MoveDocument' | 'DeleteDocument' | 'RestoreDocument';
type DocumentCommandOf<T extends DocumentCommandType> = Extract<DomainCommand, { type: T }>;

interface DocumentParams {
  readonly tenantId: string;
  readonly documentId: string;
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

/** Largest page of document records. */
const maxRecordPage = 500;

/**
 * Reads a document command from the body and checks what the token decides: the command names
 * the path's tenant and document, and was signed by the calling device
 * for its own user (the domain then checks the signature, role, epoch and chain position).
 */
function documentCommandOf<T extends DocumentCommandType>(
  type: T,
  body: unknown,
  params: DocumentParams,
  device: AuthenticatedDevice,
): DocumentCommandOf<T> {
  // The route's schema admits only its own command type; the domain checks every field.
  const command = commandFromJson(body);
  const data = command.data as { tenantId: string; documentId: string };
  if (data.tenantId !== params.tenantId || data.documentId !== params.documentId) {
    throw new ValidationError(
      DocumentsErrorCode.pathMismatch,
      'the command names another tenant or document than the path',
      { hint: 'post the command to the path of its own tenant and document' },
    );
  }
  const signer = command.data as { signerUserId: string; signerDeviceId: string };
  if (signer.signerDeviceId !== device.deviceId || signer.signerUserId !== device.userId) {
    throw new ForbiddenError(
      DocumentsErrorCode.signerMismatch,
      `the record is signed for device ${signer.signerDeviceId}, not for the calling device`,
      { hint: 'a device submits only the document records it signed itself' },
    );
  }
  return command as DocumentCommandOf<T>;
}

/** The `current` member of a 409: the document's head now. */
function currentOf(state: DocumentState) {
  if (state.status === 'absent') return { status: 'absent', headVersion: 0, length: 0, hash: '' };
  return {
    status: state.status,
    headVersion: state.headVersion,
    length: state.chain.length,
    hash: hex(state.chain.head),
  };
}

/** The blob and key slot a version record names, checked for presence and signed size. */
async function versionBlobs(
  blobStore: BlobStore,
  command: DocumentCommandOf<'CommitVersion'>,
): Promise<BlobRef[]> {
  const { tenantId } = command.data;
  const { body } = openRecord(command.data.record, 'version');
  const blob: BlobRef = { tenant: tenantId, kind: BlobKind.blob, hash: hex(body.contentHash) };
  const slot: BlobRef = { tenant: tenantId, kind: BlobKind.keyslot, hash: hex(body.keySlotHash) };
  // The store keys objects by their verified hash, so an object under the hash has the signed
  // bytes; the size is checked too, since it is signed apart from the hash.
  const stored = await blobStore.head(blob);
  if (stored !== null && stored.size !== Number(body.size)) {
    throw new IntegrityError(
      DocumentsErrorCode.blobMismatch,
      `the stored content has ${stored.size} bytes, the record signs ${String(body.size)}`,
      { hint: 'encrypt again and sign the size of the uploaded blob' },
    );
  }
  return [blob, slot];
}

/** The same answer the commit guard gives for an object that is not stored. */
const objectNotStored = (tenant: string, kind: string, hash: string) =>
  new BlobNotFoundError(`the record names ${kind} ${hash.slice(0, 16)}…, which is not stored`, {
    details: { tenant, kind, hash },
  });

/**
 * Refuses a version whose blob or key slot the committing device did not store itself, for the
 * document's committee, through an upload session it completed: another device (of the same
 * user, a reader, staff of another committee) that learns an object's hash gets the answer of
 * an object that is not stored, before the store is asked whether it is (so nothing tells it
 * apart). An absent document gets the domain's answer right away, before any object is looked
 * at.
 */
async function requireOwnObjects(
  commands: DomainCommands,
  state: ServiceState,
  command: DocumentCommandOf<'CommitVersion'>,
  device: AuthenticatedDevice,
): Promise<void> {
  const { tenantId, documentId } = command.data;
  const document = (await commands.state(
    streamName(StreamKind.document, tenantId, documentId),
  )) as DocumentState;
  if (document.status === 'absent') throw domainErrors.documentUnknown(documentId);
  const { body } = openRecord(command.data.record, 'version');
  const objects = [
    { kind: BlobKind.blob, hash: hex(body.contentHash) },
    { kind: BlobKind.keyslot, hash: hex(body.keySlotHash) },
  ];
  for (const { kind, hash } of objects) {
    const own = await state.completedUpload({
      tenantId,
      deviceId: device.deviceId,
      committeeId: document.committeeId,
      kind,
      hash,
    });
    if (!own) throw objectNotStored(tenantId, kind, hash);
  }
}

/**
 * The documents area: document commands (create, commit, move, delete, restore), version
 * history, the document chain's records, batched key slots and content downloads.
 */
export const documentRoutes: FastifyPluginAsync<DocumentRouteOptions> = async (app, options) => {
  const { commands, readModel, eventStore, blobStore, state } = options;
  const guard = new BlobCommitGuard({ store: blobStore });
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();

  /** Runs a document command; conflicts carry the document's head as `current`. */
  const run = async (
    command: DomainCommand,
    reply: FastifyReply,
    refs: readonly BlobRef[] = [],
  ): Promise<FastifyReply> => {
    const stream = streamName(
      StreamKind.document,
      command.data.tenantId,
      (command.data as { documentId: string }).documentId,
    );
    const reservation =
      refs.length === 0
        ? null
        : await guard.reserve({
            tenant: command.data.tenantId,
            commandId: command.metadata.commandId,
            refs,
          });
    let result;
    try {
      result = await commands.run(command);
    } catch (error) {
      if (isRatsfachError(error) && error.kind === 'conflict') {
        const state = (await commands.state(stream)) as DocumentState;
        throw new ConflictError(error.code, error.message, {
          ...(error.hint ? { hint: error.hint } : {}),
          details: { ...error.details, current: currentOf(state) },
          cause: error,
        });
      }
      throw error;
    } finally {
      await reservation?.release();
    }
    const state = result.state as DocumentState;
    const current = currentOf(state);
    const body: DocumentCommandReply = {
      stream: result.stream,
      revision: Number(result.append?.nextExpectedRevision ?? current.length - 1),
      position: String(result.append?.lastGlobalPosition ?? 0),
      replayed: result.replayed,
      status: state.status === 'absent' ? 'active' : state.status,
      headVersion: current.headVersion,
      head: { length: current.length, hash: current.hash },
    };
    return reply.status(201).send(body);
  };

  // The commands that need nothing but the domain's decision share one handler; each route's
  // schema still admits only its own command type.
  const decisionOnly: ReadonlyArray<readonly [RouteContract<RouteSchemas>, DocumentCommandType]> = [
    [createDocument, 'CreateDocument'],
    [moveDocument, 'MoveDocument'],
    [deleteDocument, 'DeleteDocument'],
    [restoreDocument, 'RestoreDocument'],
  ];
  for (const [route, type] of decisionOnly) {
    app.route({
      ...contractRoute(route),
      handler: async (request, reply) =>
        run(
          documentCommandOf(type, request.body, request.params as DocumentParams, request.device!),
          reply,
        ),
    });
  }

  typed.route({
    ...contractRoute(commitVersion),
    handler: async (request, reply) => {
      const command = documentCommandOf(
        'CommitVersion',
        request.body,
        request.params,
        request.device!,
      );
      await requireOwnObjects(commands, state, command, request.device!);
      return run(command, reply, await versionBlobs(blobStore, command));
    },
  });

  typed.route({
    ...contractRoute(documentHistory),
    handler: async (request) => {
      const device = request.device!;
      const document = await readableDocument(readModel, device, request.params.documentId);
      const versions = await readModel.documentVersions(device.tenantId, document.documentId);
      return {
        documentId: document.documentId,
        committeeId: document.committeeId,
        status: document.status,
        headVersion: document.headVersion,
        createdAt: document.createdAt,
        deletedAt: document.deletedAt,
        versions: versions.map((v) => ({
          version: v.version,
          parentVersion: v.parentVersion,
          epoch: v.epoch,
          contentHash: v.contentHash,
          size: v.size,
          keySlotHash: v.keySlotHash,
          signerUserId: v.signerUserId,
          signerDeviceId: v.signerDeviceId,
          revision: Number(v.revision),
          occurredAt: v.occurredAt,
        })),
      };
    },
  });

  typed.route({
    ...contractRoute(documentRecords),
    handler: async (request) => {
      const device = request.device!;
      const document = await readableDocument(readModel, device, request.params.documentId);
      const stream = streamName(StreamKind.document, device.tenantId, document.documentId);
      const from = Number(request.query.from ?? '0');
      const limit = Math.min(Number(request.query.limit ?? maxRecordPage), maxRecordPage);
      return readRecordPage(eventStore, stream, from, limit);
    },
  });

  typed.route({
    ...contractRoute(fetchKeySlots),
    handler: async (request) => {
      const device = request.device!;
      const answer: { slots: KeySlotBatchReply['slots']; missing: KeySlotBatchReply['missing'] } = {
        slots: [],
        missing: [],
      };
      const documents = new Map<string, Awaited<ReturnType<typeof versionsIfReadable>>>();
      // The memberships are read once for the batch, not once per document in it.
      const roles = await effectiveRoles(readModel, device);
      const versionsIfReadable = async (documentId: string) => {
        try {
          const document = await readableDocument(readModel, device, documentId, roles);
          return {
            document,
            versions: await readModel.documentVersions(device.tenantId, documentId),
          };
        } catch (error) {
          if (isRatsfachError(error) && error.code === DocumentsErrorCode.notFound) return null;
          throw error;
        }
      };
      for (const { documentId, version } of request.body.slots) {
        if (!documents.has(documentId))
          documents.set(documentId, await versionsIfReadable(documentId));
        const known = documents.get(documentId) ?? null;
        if (known === null) {
          answer.missing.push({ documentId, version, reason: 'notFound' });
          continue;
        }
        if (known.document.status === 'erased') {
          answer.missing.push({ documentId, version, reason: 'erased' });
          continue;
        }
        const found = known.versions.find((v) => v.version === version);
        const bytes =
          found === undefined
            ? null
            : await readSmall(blobStore, {
                tenant: device.tenantId,
                kind: BlobKind.keyslot,
                hash: found.keySlotHash,
              });
        if (found === undefined || bytes === null) {
          answer.missing.push({ documentId, version, reason: 'notFound' });
          continue;
        }
        answer.slots.push({
          documentId,
          version,
          keySlotHash: found.keySlotHash,
          keySlot: Buffer.from(bytes).toString('base64url'),
        });
      }
      return answer;
    },
  });

  /** The version a download names, if readable, and its delivery recorded. */
  const deliverable = async (request: FastifyRequest, documentId: string, version: number) => {
    const device = request.device!;
    const document = await readableDocument(readModel, device, documentId);
    const versions = await readModel.documentVersions(device.tenantId, documentId);
    const found = versions.find((v) => v.version === version);
    if (found === undefined || document.status === 'erased') {
      throw documentNotFound(documentId, version);
    }
    await recordDelivery(
      eventStore,
      device,
      document.committeeId,
      documentId,
      version,
      options.now(),
    );
    return { document, found };
  };

  typed.route({
    ...contractRoute(downloadContent),
    handler: async (request, reply) => {
      const device = request.device!;
      const version = Number(request.params.version);
      const { found } = await deliverable(request, request.params.documentId, version);
      const ref: BlobRef = {
        tenant: device.tenantId,
        kind: BlobKind.blob,
        hash: found.contentHash,
      };
      const range = parseByteRange(request.headers.range, found.size);
      reply.header('accept-ranges', 'bytes').header('etag', `"${found.contentHash}"`);
      reply.header('cache-control', 'private, no-store');
      if (range === 'unsatisfiable') {
        return reply
          .status(416)
          .header('content-range', `bytes */${found.size}`)
          .type(problemMediaType)
          .send({
            type: problemType(DocumentsErrorCode.rangeInvalid),
            title: 'Range not satisfiable',
            status: 416,
            detail: `the range does not fit the ${found.size} bytes of the content`,
            instance: `urn:ratsfach:request:${request.id}`,
            code: DocumentsErrorCode.rangeInvalid,
            hint: 'ask for a range inside the content (Range: bytes=<first>-<last>)',
          });
      }
      const content = await blobStore.get(ref, range ?? undefined);
      reply.type('application/octet-stream').header('content-length', String(content.length));
      if (range !== null) {
        reply
          .status(206)
          .header(
            'content-range',
            `bytes ${content.offset}-${content.offset + content.length - 1}/${content.size}`,
          );
      }
      // The body is a stream: Fastify pipes it without serialising (the schema documents it).
      return reply.send(content.body as unknown as string);
    },
  });

  typed.route({
    ...contractRoute(contentUrl),
    handler: async (request) => {
      const device = request.device!;
      const { found } = await deliverable(
        request,
        request.params.documentId,
        Number(request.params.version),
      );
      const ttl = Math.min(options.presignTtlSeconds ?? 60, 60);
      const presigned = await blobStore.presignGet(
        { tenant: device.tenantId, kind: BlobKind.blob, hash: found.contentHash },
        ttl,
      );
      return {
        url: presigned?.url ?? null,
        expiresAt: presigned?.expiresAt.toISOString() ?? null,
        contentHash: found.contentHash,
        size: found.size,
      };
    },
  });
};

/** A small object (a key slot) read whole, or null when it is absent. */
async function readSmall(blobStore: BlobStore, ref: BlobRef): Promise<Uint8Array | null> {
  if ((await blobStore.head(ref)) === null) return null;
  const content = await blobStore.get(ref);
  const chunks: Buffer[] = [];
  for await (const chunk of content.body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * Records a server-attested delivery: once per device, version and UTC day (the command id is
 * derived from them, so repeated range requests append nothing more). The delivery decider needs
 * no state of its stream, so it is decided once and appended at any revision: a busy day's
 * stream is never read back.
 */
async function recordDelivery(
  eventStore: EventStore,
  device: AuthenticatedDevice,
  committeeId: string,
  documentId: string,
  version: number,
  nowMs: number,
): Promise<void> {
  const deliveredAt = new Date(nowMs).toISOString();
  const day = deliveryDay(deliveredAt);
  const commandId = `delivery-${createHash('sha256')
    .update(JSON.stringify([device.deviceId, documentId, version, day]))
    .digest('hex')
    .slice(0, 40)}`;
  const command: DomainCommand = {
    type: 'RecordDelivery',
    data: {
      tenantId: device.tenantId,
      committeeId,
      documentId,
      version,
      userId: device.userId,
      deviceId: device.deviceId,
      deliveredAt,
    },
    metadata: { commandId, now: deliveredAt },
  };
  const events: readonly DomainEvent[] = deciders.delivery.decide(
    command as Extract<DomainCommand, { type: 'RecordDelivery' }>,
    deciders.delivery.initialState(),
    { verifier: unusedVerifier, day },
  );
  try {
    await eventStore.append(
      streamName(StreamKind.delivery, device.tenantId, day),
      events.map((event) => encodeEvent(event)),
      ANY,
      { commandId },
    );
  } catch (error) {
    // The same command id with another time: this delivery was recorded earlier today.
    if (!(error instanceof CommandIdReusedError)) throw error;
  }
}

/** Deliveries carry no signed record; the decider never asks the verifier. */
const unusedVerifier = {
  verify(): never {
    throw new Error('a delivery has no record to verify');
  },
} as unknown as Parameters<typeof deciders.delivery.decide>[2]['verifier'];
