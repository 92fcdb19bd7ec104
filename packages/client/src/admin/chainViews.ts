import { fingerprint, type OpenedRecord } from '@ratsfach/crypto';
import type { MemberRole } from '@ratsfach/domain';

/** A device as its chain shows it: the last certificate (renewals replace it) and revocation. */
export interface DeviceView {
  readonly userId: string;
  readonly deviceId: string;
  readonly fingerprint: string;
  readonly signingKey: Uint8Array;
  readonly kemKey: Uint8Array;
  /** Unix seconds of the newest certificate. */
  readonly notBefore: number;
  readonly notAfter: number;
  readonly revoked: boolean;
}

type CertificatePurpose = 'admin-device-certificate' | 'device-certificate';
type RevocationPurpose = 'admin-device-revocation' | 'device-revocation';

/**
 * Folds a chain's certificates and revocations of one kind into devices: the last certificate
 * of a device replaces the one before (a renewal), a revocation marks it for good.
 */
function devicesOf(
  records: readonly OpenedRecord[],
  certificate: CertificatePurpose,
  revocation: RevocationPurpose,
): Map<string, DeviceView> {
  const devices = new Map<string, DeviceView>();
  for (const record of records) {
    if (record.purpose === certificate) {
      const body = record.body as OpenedRecord<CertificatePurpose>['body'];
      devices.set(body.deviceId, {
        userId: body.userId,
        deviceId: body.deviceId,
        fingerprint: fingerprint(body.signingKey),
        signingKey: body.signingKey,
        kemKey: body.kemKey,
        notBefore: body.notBefore,
        notAfter: body.notAfter,
        revoked: devices.get(body.deviceId)?.revoked ?? false,
      });
    } else if (record.purpose === revocation) {
      const body = record.body as OpenedRecord<RevocationPurpose>['body'];
      const device = devices.get(body.deviceId);
      if (device !== undefined) devices.set(body.deviceId, { ...device, revoked: true });
    }
  }
  return devices;
}

/** Admin devices as the tenant chain shows them (root-signed certificates and revocations). */
export const adminDevicesOf = (records: readonly OpenedRecord[]): Map<string, DeviceView> =>
  devicesOf(records, 'admin-device-certificate', 'admin-device-revocation');

/** A person's devices as their user chain shows them. */
export const userDevicesOf = (records: readonly OpenedRecord[]): Map<string, DeviceView> =>
  devicesOf(records, 'device-certificate', 'device-revocation');

/** A member as the committee chain shows them. */
export interface MemberView {
  readonly userId: string;
  readonly role: MemberRole;
  /** Whether a staff device co-signed the addition (only then are keys wrapped for them). */
  readonly cosigned: boolean;
  /** Position and hash of the membership record that added them (what a co-signature names). */
  readonly membershipSequence: number;
  readonly membershipHash: Uint8Array;
}

/** The members of a committee, folded from its chain's membership records. */
export function membersOf(records: readonly OpenedRecord[]): Map<string, MemberView> {
  const members = new Map<string, MemberView>();
  for (const record of records) {
    if (record.purpose === 'membership') {
      const body = record.body as OpenedRecord<'membership'>['body'];
      const member = members.get(body.userId);
      if (body.change === 'remove') members.delete(body.userId);
      else if (body.change === 'add' || member === undefined) {
        members.set(body.userId, {
          userId: body.userId,
          role: body.role,
          cosigned: false,
          membershipSequence: record.sequence,
          membershipHash: record.hash,
        });
      } else members.set(body.userId, { ...member, role: body.role });
    } else if (record.purpose === 'membership-cosignature') {
      const body = record.body as OpenedRecord<'membership-cosignature'>['body'];
      for (const member of members.values()) {
        if (member.membershipSequence === body.membershipSequence) {
          members.set(member.userId, { ...member, cosigned: true });
        }
      }
    }
  }
  return members;
}
