import { type EventMetadata, RecordPurpose } from '@ratsfach/kernel';
import { domainErrors } from '../../domainErrors.js';
import type { DomainContext } from '../domainContext.js';
import { checkRecord } from '../checkRecord.js';
import { requireAdminSigner, requireMemberSigner } from '../authorize.js';
import { recordTail } from '../carried.js';
import { contextUser, requireTenantContext } from '../contextState.js';
import { checkId, checkInt } from '../../validate.js';
import { Right } from './roles.js';
import { wholeCommittee } from './committeeStream.js';
import type {
  CommitteeEvent,
  CommitteeState,
  LiftLegalHold,
  PlaceLegalHold,
  SetRetention,
} from './committeeStream.js';
import { requireCommittee } from './requireCommittee.js';

/** Longest retention rule accepted, in days (100 years). */
export const maxRetentionDays = 36_500;

/**
 * Sets (or clears, with null) how many days a deleted document is kept before it may be erased:
 * signed by an admin device, or by a member device whose role may write documents.
 */
export function setRetention(
  { data }: SetRetention,
  state: CommitteeState,
  context: DomainContext,
  metadata: EventMetadata,
): CommitteeEvent[] {
  const { tenantId, committeeId, signerUserId, signerDeviceId, retentionDays, record } = data;
  if (retentionDays !== null) checkInt('retentionDays', retentionDays, 0, maxRetentionDays);
  if (signerUserId !== null) checkId('signerUserId', signerUserId);
  const committee = requireCommittee(state, tenantId, committeeId);
  const { verified } = checkRecord(
    context.verifier,
    record,
    RecordPurpose.retention,
    committee.chain,
    {
      tenantId,
      committeeId,
      retentionDays,
    },
  );
  if (signerUserId === null) {
    requireAdminSigner(requireTenantContext(context, tenantId), signerDeviceId, verified);
  } else {
    requireMemberSigner(
      committee,
      contextUser(context, signerUserId),
      signerUserId,
      signerDeviceId,
      verified,
      Right.writeDocuments,
      requireTenantContext(context, tenantId),
    );
  }
  const fields = { retentionDays, signerUserId, signerDeviceId };
  return [{ type: 'RetentionSet', data: recordTail(fields, record, verified), metadata }];
}

/** Verifies an admin-signed legal hold record placing (`active`) or lifting a hold. */
function checkLegalHold(
  { data }: PlaceLegalHold | LiftLegalHold,
  state: CommitteeState,
  context: DomainContext,
  active: boolean,
) {
  const { tenantId, committeeId, signerDeviceId, documentId, record } = data;
  if (documentId !== null) checkId('documentId', documentId);
  const committee = requireCommittee(state, tenantId, committeeId);
  const tenant = requireTenantContext(context, tenantId);
  const { verified } = checkRecord(
    context.verifier,
    record,
    RecordPurpose.legalHold,
    committee.chain,
    {
      tenantId,
      committeeId,
      documentId,
      active,
    },
  );
  requireAdminSigner(tenant, signerDeviceId, verified);
  const held = committee.legalHolds.includes(documentId ?? wholeCommittee);
  return { held, data: recordTail({ documentId, signerDeviceId }, record, verified) };
}

/** An admin device places a legal hold on a document, or (null) on the whole committee. */
export function placeLegalHold(
  command: PlaceLegalHold,
  state: CommitteeState,
  context: DomainContext,
  metadata: EventMetadata,
): CommitteeEvent[] {
  const { held, data } = checkLegalHold(command, state, context, true);
  if (held) {
    throw domainErrors.legalHoldAlreadyPlaced(command.data.committeeId, command.data.documentId);
  }
  return [{ type: 'LegalHoldPlaced', data, metadata }];
}

/** An admin device lifts a legal hold it placed. */
export function liftLegalHold(
  command: LiftLegalHold,
  state: CommitteeState,
  context: DomainContext,
  metadata: EventMetadata,
): CommitteeEvent[] {
  const { held, data } = checkLegalHold(command, state, context, false);
  if (!held)
    throw domainErrors.legalHoldNotPlaced(command.data.committeeId, command.data.documentId);
  return [{ type: 'LegalHoldLifted', data, metadata }];
}
