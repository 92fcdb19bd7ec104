import { sodium } from '../sodium.js';

const fingerprintLabel = new TextEncoder().encode('ratsfach/v1/fingerprint');

/** Raw 32-byte fingerprint of a public key: BLAKE2b-256 keyed with the fingerprint label. */
export const fingerprintBytes = (publicKey: Uint8Array): Uint8Array =>
  sodium().crypto_generichash(32, publicKey, fingerprintLabel);

/**
 * Fingerprint of a public key as 64 lowercase hex digits: how records, certificates and the
 * domain name a device or root (`signerFingerprint`).
 */
export const fingerprint = (publicKey: Uint8Array): string =>
  sodium().to_hex(fingerprintBytes(publicKey));
