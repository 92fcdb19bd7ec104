import { ConflictError, NotFoundError, ValidationError } from '../../errors.js';
import { DomainErrorCode } from '../../domainErrorCode.js';
import type { Decider } from '../../decider.js';
import type { DomainContext } from '../domainContext.js';
import { RecordPurpose } from '../../signedRecord.js';
import { checkRecord, recordMismatch } from '../checkRecord.js';
import type { CheckedRecord } from '../checkRecord.js';
import { advanceChain, emptyChain } from '../../chain.js';
import type { Chain } from '../../chain.js';
import { eventMetadata } from '../../message.js';
import { requireMemberSigner } from '../authorize.js';
import { requireTenantContext } from '../user/userDecider.js';
import { Right } from '../committee/roles.js';
import { bytesEqual } from '../../valueEqual.js';
import {
  assertNever,
  checkId,
  checkMetadata,
  checkRecordBytes,
  commandMalformed,
  contextMissing,
} from '../../validate.js';
import { wholeCommittee } from '../committee/committeeStream.js';
import type { CommitteeState } from '../committee/committeeStream.js';
import type { ChainHeadView } from '../../recordViews.js';
import type { DocumentCommand, DocumentEvent, DocumentState } from './documentStream.js';

type ActiveDocument = Extract<DocumentState, { status: 'active' | 'deleted' | 'erased' }>;
type ActiveCommittee = Extract<CommitteeState, { status: 'active' }>;
type DocumentPurpose =
  | typeof RecordPurpose.documentCreated
  | typeof RecordPurpose.version
  | typeof RecordPurpose.documentMoved
  | typeof RecordPurpose.documentDeleted
  | typeof RecordPurpose.documentRestored
  | typeof RecordPurpose.documentErased;

const dayMs = 86_400_000;

const requireDocument = (
  state: DocumentState,
  tenantId: string,
  documentId: string,
): ActiveDocument => {
  if (state.status === 'absent') {
    throw new NotFoundError(
      DomainErrorCode.documentUnknown,
      `document ${documentId} does not exist`,
      {
        hint: 'create the document first',
        details: { documentId },
      },
    );
  }
  if (state.tenantId !== tenantId || state.documentId !== documentId) {
    throw commandMalformed(
      'documentId',
      `names ${tenantId}/${documentId}, the stream belongs to ${state.tenantId}/${state.documentId}`,
    );
  }
  if (state.status === 'erased') {
    throw new ConflictError(DomainErrorCode.documentErased, `document ${documentId} is erased`, {
      hint: 'an erased document takes no further change; create a new document',
      details: { documentId },
    });
  }
  return state;
};

const requireNotDeleted = (document: ActiveDocument): void => {
  if (document.status === 'deleted') {
    throw new ConflictError(
      DomainErrorCode.documentDeleted,
      `document ${document.documentId} is deleted`,
      {
        hint: 'restore the document first',
        details: { documentId: document.documentId },
      },
    );
  }
};

const requireCommitteeContext = (
  context: DomainContext,
  tenantId: string,
  committeeId: string,
): ActiveCommittee => {
  const committee = context.committee;
  if (committee === undefined) throw contextMissing(`the state of committee ${committeeId}`);
  if (committee.status !== 'active') {
    throw new NotFoundError(
      DomainErrorCode.committeeUnknown,
      `committee ${committeeId} does not exist`,
      {
        hint: 'create the committee first',
        details: { committeeId },
      },
    );
  }
  if (committee.tenantId !== tenantId || committee.committeeId !== committeeId) {
    throw new ValidationError(
      DomainErrorCode.contextMismatch,
      `the context holds committee ${committee.committeeId}, the decision concerns ${committeeId}`,
      {
        hint: 'load the committee the document belongs to',
        details: { committeeId, loaded: committee.committeeId },
      },
    );
  }
  return committee;
};

const signerState = (context: DomainContext, userId: string) => {
  if (context.users === undefined || !Object.hasOwn(context.users, userId)) {
    throw contextMissing(`the state of user ${userId}`);
  }
  return context.users[userId];
};

const requireNoLegalHold = (committee: ActiveCommittee, documentId: string): void => {
  if (committee.legalHolds.includes(wholeCommittee) || committee.legalHolds.includes(documentId)) {
    throw new ConflictError(
      DomainErrorCode.legalHoldActive,
      `document ${documentId} is under legal hold`,
      {
        hint: 'documents cannot be deleted or erased until an admin lifts the legal hold',
        details: { committeeId: committee.committeeId, documentId },
      },
    );
  }
};

/** Refuses a record written against an older committee state than the current one. */
const requireCurrentCommittee = (committee: ActiveCommittee, named: ChainHeadView): void => {
  if (named.length !== committee.chain.length || !bytesEqual(named.hash, committee.chain.head)) {
    throw new ConflictError(
      DomainErrorCode.committeeStateStale,
      `the record was written against an older state of committee ${committee.committeeId}`,
      {
        hint: 'sync the committee, check membership and epoch, and sign again',
        details: { named: named.length, current: committee.chain.length },
      },
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
    throw new ConflictError(
      DomainErrorCode.epochRotationRequired,
      `a member left committee ${committee.committeeId}: a new key epoch must start first`,
      {
        hint: 'start a new key epoch, then write under it',
        details: { committeeId: committee.committeeId },
      },
    );
  }
  for (const holder of committee.keyHolders) {
    // A device revoked since it received the epoch key must not read what is written next.
    const user = signerState(context, holder.userId);
    const device = user?.status === 'active' ? user.devices[holder.deviceId] : undefined;
    if (device === undefined || device.revoked) {
      throw new ConflictError(
        DomainErrorCode.epochRotationRequired,
        `device ${holder.deviceId} of user ${holder.userId} holds the epoch key and was revoked: a new key epoch must start first`,
        {
          hint: 'start a new key epoch without the revoked device, then write under it',
          details: { ...holder },
        },
      );
    }
  }
  if (epoch !== committee.epoch) {
    throw new ConflictError(
      DomainErrorCode.epochNotCurrent,
      `epoch ${epoch} is not the current epoch ${String(committee.epoch)}`,
      {
        hint: 'sync, wrap the content key under the current epoch key and sign again',
        details: { epoch, current: committee.epoch },
      },
    );
  }
};

/** Decides commands of a document stream: creation, versions, moves, deletion, restore, erasure. */
export function decideDocument(
  command: DocumentCommand,
  state: DocumentState,
  context: DomainContext,
): DocumentEvent[] {
  checkMetadata(command.metadata);
  const metadata = eventMetadata(command.metadata);
  const { verifier } = context;
  const { tenantId, documentId, signerUserId, signerDeviceId, record } = command.data;
  checkId('tenantId', tenantId);
  checkId('documentId', documentId);
  checkId('signerUserId', signerUserId);
  checkId('signerDeviceId', signerDeviceId);
  checkRecordBytes(record);
  const signer = { signerUserId, signerDeviceId, record };

  /** Verifies the record on the document chain, its committee state and its signer's rights. */
  const authorize = <P extends DocumentPurpose>(
    committee: ActiveCommittee,
    purpose: P,
    chain: Chain,
  ): CheckedRecord<P> => {
    const checked = checkRecord(verifier, record, purpose, chain, {
      tenantId,
      committeeId: committee.committeeId,
      documentId,
    });
    requireMemberSigner(
      committee,
      signerState(context, signerUserId),
      signerUserId,
      signerDeviceId,
      checked.verified,
      Right.writeDocuments,
      requireTenantContext(context, tenantId),
    );
    requireCurrentCommittee(committee, checked.fields.committeeHead);
    return checked;
  };
  const carried = ({ verified }: CheckedRecord<DocumentPurpose>) => ({
    recordHash: verified.hash,
    sequence: verified.sequence,
  });

  switch (command.type) {
    case 'CreateDocument': {
      const { committeeId } = command.data;
      checkId('committeeId', committeeId);
      if (state.status !== 'absent') {
        throw new ConflictError(
          DomainErrorCode.documentExists,
          `document ${documentId} exists already`,
          {
            hint: 'pick another document id',
            details: { documentId },
          },
        );
      }
      const committee = requireCommitteeContext(context, tenantId, committeeId);
      const checked = authorize(committee, RecordPurpose.documentCreated, emptyChain());
      requireCurrentEpoch(committee, checked.fields.epoch, context);
      const { committeeHead } = checked.fields;
      return [
        {
          type: 'DocumentCreated',
          data: {
            tenantId,
            documentId,
            committeeId,
            epoch: checked.fields.epoch,
            committeeSequence: committeeHead.length,
            committeeHead: committeeHead.hash,
            ...signer,
            ...carried(checked),
          },
          metadata,
        },
      ];
    }
    case 'CommitVersion': {
      const document = requireDocument(state, tenantId, documentId);
      requireNotDeleted(document);
      const committee = requireCommitteeContext(context, tenantId, document.committeeId);
      const checked = authorize(committee, RecordPurpose.version, document.chain);
      const {
        version,
        parentVersion,
        epoch,
        contentHash,
        size,
        keySlotHash,
        authorDeviceId,
        committeeHead,
      } = checked.fields;
      if (authorDeviceId !== signerDeviceId) throw recordMismatch('authorDeviceId');
      requireCurrentEpoch(committee, epoch, context);
      const head = document.headVersion === 0 ? null : document.headVersion;
      if (parentVersion !== head) {
        throw new ConflictError(
          DomainErrorCode.parentNotHead,
          `the parent version ${String(parentVersion)} is not the head ${String(head)}`,
          {
            hint: 'sync the document, merge with the head version and commit on top of it',
            details: { parentVersion, head },
          },
        );
      }
      if (version !== document.headVersion + 1) {
        throw new ConflictError(
          DomainErrorCode.versionNotNext,
          `version ${version} does not follow the head ${document.headVersion}`,
          {
            hint: 'number the version head + 1',
            details: { version, head: document.headVersion },
          },
        );
      }
      return [
        {
          type: 'VersionCommitted',
          data: {
            version,
            parentVersion,
            epoch,
            committeeSequence: committeeHead.length,
            committeeHead: committeeHead.hash,
            contentHash,
            size,
            keySlotHash,
            ...signer,
            ...carried(checked),
          },
          metadata,
        },
      ];
    }
    case 'MoveDocument': {
      const document = requireDocument(state, tenantId, documentId);
      requireNotDeleted(document);
      const committee = requireCommitteeContext(context, tenantId, document.committeeId);
      const checked = authorize(committee, RecordPurpose.documentMoved, document.chain);
      requireCurrentEpoch(committee, checked.fields.epoch, context);
      // The new metadata is encrypted under the head version's content key and signed for it;
      // devices refuse a move naming another version, so the server refuses it first.
      if (document.headVersion === 0 || checked.fields.version !== document.headVersion) {
        throw new ConflictError(
          DomainErrorCode.moveNotHead,
          `the move names version ${checked.fields.version}, the head is ${document.headVersion}`,
          {
            hint:
              document.headVersion === 0
                ? 'commit a first version before moving the document'
                : 'sync the document and encrypt the new metadata for the head version',
            details: { version: checked.fields.version, head: document.headVersion },
          },
        );
      }
      return [
        {
          type: 'DocumentMoved',
          data: { epoch: checked.fields.epoch, ...signer, ...carried(checked) },
          metadata,
        },
      ];
    }
    case 'DeleteDocument': {
      const document = requireDocument(state, tenantId, documentId);
      requireNotDeleted(document);
      const committee = requireCommitteeContext(context, tenantId, document.committeeId);
      const checked = authorize(committee, RecordPurpose.documentDeleted, document.chain);
      requireNoLegalHold(committee, documentId);
      return [{ type: 'DocumentDeleted', data: { ...signer, ...carried(checked) }, metadata }];
    }
    case 'RestoreDocument': {
      const document = requireDocument(state, tenantId, documentId);
      if (document.status !== 'deleted') {
        throw new ConflictError(
          DomainErrorCode.documentNotDeleted,
          `document ${documentId} is not deleted`,
          {
            hint: 'nothing to restore',
            details: { documentId },
          },
        );
      }
      const committee = requireCommitteeContext(context, tenantId, document.committeeId);
      const checked = authorize(committee, RecordPurpose.documentRestored, document.chain);
      return [{ type: 'DocumentRestored', data: { ...signer, ...carried(checked) }, metadata }];
    }
    case 'EraseDocument': {
      const document = requireDocument(state, tenantId, documentId);
      const committee = requireCommitteeContext(context, tenantId, document.committeeId);
      const checked = authorize(committee, RecordPurpose.documentErased, document.chain);
      requireNoLegalHold(committee, documentId);
      if (committee.retentionDays !== null) {
        // Retention keeps a deleted document restorable for its days before it may be erased.
        const keepUntil =
          document.deletedAt === null
            ? null
            : Date.parse(document.deletedAt) + committee.retentionDays * dayMs;
        if (keepUntil === null || Date.parse(command.metadata.now) < keepUntil) {
          const until =
            keepUntil === null
              ? 'deleted and kept for the retention period'
              : `kept until ${new Date(keepUntil).toISOString()}`;
          throw new ConflictError(
            DomainErrorCode.retentionActive,
            `document ${documentId} must be ${until}`,
            {
              hint: `committee ${committee.committeeId} keeps deleted documents ${committee.retentionDays} days: delete it and erase it after that`,
              details: { documentId, retentionDays: committee.retentionDays },
            },
          );
        }
      }
      return [{ type: 'DocumentErased', data: { ...signer, ...carried(checked) }, metadata }];
    }
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
