/**
 * Stable codes of the errors a staff device's key work raises itself (`ratsfach confirm`,
 * `ratsfach keys`). Scripts match on these through `--json`, never on message text.
 */
export const KeysErrorCode = {
  /** The committee chain cannot be read by this device (not a member, or no such committee). */
  committeeUnknown: 'RATSFACH_KEYS_COMMITTEE_UNKNOWN',
  /** This device is no co-signed staff member's device of the committee. */
  notStaff: 'RATSFACH_KEYS_NOT_STAFF',
  /** This staff device holds no key of the committee's current epoch, so it cannot pass it on. */
  noCurrentKey: 'RATSFACH_KEYS_NO_CURRENT_KEY',
  /** The fingerprint typed or given does not match the device's. */
  fingerprintMismatch: 'RATSFACH_KEYS_FINGERPRINT_MISMATCH',
  /** The record still did not extend the chain after refolding once (someone keeps writing). */
  chainBusy: 'RATSFACH_KEYS_CHAIN_BUSY',
} as const;
export type KeysErrorCode = (typeof KeysErrorCode)[keyof typeof KeysErrorCode];
