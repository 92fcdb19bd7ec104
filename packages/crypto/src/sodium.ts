import sodiumModule from 'libsodium-wrappers';
import { CryptoErrorCode, CryptoValidationError } from './errors.js';

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
 * Deterministic randomness for known-answer vectors and tests only. When set, `randomBytes`
 * returns `randombytes_buf_deterministic` output under a seed derived from the test seed and a
 * call counter, so a run with the same calls yields the same bytes.
 */
let deterministic: { seed: Uint8Array; counter: number } | undefined;

/**
 * Every random byte this package uses comes from here: key seeds, nonces, epoch keys,
 * enrolment secrets, KEM encapsulation seeds.
 */
export const randomBytes = (length: number): Uint8Array => {
  const s = sodium();
  if (deterministic === undefined) return s.randombytes_buf(length);
  const counter = new Uint8Array(8);
  new DataView(counter.buffer).setBigUint64(0, BigInt(deterministic.counter++));
  const callSeed = s.crypto_generichash(32, counter, deterministic.seed);
  return s.randombytes_buf_deterministic(length, callSeed);
};

/**
 * TEST-ONLY SEAM. Makes `randomBytes` deterministic under `seed` (32 bytes) until the returned
 * function is called. Never call this outside tests and vector generation: it destroys secrecy.
 */
export const useDeterministicRandomnessForTests = (seed: Uint8Array): (() => void) => {
  if (seed.length !== 32) {
    throw new CryptoValidationError(CryptoErrorCode.invalidArgument, 'test seed must be 32 bytes');
  }
  deterministic = { seed: Uint8Array.from(seed), counter: 0 };
  return () => {
    deterministic = undefined;
  };
};

/** Whether the test-only deterministic randomness is active (for callers that must refuse it). */
export const isDeterministicRandomness = (): boolean => deterministic !== undefined;
