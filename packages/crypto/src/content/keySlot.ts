import { epochKeyLength } from '../committee/epochKeyWrap.js';
import { CryptoErrorCode, CryptoValidationError } from '../errors.js';
import { constantTimeEqual, hash512 } from '../hash.js';
import { randomBytes, sodium } from '../sodium.js';
import { currentSuite, requireSuite } from '../suite.js';
import { encodeBinding, type KeySlotBinding } from './binding.js';
import { KeySlotError } from './contentErrors.js';
import { BindingLabel, ObjectKind } from './contentFormat.js';
import { contentKeyLength } from './contentKey.js';

const nonceLength = 24;
const macLength = 16;

/** Size of a key slot: suite, kind, 24-byte nonce, wrapped 32-byte key, 16-byte MAC. */
export const keySlotSize = 2 + nonceLength + contentKeyLength + macLength;

const checkKey = (what: string, key: Uint8Array, length: number): void => {
  if (!(key instanceof Uint8Array) || key.length !== length) {
    throw new CryptoValidationError(
      CryptoErrorCode.invalidArgument,
      `${what} must be ${length} bytes`,
      {
        hint: `Pass the ${what} as a Uint8Array of ${length} bytes.`,
      },
    );
  }
};

/**
 * The key-slot key: a subkey of the epoch key in its own KDF context (docs/security.md 4), so the
 * epoch key itself encrypts nothing but never-used-elsewhere derivations.
 */
const keySlotKey = (epochKey: Uint8Array): Uint8Array =>
  sodium().crypto_kdf_derive_from_key(32, 1, 'rfkeyslt', epochKey);

/**
 * Wraps a version's content key under the committee's epoch key: XChaCha20-Poly1305 with a
 * fresh random nonce, associated data binding tenant, committee, document, version and epoch.
 * The key slot is stored in the blob store (deleting it crypto-shreds the version); its
 * keySlotHash goes into the signed version record.
 */
export const sealKeySlot = (params: {
  readonly epochKey: Uint8Array;
  readonly contentKey: Uint8Array;
  readonly binding: KeySlotBinding;
}): Uint8Array => {
  checkKey('epoch key', params.epochKey, epochKeyLength);
  checkKey('content key', params.contentKey, contentKeyLength);
  const ad = encodeBinding(
    BindingLabel.keySlot,
    currentSuite,
    params.binding,
    params.binding.committeeId,
  );
  const nonce = randomBytes(nonceLength);
  const key = keySlotKey(params.epochKey);
  const sealed = sodium().crypto_aead_xchacha20poly1305_ietf_encrypt(
    params.contentKey,
    ad,
    null,
    nonce,
    key,
  );
  sodium().memzero(key);
  const slot = new Uint8Array(keySlotSize);
  slot[0] = currentSuite;
  slot[1] = ObjectKind.keySlot;
  slot.set(nonce, 2);
  slot.set(sealed, 2 + nonceLength);
  return slot;
};

/** BLAKE2b-512 of the key slot's exact bytes: what the version record signs. */
export const keySlotHash = (slot: Uint8Array): Uint8Array => hash512(slot);

/** Refuses a key slot whose hash differs from the one a verified version record names. */
export const checkKeySlotHash = (slot: Uint8Array, expectedHash: Uint8Array): void => {
  if (!constantTimeEqual(keySlotHash(slot), expectedHash)) {
    throw new KeySlotError(
      CryptoErrorCode.hashMismatch,
      'key slot differs from the one the signed version record names',
    );
  }
};

/**
 * Opens a key slot: returns the content key, or throws UnknownSuiteError, KeySlotError
 * `malformed` (wrong size or kind) or `decryptionFailed` (changed bytes, another epoch key, or
 * a slot of another tenant, committee, document, version or epoch).
 */
export const openKeySlot = (
  slot: Uint8Array,
  params: { readonly epochKey: Uint8Array; readonly binding: KeySlotBinding },
): Uint8Array => {
  checkKey('epoch key', params.epochKey, epochKeyLength);
  if (slot.length === 0) {
    throw new KeySlotError(CryptoErrorCode.malformed, 'key slot is empty');
  }
  const suite = requireSuite(slot[0] as number, 'key slot');
  if (slot.length !== keySlotSize || slot[1] !== ObjectKind.keySlot) {
    throw new KeySlotError(CryptoErrorCode.malformed, 'bytes are not a key slot', {
      details: { length: slot.length, kind: slot[1] },
    });
  }
  const ad = encodeBinding(BindingLabel.keySlot, suite, params.binding, params.binding.committeeId);
  const key = keySlotKey(params.epochKey);
  try {
    return sodium().crypto_aead_xchacha20poly1305_ietf_decrypt(
      null,
      slot.subarray(2 + nonceLength),
      ad,
      slot.subarray(2, 2 + nonceLength),
      key,
    );
  } catch (cause) {
    throw new KeySlotError(
      CryptoErrorCode.decryptionFailed,
      'key slot does not open under this epoch key and these ids',
      { cause },
    );
  } finally {
    sodium().memzero(key);
  }
};
