import { confirmedDevices, type CertifiedDevice, type TrustView } from '@ratsfach/crypto';
import type { CommitteeViews } from './committeeViews.js';

/** A membership record a staff device may co-sign: an addition or a promotion to staff. */
export interface PendingMembership {
  readonly kind: 'membership';
  readonly key: string;
  readonly committeeId: string;
  readonly userId: string;
  readonly role: string;
  /** `founding`: this device's own founding-staff addition (FORMAT.md, the founding staff rule). */
  readonly change: 'addition' | 'promotion' | 'founding';
  readonly sequence: number;
  readonly hash: Uint8Array;
}

/** A certified device no confirmed device vouched for yet. */
export interface PendingDevice {
  readonly kind: 'device';
  readonly key: string;
  /** The committee a staff confirmation names; null for a device of this device's own person. */
  readonly committeeId: string | null;
  readonly device: CertifiedDevice;
  /** Null when this device may confirm it; else why not (it is not the person's first device). */
  readonly notHere: string | null;
}

export type PendingConfirmation = PendingMembership | PendingDevice;

/** Whether every device certified for the user before `device` had been revoked before it. */
const isFirstDevice = (trust: TrustView, device: CertifiedDevice): boolean =>
  trust
    .devicesOf(device.userId)
    .every(
      (d) =>
        d.userSequence >= device.userSequence ||
        (d.revokedUserSequence !== undefined && d.revokedUserSequence < device.userSequence),
    );

/**
 * What this device may co-sign or confirm in the folded committees, from the verified chains
 * only: in committees where its person is co-signed staff, the additions and promotions no staff
 * device co-signed yet, and the key holders' certified, unrevoked devices that are not confirmed
 * there (another person's first device, named with the committee; a device of this person, with
 * no committee; another person's later device is listed as theirs to confirm); in a committee
 * that never had staff, its own founding-staff addition.
 */
export function pendingConfirmations(
  views: CommitteeViews,
  self: { readonly userId: string; readonly fingerprint: string },
): PendingConfirmation[] {
  const { trust } = views;
  const out: PendingConfirmation[] = [];
  const own = new Set<string>();
  for (const [committeeId, { state }] of [...views.committees].sort(([a], [b]) =>
    a.localeCompare(b),
  )) {
    const staff = state.staff();
    const me = state.members.get(self.userId);
    if (!staff.includes(self.userId)) {
      if (me !== undefined && !me.cosigned && me.role === 'staff' && staff.length === 0) {
        out.push({
          kind: 'membership',
          key: `membership:${committeeId}:${self.userId}`,
          committeeId,
          userId: self.userId,
          role: me.role,
          change: 'founding',
          sequence: me.addedBy.sequence,
          hash: me.addedBy.hash,
        });
      }
      continue;
    }
    for (const member of [...state.members.values()].sort((a, b) =>
      a.userId.localeCompare(b.userId),
    )) {
      const record = !member.cosigned ? member.addedBy : member.pendingStaff;
      if (record === null) continue;
      out.push({
        kind: 'membership',
        key: `membership:${committeeId}:${member.userId}`,
        committeeId,
        userId: member.userId,
        role: member.cosigned ? 'staff' : member.role,
        change: member.cosigned ? 'promotion' : 'addition',
        sequence: record.sequence,
        hash: record.hash,
      });
    }
    const confirmed = confirmedDevices(trust, state, self.fingerprint);
    for (const userId of state.keyHolders()) {
      for (const device of trust.devicesOf(userId)) {
        if (device.revokedAt !== undefined || confirmed.has(device.fingerprint)) continue;
        if (userId === self.userId) {
          if (own.has(device.fingerprint)) continue;
          own.add(device.fingerprint);
          out.push({
            kind: 'device',
            key: `device:-:${device.fingerprint}`,
            committeeId: null,
            device,
            notHere: null,
          });
          continue;
        }
        out.push({
          kind: 'device',
          key: `device:${committeeId}:${device.fingerprint}`,
          committeeId,
          device,
          notHere: isFirstDevice(trust, device)
            ? null
            : `it is not ${userId}'s first device: one of ${userId}'s own devices confirms it`,
        });
      }
    }
  }
  return out;
}
