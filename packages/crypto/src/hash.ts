import { hashLength } from '@ratsfach/kernel';
import { sodium } from './sodium.js';

/**
 * BLAKE2b-512 of `data` (`crypto_generichash` with `hashLength` = 64 bytes, no key; Node's
 * `blake2b512` gives the same bytes).
 */
export const hash512 = (data: Uint8Array): Uint8Array =>
  sodium().crypto_generichash(hashLength, data, null);

/** An incremental BLAKE2b-512, for data that arrives in parts. */
export interface Hasher512 {
  update(data: Uint8Array): void;
  /** The hash; the hasher must not be used afterwards. */
  digest(): Uint8Array;
}

/** Starts an incremental BLAKE2b-512 whose digest equals `hash512` of the concatenated parts. */
export const createHash512 = (): Hasher512 => {
  const s = sodium();
  const state = s.crypto_generichash_init(null, hashLength);
  return {
    update: (data) => s.crypto_generichash_update(state, data),
    digest: () => s.crypto_generichash_final(state, hashLength),
  };
};

/**
 * Constant-time equality of two byte strings (false when lengths differ), for secrets and MACs;
 * the kernel's `bytesEqual` compares public values.
 */
export const constantTimeEqual = (a: Uint8Array, b: Uint8Array): boolean =>
  a.length === b.length && sodium().memcmp(a, b);
