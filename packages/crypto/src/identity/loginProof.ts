import { CryptoErrorCode, CryptoValidationError, TrustError } from '../errors.js';
import { constantTimeEqual } from '../hash.js';
import type { SigningKeyPair } from '../keys/deviceKeys.js';
import { openRecord, signRecord, unchained } from '../records/signedRecord.js';

/** What a login proof answers: the server's one-time challenge for one device of one tenant. */
export interface LoginChallenge {
  readonly tenantId: string;
  readonly deviceId: string;
  /** 32 random bytes chosen by the server. */
  readonly challenge: Uint8Array;
}

/**
 * Signs a login challenge with the device's signing key, under its own purpose label, so the
 * signature never verifies as a record (and no record as a login).
 */
export function createLoginProof(challenge: LoginChallenge, signing: SigningKeyPair): Uint8Array {
  if (challenge.challenge.length !== 32) {
    throw new CryptoValidationError(
      CryptoErrorCode.invalidArgument,
      'a login challenge is 32 bytes',
    );
  }
  return signRecord('login-proof', unchained, challenge, signing);
}

/**
 * The server's check of a login proof: signature by `signingKey` (the device's certified key),
 * purpose label, and the exact tenant, device and challenge it issued. Throws SignatureError
 * (bad signature, wrong purpose) or TrustError `untrustedKey` (another key, device or challenge).
 */
export function verifyLoginProof(
  bytes: Uint8Array,
  expected: LoginChallenge,
  signingKey: Uint8Array,
): void {
  const proof = openRecord(bytes, 'login-proof');
  if (
    !constantTimeEqual(proof.signerKey, signingKey) ||
    proof.body.tenantId !== expected.tenantId ||
    proof.body.deviceId !== expected.deviceId ||
    !constantTimeEqual(proof.body.challenge, expected.challenge)
  ) {
    throw new TrustError(
      CryptoErrorCode.untrustedKey,
      'the login proof answers another key, device or challenge',
      {
        hint: 'Request a fresh challenge and sign it with this device key.',
      },
    );
  }
}
