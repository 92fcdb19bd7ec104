import { ConflictError, ForbiddenError, IntegrityError, NotFoundError } from '../errors.js';
import { DomainErrorCode } from '../domainErrorCode.js';
import type { VerifiedRecord } from '../signedRecord.js';
import type { TenantState } from './tenant/tenantStream.js';
import type { UserDevice, UserState } from './user/userStream.js';
import type { CommitteeMember, CommitteeState } from './committee/committeeStream.js';
import { hasRight, membershipEffective } from './committee/roles.js';
import type { Right } from './committee/roles.js';

type ActiveTenant = Extract<TenantState, { status: 'active' }>;
type ActiveUser = Extract<UserState, { status: 'active' }>;
type ActiveCommittee = Extract<CommitteeState, { status: 'active' }>;

const signerMismatch = (deviceId: string): IntegrityError =>
  new IntegrityError(
    DomainErrorCode.signerMismatch,
    `the record was not signed by the key certified for device ${deviceId}`,
    { hint: 'sign with the device named as signer', details: { deviceId } },
  );

/** Refuses a record not signed by the tenant's root. */
export function requireRootSigner(rootFingerprint: string, verified: VerifiedRecord): void {
  if (verified.signerFingerprint !== rootFingerprint) {
    throw new ForbiddenError(
      DomainErrorCode.signerNotRoot,
      'only the tenant root may sign this record',
      {
        hint: 'sign it with the offline root key whose fingerprint the tenant was created with',
      },
    );
  }
}

/** Refuses a record not signed by a certified, unrevoked admin device of the tenant. */
export function requireAdminSigner(
  tenant: ActiveTenant,
  deviceId: string,
  verified: VerifiedRecord,
): void {
  const device = tenant.adminDevices[deviceId];
  if (device === undefined) {
    throw new ForbiddenError(
      DomainErrorCode.signerNotAdmin,
      `device ${deviceId} is not a certified admin device`,
      {
        hint: 'have the root certify the admin device first, or sign on another admin device',
        details: { deviceId },
      },
    );
  }
  if (device.revoked) {
    throw new ForbiddenError(DomainErrorCode.deviceRevoked, `admin device ${deviceId} is revoked`, {
      hint: 'sign on an admin device in good standing',
      details: { deviceId },
    });
  }
  if (device.fingerprint !== verified.signerFingerprint) throw signerMismatch(deviceId);
  requireValidAt(tenant, verified, device);
}

/**
 * Refuses a signer whose certificate is not valid at the tenant chain position the record names
 * (`tenantPosition`; the tenant's head for records of the tenant chain itself). The time at a
 * position is the newest signed heartbeat time before it, never today's date.
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
  if (time === undefined) {
    throw new ConflictError(
      DomainErrorCode.tenantPositionUnknown,
      `the record names tenant position ${String(position)}, the tenant chain has ${tenant.chain.length}`,
      { hint: 'sync the tenant chain and sign against a position it has', details: { position } },
    );
  }
  if (time < device.notBefore || time > device.notAfter) {
    throw new ForbiddenError(
      DomainErrorCode.certificateNotValid,
      `the certificate of device ${device.deviceId} is not valid at tenant position ${position}`,
      {
        hint: 'renew the device certificate, then sign again',
        details: { deviceId: device.deviceId, position, time },
      },
    );
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
  if (device === undefined) {
    throw new ForbiddenError(
      DomainErrorCode.deviceUnknown,
      `device ${deviceId} is not certified for user ${user.userId}`,
      {
        hint: 'have an admin device certify this device first',
        details: { userId: user.userId, deviceId },
      },
    );
  }
  if (device.revoked) {
    throw new ForbiddenError(DomainErrorCode.deviceRevoked, `device ${deviceId} is revoked`, {
      hint: 'a revoked device can do nothing more; enrol a new device',
      details: { userId: user.userId, deviceId },
    });
  }
  if (device.fingerprint !== verified.signerFingerprint) throw signerMismatch(deviceId);
  requireValidAt(tenant, verified, device);
  return device;
}

/** Refuses an active user state that is absent or another user's. */
export function requireUser(user: UserState | undefined, userId: string): ActiveUser {
  if (user === undefined || user.status !== 'active' || user.userId !== userId) {
    throw new NotFoundError(DomainErrorCode.userUnknown, `user ${userId} does not exist`, {
      hint: 'create the user (and certify a device) first',
      details: { userId },
    });
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
  if (member === undefined) {
    throw new ForbiddenError(
      DomainErrorCode.notAMember,
      `user ${userId} is not a member of committee ${committee.committeeId}`,
      {
        hint: 'an admin must add the user to the committee (and staff co-sign it) first',
        details: { userId, committeeId: committee.committeeId },
      },
    );
  }
  if (!membershipEffective(member)) {
    throw new ForbiddenError(
      DomainErrorCode.membershipPending,
      `the membership of user ${userId} in committee ${committee.committeeId} awaits a staff co-signature`,
      {
        hint: 'ask a staff member of the committee to co-sign the membership',
        details: { userId },
      },
    );
  }
  if (!hasRight(member.role, right)) {
    throw new ForbiddenError(
      DomainErrorCode.roleLacksRight,
      `role ${member.role} does not grant ${right}`,
      {
        hint: 'ask a committee staff member to do this, or an admin to change the role',
        details: { userId, role: member.role, right },
      },
    );
  }
  return member;
}
