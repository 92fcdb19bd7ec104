import t from 'tap';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildRecordVectors } from './recordVectors.js';
import {
  cryptoReady,
  openAnyRecord,
  openKeysWithDeviceSecret,
  unwrapEpochKey,
  fingerprint,
} from '../src/index.js';
import { parseEnrolmentCode } from '../src/identity/enrolmentCode.js';
import { checkEnrolmentRequest } from '../src/identity/enrolment.js';

const file = fileURLToPath(new URL('../vectors/records.json', import.meta.url));

t.test('regenerated record vectors equal the committed ones byte for byte', async (t) => {
  const committed = readFileSync(file, 'utf8');
  t.equal(await buildRecordVectors(), committed);
});

t.test(
  'every committed record opens, and the wrap, code, request and key store open',
  async (t) => {
    const s = await cryptoReady();
    const v = JSON.parse(readFileSync(file, 'utf8'));
    const purposes = Object.keys(v.records);
    t.equal(purposes.length, 26);
    for (const purpose of purposes) {
      const opened = openAnyRecord(s.from_hex(v.records[purpose].bytes));
      t.equal(opened.purpose, purpose);
      t.equal(s.to_hex(opened.hash), v.records[purpose].hash);
    }
    const alice = {
      signing: s.crypto_sign_seed_keypair(s.from_hex(v.keys.alice.signingSeed)),
      kem: s.crypto_kem_xwing_seed_keypair(s.from_hex(v.keys.alice.kemSeed)),
    };
    const w = v.epochKeyWrap.wrapped;
    const key = unwrapEpochKey(
      v.epochKeyWrap.ref,
      {
        recipient: w.recipient,
        kemCiphertext: s.from_hex(w.kemCiphertext),
        nonce: s.from_hex(w.nonce),
        sealedKey: s.from_hex(w.sealedKey),
      },
      { fingerprint: fingerprint(alice.signing.publicKey), kem: alice.kem },
    );
    t.equal(s.to_hex(key), v.epochKeyWrap.epochKey);
    const code = parseEnrolmentCode(v.enrolment.text);
    t.equal(s.to_hex(code.secret), v.enrolment.secret);
    t.equal(checkEnrolmentRequest(s.from_hex(v.enrolment.request), code).userId, 'alice');
    const opened = openKeysWithDeviceSecret(
      s.from_hex(v.keyStoreDeviceSecret.sealed),
      s.from_hex(v.keyStoreDeviceSecret.deviceSecret),
    );
    t.same(opened.kem.privateKey, alice.kem.privateKey);
  },
);
