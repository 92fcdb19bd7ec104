import {
  bytesEqual,
  type Decider,
  eventMetadata,
  type EventMetadata,
  RecordPurpose,
} from '@ratsfach/kernel';
import { domainErrors } from '../../domainErrors.js';
import type { DomainContext } from '../domainContext.js';
import { checkRecord } from '../checkRecord.js';
import type { CheckedRecord } from '../checkRecord.js';
import { advanceChain, emptyChain } from '../../chain.js';
import type { Chain } from '../../chain.js';
import { requireMemberSigner } from '../authorize.js';
import { recordTail, requireOwnStream } from '../carried.js';
import { contextUser, requireCommitteeContext, requireTenantContext } from '../contextState.js';
import type { ActiveCommittee } from '../contextState.js';
import { Right } from '../committee/roles.js';
import { requireConfirmedSigner } from '../committee/confirmedDevices.js';
import { assertNever, checkId, checkMetadata, checkRecordBytes } from '../../validate.js';
import { wholeCommittee } from '../committee/committeeStream.js';
import type { ChainHeadView } from '../../recordViews.js';
import type {
  CommitVersion,
  CreateDocument,
  DeleteDocument,
  DocumentCommand,
  DocumentEvent,
  DocumentState,
  EraseDocument,
  MoveDocument,
  RestoreDocument,
} from './documentStream.js';

type ActiveDocument = Extract<DocumentState, { status: 'active' | 'deleted' | 'erased' }>;
type DocumentPurpose =
  | typeof RecordPurpose.documentCreated
  | typeof RecordPurpose.version
  | typeof RecordPurpose.documentMoved
  | typeof RecordPurpose.documentDeleted
  | typeof RecordPurpose.documentRestored
  | typeof RecordPurpose.documentErased;
type WriterCommand = DocumentCommand['data'];

const dayMs = 86_400_000;

const requireDocument = (
  state: DocumentState,
  tenantId: string,
  documentId: string,
): ActiveDocument => {
  if (state.status === 'absent') throw domainErrors.documentUnknown(documentId);
  requireOwnStream('documentId', [tenantId, documentId], [state.tenantId, state.documentId]);
  if (state.status === 'erased') throw domainErrors.documentErased(documentId);
  return state;
};

const requireNotDeleted = (document: ActiveDocument): void => {
  if (document.status === 'deleted') throw domainErrors.documentDeleted(document.documentId);
};

const requireNoLegalHold = (committee: ActiveCommittee, documentId: string): void => {
  if (committee.legalHolds.includes(wholeCommittee) || committee.legalHolds.includes(documentId)) {
    throw domainErrors.legalHoldActive(committee.committeeId, documentId);
  }
};

/** Refuses a record written against an older committee state than the current one. */
const requireCurrentCommittee = (committee: ActiveCommittee, named: ChainHeadView): void => {
  if (named.length !== committee.chain.length || !bytesEqual(named.hash, committee.chain.head)) {
    throw domainErrors.committeeStateStale(
      committee.committeeId,
      named.length,
      committee.chain.length,
    );
  }
};

/**
 * Refuses content under an epoch other than the current one, or while a new epoch is due: a
 * member who held keys left, or a device the key was wrapped for was revoked since.
 */
const requireCurrentEpoch = (
  committee: ActiveCommittee,
  epoch: number,
  context: DomainContext,
): void => {
  if (committee.rotationRequired) {
    throw domainErrors.memberLeftRotationRequired(committee.committeeId);
  }
  for (const holder of committee.keyHolders) {
    // A device revoked since it received the epoch key must not read what is written next.
    const user = contextUser(context, holder.userId);
    const device = user?.status === 'active' ? user.devices[holder.deviceId] : undefined;
    if (device === undefined || device.revoked) {
      throw domainErrors.holderRevokedRotationRequired(
        holder.userId,
        holder.deviceId,
        holder.fingerprint,
      );
    }
  }
  if (committee.epoch === null) throw domainErrors.epochNotStarted(committee.committeeId, epoch);
  if (epoch !== committee.epoch) throw domainErrors.epochNotCurrent(epoch, committee.epoch);
};

/**
 * Verifies a writer's record on the document chain: its purpose and fields, its signer's right
 * to write documents in the committee, the signing device confirmed for the committee (as key
 * records need), and that it names the committee's current state.
 */
function authorizeWrite<P extends DocumentPurpose>(
  data: WriterCommand,
  context: DomainContext,
  committee: ActiveCommittee,
  purpose: P,
  chain: Chain,
): CheckedRecord<P> {
  const { tenantId, documentId, signerUserId, signerDeviceId, record } = data;
  const checked = checkRecord(context.verifier, record, purpose, chain, {
    tenantId,
    committeeId: committee.committeeId,
    documentId,
  });
  requireMemberSigner(
    committee,
    contextUser(context, signerUserId),
    signerUserId,
    signerDeviceId,
    checked.verified,
    Right.writeDocuments,
    requireTenantContext(context, tenantId),
  );
  // contextRequirements loaded the staff members' streams: their devices confirm the signer's.
  requireConfirmedSigner(committee, context.users ?? {}, {
    userId: signerUserId,
    deviceId: signerDeviceId,
  });
  requireCurrentCommittee(committee, checked.fields.committeeHead);
  return checked;
}

/** The tail of every document event: the writer, the record, its hash and position. */
const writerTail = <Fields extends object>(
  fields: Fields,
  { signerUserId, signerDeviceId, record }: WriterCommand,
  { verified }: CheckedRecord<DocumentPurpose>,
) => recordTail({ ...fields, signerUserId, signerDeviceId }, record, verified);

/** A writer creates a document in a committee, under the committee's current key epoch. */
function createDocument(
  { data }: CreateDocument,
  state: DocumentState,
  context: DomainContext,
  metadata: EventMetadata,
): DocumentEvent[] {
  const { tenantId, documentId, committeeId } = data;
  checkId('committeeId', committeeId);
  if (state.status !== 'absent') throw domainErrors.documentExists(documentId);
  const committee = requireCommitteeContext(context, tenantId, committeeId);
  const checked = authorizeWrite(
    data,
    context,
    committee,
    RecordPurpose.documentCreated,
    emptyChain(),
  );
  const { epoch, committeeHead } = checked.fields;
  requireCurrentEpoch(committee, epoch, context);
  const fields = {
    tenantId,
    documentId,
    committeeId,
    epoch,
    committeeSequence: committeeHead.length,
    committeeHead: committeeHead.hash,
  };
  return [{ type: 'DocumentCreated', data: writerTail(fields, data, checked), metadata }];
}

/** A writer commits the next version on top of the head (its blob is stored and checked). */
function commitVersion(
  { data }: CommitVersion,
  state: DocumentState,
  context: DomainContext,
  metadata: EventMetadata,
): DocumentEvent[] {
  const { tenantId, documentId, signerDeviceId } = data;
  const document = requireDocument(state, tenantId, documentId);
  requireNotDeleted(document);
  const committee = requireCommitteeContext(context, tenantId, document.committeeId);
  const checked = authorizeWrite(data, context, committee, RecordPurpose.version, document.chain);
  const { version, parentVersion, epoch, contentHash, size, keySlotHash, authorDeviceId } =
    checked.fields;
  const { committeeHead } = checked.fields;
  if (authorDeviceId !== signerDeviceId) throw domainErrors.recordMismatch('authorDeviceId');
  requireCurrentEpoch(committee, epoch, context);
  const head = document.headVersion === 0 ? null : document.headVersion;
  if (parentVersion !== head) throw domainErrors.parentNotHead(parentVersion, head);
  if (version !== document.headVersion + 1) {
    throw domainErrors.versionNotNext(version, document.headVersion);
  }
  const fields = {
    version,
    parentVersion,
    epoch,
    committeeSequence: committeeHead.length,
    committeeHead: committeeHead.hash,
    contentHash,
    size,
    keySlotHash,
  };
  return [{ type: 'VersionCommitted', data: writerTail(fields, data, checked), metadata }];
}

/** A writer moves or renames the document; the new metadata is encrypted for the head version. */
function moveDocument(
  { data }: MoveDocument,
  state: DocumentState,
  context: DomainContext,
  metadata: EventMetadata,
): DocumentEvent[] {
  const { tenantId, documentId } = data;
  const document = requireDocument(state, tenantId, documentId);
  requireNotDeleted(document);
  const committee = requireCommitteeContext(context, tenantId, document.committeeId);
  const checked = authorizeWrite(
    data,
    context,
    committee,
    RecordPurpose.documentMoved,
    document.chain,
  );
  requireCurrentEpoch(committee, checked.fields.epoch, context);
  // The new metadata is encrypted under the head version's content key and signed for it;
  // devices refuse a move naming another version, so the server refuses it first.
  if (document.headVersion === 0 || checked.fields.version !== document.headVersion) {
    throw domainErrors.moveNotHead(checked.fields.version, document.headVersion);
  }
  const fields = { epoch: checked.fields.epoch };
  return [{ type: 'DocumentMoved', data: writerTail(fields, data, checked), metadata }];
}

/** A writer deletes the document; it stays restorable until erased. */
function deleteDocument(
  { data }: DeleteDocument,
  state: DocumentState,
  context: DomainContext,
  metadata: EventMetadata,
): DocumentEvent[] {
  const { tenantId, documentId } = data;
  const document = requireDocument(state, tenantId, documentId);
  requireNotDeleted(document);
  const committee = requireCommitteeContext(context, tenantId, document.committeeId);
  const checked = authorizeWrite(
    data,
    context,
    committee,
    RecordPurpose.documentDeleted,
    document.chain,
  );
  requireNoLegalHold(committee, documentId);
  return [{ type: 'DocumentDeleted', data: writerTail({}, data, checked), metadata }];
}

/** A writer restores a deleted document. */
function restoreDocument(
  { data }: RestoreDocument,
  state: DocumentState,
  context: DomainContext,
  metadata: EventMetadata,
): DocumentEvent[] {
  const { tenantId, documentId } = data;
  const document = requireDocument(state, tenantId, documentId);
  if (document.status !== 'deleted') throw domainErrors.documentNotDeleted(documentId);
  const committee = requireCommitteeContext(context, tenantId, document.committeeId);
  const checked = authorizeWrite(
    data,
    context,
    committee,
    RecordPurpose.documentRestored,
    document.chain,
  );
  return [{ type: 'DocumentRestored', data: writerTail({}, data, checked), metadata }];
}

/**
 * A writer erases the document for good (its key slots are then destroyed): never under a legal
 * hold, and under a retention rule only once it was deleted that many days ago.
 */
function eraseDocument(
  { data }: EraseDocument,
  state: DocumentState,
  context: DomainContext,
  metadata: EventMetadata,
): DocumentEvent[] {
  const { tenantId, documentId } = data;
  const document = requireDocument(state, tenantId, documentId);
  const committee = requireCommitteeContext(context, tenantId, document.committeeId);
  const checked = authorizeWrite(
    data,
    context,
    committee,
    RecordPurpose.documentErased,
    document.chain,
  );
  requireNoLegalHold(committee, documentId);
  const { retentionDays } = committee;
  if (retentionDays !== null) {
    // Retention keeps a deleted document restorable for its days before it may be erased.
    const keepUntil =
      document.deletedAt === null ? null : Date.parse(document.deletedAt) + retentionDays * dayMs;
    if (keepUntil === null || Date.parse(metadata.occurredAt) < keepUntil) {
      throw domainErrors.retentionActive(
        documentId,
        committee.committeeId,
        retentionDays,
        keepUntil === null ? null : new Date(keepUntil).toISOString(),
      );
    }
  }
  return [{ type: 'DocumentErased', data: writerTail({}, data, checked), metadata }];
}

/** Decides commands of a document stream: creation, versions, moves, deletion, restore, erasure. */
export function decideDocument(
  command: DocumentCommand,
  state: DocumentState,
  context: DomainContext,
): DocumentEvent[] {
  checkMetadata(command.metadata);
  const { tenantId, documentId, signerUserId, signerDeviceId, record } = command.data;
  checkId('tenantId', tenantId);
  checkId('documentId', documentId);
  checkId('signerUserId', signerUserId);
  checkId('signerDeviceId', signerDeviceId);
  checkRecordBytes(record);
  const metadata = eventMetadata(command.metadata);
  switch (command.type) {
    case 'CreateDocument':
      return createDocument(command, state, context, metadata);
    case 'CommitVersion':
      return commitVersion(command, state, context, metadata);
    case 'MoveDocument':
      return moveDocument(command, state, context, metadata);
    case 'DeleteDocument':
      return deleteDocument(command, state, context, metadata);
    case 'RestoreDocument':
      return restoreDocument(command, state, context, metadata);
    case 'EraseDocument':
      return eraseDocument(command, state, context, metadata);
    default:
      return assertNever(command);
  }
}

/** Folds one document event into the state. */
export function evolveDocument(state: DocumentState, event: DocumentEvent): DocumentState {
  if (event.type === 'DocumentCreated') {
    return {
      status: 'active',
      tenantId: event.data.tenantId,
      documentId: event.data.documentId,
      committeeId: event.data.committeeId,
      headVersion: 0,
      createdAt: event.metadata.occurredAt,
      deletedAt: null,
      chain: advanceChain(emptyChain(), event.data.recordHash),
    };
  }
  if (state.status === 'absent') return state;
  const chain = advanceChain(state.chain, event.data.recordHash);
  switch (event.type) {
    case 'VersionCommitted':
      return { ...state, chain, headVersion: event.data.version };
    case 'DocumentMoved':
      return { ...state, chain };
    case 'DocumentDeleted':
      return { ...state, chain, status: 'deleted', deletedAt: event.metadata.occurredAt };
    case 'DocumentRestored':
      return { ...state, chain, status: 'active', deletedAt: null };
    case 'DocumentErased':
      return { ...state, chain, status: 'erased' };
    default:
      return assertNever(event);
  }
}

/** A document stream's decider. */
export const documentDecider: Decider<
  DocumentCommand,
  DocumentEvent,
  DocumentState,
  DomainContext
> = {
  decide: decideDocument,
  evolve: evolveDocument,
  initialState: () => ({ status: 'absent' }),
};
