import type { VerifiedRecord } from '@ratsfach/kernel';
import { domainErrors } from '../domainErrors.js';
import type { UserDevice, UserState } from './user/userStream.js';
import type { CommitteeMember } from './committee/committeeStream.js';
import { hasRight, membershipEffective } from './committee/roles.js';
import type { Right } from './committee/roles.js';
import type { ActiveCommittee, ActiveTenant, ActiveUser } from './contextState.js';

/** Refuses a record not signed by the tenant's root. */
export function requireRootSigner(rootFingerprint: string, verified: VerifiedRecord): void {
  if (verified.signerFingerprint !== rootFingerprint) throw domainErrors.signerNotRoot();
}

/** Refuses a record not signed by a certified, unrevoked admin device of the tenant. */
export function requireAdminSigner(
  tenant: ActiveTenant,
  deviceId: string,
  verified: VerifiedRecord,
): void {
  const device = tenant.adminDevices[deviceId];
  if (device === undefined) throw domainErrors.signerNotAdmin(deviceId);
  if (device.revoked) throw domainErrors.deviceRevoked(deviceId);
  if (device.fingerprint !== verified.signerFingerprint)
    throw domainErrors.signerMismatch(deviceId);
  requireValidAt(tenant, verified, device);
}

/**
 * Refuses a signer whose certificate is not valid at the tenant chain position the record names
 * (`tenantPosition`; the tenant's head for records of the tenant chain itself), or that has
 * expired at the tenant's head (a back-dated position does not revive an expired device). The
 * time at a position is the newest signed heartbeat time before it, never today's date.
 */
export function requireValidAt(
  tenant: ActiveTenant,
  verified: VerifiedRecord,
  device: { readonly deviceId: string; readonly notBefore: number; readonly notAfter: number },
): void {
  const named = verified.fields.tenantPosition;
  const position = typeof named === 'number' ? named : tenant.chain.length;
  const time =
    Number.isSafeInteger(position) && position >= 1 ? tenant.times[position - 1] : undefined;
  if (time === undefined) throw domainErrors.tenantPositionUnknown(position, tenant.chain.length);
  if (time < device.notBefore || time > device.notAfter) {
    throw domainErrors.certificateNotValid(device.deviceId, position, time);
  }
  // Twin of the devices' judging floor (FORMAT.md "Judging new records"): a signer picks the
  // position it is judged at, so an expired device could name an old position where it was
  // still valid. The server judges expiry at its tenant head too (the newest heartbeat's time).
  const head = tenant.chain.length;
  const headTime = tenant.times[head - 1];
  if (headTime !== undefined && headTime > device.notAfter) {
    throw domainErrors.certificateNotValid(device.deviceId, head, headTime);
  }
}

/** Refuses a signer device that is unknown, revoked or not the key that signed. */
export function requireUserDevice(
  user: ActiveUser,
  deviceId: string,
  verified: VerifiedRecord,
  tenant: ActiveTenant,
): UserDevice {
  const device = user.devices[deviceId];
  if (device === undefined) throw domainErrors.signerDeviceUnknown(user.userId, deviceId);
  if (device.revoked) throw domainErrors.deviceRevoked(deviceId, user.userId);
  if (device.fingerprint !== verified.signerFingerprint)
    throw domainErrors.signerMismatch(deviceId);
  requireValidAt(tenant, verified, device);
  return device;
}

/** Refuses an active user state that is absent or another user's. */
export function requireUser(user: UserState | undefined, userId: string): ActiveUser {
  if (user === undefined || user.status !== 'active' || user.userId !== userId) {
    throw domainErrors.userUnknown(userId);
  }
  return user;
}

/**
 * Refuses a committee record unless its signer is a certified, unrevoked device of a member
 * whose membership is in effect (co-signed by staff) and whose role holds `right`.
 */
export function requireMemberSigner(
  committee: ActiveCommittee,
  user: UserState | undefined,
  userId: string,
  deviceId: string,
  verified: VerifiedRecord,
  right: Right,
  tenant: ActiveTenant,
): CommitteeMember {
  const active = requireUser(user, userId);
  requireUserDevice(active, deviceId, verified, tenant);
  const member = committee.members[userId];
  if (member === undefined) throw domainErrors.notAMember(userId, committee.committeeId);
  if (!membershipEffective(member)) {
    throw domainErrors.membershipPending(userId, committee.committeeId);
  }
  if (!hasRight(member.role, right)) throw domainErrors.roleLacksRight(userId, member.role, right);
  return member;
}
