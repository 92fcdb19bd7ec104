import {
  ConflictError,
  IntegrityError,
  type RatsfachErrorOptions,
  ValidationError,
} from '@ratsfach/kernel';

/**
 * Stable codes of every error `@ratsfach/crypto` throws. Tests and services match on these,
 * never on message text.
 */
export const CryptoErrorCode = {
  /** A function ran before `cryptoReady()` resolved. */
  notReady: 'RATSFACH_CRYPTO_NOT_READY',
  /** Test-only deterministic randomness is active outside a test: no key or nonce is made. */
  deterministicRandomness: 'RATSFACH_CRYPTO_DETERMINISTIC_RANDOMNESS',
  /** A caller passed an argument of the wrong shape or length. */
  invalidArgument: 'RATSFACH_CRYPTO_INVALID_ARGUMENT',
  /** An object or record names a suite this build does not know. */
  unknownSuite: 'RATSFACH_CRYPTO_UNKNOWN_SUITE',
  /** Bytes end early, overrun, or have a field of the wrong type or length. */
  malformed: 'RATSFACH_CRYPTO_MALFORMED',
  /** Bytes decode, but are not the one canonical encoding of their meaning. */
  nonCanonical: 'RATSFACH_CRYPTO_NON_CANONICAL',
  /** A signed object carries a purpose label other than the one expected. */
  wrongPurpose: 'RATSFACH_CRYPTO_WRONG_PURPOSE',
  /** An Ed25519 signature does not verify over the exact stored bytes. */
  badSignature: 'RATSFACH_CRYPTO_BAD_SIGNATURE',
  /** A root other than the one pinned from the enrolment code. */
  untrustedRoot: 'RATSFACH_CRYPTO_UNTRUSTED_ROOT',
  /** A key that no trusted certificate chain vouches for. */
  untrustedKey: 'RATSFACH_CRYPTO_UNTRUSTED_KEY',
  /** A certificate outside its validity at the chain position the record names. */
  certificateNotValid: 'RATSFACH_CRYPTO_CERTIFICATE_NOT_VALID',
  /** An X-Wing public key no encapsulation accepts (it can never receive a wrapped key). */
  unusableKey: 'RATSFACH_CRYPTO_UNUSABLE_KEY',
  /** A revoked device signed, or was offered as a recipient. */
  revoked: 'RATSFACH_CRYPTO_REVOKED',
  /** A certified device signed something its role does not allow. */
  unauthorisedSigner: 'RATSFACH_CRYPTO_UNAUTHORISED_SIGNER',
  /** A key record signed by a staff device that no confirmation reaches (an admin's own device). */
  signerNotConfirmed: 'RATSFACH_CRYPTO_SIGNER_NOT_CONFIRMED',
  /** A membership addition that no staff device co-signed. */
  missingCosignature: 'RATSFACH_CRYPTO_MISSING_COSIGNATURE',
  /** The enrolment MAC does not verify: keys or user were swapped in transit. */
  enrolmentMac: 'RATSFACH_CRYPTO_ENROLMENT_MAC',
  /** A record's sequence or previous-record hash does not continue its chain. */
  chainBroken: 'RATSFACH_CRYPTO_CHAIN_BROKEN',
  /** A head older than the one the device already saw (rollback or truncation). */
  rollback: 'RATSFACH_CRYPTO_ROLLBACK',
  /** Two heads of one chain that do not extend each other. */
  fork: 'RATSFACH_CRYPTO_FORK',
  /** The newest admin heartbeat is older than the staleness bound. */
  staleCommitteeState: 'RATSFACH_CRYPTO_STALE_COMMITTEE_STATE',
  /** A key holder was removed or a key-holding device revoked: start a new epoch before writing. */
  epochDue: 'RATSFACH_CRYPTO_EPOCH_DUE',
  /** A key list that is empty or missing. */
  emptyKeyList: 'RATSFACH_CRYPTO_EMPTY_KEY_LIST',
  /** No wrapped key for this device in the key list. */
  noWrappedKey: 'RATSFACH_CRYPTO_NO_WRAPPED_KEY',
  /** Authenticated decryption failed (wrong key, changed bytes or associated data). */
  decryptionFailed: 'RATSFACH_CRYPTO_DECRYPTION_FAILED',
  /** The stored private keys were changed. */
  keyStoreTampered: 'RATSFACH_CRYPTO_KEY_STORE_TAMPERED',
  /** Argon2id parameters below the pinned minimum. */
  weakKdfParameters: 'RATSFACH_CRYPTO_WEAK_KDF_PARAMETERS',
  /** Argon2id parameters above the pinned maximum (a header demanding gigabytes or hours). */
  kdfParametersOutOfRange: 'RATSFACH_CRYPTO_KDF_PARAMETERS_OUT_OF_RANGE',
  /** Bytes whose hash differs from the one a signed record names. */
  hashMismatch: 'RATSFACH_CRYPTO_HASH_MISMATCH',
  /** A size differs from the one a signed record names. */
  sizeMismatch: 'RATSFACH_CRYPTO_SIZE_MISMATCH',
  /** An encrypted stream ends without its final chunk. */
  streamTruncated: 'RATSFACH_CRYPTO_STREAM_TRUNCATED',
  /** Bytes follow the final chunk of an encrypted stream. */
  streamTrailingData: 'RATSFACH_CRYPTO_STREAM_TRAILING_DATA',
  /** A chunk of an encrypted stream fails authentication (changed, reordered, foreign). */
  streamCorrupt: 'RATSFACH_CRYPTO_STREAM_CORRUPT',
} as const;
export type CryptoErrorCode = (typeof CryptoErrorCode)[keyof typeof CryptoErrorCode];

/** A caller mistake (wrong argument, not ready): fix the call. */
export class CryptoValidationError extends ValidationError {
  constructor(code: CryptoErrorCode, message: string, options: RatsfachErrorOptions = {}) {
    super(code, message, options);
  }
}

/**
 * Bytes that fail a cryptographic check. Base of the more specific classes below; never
 * retried, never answered with partial plaintext.
 */
export class CryptoIntegrityError extends IntegrityError {
  constructor(code: CryptoErrorCode, message: string, options: RatsfachErrorOptions = {}) {
    super(code, message, options);
  }
}

/** An object or record names a suite this build does not know. */
export class UnknownSuiteError extends CryptoIntegrityError {
  constructor(suite: number, what: string) {
    super(CryptoErrorCode.unknownSuite, `${what} uses unknown suite ${suite}`, {
      hint: 'Update ratsfach on this device; if it is current, the object is corrupt.',
      details: { suite, what },
    });
  }
}

/** Malformed or non-canonical bytes (codes `malformed`, `nonCanonical`). */
export class EncodingError extends CryptoIntegrityError {}

/** A signature that does not verify, or carries the wrong purpose label. */
export class SignatureError extends CryptoIntegrityError {}

/**
 * A key, certificate or signer that the pinned root does not vouch for at the record's chain
 * position (codes `untrustedRoot`, `untrustedKey`, `certificateNotValid`, `revoked`,
 * `unauthorisedSigner`, `signerNotConfirmed`, `missingCosignature`, `enrolmentMac`).
 */
export class TrustError extends CryptoIntegrityError {}

/** A record that does not continue its chain, or an older head (codes `chainBroken`, `rollback`). */
export class ChainError extends CryptoIntegrityError {}

/** Two heads of one chain that do not extend each other: the server shows different histories. */
export class ForkError extends CryptoIntegrityError {
  constructor(message: string, options: RatsfachErrorOptions = {}) {
    super(CryptoErrorCode.fork, message, {
      hint: 'Stop syncing this chain and compare heads codes with the other device out of band.',
      ...options,
    });
  }
}

/** An empty or missing key list, or no key for this device (codes `emptyKeyList`, `noWrappedKey`). */
export class KeyListError extends CryptoIntegrityError {}

/** Authenticated decryption failed, or a hash or size differs from the signed one. */
export class DecryptionError extends CryptoIntegrityError {}

/** Stored private keys were changed, or weaker KDF parameters were offered. */
export class KeyStoreError extends CryptoIntegrityError {}

/** The newest admin heartbeat is older than the staleness bound: refuse to wrap or write. */
export class StaleCommitteeStateError extends ConflictError {
  constructor(message: string, options: RatsfachErrorOptions = {}) {
    super(CryptoErrorCode.staleCommitteeState, message, {
      hint: 'Sync the tenant and committee chains; the administration must keep `ratsfach admin agent` running (or sign one with `ratsfach admin heartbeat`).',
      ...options,
    });
  }
}

/** A removal or revocation since the current epoch: a new epoch must start before anyone writes. */
export class EpochDueError extends ConflictError {
  constructor(message: string, options: RatsfachErrorOptions = {}) {
    super(CryptoErrorCode.epochDue, message, {
      hint: 'Start a new key epoch (startEpoch), then write under it.',
      ...options,
    });
  }
}
