import t from 'tap';
import { fromBase32, toBase32 } from './base32.js';
import { CryptoValidationError } from '../errors.js';

t.test('base32 matches the RFC 4648 test vectors without padding', async (t) => {
  const vectors: [string, string][] = [
    ['', ''],
    ['f', 'MY'],
    ['fo', 'MZXQ'],
    ['foo', 'MZXW6'],
    ['foob', 'MZXW6YQ'],
    ['fooba', 'MZXW6YTB'],
    ['foobar', 'MZXW6YTBOI'],
  ];
  for (const [plain, encoded] of vectors) {
    t.equal(toBase32(new TextEncoder().encode(plain)), encoded);
    t.equal(new TextDecoder().decode(fromBase32(encoded)), plain);
  }
});

t.test('base32 decoding refuses other characters and stray bits', async (t) => {
  t.throws(() => fromBase32('MZ1'), CryptoValidationError);
  t.throws(() => fromBase32('MZ'), CryptoValidationError, 'non-zero pad bits');
  t.throws(() => fromBase32('M'), CryptoValidationError, 'a lone character');
});
