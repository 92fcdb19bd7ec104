import type { TrustView } from '../identity/trustView.js';
import type { SeenHead } from '../records/recordBodies.js';
import { openRecord } from '../records/signedRecord.js';
import type { SeenHeads } from './seenHeads.js';

/**
 * Checks another device's signed heads-seen record against this device's own chains: the signer
 * must be a certified user device valid at the tenant position it names; then every head must
 * extend ours or be extended by ours, else ForkError. Returns the heads ahead of this device.
 */
export function checkHeadsSeen(bytes: Uint8Array, trust: TrustView, mine: SeenHeads): SeenHead[] {
  const record = openRecord(bytes, 'heads-seen');
  trust.requireDeviceAt(record.signerFingerprint, record.body.tenantPosition, 'user');
  return mine.compare(record.body.heads);
}
