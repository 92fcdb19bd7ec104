import { CryptoErrorCode, TrustError } from '../errors.js';
import type { CertifiedDevice, TrustView } from '../identity/trustView.js';
import type { SigningKeyPair } from '../keys/deviceKeys.js';
import { fingerprint } from '../keys/fingerprint.js';
import { signRecord, type ChainLink } from '../records/signedRecord.js';
import type { CommitteeState } from './committeeState.js';

/**
 * The devices confirmed for `committee` (FORMAT.md "Device confirmation"), as fingerprints:
 * the founding staff devices (`CommitteeState.founders`), this device itself
 * (`selfFingerprint`, when given), and, repeated until nothing changes, every device a
 * confirmed device vouched for with a `device-confirmation`: one of the same user's devices
 * (no committee named), or for a user's first device a confirmed device of a co-signed staff
 * member of this committee naming this committee. A device an admin certified and nobody
 * confirmed is not in the set, whatever the admin signs. Confirmations a device made before its
 * revocation keep counting (revoking an old phone does not cut off the laptop it confirmed).
 * `staff` (default: the committee's staff now) is whose first-device confirmations count: a
 * record is judged with the staff at the committee head it names.
 */
export function confirmedDevices(
  trust: TrustView,
  committee: CommitteeState,
  selfFingerprint?: string,
  staff: ReadonlySet<string> = new Set(committee.staff()),
): Set<string> {
  const confirmed = new Set<string>(committee.founders);
  if (selfFingerprint !== undefined) confirmed.add(selfFingerprint);
  const counting = trust.confirmations.filter(
    (c) =>
      c.committeeId === null ||
      (c.committeeId === committee.committeeId && staff.has(c.signerUserId)),
  );
  for (let changed = true; changed;) {
    changed = false;
    for (const c of counting) {
      if (confirmed.has(c.fingerprint) || !confirmed.has(c.signerFingerprint)) continue;
      confirmed.add(c.fingerprint);
      changed = true;
    }
  }
  return confirmed;
}

/**
 * Throws TrustError `signerNotConfirmed` unless the device `signerFingerprint` is confirmed for
 * `committee` in this view (`confirmedDevices` without self-inclusion: a device never vouches
 * for itself, neither when judging another's record nor before signing its own), with `staff`
 * as the committee's staff. The one rule for every record a staff device signs for the
 * committee: a key record (a new epoch, keys wrapped into one) or a document record (a new
 * document, a version, a move, a deletion, a restore, an erasure) from an unconfirmed device
 * would let an admin, through a device it certified alone for a staff member, choose the key
 * every member uses, or plant, move or delete documents on every member's device.
 */
export function requireConfirmedSigner(
  trust: TrustView,
  committee: CommitteeState,
  signerFingerprint: string,
  what: string,
  staff?: ReadonlySet<string>,
): void {
  if (confirmedDevices(trust, committee, undefined, staff).has(signerFingerprint)) return;
  const device = trust.device(signerFingerprint);
  throw new TrustError(
    CryptoErrorCode.signerNotConfirmed,
    `${what} is signed by device ${device?.deviceId ?? signerFingerprint} of ${device?.userId ?? 'an unknown user'}, not confirmed for ${committee.committeeId}`,
    {
      hint: "A staff device signs key and document records only once one of its person's confirmed devices confirmed it (`ratsfach confirm`); a person's first device is confirmed by a staff member of the committee.",
      details: {
        committeeId: committee.committeeId,
        ...(device === undefined ? {} : { userId: device.userId, deviceId: device.deviceId }),
      },
    },
  );
}

/** Recipients split by the confirmation rule: who gets the epoch key, who waits. */
export interface ConfirmedRecipients {
  /** Confirmed devices: a staff device wraps the epoch key for these only. */
  readonly confirmed: CertifiedDevice[];
  /** Certified but unconfirmed devices: show them ("waiting for confirmation"); never wrap. */
  readonly unconfirmed: CertifiedDevice[];
}

/**
 * Splits `recipients` (for instance `TrustView.recipientsAt`'s) into the confirmed devices of
 * `committee` and the rest. `startEpoch` and `wrapForNewDevices` call it, so no key is ever
 * wrapped for a device only an admin vouched for; a client calls it to show who waits.
 */
export function splitConfirmed(
  trust: TrustView,
  committee: CommitteeState,
  recipients: readonly CertifiedDevice[],
  selfFingerprint?: string,
): ConfirmedRecipients {
  const confirmed = confirmedDevices(trust, committee, selfFingerprint);
  return {
    confirmed: recipients.filter((d) => confirmed.has(d.fingerprint)),
    unconfirmed: recipients.filter((d) => !confirmed.has(d.fingerprint)),
  };
}

/** What `signDeviceConfirmation` needs: the signer's view, the device it vouches for. */
export interface ConfirmationRequest {
  readonly trust: TrustView;
  /** The device to confirm (from `trust.devicesOf(userId)`), shown to the person first. */
  readonly device: CertifiedDevice;
  /** The head of the confirmed device's user chain (its length and last hash). */
  readonly link: ChainLink;
  /** This device's signing keys. */
  readonly self: SigningKeyPair;
  /**
   * For another user's first device: the committee this device confirms it as staff of. Omit
   * it for a device of this device's own user.
   */
  readonly committee?: CommitteeState;
}

/**
 * Signs a `device-confirmation` for `device` at the tenant head of `trust`, after the checks
 * the trust view applies when it folds the record (so a device never signs one it would
 * refuse): the signer is a valid user device now; a device of the same user names no committee;
 * another user's device must be a staff device of `committee` and the target the user's first
 * device (the trust view refuses the record otherwise). Throws TrustError.
 */
export function signDeviceConfirmation(request: ConfirmationRequest): Uint8Array {
  const { trust, device, committee } = request;
  const position = trust.tenantHead.length;
  const self = trust.requireDeviceAt(fingerprint(request.self.publicKey), position, 'user');
  const details = { userId: device.userId, deviceId: device.deviceId };
  if (device.kind !== 'user' || self.fingerprint === device.fingerprint) {
    throw new TrustError(
      CryptoErrorCode.unauthorisedSigner,
      'a device confirms only another user device',
      {
        hint: 'Confirm the new device from another device of the same person.',
        details,
      },
    );
  }
  if (self.userId !== device.userId) {
    if (committee === undefined) {
      throw new TrustError(
        CryptoErrorCode.unauthorisedSigner,
        `confirming ${device.userId}'s device needs the committee this device is staff of`,
        {
          hint: "Only a staff member confirms another person's first device, naming the committee.",
          details,
        },
      );
    }
    committee.requireStaffSigner(self.fingerprint, position);
  }
  return signRecord(
    'device-confirmation',
    request.link,
    {
      tenantId: trust.tenantId,
      userId: device.userId,
      deviceId: device.deviceId,
      fingerprint: device.fingerprint,
      tenantPosition: position,
      committeeId: self.userId === device.userId ? null : (committee as CommitteeState).committeeId,
    },
    request.self,
  );
}
