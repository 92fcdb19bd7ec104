import { submitEnrolment, type EnrolmentSubmission } from '@ratsfach/api-contract';
import {
  createEnrolmentRequest,
  fingerprint,
  generateDeviceKeys,
  type DeviceKeys,
  type EnrolmentCode,
} from '@ratsfach/crypto';
import { base64urlEncode } from '@ratsfach/kernel';
import type { ApiClient } from '../http/apiClient.js';

/** What the person enrolling says: which tenant and user the code was made for. */
export interface EnrolmentTarget {
  readonly tenantId: string;
  readonly userId: string;
}

/** A device that submitted its keys: what it keeps, and what to compare with the administrator. */
export interface SubmittedEnrolment {
  readonly deviceId: string;
  readonly keys: DeviceKeys;
  /** Fingerprint of the new signing key (64 hex digits): the administrator sees the same one. */
  readonly fingerprint: string;
  /** The pinned root from the code (hex of its 20 bytes): the only root this device trusts. */
  readonly rootPin: string;
  readonly submission: EnrolmentSubmission;
}

const hex = (bytes: Uint8Array): string =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

/** A fresh device id: `dev_` and 16 random bytes in hex (record ids are `[a-z0-9_]`). */
export const newDeviceId = (): string =>
  `dev_${hex(globalThis.crypto.getRandomValues(new Uint8Array(16)))}`;

/**
 * Enrols a new device: generates its keys here (they never leave it), binds them to the code's
 * secret with the MAC the crypto package defines, and submits the signed request under the
 * code id. The server learns the public keys only; the administrator's device checks the MAC
 * before it certifies, so keys swapped in transit are refused there.
 */
export async function submitDeviceEnrolment(
  api: ApiClient,
  code: EnrolmentCode,
  target: EnrolmentTarget,
  options: { readonly keys?: DeviceKeys; readonly deviceId?: string } = {},
): Promise<SubmittedEnrolment> {
  const keys = options.keys ?? generateDeviceKeys();
  const deviceId = options.deviceId ?? newDeviceId();
  const request = createEnrolmentRequest(
    code,
    { tenantId: target.tenantId, userId: target.userId, deviceId },
    keys,
  );
  const submission = await api.call(submitEnrolment, {
    params: { tenantId: target.tenantId },
    body: { codeId: base64urlEncode(code.codeId), request: base64urlEncode(request) },
  });
  return {
    deviceId,
    keys,
    fingerprint: fingerprint(keys.signing.publicKey),
    rootPin: hex(code.rootPin),
    submission,
  };
}
