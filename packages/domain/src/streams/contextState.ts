import { domainErrors } from '../domainErrors.js';
import type { DomainContext } from './domainContext.js';
import type { TenantState } from './tenant/tenantStream.js';
import type { UserState } from './user/userStream.js';
import type { CommitteeState } from './committee/committeeStream.js';

export type ActiveTenant = Extract<TenantState, { status: 'active' }>;
export type ActiveUser = Extract<UserState, { status: 'active' }>;
export type ActiveCommittee = Extract<CommitteeState, { status: 'active' }>;

/** The tenant from the context, refusing when it is missing or another tenant. */
export function requireTenantContext(context: DomainContext, tenantId: string): ActiveTenant {
  const tenant = context.tenant;
  if (tenant === undefined) throw domainErrors.contextMissing('the tenant state');
  if (tenant.status !== 'active' || tenant.tenantId !== tenantId) {
    throw domainErrors.tenantUnknown(tenantId);
  }
  return tenant;
}

/**
 * A user's state from the context (`absent` when the stream is empty), refusing when the
 * handler did not load it at all.
 */
export function contextUser(context: DomainContext, userId: string): UserState | undefined {
  if (context.users === undefined || !Object.hasOwn(context.users, userId)) {
    throw domainErrors.contextMissing(`the state of user ${userId}`);
  }
  return context.users[userId];
}

/** The committee from the context, refusing when it is missing, absent or another committee. */
export function requireCommitteeContext(
  context: DomainContext,
  tenantId: string,
  committeeId: string,
): ActiveCommittee {
  const committee = context.committee;
  if (committee === undefined) {
    throw domainErrors.contextMissing(`the state of committee ${committeeId}`);
  }
  if (committee.status !== 'active') throw domainErrors.committeeUnknown(committeeId);
  if (committee.tenantId !== tenantId || committee.committeeId !== committeeId) {
    throw domainErrors.contextMismatch(committee.committeeId, committeeId);
  }
  return committee;
}
