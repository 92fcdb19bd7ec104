import { sodium } from '../sodium.js';
import type { DeviceKeys } from './deviceKeys.js';

/**
 * Overwrites each secret with zeros (libsodium `memzero`), for a caller done with keys this
 * package handed out: an epoch key from `startEpoch` or `openEpochKeys`, a content key, a
 * device secret. This package zeroes what it derives and drops itself; what it returns belongs
 * to the caller. FORMAT.md "Secrets in memory" lists what JavaScript cannot zero.
 */
export function zeroize(...secrets: readonly (Uint8Array | null | undefined)[]): void {
  const s = sodium();
  for (const secret of secrets) if (secret !== null && secret !== undefined) s.memzero(secret);
}

/** Zeroes every key of a map such as `openEpochKeys`'s and empties it. */
export function zeroizeKeys(keys: Map<unknown, Uint8Array>): void {
  zeroize(...keys.values());
  keys.clear();
}

/** Zeroes a device's private keys (signing and X-Wing), e.g. after sealing them in a key store. */
export function zeroizeDeviceKeys(keys: DeviceKeys): void {
  zeroize(keys.signing.privateKey, keys.kem.privateKey);
}
