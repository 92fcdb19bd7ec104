import type { SeenHead } from '@ratsfach/kernel';
import { CryptoErrorCode, TrustError } from '../errors.js';
import type { TrustView } from '../identity/trustView.js';
import { openRecord } from '../records/signedRecord.js';
import type { SeenHeads } from './seenHeads.js';

/**
 * Checks another device's signed heads-seen record against this device's own chains: the signer
 * must be a certified user device valid at the tenant position it names, and the record's
 * tenant, user and device must be the signer's own (else TrustError `unauthorisedSigner`); then
 * every head must extend ours or be extended by ours, else ForkError. Returns the heads ahead of
 * this device.
 */
export function checkHeadsSeen(bytes: Uint8Array, trust: TrustView, mine: SeenHeads): SeenHead[] {
  const record = openRecord(bytes, 'heads-seen');
  const body = record.body;
  const device = trust.requireDeviceAt(record.signerFingerprint, body.tenantPosition, 'user');
  if (
    body.tenantId !== trust.tenantId ||
    body.userId !== device.userId ||
    body.deviceId !== device.deviceId
  ) {
    throw new TrustError(
      CryptoErrorCode.unauthorisedSigner,
      `heads-seen names ${body.tenantId}/${body.userId}/${body.deviceId}, signed by ${device.userId}/${device.deviceId}`,
      {
        hint: 'A device signs only its own heads; the record is refused.',
        details: { userId: body.userId, deviceId: body.deviceId },
      },
    );
  }
  return mine.compare(body.heads);
}
