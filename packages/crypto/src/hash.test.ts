import t from 'tap';
import { createHash512, hash512, constantTimeEqual } from './hash.js';
import { cryptoReady, randomBytes, sodium } from './sodium.js';
import { CryptoValidationError, CryptoErrorCode, UnknownSuiteError } from './errors.js';
import { requireSuite, Suite } from './suite.js';
import { useDeterministicRandomnessForTests } from './testing.js';

t.test('hash512 gives BLAKE2b-512 of the empty string', async (t) => {
  await cryptoReady();
  t.equal(
    sodium().to_hex(hash512(new Uint8Array())),
    '786a02f742015903c6c6fd852552d272912f4740e15847618a86e217f71f5419d25e1031afee585313896444934eb04b903a685b1448b755d56f701afe9be2ce',
  );
});

t.test('an incremental hash equals the hash of the concatenation', async (t) => {
  await cryptoReady();
  const h = createHash512();
  h.update(new TextEncoder().encode('rats'));
  h.update(new TextEncoder().encode('fach'));
  t.ok(constantTimeEqual(h.digest(), hash512(new TextEncoder().encode('ratsfach'))));
});

t.test('deterministic randomness repeats under one seed and stops when restored', async (t) => {
  await cryptoReady();
  const seed = new Uint8Array(32).fill(7);
  let restore = useDeterministicRandomnessForTests(seed);
  const a = [randomBytes(16), randomBytes(16)];
  restore();
  restore = useDeterministicRandomnessForTests(seed);
  const b = [randomBytes(16), randomBytes(16)];
  restore();
  t.same(a, b);
  t.notSame(a[0], a[1]);
  t.notSame(randomBytes(16), a[0]);
  t.throws(() => useDeterministicRandomnessForTests(new Uint8Array(3)), {
    code: CryptoErrorCode.invalidArgument,
  });
  t.ok(CryptoValidationError);
});

t.test('requireSuite refuses an unknown suite with UnknownSuiteError', async (t) => {
  t.equal(requireSuite(1, 'record'), Suite.v1);
  t.throws(() => requireSuite(9, 'key slot'), UnknownSuiteError);
  t.throws(() => requireSuite(9, 'key slot'), { code: 'RATSFACH_CRYPTO_UNKNOWN_SUITE' });
});
