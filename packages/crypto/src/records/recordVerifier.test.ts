import t from 'tap';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { recordLabel, RecordPurpose } from '@ratsfach/kernel';
import { cryptoReady } from '../sodium.js';
import { generateSigningKeyPair } from '../keys/deviceKeys.js';
import { fingerprint } from '../keys/fingerprint.js';
import { signRecord, unchained } from './signedRecord.js';
import { createRecordVerifier } from './recordVerifier.js';
import { CryptoErrorCode, SignatureError, EncodingError } from '../errors.js';
import { hash512 } from '../hash.js';

t.before(async () => {
  await cryptoReady();
});

t.test(
  'the verifier returns label, signer, chain link, hash and fields of a good record',
  async (t) => {
    const key = generateSigningKeyPair();
    const previousHash = new Uint8Array(64).fill(4);
    const bytes = signRecord(
      'committee-created',
      { sequence: 0, previousHash },
      { tenantId: 'city', committeeId: 'finance', tenantPosition: 5 },
      key,
    );
    const v = createRecordVerifier().verify(bytes, recordLabel(RecordPurpose.committeeCreated));
    t.equal(v.label, 'ratsfach/v1/committee-created');
    t.equal(v.signerFingerprint, fingerprint(key.publicKey));
    t.equal(v.sequence, 0);
    t.same(v.previousHash, previousHash);
    t.same(v.hash, hash512(bytes));
    t.same(v.fields, { tenantId: 'city', committeeId: 'finance', tenantPosition: 5 });
  },
);

t.test(
  'the verifier refuses another label, an unknown label, a bad signature, short bytes',
  async (t) => {
    const key = generateSigningKeyPair();
    const verifier = createRecordVerifier();
    const proof = signRecord(
      'login-proof',
      unchained,
      { tenantId: 'city', deviceId: 'd', challenge: new Uint8Array(32) },
      key,
    );
    t.throws(() => verifier.verify(proof, recordLabel(RecordPurpose.version)), {
      code: CryptoErrorCode.wrongPurpose,
    });
    t.throws(() => verifier.verify(proof, 'ratsfach/v1/nonsense'), SignatureError);
    const bad = Uint8Array.from(proof);
    bad[bad.length - 1] = (bad[bad.length - 1] as number) ^ 1;
    t.throws(() => verifier.verify(bad, 'ratsfach/v1/login-proof'), {
      code: CryptoErrorCode.badSignature,
    });
    t.throws(() => verifier.verify(new Uint8Array(3), 'ratsfach/v1/login-proof'), EncodingError);
  },
);

t.test(
  "the verifier's fingerprint of a key is the signerFingerprint of records signed with it",
  async (t) => {
    const key = generateSigningKeyPair();
    const other = generateSigningKeyPair();
    const verifier = createRecordVerifier();
    const bytes = signRecord(
      'committee-created',
      { sequence: 0, previousHash: new Uint8Array(64) },
      { tenantId: 'city', committeeId: 'finance', tenantPosition: 5 },
      key,
    );
    const signer = verifier.verify(bytes, recordLabel(RecordPurpose.committeeCreated));
    t.equal(verifier.fingerprint(key.publicKey), signer.signerFingerprint);
    t.match(verifier.fingerprint(key.publicKey), /^[0-9a-f]{64}$/);
    t.not(verifier.fingerprint(other.publicKey), signer.signerFingerprint);
  },
);

t.test("the verifier's fingerprints equal the committed known-answer vectors", async (t) => {
  const path = fileURLToPath(new URL('../../vectors/records.json', import.meta.url));
  const vectors = JSON.parse(readFileSync(path, 'utf8')) as {
    keys: Record<string, { publicKey?: string; fingerprint?: string }>;
  };
  const verifier = createRecordVerifier();
  let checked = 0;
  for (const [name, key] of Object.entries(vectors.keys)) {
    if (key.publicKey === undefined || key.fingerprint === undefined) continue;
    t.equal(
      verifier.fingerprint(new Uint8Array(Buffer.from(key.publicKey, 'hex'))),
      key.fingerprint,
      name,
    );
    checked += 1;
  }
  t.ok(checked > 0, 'at least one vector was checked');
});
