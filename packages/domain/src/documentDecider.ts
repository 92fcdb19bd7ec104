import { ConflictError, NotFoundError, ValidationError } from './errors.js';
import { DomainErrorCode } from './domainErrorCode.js';
import type { Decider } from './decider.js';
import type { DomainContext } from './domainContext.js';
import { RecordPurpose } from './signedRecord.js';
import type { RecordFieldValue } from './signedRecord.js';
import { checkRecord } from './checkRecord.js';
import { advanceChain, emptyChain } from './chain.js';
import { eventMetadata } from './message.js';
import { requireMemberSigner } from './authorize.js';
import { Right } from './roles.js';
import { bytesEqual } from './valueEqual.js';
import {
  assertNever,
  checkHash,
  checkId,
  checkInt,
  checkMetadata,
  checkRecordBytes,
  commandMalformed,
  contextMissing,
} from './validate.js';
import type { CommitteeState } from './committeeStream.js';
import type { DocumentCommand, DocumentEvent, DocumentState } from './documentStream.js';

type ActiveDocument = Extract<DocumentState, { status: 'active' | 'deleted' | 'erased' }>;
type ActiveCommittee = Extract<CommitteeState, { status: 'active' }>;

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
  if (committee.legalHold) {
    throw new ConflictError(
      DomainErrorCode.legalHoldActive,
      `committee ${committee.committeeId} is under legal hold`,
      {
        hint: 'documents cannot be deleted or erased until an admin lifts the legal hold',
        details: { committeeId: committee.committeeId, documentId },
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
  checkId('documentId', documentId);
  checkId('signerUserId', signerUserId);
  checkId('signerDeviceId', signerDeviceId);
  checkRecordBytes(record);
  const signed = { signerUserId, signerDeviceId, record };

  /** Verifies the record against the document chain and the signer against the committee. */
  const authorize = (
    committee: ActiveCommittee,
    purpose: RecordPurpose,
    chain: ActiveDocument['chain'],
    fields: Readonly<Record<string, RecordFieldValue>>,
  ) => {
    const verified = checkRecord(verifier, record, purpose, chain, {
      tenantId,
      documentId,
      ...fields,
    });
    requireMemberSigner(
      committee,
      signerState(context, signerUserId),
      signerUserId,
      signerDeviceId,
      verified,
      Right.writeDocuments,
    );
    return { recordHash: verified.hash, sequence: verified.sequence };
  };

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
      const carried = authorize(committee, RecordPurpose.documentCreated, emptyChain(), {
        committeeId,
      });
      return [
        {
          type: 'DocumentCreated',
          data: { tenantId, documentId, committeeId, ...signed, ...carried },
          metadata,
        },
      ];
    }
    case 'CommitVersion': {
      const {
        version,
        parentVersion,
        epoch,
        committeeSequence,
        committeeHead,
        contentHash,
        size,
        partSize,
      } = command.data;
      checkInt('version', version, 1);
      if (parentVersion !== null) checkInt('parentVersion', parentVersion, 1);
      checkInt('epoch', epoch, 1);
      checkInt('committeeSequence', committeeSequence, 1);
      checkHash('committeeHead', committeeHead);
      checkHash('contentHash', contentHash);
      checkInt('size', size, 0);
      checkInt('partSize', partSize, 1);
      const document = requireDocument(state, tenantId, documentId);
      requireNotDeleted(document);
      const committee = requireCommitteeContext(context, tenantId, document.committeeId);
      const fields = {
        version,
        parentVersion,
        epoch,
        committeeSequence,
        committeeHead,
        contentHash,
        size,
        partSize,
      };
      const carried = authorize(committee, RecordPurpose.version, document.chain, {
        committeeId: document.committeeId,
        ...fields,
      });
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
      if (epoch !== committee.epoch) {
        throw new ConflictError(
          DomainErrorCode.epochNotCurrent,
          `epoch ${epoch} is not the current epoch ${committee.epoch}`,
          {
            hint: 'sync, wrap the content key under the current epoch key and sign again',
            details: { epoch, current: committee.epoch },
          },
        );
      }
      if (
        committeeSequence !== committee.chain.length ||
        !bytesEqual(committeeHead, committee.chain.head)
      ) {
        throw new ConflictError(
          DomainErrorCode.committeeStateStale,
          `the version was written against an older state of committee ${committee.committeeId}`,
          {
            hint: 'sync the committee, check membership and epoch, and sign the version again',
            details: { committeeSequence, current: committee.chain.length },
          },
        );
      }
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
      return [{ type: 'VersionCommitted', data: { ...fields, ...signed, ...carried }, metadata }];
    }
    case 'MoveDocument': {
      const document = requireDocument(state, tenantId, documentId);
      requireNotDeleted(document);
      const committee = requireCommitteeContext(context, tenantId, document.committeeId);
      const carried = authorize(committee, RecordPurpose.documentMoved, document.chain, {});
      return [{ type: 'DocumentMoved', data: { ...signed, ...carried }, metadata }];
    }
    case 'DeleteDocument': {
      const document = requireDocument(state, tenantId, documentId);
      requireNotDeleted(document);
      const committee = requireCommitteeContext(context, tenantId, document.committeeId);
      const carried = authorize(committee, RecordPurpose.documentDeleted, document.chain, {});
      requireNoLegalHold(committee, documentId);
      return [{ type: 'DocumentDeleted', data: { ...signed, ...carried }, metadata }];
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
      const carried = authorize(committee, RecordPurpose.documentRestored, document.chain, {});
      return [{ type: 'DocumentRestored', data: { ...signed, ...carried }, metadata }];
    }
    case 'EraseDocument': {
      const document = requireDocument(state, tenantId, documentId);
      const committee = requireCommitteeContext(context, tenantId, document.committeeId);
      const carried = authorize(committee, RecordPurpose.documentErased, document.chain, {});
      requireNoLegalHold(committee, documentId);
      if (committee.retentionDays !== null) {
        const keepUntil = Date.parse(document.createdAt) + committee.retentionDays * dayMs;
        if (Date.parse(command.metadata.now) < keepUntil) {
          throw new ConflictError(
            DomainErrorCode.retentionActive,
            `document ${documentId} must be kept until ${new Date(keepUntil).toISOString()}`,
            {
              hint: 'wait until the retention period has run out, or delete the document instead',
              details: { documentId, keepUntil: new Date(keepUntil).toISOString() },
            },
          );
        }
      }
      return [{ type: 'DocumentErased', data: { ...signed, ...carried }, metadata }];
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
      return { ...state, chain, status: 'deleted' };
    case 'DocumentRestored':
      return { ...state, chain, status: 'active' };
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
