import t from 'tap';
import { cryptoReady, sodium } from '../sodium.js';
import { generateSigningKeyPair } from '../keys/deviceKeys.js';
import { openAnyRecord, openRecord, signRecord, unchained } from './signedRecord.js';
import {
  CryptoErrorCode,
  CryptoValidationError,
  EncodingError,
  SignatureError,
  UnknownSuiteError,
} from '../errors.js';
import { fingerprint } from '../keys/fingerprint.js';
import { hash512 } from '../hash.js';
import { purposeOfLabel, supersededPurposeOfLabel } from '@ratsfach/kernel';

/** Re-signs arbitrary bytes with `key`, as a (buggy or malicious) signer might. */
const resign = (signed: Uint8Array, privateKey: Uint8Array): Uint8Array => {
  const sig = sodium().crypto_sign_detached(signed, privateKey);
  const out = new Uint8Array(signed.length + 64);
  out.set(signed);
  out.set(sig, signed.length);
  return out;
};

t.before(async () => {
  await cryptoReady();
});

t.test('a signed record opens to its body, chain link, signer and hash', async (t) => {
  const key = generateSigningKeyPair();
  const previousHash = new Uint8Array(64).fill(9);
  const bytes = signRecord(
    'heartbeat',
    { sequence: 7, previousHash },
    {
      tenantId: 'city',
      signerDeviceId: 'adm1',
      time: 1_800_000_000,
      userHeads: { u2: new Uint8Array(64).fill(2), u1: new Uint8Array(64).fill(1) },
      committeeHeads: {},
    },
    key,
  );
  const opened = openRecord(bytes, 'heartbeat');
  t.equal(opened.label, 'ratsfach/v1/heartbeat/v2');
  t.equal(opened.sequence, 7);
  t.same(opened.previousHash, previousHash);
  t.equal(opened.signerFingerprint, fingerprint(key.publicKey));
  t.same(opened.hash, hash512(bytes));
  t.same(Object.keys(opened.body.userHeads), ['u1', 'u2']);
  t.equal(opened.body.time, 1_800_000_000);
  t.equal(openAnyRecord(bytes).purpose, 'heartbeat');
});

t.test('every flipped bit makes the signature fail before anything is parsed', async (t) => {
  const key = generateSigningKeyPair();
  const bytes = signRecord(
    'user-created',
    unchained,
    { tenantId: 'city', userId: 'u1', tenantPosition: 3 },
    key,
  );
  for (let i = 1; i < bytes.length; i += 1) {
    const bad = Uint8Array.from(bytes);
    bad[i] = (bad[i] as number) ^ 0x01;
    t.throws(() => openRecord(bad, 'user-created'), SignatureError);
  }
});

t.test('a record of another purpose is refused as wrong purpose', async (t) => {
  const key = generateSigningKeyPair();
  const proof = signRecord(
    'login-proof',
    unchained,
    { tenantId: 'city', deviceId: 'd1', challenge: new Uint8Array(32) },
    key,
  );
  t.throws(() => openRecord(proof, 'user-created'), { code: CryptoErrorCode.wrongPurpose });
  t.throws(() => openRecord(proof, 'user-created'), SignatureError);
});

t.test('an unknown suite is refused with UnknownSuiteError', async (t) => {
  const key = generateSigningKeyPair();
  const bytes = signRecord(
    'user-created',
    unchained,
    { tenantId: 'city', userId: 'u1', tenantPosition: 0 },
    key,
  );
  const signed = Uint8Array.from(bytes.subarray(0, bytes.length - 64));
  signed[0] = 2;
  t.throws(() => openRecord(resign(signed, key.privateKey), 'user-created'), UnknownSuiteError);
  t.throws(() => openRecord(resign(signed, key.privateKey), 'user-created'), {
    code: CryptoErrorCode.unknownSuite,
  });
});

t.test('trailing bytes inside the signature are refused as non-canonical', async (t) => {
  const key = generateSigningKeyPair();
  const bytes = signRecord(
    'user-created',
    unchained,
    { tenantId: 'city', userId: 'u1', tenantPosition: 0 },
    key,
  );
  const signed = bytes.subarray(0, bytes.length - 64);
  const longer = new Uint8Array(signed.length + 1);
  longer.set(signed);
  const err = t.throws(
    () => openRecord(resign(longer, key.privateKey), 'user-created'),
    EncodingError,
  );
  t.equal((err as EncodingError).code, CryptoErrorCode.nonCanonical);
});

t.test('a truncated record is refused as malformed', async (t) => {
  const key = generateSigningKeyPair();
  const bytes = signRecord(
    'user-created',
    unchained,
    { tenantId: 'city', userId: 'u1', tenantPosition: 0 },
    key,
  );
  const signed = bytes.subarray(0, bytes.length - 64 - 3);
  t.throws(() => openRecord(resign(signed, key.privateKey), 'user-created'), {
    code: CryptoErrorCode.malformed,
  });
  t.throws(() => openRecord(new Uint8Array(10), 'user-created'), {
    code: CryptoErrorCode.malformed,
  });
});

t.test('an unsorted map, a boolean byte 2 and a presence byte 2 are non-canonical', async (t) => {
  const key = generateSigningKeyPair();
  const bytes = signRecord(
    'heartbeat',
    unchained,
    {
      tenantId: 'city',
      signerDeviceId: 'a',
      time: 1,
      userHeads: { a: new Uint8Array(64).fill(1), b: new Uint8Array(64).fill(2) },
      committeeHeads: {},
    },
    key,
  );
  const signed = Uint8Array.from(bytes.subarray(0, bytes.length - 64));
  // The two map entries (1 + 1 + 64 bytes each) come before the empty committee map's count.
  const entry = 66;
  const end = signed.length - 4;
  const a = signed.slice(end - 2 * entry, end - entry);
  const b = signed.slice(end - entry, end);
  signed.set(b, end - 2 * entry);
  signed.set(a, end - entry);
  t.throws(() => openRecord(resign(signed, key.privateKey), 'heartbeat'), {
    code: CryptoErrorCode.nonCanonical,
  });

  const hold = signRecord(
    'legal-hold',
    unchained,
    {
      tenantId: 'city',
      committeeId: 'c',
      documentId: null,
      active: true,
      reference: '',
      tenantPosition: 0,
    },
    key,
  );
  const holdSigned = Uint8Array.from(hold.subarray(0, hold.length - 64));
  // Layout tail: ... documentId presence (1), active (1), reference length (2), tenantPosition (8).
  const activeAt = holdSigned.length - 8 - 2 - 1;
  holdSigned[activeAt] = 2;
  t.throws(() => openRecord(resign(holdSigned, key.privateKey), 'legal-hold'), {
    code: CryptoErrorCode.nonCanonical,
  });
  holdSigned[activeAt] = 1;
  holdSigned[activeAt - 1] = 2;
  t.throws(() => openRecord(resign(holdSigned, key.privateKey), 'legal-hold'), {
    code: CryptoErrorCode.nonCanonical,
  });
});

t.test('signing refuses a body that does not fit the schema', async (t) => {
  const key = generateSigningKeyPair();
  t.throws(
    () =>
      signRecord(
        'user-created',
        unchained,
        { tenantId: 'City!', userId: 'u1', tenantPosition: 0 },
        key,
      ),
    CryptoValidationError,
  );
  t.throws(
    () =>
      signRecord(
        'user-created',
        unchained,
        { tenantId: 'city', userId: 'u1', tenantPosition: 0, extra: 1 } as never,
        key,
      ),
    { code: CryptoErrorCode.invalidArgument },
  );
});

t.test(
  'the record starts with suite and label; a label length past the end is malformed',
  async (t) => {
    const key = generateSigningKeyPair();
    const bytes = signRecord(
      'user-created',
      unchained,
      { tenantId: 'city', userId: 'u1', tenantPosition: 0 },
      key,
    );
    t.equal(bytes[0], 1);
    t.equal(
      new TextDecoder().decode(bytes.subarray(2, 2 + (bytes[1] as number))),
      'ratsfach/v1/user-created',
    );
    const bad = Uint8Array.from(bytes);
    bad[1] = 255;
    t.throws(() => openRecord(bad, 'user-created'), { code: CryptoErrorCode.malformed });
  },
);

t.test('a heartbeat of format 1 (no committee heads) is refused by its label', async (t) => {
  const key = generateSigningKeyPair();
  const current = signRecord(
    'heartbeat',
    unchained,
    {
      tenantId: 'city',
      signerDeviceId: 'adm1',
      time: 1_800_000_000,
      userHeads: {},
      committeeHeads: {},
    },
    key,
  );
  // The same envelope under the label heartbeats had before format 2, signed properly.
  const old = relabel(current, 'ratsfach/v1/heartbeat', key);
  for (const open of [() => openAnyRecord(old), () => openRecord(old, 'heartbeat')]) {
    const err = t.throws(open, SignatureError) as SignatureError;
    t.equal(err.code, CryptoErrorCode.wrongPurpose);
  }
  t.match((t.throws(() => openAnyRecord(old)) as Error).message, /superseded format of heartbeat/);
  t.equal(supersededPurposeOfLabel('ratsfach/v1/heartbeat'), 'heartbeat');
  t.equal(supersededPurposeOfLabel('ratsfach/v1/heartbeat/v2'), undefined, 'the current one');
  t.equal(supersededPurposeOfLabel('ratsfach/v1/version'), undefined, 'never versioned');
  t.equal(supersededPurposeOfLabel('ratsfach/v1/nonsense'), undefined);
  t.equal(supersededPurposeOfLabel('other/heartbeat'), undefined);
  t.equal(supersededPurposeOfLabel('ratsfach/v1/heartbeat/vx'), undefined);
  t.equal(purposeOfLabel('ratsfach/v1/heartbeat/v2'), 'heartbeat');
  t.match(
    (t.throws(() => openAnyRecord(relabel(current, 'ratsfach/v1/nonsense', key))) as Error).message,
    /unknown label/,
  );
});

/** `record` re-signed under `label` (same envelope otherwise). */
function relabel(record: Uint8Array, label: string, key: { privateKey: Uint8Array }): Uint8Array {
  const bytes = new TextEncoder().encode(label);
  const rest = record.subarray(2 + (record[1] as number), record.length - 64);
  const unsigned = new Uint8Array([record[0] as number, bytes.length, ...bytes, ...rest]);
  return new Uint8Array([...unsigned, ...sodium().crypto_sign_detached(unsigned, key.privateKey)]);
}
