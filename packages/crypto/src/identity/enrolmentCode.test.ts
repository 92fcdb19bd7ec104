import t from 'tap';
import { concatBytes } from '@ratsfach/kernel';
import { fromBase32, toBase32 } from '../codec/base32.js';
import { cryptoReady, sodium } from '../sodium.js';
import { generateSigningKeyPair } from '../keys/deviceKeys.js';
import { createEnrolmentCode, parseEnrolmentCode, requirePinnedRoot } from './enrolmentCode.js';
import { CryptoErrorCode, CryptoValidationError, TrustError } from '../errors.js';

t.before(async () => {
  await cryptoReady();
});

t.test('a printed code parses back, whatever the case, spaces and dashes', async (t) => {
  const root = generateSigningKeyPair();
  const code = createEnrolmentCode(root.publicKey);
  t.match(code.text, /^([A-Z2-7]{4}-){21}[A-Z2-7]{4}$/);
  const typed = code.text.toLowerCase().replace(/-/g, ' ');
  const parsed = parseEnrolmentCode(typed);
  t.same(parsed.codeId, code.codeId);
  t.same(parsed.secret, code.secret);
  t.same(parsed.rootPin, code.rootPin);
  t.equal(parsed.text, code.text);
  requirePinnedRoot(parsed.rootPin, root.publicKey);
});

t.test('a typo is caught by the checksum', async (t) => {
  const code = createEnrolmentCode(generateSigningKeyPair().publicKey);
  const chars = code.text.split('');
  const i = 7;
  chars[i] = chars[i] === 'A' ? 'B' : 'A';
  const err = t.throws(
    () => parseEnrolmentCode(chars.join('')),
    CryptoValidationError,
  ) as CryptoValidationError;
  t.equal(err.code, CryptoErrorCode.invalidArgument);
  t.throws(
    () => parseEnrolmentCode(code.text.slice(0, -5)),
    { constructor: CryptoValidationError, code: CryptoErrorCode.invalidArgument },
    'too short',
  );
  t.throws(
    () => parseEnrolmentCode('!!!!'),
    { constructor: CryptoValidationError, code: CryptoErrorCode.invalidArgument },
    'not base32',
  );
});

t.test('a code of an unknown version is refused even with a valid checksum', async (t) => {
  const code = createEnrolmentCode(generateSigningKeyPair().publicKey);
  const all = fromBase32(code.text.replace(/-/g, ''));
  const body = Uint8Array.from(all.subarray(0, all.length - 4));
  body[0] = (body[0] as number) + 1;
  // The checksum is the first 4 bytes of an unkeyed BLAKE2b-128 of the body.
  const check = sodium().crypto_generichash(16, body, null).subarray(0, 4);
  t.throws(() => parseEnrolmentCode(toBase32(concatBytes(body, check))), {
    constructor: CryptoValidationError,
    code: CryptoErrorCode.invalidArgument,
    message: /version \d+ is unknown/,
  });
});

t.test('a root other than the pinned one is refused', async (t) => {
  const code = createEnrolmentCode(generateSigningKeyPair().publicKey);
  const err = t.throws(
    () => requirePinnedRoot(code.rootPin, generateSigningKeyPair().publicKey),
    TrustError,
  ) as TrustError;
  t.equal(err.code, CryptoErrorCode.untrustedRoot);
});
