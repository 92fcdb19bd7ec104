import sodiumModule from 'libsodium-wrappers';
import { CryptoErrorCode, CryptoValidationError } from './errors.js';
import { seamDraw } from './randomSeam.js';

/** The libsodium-wrappers API, after `ready`. */
export type Sodium = typeof sodiumModule;

let loaded = false;

/**
 * Loads libsodium (WebAssembly). Await once before calling anything else of this package; every
 * other function is synchronous afterwards, so deciders and verifiers can call them.
 */
export const cryptoReady = async (): Promise<Sodium> => {
  await sodiumModule.ready;
  loaded = true;
  return sodiumModule;
};

/** The ready libsodium; throws if `cryptoReady()` has not resolved yet. */
export const sodium = (): Sodium => {
  if (!loaded) {
    throw new CryptoValidationError(CryptoErrorCode.notReady, 'libsodium is not loaded yet', {
      hint: 'Await cryptoReady() once before using @ratsfach/crypto.',
    });
  }
  return sodiumModule;
};

/**
 * Every random byte this package uses comes from here: key seeds, nonces, epoch keys,
 * enrolment secrets, KEM encapsulation seeds. Under the test-only seam (`@ratsfach/crypto/testing`)
 * the bytes are deterministic; armed by anything but test source, this throws
 * `deterministicRandomness` rather than hand out predictable keys.
 */
export const randomBytes = (length: number): Uint8Array => {
  const s = sodium();
  const fixed = seamDraw((index, seed) => {
    const counter = new Uint8Array(8);
    new DataView(counter.buffer).setBigUint64(0, BigInt(index));
    return s.randombytes_buf_deterministic(length, s.crypto_generichash(32, counter, seed));
  });
  return fixed ?? s.randombytes_buf(length);
};
