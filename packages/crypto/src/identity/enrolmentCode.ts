import { concatBytes } from '@ratsfach/kernel';
import { fromBase32, toBase32 } from '../codec/base32.js';
import { CryptoErrorCode, CryptoValidationError, TrustError } from '../errors.js';
import { constantTimeEqual } from '../hash.js';
import { fingerprintBytes } from '../keys/fingerprint.js';
import { randomBytes, sodium } from '../sodium.js';

/** Layout version of the code (first byte). */
const codeVersion = 1;
const codeIdLength = 10;
const secretLength = 20;
/** The first 20 bytes (160 bits) of the root's fingerprint: enough against second preimages. */
export const pinnedRootLength = 20;
const checkLength = 4;
const codeLength = 1 + codeIdLength + secretLength + pinnedRootLength + checkLength;

/** A one-time enrolment code, handed over in person (printed or as a QR code). */
export interface EnrolmentCode {
  /** Public id of the code: the only part the server ever sees. */
  readonly codeId: Uint8Array;
  /** One-time secret: the MAC key over the device's keys is derived from it. */
  readonly secret: Uint8Array;
  /** The pinned root: the first 20 bytes of the tenant root's fingerprint. */
  readonly rootPin: Uint8Array;
  /** Printable form: 22 groups of 4 base32 characters joined by `-`. */
  readonly text: string;
}

const checksum = (body: Uint8Array): Uint8Array =>
  sodium().crypto_generichash(16, body, null).subarray(0, checkLength);

const toText = (body: Uint8Array): string =>
  (toBase32(concatBytes(body, checksum(body))).match(/.{1,4}/g) ?? []).join('-');

/** Creates a fresh enrolment code for a tenant whose root public key is `rootKey`. */
export function createEnrolmentCode(rootKey: Uint8Array): EnrolmentCode {
  const codeId = randomBytes(codeIdLength);
  const secret = randomBytes(secretLength);
  const rootPin = fingerprintBytes(rootKey).slice(0, pinnedRootLength);
  const body = concatBytes(Uint8Array.of(codeVersion), codeId, secret, rootPin);
  return { codeId, secret, rootPin, text: toText(body) };
}

/**
 * Parses a typed or scanned code (case, spaces and dashes do not matter). Throws
 * CryptoValidationError `invalidArgument` on a typo (the 32-bit checksum catches it).
 */
export function parseEnrolmentCode(text: string): EnrolmentCode {
  const invalid = (why: string): CryptoValidationError =>
    new CryptoValidationError(CryptoErrorCode.invalidArgument, `enrolment code ${why}`, {
      hint: 'Type the code again exactly as printed, or scan its QR code.',
    });
  let all: Uint8Array;
  try {
    all = fromBase32(text.toUpperCase().replace(/[\s-]/g, ''));
  } catch {
    throw invalid('has characters that are not in the code alphabet');
  }
  if (all.length !== codeLength) throw invalid(`has ${all.length} bytes, expected ${codeLength}`);
  const body = all.subarray(0, codeLength - checkLength);
  if (!constantTimeEqual(checksum(body), all.subarray(codeLength - checkLength))) {
    throw invalid('has a typo (checksum mismatch)');
  }
  if (body[0] !== codeVersion) throw invalid(`version ${body[0]} is unknown`);
  return {
    codeId: body.slice(1, 1 + codeIdLength),
    secret: body.slice(1 + codeIdLength, 1 + codeIdLength + secretLength),
    rootPin: body.slice(1 + codeIdLength + secretLength),
    text: toText(body),
  };
}

/**
 * Throws TrustError `untrustedRoot` unless `rootKey` is the root pinned by the code. A device
 * learns its root only from the code, never from the server.
 */
export function requirePinnedRoot(rootPin: Uint8Array, rootKey: Uint8Array): void {
  if (!constantTimeEqual(fingerprintBytes(rootKey).subarray(0, pinnedRootLength), rootPin)) {
    throw new TrustError(
      CryptoErrorCode.untrustedRoot,
      'the tenant root is not the one pinned by the enrolment code',
      { hint: 'The server offered another root: do not use this server; tell the administration.' },
    );
  }
}
