import { domainErrors } from '../../domainErrors.js';
import type { ActiveCommittee } from '../contextState.js';
import type { UserState } from '../user/userStream.js';
import type { CommitteeState, KeyRecipientRef } from './committeeStream.js';
import { MemberRole, membershipEffective } from './roles.js';

/** The co-signed staff members of a committee (none when it does not exist). */
export const staffOf = (committee: CommitteeState): string[] =>
  committee.status === 'active'
    ? Object.values(committee.members)
        .filter((m) => m.role === MemberRole.staff && membershipEffective(m))
        .map((m) => m.userId)
    : [];

const keyOf = ({ userId, deviceId }: KeyRecipientRef): string => `${userId}/${deviceId}`;

/**
 * The devices confirmed for `committee` (keys `userId/deviceId`), as devices compute it before
 * they wrap (crypto `confirmedDevices`, FORMAT.md "Device confirmation"): the committee's
 * founders, the wrapping device `self` (when given: for the recipients of its own record only,
 * never when judging whether a signer is confirmed), and, until nothing changes, every device a confirmed
 * device vouched for: one of its own user's devices (no committee named), or a user's first
 * device confirmed by a co-signed staff member's device naming this committee. A confirmation
 * made before its signer's revocation keeps counting. Only the `users` given are seen: the
 * caller loads the staff members' streams (`contextRequirements` `staff`) and the recipients'.
 */
export function confirmedDevices(
  committee: ActiveCommittee,
  users: Readonly<Record<string, UserState>>,
  self?: KeyRecipientRef,
): Set<string> {
  const confirmed = new Set(
    [...committee.founders, ...(self === undefined ? [] : [self])].map(keyOf),
  );
  const staff = new Set(staffOf(committee));
  const vouches: { readonly signer: string; readonly device: string }[] = [];
  for (const user of Object.values(users)) {
    if (user.status !== 'active' || user.tenantId !== committee.tenantId) continue;
    for (const device of Object.values(user.devices)) {
      for (const c of device.confirmedBy ?? []) {
        if (
          c.committeeId !== null &&
          !(c.committeeId === committee.committeeId && staff.has(c.signerUserId))
        ) {
          continue;
        }
        vouches.push({
          signer: keyOf({ userId: c.signerUserId, deviceId: c.signerDeviceId }),
          device: keyOf({ userId: user.userId, deviceId: device.deviceId }),
        });
      }
    }
  }
  for (let changed = true; changed;) {
    changed = false;
    for (const { signer, device } of vouches) {
      if (confirmed.has(device) || !confirmed.has(signer)) continue;
      confirmed.add(device);
      changed = true;
    }
  }
  return confirmed;
}

/** Whether `device` is in `confirmed` (`confirmedDevices`'s answer). */
export const isConfirmed = (confirmed: ReadonlySet<string>, device: KeyRecipientRef): boolean =>
  confirmed.has(keyOf(device));

/**
 * Refuses (`signerNotConfirmed`) a record whose signing device is not confirmed for `committee`,
 * judged without counting itself (crypto `requireConfirmedSigner`, FORMAT.md "Device
 * confirmation"): the one rule for key records and document records. Else an admin, through a
 * device it certified alone for a staff member, would choose the key of a new epoch, or plant,
 * move or delete documents on every member's device. Confirmation chains to a staff signer run
 * through staff members' devices only: the caller loads them (`contextRequirements` `staff`).
 */
export function requireConfirmedSigner(
  committee: ActiveCommittee,
  users: Readonly<Record<string, UserState>>,
  signer: KeyRecipientRef,
): void {
  if (!isConfirmed(confirmedDevices(committee, users), signer)) {
    throw domainErrors.signerNotConfirmed(signer.userId, signer.deviceId, committee.committeeId);
  }
}
