/**
 * `@ratsfach/crypto/testing`: test-only helpers. The package exports this entry point under the
 * `ratsfach-source` condition only, so built code (an app, the service) cannot import it.
 */
import { armDeterministicRandomness } from './randomSeam.js';

/**
 * TEST-ONLY SEAM. Makes `randomBytes` deterministic under `seed` (32 bytes) until the returned
 * function is called: `randombytes_buf_deterministic` under a seed derived from `seed` and a
 * call counter, so a run with the same calls yields the same bytes. It destroys secrecy; key and
 * nonce generation refuse it unless this module runs from source (a test, a bench, a vector
 * script).
 */
export const useDeterministicRandomnessForTests = (seed: Uint8Array): (() => void) =>
  armDeterministicRandomness(seed, import.meta.url);
