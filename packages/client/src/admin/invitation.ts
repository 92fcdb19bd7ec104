import { base64urlEncode } from '@ratsfach/kernel';
import { createEnrolmentCode, type EnrolmentCode } from '@ratsfach/crypto';
import { renderUnicodeCompact } from 'uqr';

/** How long an enrolment code stays usable unless the administrator says otherwise: 7 days. */
export const defaultInviteSeconds = 7 * 24 * 3600;
/** The longest validity an enrolment code may get: 30 days (a code is a secret on paper). */
export const maximumInviteSeconds = 30 * 24 * 3600;

/** A one-time enrolment code made for one person, with what they need to enrol. */
export interface Invitation {
  readonly tenantId: string;
  readonly userId: string;
  readonly serverUrl: string;
  /** The code itself (holds the code id, its secret and the pinned root). */
  readonly code: EnrolmentCode;
  /** The code id as the server knows it (base64url). */
  readonly codeId: string;
  /** ISO 8601: after this the server refuses the code. */
  readonly expiresAt: string;
}

/**
 * Makes a fresh one-time enrolment code for a person: the tenant root's fingerprint is pinned
 * inside (crypto's `createEnrolmentCode`), so the enrolling device trusts only that root.
 */
export function createInvitation(options: {
  readonly tenantId: string;
  readonly userId: string;
  readonly serverUrl: string;
  readonly rootKey: Uint8Array;
  readonly now: Date;
  readonly validSeconds?: number;
}): Invitation {
  const code = createEnrolmentCode(options.rootKey);
  const seconds = options.validSeconds ?? defaultInviteSeconds;
  return {
    tenantId: options.tenantId,
    userId: options.userId,
    serverUrl: options.serverUrl,
    code,
    codeId: base64urlEncode(code.codeId),
    expiresAt: new Date(options.now.getTime() + seconds * 1000).toISOString(),
  };
}

/**
 * The code as a QR code for a terminal (two module rows per text line, with the quiet zone QR
 * readers need). It holds the code text only: uppercase base32 and dashes are QR's alphanumeric
 * mode, so a phone camera reads it from a screen or paper at a small size.
 */
export const invitationQr = (invitation: Invitation): string =>
  renderUnicodeCompact(invitation.code.text, { ecc: 'M', border: 2 });

/** The lines an administrator hands over, printed or on screen. */
export function invitationLines(invitation: Invitation): string[] {
  return [
    `Enrolment code for ${invitation.userId} (tenant ${invitation.tenantId}), valid until ${invitation.expiresAt}:`,
    '',
    invitation.code.text,
    '',
    invitationQr(invitation),
    '',
    'On the new device run:',
    `  ratsfach enrol --server ${invitation.serverUrl} --tenant ${invitation.tenantId} --user ${invitation.userId} --code <code>`,
    'Hand the code over in person only; it can enrol one device, once. Then run `ratsfach admin approve`.',
  ];
}
