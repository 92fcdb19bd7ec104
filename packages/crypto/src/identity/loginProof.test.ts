import t from 'tap';
import { cryptoReady } from '../sodium.js';
import { generateSigningKeyPair } from '../keys/deviceKeys.js';
import { createLoginProof, verifyLoginProof } from './loginProof.js';
import { openRecord, signRecord, unchained } from '../records/signedRecord.js';
import { CryptoErrorCode, SignatureError, TrustError } from '../errors.js';

t.before(async () => {
  await cryptoReady();
});

const challenge = { tenantId: 'city', deviceId: 'a1', challenge: new Uint8Array(32).fill(3) };

t.test('a login proof verifies for its key, device and challenge only', async (t) => {
  const key = generateSigningKeyPair();
  const proof = createLoginProof(challenge, key);
  verifyLoginProof(proof, challenge, key.publicKey);
  t.throws(() => verifyLoginProof(proof, challenge, generateSigningKeyPair().publicKey), {
    code: CryptoErrorCode.untrustedKey,
  });
  t.throws(
    () => verifyLoginProof(proof, { ...challenge, challenge: new Uint8Array(32) }, key.publicKey),
    TrustError,
  );
  t.throws(
    () => verifyLoginProof(proof, { ...challenge, deviceId: 'a2' }, key.publicKey),
    TrustError,
  );
});

t.test('a login proof is never a record, and a record never a login proof', async (t) => {
  const key = generateSigningKeyPair();
  const proof = createLoginProof(challenge, key);
  t.throws(() => openRecord(proof, 'device-revocation'), { code: CryptoErrorCode.wrongPurpose });
  const record = signRecord(
    'user-created',
    unchained,
    { tenantId: 'city', userId: 'a1', tenantPosition: 1 },
    key,
  );
  t.throws(() => verifyLoginProof(record, challenge, key.publicKey), SignatureError);
});
