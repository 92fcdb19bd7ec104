import { concatBytes, type WrappedKey } from '@ratsfach/kernel';
import { ByteWriter } from '../codec/byteWriter.js';
import { CryptoErrorCode, DecryptionError, TrustError } from '../errors.js';
import { constantTimeEqual } from '../hash.js';
import type { KemKeyPair } from '../keys/deviceKeys.js';
import { randomBytes, sodium } from '../sodium.js';
import { currentSuite } from '../suite.js';

/** An epoch key is 32 random bytes (an XChaCha20-Poly1305 key). */
export const epochKeyLength = 32;

/** Which epoch of which committee a key belongs to: bound into every wrap and commitment. */
export interface EpochRef {
  readonly tenantId: string;
  readonly committeeId: string;
  readonly epoch: number;
}

const utf8 = new TextEncoder();
const kemSeedLength = 64;

/** label || suite || tenant || committee || epoch [|| extra]: associated data and KDF input. */
const context = (label: string, ref: EpochRef, extra?: Uint8Array): Uint8Array => {
  const w = new ByteWriter();
  const l = utf8.encode(label);
  w.u8(l.length);
  w.bytes(l);
  w.u8(currentSuite);
  const tenant = utf8.encode(ref.tenantId);
  w.u8(tenant.length);
  w.bytes(tenant);
  const committee = utf8.encode(ref.committeeId);
  w.u8(committee.length);
  w.bytes(committee);
  w.u32(ref.epoch);
  if (extra !== undefined) w.bytes(extra);
  return w.finish();
};

/** A fresh epoch key. */
export const generateEpochKey = (): Uint8Array => randomBytes(epochKeyLength);

/**
 * A commitment to the epoch key, carried in the key-epoch record, so every recipient knows it
 * opened the same key as every other (AEAD alone does not commit to its key).
 */
export const epochKeyCommitment = (ref: EpochRef, epochKey: Uint8Array): Uint8Array =>
  sodium().crypto_generichash(64, context('ratsfach/v1/epoch-key-commitment', ref), epochKey);

/** The wrap key: BLAKE2b-256 keyed with the X-Wing shared secret over label, KEM ciphertext and recipient key. */
const wrapKey = (
  sharedSecret: Uint8Array,
  kemCiphertext: Uint8Array,
  kemKey: Uint8Array,
): Uint8Array => {
  const label = utf8.encode('ratsfach/v1/epoch-key-wrap-kdf');
  return sodium().crypto_generichash(32, concatBytes(label, kemCiphertext, kemKey), sharedSecret);
};

const recipientAd = (ref: EpochRef, recipient: string): Uint8Array =>
  context('ratsfach/v1/epoch-key-wrap', ref, sodium().from_hex(recipient));

const unusable = (cause?: unknown): TrustError =>
  new TrustError(CryptoErrorCode.unusableKey, 'the X-Wing public key does not encapsulate', {
    hint: 'The device must enrol again with freshly generated keys.',
    ...(cause === undefined ? {} : { cause }),
  });

/**
 * Whether `kemKey` is an X-Wing public key an encapsulation accepts (a trial encapsulation under
 * a fixed seed; its output is discarded). Checked at enrolment, at certification and when the
 * trust view folds a certificate, so one unusable key never aborts an epoch for everyone.
 */
export function isUsableKemKey(kemKey: Uint8Array): boolean {
  try {
    const { sharedSecret } = sodium().crypto_kem_xwing_enc_deterministic(
      kemKey,
      new Uint8Array(kemSeedLength),
    );
    sodium().memzero(sharedSecret);
    return true;
  } catch {
    return false;
  }
}

/** Throws TrustError `unusableKey` unless `kemKey` passes `isUsableKemKey`. */
export function requireUsableKemKey(kemKey: Uint8Array): void {
  if (!isUsableKemKey(kemKey)) throw unusable();
}

/** The device an epoch key is wrapped for. */
export interface WrapRecipient {
  /** Fingerprint of the device's signing key (hex). */
  readonly fingerprint: string;
  /** Its X-Wing public key. */
  readonly kemKey: Uint8Array;
}

/**
 * Wraps `epochKey` for one device: X-Wing encapsulation to its key, a KDF with a purpose label
 * over shared secret, KEM ciphertext and recipient key, then XChaCha20-Poly1305 with committee,
 * epoch and recipient fingerprint as associated data.
 */
export function wrapEpochKey(
  ref: EpochRef,
  epochKey: Uint8Array,
  recipient: WrapRecipient,
): WrappedKey {
  const s = sodium();
  let encapsulated: { ciphertext: Uint8Array; sharedSecret: Uint8Array };
  try {
    encapsulated = s.crypto_kem_xwing_enc_deterministic(
      recipient.kemKey,
      randomBytes(kemSeedLength),
    );
  } catch (cause) {
    // libsodium says only "invalid usage"; the caller learns which recipient is unusable.
    throw unusable(cause);
  }
  const { ciphertext, sharedSecret } = encapsulated;
  const key = wrapKey(sharedSecret, ciphertext, recipient.kemKey);
  const nonce = randomBytes(s.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
  const sealedKey = s.crypto_aead_xchacha20poly1305_ietf_encrypt(
    epochKey,
    recipientAd(ref, recipient.fingerprint),
    null,
    nonce,
    key,
  );
  s.memzero(sharedSecret);
  s.memzero(key);
  return { recipient: recipient.fingerprint, kemCiphertext: ciphertext, nonce, sealedKey };
}

const failed = (what: string, cause?: unknown): DecryptionError =>
  new DecryptionError(CryptoErrorCode.decryptionFailed, `${what} does not open`, {
    hint: 'The wrapped key is not for this device, or was changed; it is refused.',
    ...(cause === undefined ? {} : { cause }),
  });

/**
 * Opens a key wrapped for this device (`fingerprint` and `kem` are this device's). Throws
 * DecryptionError if it was wrapped for another device, epoch or committee, or changed.
 */
export function unwrapEpochKey(
  ref: EpochRef,
  wrapped: WrappedKey,
  self: { readonly fingerprint: string; readonly kem: KemKeyPair },
): Uint8Array {
  const s = sodium();
  if (wrapped.recipient !== self.fingerprint) throw failed('a key wrapped for another device');
  let sharedSecret: Uint8Array | undefined;
  let key: Uint8Array | undefined;
  try {
    sharedSecret = s.crypto_kem_xwing_dec(wrapped.kemCiphertext, self.kem.privateKey);
    key = wrapKey(sharedSecret, wrapped.kemCiphertext, self.kem.publicKey);
    return s.crypto_aead_xchacha20poly1305_ietf_decrypt(
      null,
      wrapped.sealedKey,
      recipientAd(ref, self.fingerprint),
      wrapped.nonce,
      key,
    );
  } catch (cause) {
    throw failed('the wrapped epoch key', cause);
  } finally {
    if (sharedSecret !== undefined) s.memzero(sharedSecret);
    if (key !== undefined) s.memzero(key);
  }
}

/** The key that seals the previous epoch's key: its own KDF context under the new epoch key. */
const previousKeySealingKey = (ref: EpochRef, epochKey: Uint8Array): Uint8Array =>
  sodium().crypto_kdf_derive_from_key(32, ref.epoch, 'rfprevep', epochKey);

/** Seals the previous epoch's key under the new one, so one wrapped key opens the whole history. */
export function sealPreviousEpochKey(
  ref: EpochRef,
  epochKey: Uint8Array,
  previousKey: Uint8Array,
): { nonce: Uint8Array; sealedKey: Uint8Array } {
  const s = sodium();
  const nonce = randomBytes(s.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
  const key = previousKeySealingKey(ref, epochKey);
  const sealedKey = s.crypto_aead_xchacha20poly1305_ietf_encrypt(
    previousKey,
    context('ratsfach/v1/previous-epoch-key', ref),
    null,
    nonce,
    key,
  );
  s.memzero(key);
  return { nonce, sealedKey };
}

/** Opens the previous epoch's key sealed in epoch `ref.epoch`'s record. */
export function openPreviousEpochKey(
  ref: EpochRef,
  epochKey: Uint8Array,
  sealed: { readonly nonce: Uint8Array; readonly sealedKey: Uint8Array },
): Uint8Array {
  const key = previousKeySealingKey(ref, epochKey);
  try {
    return sodium().crypto_aead_xchacha20poly1305_ietf_decrypt(
      null,
      sealed.sealedKey,
      context('ratsfach/v1/previous-epoch-key', ref),
      sealed.nonce,
      key,
    );
  } catch (cause) {
    throw failed('the previous epoch key', cause);
  } finally {
    sodium().memzero(key);
  }
}

/** Throws DecryptionError unless `epochKey` matches the commitment in its record. */
export function requireEpochKeyCommitment(
  ref: EpochRef,
  epochKey: Uint8Array,
  commitment: Uint8Array,
): void {
  if (!constantTimeEqual(epochKeyCommitment(ref, epochKey), commitment)) {
    throw new DecryptionError(
      CryptoErrorCode.hashMismatch,
      `the key of epoch ${ref.epoch} does not match its commitment`,
      { hint: 'The staff device wrapped different keys for different devices; report it.' },
    );
  }
}
