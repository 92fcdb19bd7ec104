import type { CommandJsonOf } from '@ratsfach/api-contract';
import {
  certifyEnrolledDevice,
  openRecord,
  signRecord,
  unchained,
  type CertificateTerms,
  type ChainLink,
  type EnrolmentCode,
  type SigningKeyPair,
} from '@ratsfach/crypto';
import { toCommandJson, type CommandOptions } from './toCommandJson.js';

/** What every admin-signed user record names: the admin device and where it is judged. */
export interface AdminSigned {
  readonly tenantId: string;
  readonly userId: string;
  /** The tenant chain's length the admin device has seen (its certificate is judged there). */
  readonly tenantPosition: number;
  readonly signerDeviceId: string;
  readonly signer: SigningKeyPair;
}

/** `CreateUser`: an admin device starts a person's user chain (position 0). */
export function createUserCommand(
  input: AdminSigned,
  options?: CommandOptions,
): CommandJsonOf<'CreateUser'> {
  const { tenantId, userId, tenantPosition, signerDeviceId, signer } = input;
  const record = signRecord(
    'user-created',
    unchained,
    { tenantId, userId, tenantPosition },
    signer,
  );
  return toCommandJson('CreateUser', { tenantId, userId, signerDeviceId, record }, options);
}

export interface DeviceCertificateInput extends AdminSigned {
  readonly deviceId: string;
  readonly signingKey: Uint8Array;
  readonly kemKey: Uint8Array;
  /** Unix seconds. */
  readonly notBefore: number;
  readonly notAfter: number;
  /** The enrolment code the device used (10 bytes), or null for a renewal. */
  readonly enrolmentCodeId: Uint8Array | null;
  readonly link: ChainLink;
}

/**
 * `CertifyDevice` from known keys: a renewal of a device in good standing (same keys, new
 * validity). A first certificate comes from `certifyEnrolledDeviceCommand`, which checks the MAC.
 */
export function certifyDeviceCommand(
  input: DeviceCertificateInput,
  options?: CommandOptions,
): CommandJsonOf<'CertifyDevice'> {
  const { tenantId, userId, deviceId, signerDeviceId, signer, link, ...rest } = input;
  const record = signRecord(
    'device-certificate',
    link,
    { tenantId, userId, deviceId, ...rest },
    signer,
  );
  return toCommandJson(
    'CertifyDevice',
    { tenantId, userId, deviceId, signerDeviceId, record },
    options,
  );
}

export interface EnrolledDeviceInput {
  /** The enrolment request as the device submitted it (bytes of the listed submission). */
  readonly request: Uint8Array;
  /** The code the admin handed out (its secret checks the request's MAC). */
  readonly code: Pick<EnrolmentCode, 'codeId' | 'secret'>;
  readonly terms: CertificateTerms;
  readonly signerDeviceId: string;
  readonly signer: SigningKeyPair;
}

/**
 * `CertifyDevice` for an enrolled device: checks the request's signature, code id and MAC, and
 * that it names the tenant and user the code was issued for (crypto's `certifyEnrolledDevice`,
 * TrustError RATSFACH_CRYPTO_ENROLMENT_MAC otherwise), then signs the certificate.
 */
export function certifyEnrolledDeviceCommand(
  input: EnrolledDeviceInput,
  options?: CommandOptions,
): CommandJsonOf<'CertifyDevice'> {
  const record = certifyEnrolledDevice(input.request, input.code, input.terms, input.signer);
  const { tenantId, userId, deviceId } = openRecord(record, 'device-certificate').body;
  return toCommandJson(
    'CertifyDevice',
    { tenantId, userId, deviceId, signerDeviceId: input.signerDeviceId, record },
    options,
  );
}

export interface DeviceRevocationInput extends AdminSigned {
  readonly deviceId: string;
  /** The revoked device's signing-key fingerprint (64 hex digits). */
  readonly fingerprint: string;
  readonly reason: string;
  readonly link: ChainLink;
}

/** `RevokeDevice`: an admin device revokes a user's device (refused at once by the service). */
export function revokeDeviceCommand(
  input: DeviceRevocationInput,
  options?: CommandOptions,
): CommandJsonOf<'RevokeDevice'> {
  const { tenantId, userId, deviceId, signerDeviceId, signer, link, ...rest } = input;
  const record = signRecord(
    'device-revocation',
    link,
    { tenantId, userId, deviceId, ...rest },
    signer,
  );
  return toCommandJson(
    'RevokeDevice',
    { tenantId, userId, deviceId, signerDeviceId, record },
    options,
  );
}

export interface DeviceConfirmationInput {
  readonly tenantId: string;
  /** The user whose new device is confirmed (its user chain holds the record). */
  readonly userId: string;
  readonly deviceId: string;
  /** The confirmed device's signing-key fingerprint (64 hex digits). */
  readonly fingerprint: string;
  /** The tenant chain's length the confirming device has seen. */
  readonly tenantPosition: number;
  /**
   * Null when one of the user's own devices confirms; the committee when a staff device of it
   * confirms the user's first device.
   */
  readonly committeeId: string | null;
  readonly signerUserId: string;
  readonly signerDeviceId: string;
  readonly signer: SigningKeyPair;
  readonly link: ChainLink;
}

/**
 * `ConfirmDevice`: a device of the same user (or, for a first device, a staff device of one of
 * the user's committees) confirms a newly certified device; only then is it given keys.
 */
export function confirmDeviceCommand(
  input: DeviceConfirmationInput,
  options?: CommandOptions,
): CommandJsonOf<'ConfirmDevice'> {
  const { tenantId, userId, deviceId, fingerprint, tenantPosition, committeeId } = input;
  const record = signRecord(
    'device-confirmation',
    input.link,
    { tenantId, userId, deviceId, fingerprint, tenantPosition, committeeId },
    input.signer,
  );
  return toCommandJson(
    'ConfirmDevice',
    {
      tenantId,
      userId,
      deviceId,
      signerUserId: input.signerUserId,
      signerDeviceId: input.signerDeviceId,
      committeeId,
      record,
    },
    options,
  );
}
