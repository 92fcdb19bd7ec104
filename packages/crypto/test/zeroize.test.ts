/**
 * Issue 8 item 9, secrets in memory: every secret this package derives and drops itself (shared
 * secrets, wrap keys, sealing keys, key-store keys and plaintext, the enrolment MAC key, keys
 * opened before a failure) is zero once the call returns or throws. Each test records what the
 * libsodium call handed back and looks at it afterwards.
 */
import t, { type Test } from 'tap';
import { World } from './support/world.js';
import { expectError } from './support/expectError.js';
import {
  CryptoErrorCode,
  DecryptionError,
  createEnrolmentCode,
  createEnrolmentRequest,
  cryptoReady,
  epochKeyCommitment,
  fingerprint,
  generateDeviceKeys,
  generateEpochKey,
  openEpochKeys,
  openKeysWithDeviceSecret,
  openPreviousEpochKey,
  sealKeysWithDeviceSecret,
  sealPreviousEpochKey,
  sodium,
  unwrapEpochKey,
  wrapEpochKey,
  zeroize,
  zeroizeDeviceKeys,
  zeroizeKeys,
} from '../src/index.js';

type Name =
  | 'crypto_kem_xwing_dec'
  | 'crypto_generichash'
  | 'crypto_kdf_derive_from_key'
  | 'crypto_aead_xchacha20poly1305_ietf_decrypt';

/** Records every output of sodium's `name` (and its arguments) until the test ends. */
const capture = (t: Test, name: Name): { out: Uint8Array; args: unknown[] }[] => {
  const s = sodium() as unknown as Record<Name, (...args: unknown[]) => Uint8Array>;
  const original = s[name];
  const seen: { out: Uint8Array; args: unknown[] }[] = [];
  s[name] = (...args: unknown[]) => {
    const out = original(...args);
    seen.push({ out, args });
    return out;
  };
  t.teardown(() => {
    s[name] = original;
  });
  return seen;
};

const zero = (bytes: Uint8Array): boolean => bytes.every((b) => b === 0);

t.before(async () => {
  await cryptoReady();
});

t.test('unwrapping zeroes the X-Wing shared secret and the wrap key', async (t) => {
  const device = generateDeviceKeys();
  const me = fingerprint(device.signing.publicKey);
  const ref = { tenantId: 'city', committeeId: 'finance', epoch: 0 };
  const epochKey = generateEpochKey();
  const wrapped = wrapEpochKey(ref, epochKey, { fingerprint: me, kemKey: device.kem.publicKey });
  const secrets = capture(t, 'crypto_kem_xwing_dec');
  const keys = capture(t, 'crypto_generichash');
  t.same(unwrapEpochKey(ref, wrapped, { fingerprint: me, kem: device.kem }), epochKey);
  t.equal(secrets.length, 1);
  t.ok(keys.length >= 1);
  t.ok(
    [...secrets, ...keys].every(({ out }) => zero(out)),
    'all zero after the call',
  );
  // Also when the AEAD refuses (another epoch): the secrets are zeroed on the way out.
  expectError(
    t,
    () => unwrapEpochKey({ ...ref, epoch: 1 }, wrapped, { fingerprint: me, kem: device.kem }),
    DecryptionError,
    CryptoErrorCode.decryptionFailed,
  );
  t.equal(secrets.length, 2);
  t.ok([...secrets, ...keys].every(({ out }) => zero(out)));
});

t.test('sealing and opening the previous epoch key zero the sealing key', async (t) => {
  const ref = { tenantId: 'city', committeeId: 'finance', epoch: 1 };
  const epochKey = generateEpochKey();
  const previous = generateEpochKey();
  const derived = capture(t, 'crypto_kdf_derive_from_key');
  const sealed = sealPreviousEpochKey(ref, epochKey, previous);
  t.same(openPreviousEpochKey(ref, epochKey, sealed), previous);
  expectError(
    t,
    () => openPreviousEpochKey(ref, generateEpochKey(), sealed),
    DecryptionError,
    CryptoErrorCode.decryptionFailed,
  );
  t.equal(derived.length, 3);
  t.ok(derived.every(({ out }) => zero(out)));
});

t.test('the key store zeroes its derived key and its plaintext', async (t) => {
  const keys = generateDeviceKeys();
  const secret = new Uint8Array(32).fill(7);
  const derived = capture(t, 'crypto_kdf_derive_from_key');
  const opened = capture(t, 'crypto_aead_xchacha20poly1305_ietf_decrypt');
  const blob = sealKeysWithDeviceSecret(keys, secret);
  const back = openKeysWithDeviceSecret(blob, secret);
  t.same(back.signing.privateKey, keys.signing.privateKey, 'the returned keys are intact');
  t.same(back.kem.privateKey, keys.kem.privateKey);
  t.equal(derived.length, 2);
  t.equal(opened.length, 1);
  t.ok([...derived, ...opened].every(({ out }) => zero(out)));
});

t.test('the enrolment MAC key is zeroed after use', async (t) => {
  const code = createEnrolmentCode(generateDeviceKeys().signing.publicKey);
  const hashes = capture(t, 'crypto_generichash');
  createEnrolmentRequest(
    code,
    { tenantId: 'city', userId: 'alice', deviceId: 'a1' },
    generateDeviceKeys(),
  );
  const macKeys = hashes.filter(({ args }) => args[2] === code.secret);
  t.equal(macKeys.length, 1);
  t.ok(zero(macKeys[0]!.out));
});

t.test('keys opened before a commitment failure are zeroed', async (t) => {
  const { world } = await World.scene();
  const ref = { tenantId: 'city', committeeId: 'finance', epoch: 1 };
  const wrappedFor = generateEpochKey();
  // A staff device wraps one key but commits to another (a malicious or broken staff device).
  world.appendCommittee(
    'key-epoch',
    {
      tenantId: 'city',
      committeeId: 'finance',
      epoch: 1,
      reason: 'rotation',
      tenantPosition: world.tenantPosition,
      keyCommitment: epochKeyCommitment(ref, generateEpochKey()),
      previousKey: sealPreviousEpochKey(ref, wrappedFor, generateEpochKey()),
      wrappedKeys: [
        wrapEpochKey(ref, wrappedFor, {
          fingerprint: fingerprint(world.devices.b1!.signing.publicKey),
          kemKey: world.devices.b1!.kem.publicKey,
        }),
      ],
    },
    world.devices.a1!.signing,
  );
  const state = world.state();
  const opened = capture(t, 'crypto_aead_xchacha20poly1305_ietf_decrypt');
  expectError(
    t,
    () => openEpochKeys(state, world.devices.b1!),
    DecryptionError,
    CryptoErrorCode.hashMismatch,
  );
  t.equal(opened.length, 1);
  t.ok(zero(opened[0]!.out), 'the key that failed its commitment is zero');
});

t.test('zeroize, zeroizeKeys and zeroizeDeviceKeys overwrite what callers hold', async (t) => {
  const a = new Uint8Array(32).fill(1);
  zeroize(a, null, undefined);
  t.ok(zero(a));
  const keys = new Map([
    [0, new Uint8Array(32).fill(2)],
    [1, new Uint8Array(32).fill(3)],
  ]);
  const held = [...keys.values()];
  zeroizeKeys(keys);
  t.equal(keys.size, 0);
  t.ok(held.every(zero));
  const device = generateDeviceKeys();
  zeroizeDeviceKeys(device);
  t.ok(zero(device.signing.privateKey) && zero(device.kem.privateKey));
  t.notOk(zero(device.signing.publicKey), 'public keys stay');
});
