import { randomBytes } from 'node:crypto';
import { access } from 'node:fs/promises';
import {
  commitVersion,
  createDocument,
  deleteDocument,
  fetchKeySlots,
  moveDocument,
} from '@ratsfach/api-contract';
import {
  checkKeySlotHash,
  CommitteeState,
  CryptoErrorCode,
  DocumentState,
  encryptMetadata,
  fingerprint,
  generateContentKey,
  hash512,
  KeyListError,
  keySlotHash,
  openKeySlot,
  openEpochKeys,
  openSignedMetadata,
  requireWritable,
  sealKeySlot,
  TrustView,
  zeroize,
  zeroizeKeys,
  type DocumentMetadata,
  type JudgingFloor,
} from '@ratsfach/crypto';
import {
  base64urlDecode,
  base64urlEncode,
  isRatsfachError,
  streamName,
  StreamKind,
} from '@ratsfach/kernel';
import { ApiProblemError } from '../http/apiClient.js';
import { resolveInside } from '../node/nodeFileSystem.js';
import type { LocalState, QueuedChange } from '../ports/localState.js';
import {
  commitVersionCommand,
  createDocumentCommand,
  deleteDocumentCommand,
  moveDocumentCommand,
  type DocumentSigned,
} from '../records/documentRecords.js';
import { recordOf } from '../records/toCommandJson.js';
import { fetchDocumentChain } from './readVerifiedDocument.js';
import { noEpochKeyError, queueEntryRefusedError } from './sendErrors.js';
import { encryptFileToSpool, fileStamp } from './sendSource.js';
import type { SendRecord, SendSpool, SpooledContent } from './sendSpool.js';
import { uploadResumable, type UploadTarget } from './sendUpload.js';
import { committeeFolder, usersNamedIn, type ChainSource, type SyncDevice } from './syncOnce.js';

/** Where a long upload stands, for a progress line. */
export interface SendProgress {
  readonly path: string;
  readonly done: number;
  readonly size: number;
}

export interface SendOptions {
  /** The logged-in client and the raw part uploads. */
  readonly target: UploadTarget;
  readonly chains: ChainSource;
  readonly device: SyncDevice;
  readonly state: LocalState;
  /** The synced folder (absolute). */
  readonly root: string;
  readonly spool: SendSpool;
  readonly now: () => Date;
  /** The staleness bound for writing (crypto's default when absent). */
  readonly stalenessSeconds?: number;
  readonly onProgress?: (progress: SendProgress) => void;
  /** Called after each uploaded part: a seam for tests that interrupt an upload. */
  readonly afterPart?: (index: number) => Promise<void>;
}

/** A queued change that did not go out, and why. */
export interface FailedSend {
  readonly kind: string;
  readonly path: string;
  readonly code: string;
  readonly message: string;
  readonly hint: string;
}

/** A document someone else changed first: the next pull verifies its head and plans again. */
export interface SendConflict {
  readonly committeeId: string;
  readonly documentId: string;
  readonly path: string;
}

export interface SendReport {
  /** Changes the service accepted (index updated). */
  readonly sent: number;
  /** Changes refused because the document moved on: planned again after a pull. */
  readonly conflicts: readonly SendConflict[];
  /** Changes a later plan covers (the file changed, moved or went): dropped, nothing lost. */
  readonly superseded: number;
  /** Entries this device would never have planned (tampered): dropped, nothing sent. */
  readonly refused: readonly FailedSend[];
  /** Changes that failed and stay queued for the next sync. */
  readonly failed: readonly FailedSend[];
  /** Changes still waiting in the queue afterwards. */
  readonly waiting: number;
  /** The service could not be reached: the rest of the queue waits. */
  readonly offline: boolean;
}

type Outcome = 'sent' | 'superseded' | 'conflict';

interface Change {
  readonly kind: 'create' | 'commit' | 'moveRemote' | 'deleteRemote';
  readonly committeeId: string;
  /** The path the change is about (the new one for a move). */
  readonly path: string;
  readonly from?: string;
  readonly documentId?: string;
  /** Parent version of a commit, the head version a move or delete was planned against. */
  readonly version?: number;
}

/** What writing to one committee needs: its verified state, the epoch and its key. */
interface WriteContext {
  readonly trust: TrustView;
  readonly committee: CommitteeState;
  readonly epoch: number;
  readonly epochKeys: Map<number, Uint8Array>;
}

const idPattern = /^[a-z0-9_]{1,64}$/;
const networkCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
]);

/** True for an error that means "the service is not reachable now" (retry later). */
export const isOffline = (error: unknown): boolean => {
  if (error instanceof ApiProblemError) return [502, 503, 504].includes(error.status);
  for (let e = error as { code?: unknown; cause?: unknown } | undefined; e;) {
    if (typeof e.code === 'string' && networkCodes.has(e.code)) return true;
    e = e.cause as typeof e;
  }
  return false;
};

const mimeTypes: Readonly<Record<string, string>> = {
  pdf: 'application/pdf',
  txt: 'text/plain',
  md: 'text/markdown',
  csv: 'text/csv',
  html: 'text/html',
  json: 'application/json',
  xml: 'application/xml',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  svg: 'image/svg+xml',
  zip: 'application/zip',
  doc: 'application/msword',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xls: 'application/vnd.ms-excel',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  ppt: 'application/vnd.ms-powerpoint',
  pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  odt: 'application/vnd.oasis.opendocument.text',
  ods: 'application/vnd.oasis.opendocument.spreadsheet',
};

/** A MIME type from a file name's extension (the signed metadata carries one). */
export const mimeTypeOf = (name: string): string => {
  const dot = name.lastIndexOf('.');
  return (dot > 0 && mimeTypes[name.slice(dot + 1).toLowerCase()]) || 'application/octet-stream';
};

/** Name and folders of a tree path inside its committee's folder. */
const placeOf = (path: string): { name: string; folderPath: string[] } => {
  const segments = path.split('/').slice(1);
  return { name: segments[segments.length - 1] as string, folderPath: segments.slice(0, -1) };
};

/**
 * Sends the queue, oldest first: each create and commit is encrypted from the file on disk
 * (streamed, under a fresh content key and the committee's current epoch) into the spool,
 * uploaded through a resumable session with its key slot, signed and submitted against the
 * verified head (a commit's parent is the version this device last synced); moves and
 * deletions are signed against the verified head likewise. The index moves only once the
 * service accepted a change. Every try of one entry sends the same command id, and a command
 * once sent is resent byte for byte, so the service applies it once.
 *
 * A head that moved on (409, or seen before signing) drops the entry and reports a conflict:
 * the caller pulls that document verified and plans again, which keeps the local file as a
 * conflict copy. An entry a later plan covers (the file changed, moved or went) is dropped
 * too; one this device would never have planned (a path outside the folder or its committee's
 * folder, a committee it may not write, a document of another committee) is refused. When the
 * service cannot be reached, the rest of the queue waits for the next sync.
 */
export const sendQueue = async (options: SendOptions): Promise<SendReport> => {
  const { state, spool, device } = options;
  const queue = state.queue();
  await spool.sweep(new Set(queue.map((q) => q.commandId)));
  const writable = new Set(JSON.parse(state.setting('writableCommittees') ?? '[]') as string[]);
  const contexts = new Map<string, WriteContext>();
  const seen = state.seenHeads();
  const floors = JSON.parse(state.setting('judgingFloors') ?? '{}') as Record<string, JudgingFloor>;
  let trust: TrustView | undefined;
  const committeeChains = new Map<string, readonly Uint8Array[]>();
  const report = {
    sent: 0,
    superseded: 0,
    conflicts: [] as SendConflict[],
    refused: [] as FailedSend[],
    failed: [] as FailedSend[],
    offline: false,
  };
  const blocked = new Set<string>();

  /** Verified chains of every committee the queue writes to, under one trust view. */
  const contextOf = async (committeeId: string): Promise<WriteContext> => {
    const known = contexts.get(committeeId);
    if (known !== undefined) return known;
    if (trust === undefined) {
      const wanted = new Set(
        queue.map((q) => q.payload.committeeId).filter((c): c is string => typeof c === 'string'),
      );
      const users = new Set([device.userId]);
      for (const id of [...wanted].filter((c) => writable.has(c) && idPattern.test(c))) {
        const chain = await options.chains.chain(`committee-${device.tenantId}-${id}`);
        committeeChains.set(id, chain);
        for (const user of usersNamedIn(chain)) users.add(user);
      }
      const userChains: Record<string, readonly Uint8Array[]> = {};
      for (const user of [...users].sort()) {
        userChains[user] = await options.chains.chain(`user-${device.tenantId}-${user}`);
      }
      trust = TrustView.build({
        rootPin: device.rootPin,
        tenantChain: await options.chains.chain(`tenant-${device.tenantId}`),
        userChains,
      });
      // Writing on a rolled-back or forked view is refused like reading one.
      seen.accept(streamName(StreamKind.tenant, device.tenantId), trust.tenantHashes);
      for (const [userId, hashes] of trust.userHashes) {
        seen.accept(streamName(StreamKind.user, device.tenantId, userId), hashes);
      }
    }
    const stream = streamName(StreamKind.committee, device.tenantId, committeeId);
    const committee = CommitteeState.fold(trust, committeeChains.get(committeeId) ?? [], {
      accepted: seen.head(stream)?.length ?? 0,
      floor: floors[committeeId] ?? null,
    });
    seen.accept(stream, committee.hashes);
    let epochKeys: Map<number, Uint8Array>;
    try {
      epochKeys = openEpochKeys(committee, device.keys);
    } catch (error) {
      if (error instanceof KeyListError && error.code === CryptoErrorCode.noWrappedKey) {
        throw noEpochKeyError(committeeId, error);
      }
      throw error;
    }
    const epoch = requireWritable(
      trust,
      committee,
      fingerprint(device.keys.signing.publicKey),
      Math.floor(options.now().getTime() / 1000),
      options.stalenessSeconds,
    );
    if (!epochKeys.has(epoch)) {
      zeroizeKeys(epochKeys);
      throw noEpochKeyError(committeeId);
    }
    const context = { trust, committee, epoch, epochKeys };
    contexts.set(committeeId, context);
    return context;
  };

  const signedBy = (context: WriteContext, documentId: string): DocumentSigned => ({
    tenantId: device.tenantId,
    committeeId: context.committee.committeeId,
    documentId,
    tenantPosition: Math.max(context.trust.tenantHead.length, context.committee.tenantPosition),
    committeeHead: context.committee.head,
    signerUserId: device.userId,
    signerDeviceId: device.deviceId,
    signer: device.keys.signing,
  });

  const verifiedHead = async (context: WriteContext, documentId: string) => {
    const stream = streamName(StreamKind.document, device.tenantId, documentId);
    const head = DocumentState.fold(
      context.committee,
      await fetchDocumentChain(options.target, documentId),
      {
        accepted: seen.head(stream)?.length ?? 0,
        floor: floors[context.committee.committeeId] ?? null,
      },
    );
    seen.accept(stream, head.hashes);
    return head;
  };

  /** The head version's content key and its decrypted signed metadata. */
  const headContent = async (context: WriteContext, head: DocumentState) => {
    const latest = head.latest;
    const signed = head.metadata;
    if (latest === undefined || signed === null) return undefined;
    const version = latest.body.version;
    const slots = await options.target.api.call(fetchKeySlots, {
      params: { tenantId: device.tenantId },
      body: { slots: [{ documentId: head.documentId, version }] },
    });
    const slot = slots.slots.find((s) => s.version === version);
    if (slot === undefined) return undefined;
    const bytes = base64urlDecode(slot.keySlot);
    checkKeySlotHash(bytes, latest.body.keySlotHash);
    const epochKey = context.epochKeys.get(latest.body.epoch);
    if (epochKey === undefined) throw noEpochKeyError(context.committee.committeeId);
    const binding = {
      tenantId: device.tenantId,
      committeeId: context.committee.committeeId,
      documentId: head.documentId,
      version,
      epoch: latest.body.epoch,
    };
    const contentKey = openKeySlot(bytes, { epochKey, binding });
    const metadata = openSignedMetadata(signed.encryptedMetadata, {
      signed: signed.encryptedMetadata,
      contentKey,
      binding: signed.binding,
    });
    return { contentKey, metadata, version, epoch: latest.body.epoch };
  };

  /** Encrypts (or finds in the spool) and uploads a version's content; undefined: file gone. */
  const ensureContent = async (
    record: SendRecord,
    change: Change,
    version: number,
    context: WriteContext,
  ): Promise<SendRecord | undefined> => {
    const stamp = await fileStamp(options.root, change.path);
    if (stamp === null) return undefined;
    const blobFile = spool.blobPath(record.commandId);
    let content = record.content;
    const reusable =
      content !== undefined &&
      content.version === version &&
      content.epoch === context.epoch &&
      content.path === change.path &&
      content.stamp === stamp &&
      (await access(blobFile).then(
        () => true,
        () => false,
      ));
    if (!reusable) {
      // First try, or the file changed since it was encrypted: start over from what is there now.
      if (content !== undefined) {
        state.removeTransfer(`up:${content.path}@${content.plainHash}`);
        state.removeTransfer(`up:${content.path}@${content.plainHash}#slot`);
      }
      const binding = {
        tenantId: device.tenantId,
        documentId: record.documentId,
        version,
        epoch: context.epoch,
      };
      const contentKey = generateContentKey();
      try {
        const encrypted = await encryptFileToSpool(options.root, change.path, blobFile, {
          contentKey,
          binding,
        });
        const keySlot = sealKeySlot({
          epochKey: context.epochKeys.get(context.epoch) as Uint8Array,
          contentKey,
          binding: { ...binding, committeeId: change.committeeId },
        });
        content = {
          path: change.path,
          version,
          epoch: context.epoch,
          plainHash: encrypted.plainHash,
          plainSize: encrypted.plainSize,
          stamp: encrypted.stamp,
          modifiedAt: encrypted.modifiedAt,
          blobHash: Buffer.from(encrypted.digest.hash).toString('hex'),
          blobSize: encrypted.digest.size,
          keySlot: base64urlEncode(keySlot),
          uploaded: false,
        };
      } finally {
        zeroize(contentKey);
      }
      record = { ...record, content };
      await spool.write(record);
    }
    return uploadContent(record, change.committeeId);
  };

  const uploadContent = async (record: SendRecord, committeeId: string): Promise<SendRecord> => {
    const content = record.content as SpooledContent;
    if (content.uploaded) return record;
    const key = `up:${content.path}@${content.plainHash}`;
    const now = () => options.now().getTime();
    await uploadResumable(
      options.target,
      {
        committeeId,
        kind: 'blob',
        hash: content.blobHash,
        size: content.blobSize,
        source: { file: spool.blobPath(record.commandId) },
      },
      {
        state,
        key,
        now,
        onProgress: (p) => options.onProgress?.({ path: content.path, done: p.done, size: p.size }),
        ...(options.afterPart === undefined ? {} : { afterPart: options.afterPart }),
      },
    );
    const slot = base64urlDecode(content.keySlot);
    await uploadResumable(
      options.target,
      {
        committeeId,
        kind: 'keyslot',
        hash: Buffer.from(keySlotHash(slot)).toString('hex'),
        size: slot.length,
        source: { bytes: slot },
      },
      { state, key: `${key}#slot`, now },
    );
    const uploaded = { ...record, content: { ...content, uploaded: true } };
    await spool.write(uploaded);
    return uploaded;
  };

  /** Submits the record's commands in order (a create, then its first version). */
  const submit = async (record: SendRecord): Promise<void> => {
    for (const command of record.commands ?? []) {
      const body = command as { type: string; data: { documentId: string } };
      const params = { tenantId: device.tenantId, documentId: body.data.documentId };
      const api = options.target.api;
      // The bodies were built by the record builders of these very routes.
      if (body.type === 'CreateDocument')
        await api.call(createDocument, { params, body: command as never });
      else if (body.type === 'CommitVersion')
        await api.call(commitVersion, { params, body: command as never });
      else if (body.type === 'MoveDocument')
        await api.call(moveDocument, { params, body: command as never });
      else await api.call(deleteDocument, { params, body: command as never });
    }
  };

  /** Submits; a blob the service collected meanwhile (a long offline spell) is uploaded again. */
  const submitWithContent = async (record: SendRecord, committeeId: string): Promise<void> => {
    try {
      await submit(record);
    } catch (error) {
      if (!(error instanceof ApiProblemError) || error.code !== 'RATSFACH_BLOB_NOT_FOUND')
        throw error;
      const content = record.content as SpooledContent;
      await uploadContent({ ...record, content: { ...content, uploaded: false } }, committeeId);
      await submit(record);
    }
  };

  const versionMetadata = (
    content: SpooledContent,
    previous: DocumentMetadata | undefined,
  ): DocumentMetadata => {
    const place = placeOf(content.path);
    return {
      ...place,
      mimeType: previous?.mimeType ?? mimeTypeOf(place.name),
      createdAt: previous?.createdAt ?? content.modifiedAt,
      modifiedAt: content.modifiedAt,
    };
  };

  const accepted = (entry: QueuedChange, record: SendRecord, change: Change): void => {
    const documentId = record.documentId;
    state.transaction(() => {
      if (change.kind === 'create' || change.kind === 'commit') {
        const content = record.content as SpooledContent;
        state.putIndexEntry({
          documentId,
          committeeId: change.committeeId,
          path: content.path,
          version: content.version,
          hash: content.plainHash,
        });
        state.putRemote({
          documentId,
          committeeId: change.committeeId,
          path: content.path,
          version: content.version,
          hash: content.plainHash,
          size: content.plainSize,
          modifiedAt: content.modifiedAt,
          deleted: false,
        });
      } else if (change.kind === 'moveRemote') {
        const entryNow = state.indexEntry(documentId);
        if (entryNow !== undefined) state.putIndexEntry({ ...entryNow, path: change.path });
        const remote = state.remote().find((d) => d.documentId === documentId);
        if (remote !== undefined) state.putRemote({ ...remote, path: change.path });
      } else {
        const remote = state.remote().find((d) => d.documentId === documentId);
        state.removeIndexEntry(documentId);
        if (remote !== undefined) state.putRemote({ ...remote, deleted: true });
      }
      state.dequeue(entry.seq);
    });
  };

  const sendOne = async (entry: QueuedChange, change: Change): Promise<Outcome> => {
    let record = await spool.read(entry.commandId);
    if (record === undefined) {
      record = {
        commandId: entry.commandId,
        wireId: `${entry.commandId}-${randomBytes(6).toString('hex')}`,
        documentId: change.documentId ?? `d${randomBytes(16).toString('hex')}`,
      };
      await spool.write(record);
    }
    if (record.commands !== undefined) {
      // Sent before (perhaps accepted, perhaps not): the same bytes again, never new ones.
      await submitWithContent(record, change.committeeId);
      accepted(entry, record, change);
      return 'sent';
    }
    const indexed =
      change.documentId === undefined ? undefined : state.indexEntry(change.documentId);
    const context = await contextOf(change.committeeId);
    const signed = signedBy(context, record.documentId);
    const options_ = { commandId: record.wireId, now: options.now().getTime() };

    if (change.kind === 'create') {
      if (state.indexEntryAt(change.path) !== undefined) return 'superseded';
      const withContent = await ensureContent(record, change, 1, context);
      if (withContent === undefined) return 'superseded';
      const content = withContent.content as SpooledContent;
      const create = createDocumentCommand(
        { ...signed, epoch: context.epoch },
        { commandId: `${record.wireId}-c`, now: options_.now },
      );
      const commit = await versionCommand(
        context,
        signed,
        withContent,
        null,
        {
          sequence: 1,
          previousHash: hash512(recordOf(create)),
        },
        undefined,
        options_,
      );
      record = { ...withContent, commands: [create, commit] };
      void content;
    } else if (change.kind === 'commit') {
      if (
        indexed === undefined ||
        indexed.version !== change.version ||
        indexed.path !== change.path
      ) {
        return 'superseded';
      }
      const head = await verifiedHead(context, record.documentId);
      if (head.deleted || head.erased || (head.latest?.body.version ?? 0) !== change.version) {
        return 'conflict';
      }
      const withContent = await ensureContent(record, change, (change.version ?? 0) + 1, context);
      if (withContent === undefined) return 'superseded';
      const previous = await headContent(context, head);
      if (previous !== undefined) zeroize(previous.contentKey);
      const commit = await versionCommand(
        context,
        signed,
        withContent,
        change.version ?? null,
        { sequence: head.head.length, previousHash: head.head.hash },
        previous?.metadata,
        options_,
      );
      record = { ...withContent, commands: [commit] };
    } else if (change.kind === 'moveRemote') {
      if (indexed === undefined || indexed.path !== change.from) return 'superseded';
      if ((await fileStamp(options.root, change.path)) === null) return 'superseded';
      const head = await verifiedHead(context, record.documentId);
      if (head.deleted || head.erased || (head.latest?.body.version ?? 0) !== change.version) {
        return 'conflict';
      }
      const current = await headContent(context, head);
      if (current === undefined) return 'conflict';
      const place = placeOf(change.path);
      const binding = {
        tenantId: device.tenantId,
        documentId: record.documentId,
        version: current.version,
        epoch: current.epoch,
      };
      const encryptedMetadata = encryptMetadata({
        contentKey: current.contentKey,
        binding,
        metadata: { ...current.metadata, ...place },
      });
      zeroize(current.contentKey);
      const move = moveDocumentCommand(
        {
          ...signed,
          link: { sequence: head.head.length, previousHash: head.head.hash },
          epoch: current.epoch,
          version: current.version,
          encryptedMetadata,
        },
        options_,
      );
      record = { ...record, commands: [move] };
    } else {
      if (indexed === undefined || indexed.version !== change.version) return 'superseded';
      if ((await fileStamp(options.root, change.path)) !== null) return 'superseded';
      const head = await verifiedHead(context, record.documentId);
      if (head.deleted || head.erased) {
        accepted(entry, record, change);
        return 'sent';
      }
      if ((head.latest?.body.version ?? 0) !== change.version) return 'conflict';
      const deletion = deleteDocumentCommand(
        { ...signed, link: { sequence: head.head.length, previousHash: head.head.hash } },
        options_,
      );
      record = { ...record, commands: [deletion] };
    }
    // Kept before the first byte goes out: a crash after it resends exactly these commands.
    await spool.write(record);
    await submitWithContent(record, change.committeeId);
    accepted(entry, record, change);
    return 'sent';
  };

  const versionCommand = async (
    context: WriteContext,
    signed: DocumentSigned,
    record: SendRecord,
    parentVersion: number | null,
    link: { sequence: number; previousHash: Uint8Array },
    previous: DocumentMetadata | undefined,
    commandOptions: { commandId: string; now: number },
  ) => {
    const content = record.content as SpooledContent;
    const slot = base64urlDecode(content.keySlot);
    const binding = {
      tenantId: device.tenantId,
      documentId: record.documentId,
      version: content.version,
      epoch: content.epoch,
    };
    const contentKey = openKeySlot(slot, {
      epochKey: context.epochKeys.get(content.epoch) as Uint8Array,
      binding: { ...binding, committeeId: context.committee.committeeId },
    });
    try {
      return commitVersionCommand(
        {
          ...signed,
          link,
          version: content.version,
          parentVersion,
          epoch: content.epoch,
          contentHash: Buffer.from(content.blobHash, 'hex'),
          size: content.blobSize,
          keySlotHash: keySlotHash(slot),
          encryptedMetadata: encryptMetadata({
            contentKey,
            binding,
            metadata: versionMetadata(content, previous),
          }),
        },
        commandOptions,
      );
    } finally {
      zeroize(contentKey);
    }
  };

  try {
    for (const entry of queue) {
      let change: Change;
      try {
        change = checkEntry(entry, options.root, writable, state);
      } catch (error) {
        report.refused.push(failure(entry, error));
        state.dequeue(entry.seq);
        await spool.remove(entry.commandId);
        continue;
      }
      const keys = [change.path, change.from, change.documentId].filter(
        (k): k is string => k !== undefined,
      );
      if (keys.some((k) => blocked.has(k))) continue;
      try {
        const outcome = await sendOne(entry, change);
        if (outcome !== 'sent') state.dequeue(entry.seq);
        if (outcome === 'sent') report.sent += 1;
        else if (outcome === 'superseded') report.superseded += 1;
        else
          report.conflicts.push({
            committeeId: change.committeeId,
            documentId: change.documentId as string,
            path: change.path,
          });
        await spool.remove(entry.commandId);
      } catch (error) {
        if (isOffline(error)) {
          state.markAttempt(entry.seq, 'the service could not be reached');
          report.offline = true;
          break;
        }
        if (error instanceof ApiProblemError && error.status === 409 && change.documentId) {
          // Someone else wrote first: nothing of ours landed; plan again on the verified head.
          state.dequeue(entry.seq);
          await spool.remove(entry.commandId);
          report.conflicts.push({
            committeeId: change.committeeId,
            documentId: change.documentId,
            path: change.path,
          });
          continue;
        }
        const failed = failure(entry, error);
        state.markAttempt(entry.seq, `${failed.code}: ${failed.message}`);
        report.failed.push(failed);
        for (const k of keys) blocked.add(k);
      }
    }
  } finally {
    for (const context of contexts.values()) zeroizeKeys(context.epochKeys);
    state.saveSeenHeads(seen);
  }
  return { ...report, waiting: state.queue().length };
};

const failure = (entry: QueuedChange, error: unknown): FailedSend => {
  const typed = isRatsfachError(error) ? error : undefined;
  const problem = error instanceof ApiProblemError ? error : undefined;
  const path = entry.payload.path ?? entry.payload.to;
  return {
    kind: entry.kind,
    path: typeof path === 'string' ? path : '',
    code: typed?.code ?? problem?.code ?? 'RATSFACH_SYNC_UNEXPECTED',
    message: error instanceof Error ? error.message : String(error),
    hint: typed?.hint ?? problem?.hint ?? 'the change stays queued; the next sync tries again',
  };
};

/**
 * Checks a queue entry against what this device would have planned: a known kind, ids of the
 * right form, paths inside the synced folder and inside the committee's own folder, a
 * committee this device may write to, a document of that committee. Throws
 * `RATSFACH_SYNC_QUEUE_ENTRY_REFUSED` otherwise (the queue is a file others could change).
 */
const checkEntry = (
  entry: QueuedChange,
  root: string,
  writable: ReadonlySet<string>,
  state: LocalState,
): Change => {
  const p = entry.payload;
  const refuse = (why: string) => queueEntryRefusedError(why, { kind: entry.kind, seq: entry.seq });
  const kinds = ['create', 'commit', 'moveRemote', 'deleteRemote'];
  if (!kinds.includes(entry.kind) || p.kind !== entry.kind)
    throw refuse(`unknown kind ${entry.kind}`);
  const kind = entry.kind as Change['kind'];
  const committeeId = p.committeeId;
  if (typeof committeeId !== 'string' || !idPattern.test(committeeId)) {
    throw refuse('no valid committee id');
  }
  const pathOf = (value: unknown, name: string): string => {
    if (typeof value !== 'string') throw refuse(`no ${name} path`);
    try {
      resolveInside(root, value);
    } catch {
      throw refuse(`the path ${JSON.stringify(value)} leaves the synced folder`);
    }
    if (value.split('/')[0] !== committeeFolder(committeeId) || !value.includes('/')) {
      throw refuse(
        `the path ${JSON.stringify(value)} is not in the folder of committee ${committeeId}`,
      );
    }
    return value;
  };
  if (!writable.has(committeeId)) {
    throw refuse(`this device does not write to committee ${committeeId}`);
  }
  if (kind === 'create') return { kind, committeeId, path: pathOf(p.path, 'the') };
  const documentId = p.documentId;
  if (typeof documentId !== 'string' || !idPattern.test(documentId))
    throw refuse('no valid document id');
  const indexed = state.indexEntry(documentId);
  if (indexed !== undefined && indexed.committeeId !== committeeId) {
    throw refuse(`document ${documentId} belongs to committee ${indexed.committeeId}`);
  }
  const version = kind === 'commit' ? p.parentVersion : p.version;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
    throw refuse('no valid version');
  }
  if (kind === 'moveRemote') {
    return {
      kind,
      committeeId,
      documentId,
      version,
      from: pathOf(p.from, 'source'),
      path: pathOf(p.to, 'target'),
    };
  }
  return { kind, committeeId, documentId, version, path: pathOf(p.path, 'the') };
};
