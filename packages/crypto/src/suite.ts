import { UnknownSuiteError } from './errors.js';

/**
 * Suite ids: the first byte of every signed record and encrypted object. A suite fixes every
 * algorithm and encoding rule, so a later suite (say a BSI TR-02102 profile with AES-256-GCM)
 * can be added without touching data written under an older one.
 */
export const Suite = {
  /**
   * ratsfach v1: Ed25519 signatures, X-Wing (X25519 + ML-KEM-768) key encapsulation,
   * BLAKE2b-512 hashes and keyed BLAKE2b KDFs, XChaCha20-Poly1305 AEAD,
   * crypto_secretstream_xchacha20poly1305 for content, Argon2id for passphrases.
   */
  v1: 1,
} as const;
export type Suite = (typeof Suite)[keyof typeof Suite];

/** The suite new objects are written under. */
export const currentSuite: Suite = Suite.v1;

const known: ReadonlySet<number> = new Set(Object.values(Suite));

/** Whether this build can read objects of `suite`. */
export const isKnownSuite = (suite: number): suite is Suite => known.has(suite);

/**
 * Returns `suite` if this build knows it, else throws UnknownSuiteError naming `what` (for
 * example "version record" or "key slot").
 */
export const requireSuite = (suite: number, what: string): Suite => {
  if (!isKnownSuite(suite)) throw new UnknownSuiteError(suite, what);
  return suite;
};
