import { CryptoErrorCode, CryptoValidationError } from './errors.js';

/**
 * The deterministic-randomness seam for known-answer vectors and tests. Internal: the public
 * entry point does not export it; tests reach it through `@ratsfach/crypto/testing`, which
 * resolves from TypeScript source only (the `ratsfach-source` condition), never from a build.
 */
interface Seam {
  readonly seed: Uint8Array;
  counter: number;
  /** URL of the module that armed the seam. */
  readonly armedBy: string;
}

let seam: Seam | undefined;

/**
 * Whether `url` is a module run from TypeScript source, as only the test runner, the benchmarks
 * and the vector scripts run this package (`ratsfach-source`). Built code is `.js`.
 */
const isTestSource = (url: string): boolean => /\.(c|m)?tsx?$/.test(url);

/**
 * Arms the seam under `seed` (32 bytes); `armedBy` is the URL of the arming module. Returns the
 * function that disarms it. Key and nonce generation refuse to draw from a seam not armed by
 * test source (`randomBytes` throws `deterministicRandomness`).
 */
export const armDeterministicRandomness = (seed: Uint8Array, armedBy: string): (() => void) => {
  if (seed.length !== 32) {
    throw new CryptoValidationError(CryptoErrorCode.invalidArgument, 'test seed must be 32 bytes');
  }
  const armed: Seam = { seed: Uint8Array.from(seed), counter: 0, armedBy };
  seam = armed;
  return () => {
    if (seam === armed) seam = undefined;
  };
};

/**
 * The seam's next draw, or undefined when it is not armed. Throws CryptoValidationError
 * `deterministicRandomness` when it was armed by anything but test source: keys and nonces
 * must never come from it in production.
 */
export const seamDraw = (
  draw: (counter: number, seed: Uint8Array) => Uint8Array,
): Uint8Array | undefined => {
  if (seam === undefined) return undefined;
  if (!isTestSource(seam.armedBy)) {
    throw new CryptoValidationError(
      CryptoErrorCode.deterministicRandomness,
      'deterministic test randomness is active outside a test: refusing to generate keys or nonces',
      {
        hint: 'Only tests and vector scripts may arm it, through @ratsfach/crypto/testing from source.',
        details: { armedBy: seam.armedBy },
      },
    );
  }
  return draw(seam.counter++, seam.seed);
};
