import { concatBytes } from '@ratsfach/kernel';
import type SumoModule from 'libsodium-wrappers-sumo';
import { ByteReader } from '../codec/byteReader.js';
import { ByteWriter } from '../codec/byteWriter.js';
import { CryptoErrorCode, CryptoValidationError, KeyStoreError, EncodingError } from '../errors.js';
import { randomBytes, sodium } from '../sodium.js';
import { currentSuite, requireSuite } from '../suite.js';
import type { DeviceKeys } from './deviceKeys.js';

/** How the key-store key is obtained. */
const Mode = { deviceSecret: 1, passphrase: 2 } as const;

/**
 * The pinned minimum Argon2id parameters (about OWASP's and libsodium's interactive level).
 * A stored blob naming less is refused before anything is derived: a downgrade from the server
 * or a changed file never gets a weaker retry.
 */
export const minimumArgon2id = { opslimit: 3, memlimitKiB: 64 * 1024 } as const;
/**
 * The pinned maximum: sealing refuses more and opening refuses a header naming more before
 * anything is derived, so a changed header cannot demand gigabytes or minutes before the AEAD
 * check fails.
 */
export const maximumArgon2id = { opslimit: 10, memlimitKiB: 256 * 1024 } as const;

export interface Argon2idParameters {
  readonly opslimit: number;
  readonly memlimitKiB: number;
}

const label = new TextEncoder().encode('ratsfach/v1/key-store');
const plaintextLength = 32 + 64 + 1216 + 32;
const saltLength = 16;
const nonceLength = 24;

const tampered = (cause?: unknown): KeyStoreError =>
  new KeyStoreError(CryptoErrorCode.keyStoreTampered, 'the stored private keys do not open', {
    hint: 'The key store was changed or the secret is wrong; do not retry with other parameters. Re-enrol the device.',
    ...(cause === undefined ? {} : { cause }),
  });

/** One allocation (no growing buffer left behind holding private keys), zeroed after sealing. */
const serialise = (keys: DeviceKeys): Uint8Array =>
  concatBytes(
    keys.signing.publicKey,
    keys.signing.privateKey,
    keys.kem.publicKey,
    keys.kem.privateKey,
  );

const deserialise = (plain: Uint8Array): DeviceKeys => {
  if (plain.length !== plaintextLength) throw tampered();
  const r = new ByteReader(plain, 'key store');
  return {
    signing: { publicKey: r.bytes(32), privateKey: r.bytes(64) },
    kem: { publicKey: r.bytes(1216), privateKey: r.bytes(32) },
  };
};

const seal = (header: Uint8Array, key: Uint8Array, keys: DeviceKeys): Uint8Array => {
  const s = sodium();
  const nonce = randomBytes(nonceLength);
  const ad = concatBytes(label, header);
  const plain = serialise(keys);
  try {
    const sealed = s.crypto_aead_xchacha20poly1305_ietf_encrypt(plain, ad, null, nonce, key);
    return concatBytes(header, nonce, sealed);
  } finally {
    s.memzero(plain);
    s.memzero(key);
  }
};

const open = (blob: Uint8Array, headerLength: number, key: Uint8Array): DeviceKeys => {
  const s = sodium();
  const header = blob.subarray(0, headerLength);
  const ad = concatBytes(label, header);
  let plain: Uint8Array | undefined;
  try {
    plain = s.crypto_aead_xchacha20poly1305_ietf_decrypt(
      null,
      blob.subarray(headerLength + nonceLength),
      ad,
      blob.subarray(headerLength, headerLength + nonceLength),
      key,
    );
    // deserialise copies the keys out; the plaintext and the derived key are zeroed here.
    return deserialise(plain);
  } catch (cause) {
    if (cause instanceof KeyStoreError) throw cause;
    throw tampered(cause);
  } finally {
    if (plain !== undefined) s.memzero(plain);
    s.memzero(key);
  }
};

const readHeader = (blob: Uint8Array, expectedMode: number): ByteReader => {
  if (blob.length < 2 + nonceLength + plaintextLength + 16) throw tampered();
  const r = new ByteReader(blob, 'key store');
  requireSuite(r.u8(), 'key store');
  const mode = r.u8();
  if (mode !== expectedMode) {
    throw new KeyStoreError(
      CryptoErrorCode.keyStoreTampered,
      `key store mode ${mode}, expected ${expectedMode}`,
      {
        hint: 'Open the key store the way it was sealed; a changed mode is never followed.',
      },
    );
  }
  return r;
};

/** The key-store key from a 32-byte device secret (platform keystore), in its own KDF context. */
const deviceSecretKey = (secret: Uint8Array): Uint8Array => {
  if (secret.length !== 32) {
    throw new CryptoValidationError(
      CryptoErrorCode.invalidArgument,
      'the device secret must be 32 bytes',
    );
  }
  return sodium().crypto_kdf_derive_from_key(32, 1, 'rfkeystr', secret);
};

/** Seals a device's private keys under a 32-byte device secret from the platform keystore. */
export function sealKeysWithDeviceSecret(keys: DeviceKeys, secret: Uint8Array): Uint8Array {
  return seal(Uint8Array.of(currentSuite, Mode.deviceSecret), deviceSecretKey(secret), keys);
}

/** Opens keys sealed with `sealKeysWithDeviceSecret`; any change is KeyStoreError `keyStoreTampered`. */
export function openKeysWithDeviceSecret(blob: Uint8Array, secret: Uint8Array): DeviceKeys {
  readHeader(blob, Mode.deviceSecret);
  return open(blob, 2, deviceSecretKey(secret));
}

type SumoSodium = typeof SumoModule;
let sumo: Promise<SumoSodium> | undefined;

/** The sumo build, loaded only where a passphrase is used (Argon2id is not in the small build). */
const loadSumo = (): Promise<SumoSodium> =>
  (sumo ??= import('libsodium-wrappers-sumo').then(async (m) => {
    await m.default.ready;
    return m.default;
  }));

const passphraseKey = async (
  passphrase: string,
  salt: Uint8Array,
  p: Argon2idParameters,
): Promise<Uint8Array> => {
  const s = await loadSumo();
  return s.crypto_pwhash(
    32,
    passphrase,
    salt,
    p.opslimit,
    p.memlimitKiB * 1024,
    s.crypto_pwhash_ALG_ARGON2ID13,
  );
};

const requireStrong = (p: Argon2idParameters): void => {
  if (p.opslimit < minimumArgon2id.opslimit || p.memlimitKiB < minimumArgon2id.memlimitKiB) {
    throw new KeyStoreError(
      CryptoErrorCode.weakKdfParameters,
      `Argon2id opslimit ${p.opslimit}, memlimit ${p.memlimitKiB} KiB is below the pinned minimum`,
      {
        hint: 'Weaker passphrase parameters are never accepted; restore the key store from the device.',
        details: { ...p, minimum: minimumArgon2id },
      },
    );
  }
  if (p.opslimit > maximumArgon2id.opslimit || p.memlimitKiB > maximumArgon2id.memlimitKiB) {
    throw new KeyStoreError(
      CryptoErrorCode.kdfParametersOutOfRange,
      `Argon2id opslimit ${p.opslimit}, memlimit ${p.memlimitKiB} KiB is above the pinned maximum`,
      {
        hint: 'The key store header was changed or written by another program; nothing was derived. Restore the key store from the device.',
        details: { ...p, maximum: maximumArgon2id },
      },
    );
  }
};

/**
 * Seals a device's private keys under a passphrase through Argon2id (sumo build). Parameters
 * outside [minimumArgon2id, maximumArgon2id] are refused (the same range opening accepts).
 */
export async function sealKeysWithPassphrase(
  keys: DeviceKeys,
  passphrase: string,
  parameters: Argon2idParameters = minimumArgon2id,
): Promise<Uint8Array> {
  requireStrong(parameters);
  const salt = randomBytes(saltLength);
  const w = new ByteWriter();
  w.u8(currentSuite);
  w.u8(Mode.passphrase);
  w.u32(parameters.opslimit);
  w.u32(parameters.memlimitKiB);
  w.bytes(salt);
  const header = w.finish();
  return seal(header, await passphraseKey(passphrase, salt, parameters), keys);
}

/**
 * Opens keys sealed with `sealKeysWithPassphrase`. Parameters below the pinned minimum are
 * refused before deriving (KeyStoreError `weakKdfParameters`); any other change, or a wrong
 * passphrase, is KeyStoreError `keyStoreTampered`.
 */
export async function openKeysWithPassphrase(
  blob: Uint8Array,
  passphrase: string,
): Promise<DeviceKeys> {
  let r: ByteReader;
  let parameters: Argon2idParameters;
  let salt: Uint8Array;
  try {
    r = readHeader(blob, Mode.passphrase);
    parameters = { opslimit: r.u32(), memlimitKiB: r.u32() };
    salt = r.bytes(saltLength);
  } catch (cause) {
    if (cause instanceof EncodingError) throw tampered(cause);
    throw cause;
  }
  requireStrong(parameters);
  return open(blob, r.position, await passphraseKey(passphrase, salt, parameters));
}
