import { bytesEqual, type EventMetadata, MembershipChange, RecordPurpose } from '@ratsfach/kernel';
import { domainErrors } from '../../domainErrors.js';
import type { DomainContext } from '../domainContext.js';
import { checkRecord } from '../checkRecord.js';
import {
  requireAdminSigner,
  requireMemberSigner,
  requireUser,
  requireUserDevice,
} from '../authorize.js';
import { recordTail } from '../carried.js';
import { contextUser, requireTenantContext } from '../contextState.js';
import { checkId } from '../../validate.js';
import { MemberRole, Right } from './roles.js';
import type {
  ChangeMembership,
  CoSignMembership,
  CommitteeEvent,
  CommitteeState,
} from './committeeStream.js';
import { requireCommittee } from './requireCommittee.js';

const memberRoles: ReadonlySet<string> = new Set(Object.values(MemberRole));
const changes: ReadonlySet<string> = new Set(Object.values(MembershipChange));

/**
 * An admin device adds a user, removes a member or changes a member's role. An addition (and a
 * promotion to staff) counts only once staff co-sign it.
 */
export function changeMembership(
  { data }: ChangeMembership,
  state: CommitteeState,
  context: DomainContext,
  metadata: EventMetadata,
): CommitteeEvent[] {
  const { tenantId, committeeId, signerDeviceId, record, change, userId, role } = data;
  checkId('userId', userId);
  if (!changes.has(change)) {
    throw domainErrors.commandMalformed('change', `expected one of ${[...changes].join(', ')}`);
  }
  if (!memberRoles.has(role)) {
    throw domainErrors.commandMalformed('role', `expected one of ${[...memberRoles].join(', ')}`);
  }
  const committee = requireCommittee(state, tenantId, committeeId);
  const tenant = requireTenantContext(context, tenantId);
  const { verified } = checkRecord(
    context.verifier,
    record,
    RecordPurpose.membership,
    committee.chain,
    { tenantId, committeeId, change, userId, role },
  );
  requireAdminSigner(tenant, signerDeviceId, verified);
  const member = committee.members[userId];
  if (change === MembershipChange.add) {
    if (member !== undefined) throw domainErrors.memberExists(userId, committeeId);
    requireUser(contextUser(context, userId), userId);
  } else if (member === undefined) {
    throw domainErrors.memberUnknown(userId, committeeId);
  } else if (
    change === MembershipChange.changeRole &&
    member.role === role &&
    member.pendingStaff === undefined
  ) {
    throw domainErrors.roleUnchanged(userId, role);
  }
  const fields = { change, userId, role, signerDeviceId };
  return [{ type: 'MembershipChanged', data: recordTail(fields, record, verified), metadata }];
}

/**
 * A staff device co-signs a member's addition or pending promotion to staff. The first staff
 * member of a committee without staff in effect co-signs their own.
 */
export function coSignMembership(
  { data }: CoSignMembership,
  state: CommitteeState,
  context: DomainContext,
  metadata: EventMetadata,
): CommitteeEvent[] {
  const { tenantId, committeeId, signerDeviceId, record, userId, signerUserId } = data;
  checkId('userId', userId);
  checkId('signerUserId', signerUserId);
  const committee = requireCommittee(state, tenantId, committeeId);
  const { verified, fields } = checkRecord(
    context.verifier,
    record,
    RecordPurpose.membershipCosignature,
    committee.chain,
    { tenantId, committeeId },
  );
  const member = committee.members[userId];
  if (member === undefined) throw domainErrors.memberUnknown(userId, committeeId);
  // A co-signature names either the pending promotion to staff or the addition record.
  const pending = member.pendingStaff;
  const promotion =
    pending !== undefined &&
    fields.membershipSequence === pending.sequence &&
    bytesEqual(fields.membershipHash, pending.hash);
  if (
    !promotion &&
    (fields.membershipSequence !== member.membershipSequence ||
      !bytesEqual(fields.membershipHash, member.membershipHash))
  ) {
    throw domainErrors.membershipChanged(userId);
  }
  if (!promotion && member.cosigned) throw domainErrors.membershipAlreadyCosigned(userId);
  if (signerUserId === userId) {
    // Founding: a committee that never had staff gets its first staff member this way. As
    // devices judge it (crypto CommitteeState), a committee whose staff all left is not founded
    // again: its founders stay the roots of its device confirmations.
    const becomesStaff = promotion || member.role === MemberRole.staff;
    if (committee.founders.length > 0 || !becomesStaff) throw domainErrors.selfCosign(userId);
    const signer = requireUser(contextUser(context, signerUserId), signerUserId);
    requireUserDevice(signer, signerDeviceId, verified, requireTenantContext(context, tenantId));
  } else {
    requireMemberSigner(
      committee,
      contextUser(context, signerUserId),
      signerUserId,
      signerDeviceId,
      verified,
      Right.wrapKeys,
      requireTenantContext(context, tenantId),
    );
  }
  const { membershipSequence, membershipHash } = fields;
  const signed = { userId, membershipSequence, membershipHash, signerUserId, signerDeviceId };
  return [{ type: 'MembershipCoSigned', data: recordTail(signed, record, verified), metadata }];
}
