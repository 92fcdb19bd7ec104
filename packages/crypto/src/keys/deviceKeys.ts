import { randomBytes, sodium } from '../sodium.js';

/** An Ed25519 key pair: signs only, never converted to X25519. */
export interface SigningKeyPair {
  readonly publicKey: Uint8Array;
  /** 64 bytes (seed and public key), as libsodium keeps it. */
  readonly privateKey: Uint8Array;
}

/** An X-Wing (X25519 + ML-KEM-768) key pair: receives wrapped keys only. */
export interface KemKeyPair {
  readonly publicKey: Uint8Array;
  readonly privateKey: Uint8Array;
}

/** A device's two key pairs. */
export interface DeviceKeys {
  readonly signing: SigningKeyPair;
  readonly kem: KemKeyPair;
}

/** A fresh Ed25519 key pair from 32 random bytes (the test seam can fix them). */
export const generateSigningKeyPair = (): SigningKeyPair => {
  const { publicKey, privateKey } = sodium().crypto_sign_seed_keypair(randomBytes(32));
  return { publicKey, privateKey };
};

/** A fresh X-Wing key pair from a random 32-byte seed. */
export const generateKemKeyPair = (): KemKeyPair => {
  const s = sodium();
  const { publicKey, privateKey } = s.crypto_kem_xwing_seed_keypair(
    randomBytes(s.crypto_kem_xwing_SEEDBYTES),
  );
  return { publicKey, privateKey };
};

/** Fresh device keys: an Ed25519 pair for signing and an X-Wing pair for receiving keys. */
export const generateDeviceKeys = (): DeviceKeys => ({
  signing: generateSigningKeyPair(),
  kem: generateKemKeyPair(),
});
