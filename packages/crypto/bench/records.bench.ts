/**
 * Record verification benchmark (not a test): raw Ed25519 verify in libsodium-wrappers (WASM),
 * sodium-native's Ed25519 verify (the native limit), `openRecord` of a version record (signature,
 * label, canonical decode, hash), the server's `RecordVerifier`, a committee fold, and X-Wing
 * epoch-key wrap and unwrap. Each figure is the best of `--rounds` timed batches.
 *
 *   scripts/run-ts.sh packages/crypto/bench/records.bench.ts [--rounds=5]
 */
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import {
  createRecordVerifier,
  cryptoReady,
  fingerprint,
  generateDeviceKeys,
  openRecord,
  signRecord,
  unwrapEpochKey,
  wrapEpochKey,
} from '../src/index.js';
import { World } from '../test/support/world.js';

const rounds = Number(process.argv.find((a) => a.startsWith('--rounds='))?.split('=')[1] ?? 5);
const s = await cryptoReady();

/** Operations per second: best of `rounds` batches of `n` calls. */
const rate = (n: number, f: (i: number) => void): number => {
  let best = Infinity;
  for (let i = 0; i < Math.min(n, 500); i++) f(i);
  for (let r = 0; r < rounds; r++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) f(i);
    best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e9);
  }
  return n / best;
};

const keys = generateDeviceKeys();
const body = {
  tenantId: 'city',
  committeeId: 'finance',
  documentId: 'doc_1',
  tenantPosition: 9,
  committeeHead: { length: 4, hash: new Uint8Array(64).fill(4) },
  version: 2,
  parentVersion: 1,
  epoch: 1,
  contentHash: new Uint8Array(64).fill(1),
  size: 123_456,
  keySlotHash: new Uint8Array(64).fill(2),
  authorDeviceId: 'a1',
  // A typical encrypted metadata object (name, one folder, MIME type, times): 106 bytes.
  encryptedMetadata: new Uint8Array(106).fill(3),
};
const version = signRecord(
  'version',
  { sequence: 3, previousHash: new Uint8Array(64) },
  body,
  keys.signing,
);
const signed = version.subarray(0, version.length - 64);
const signature = version.subarray(version.length - 64);
const verifier = createRecordVerifier();

const require = createRequire(import.meta.url);
const native = require('sodium-native') as {
  crypto_sign_verify_detached(sig: Buffer, m: Buffer, pk: Buffer): boolean;
};
const nSig = Buffer.from(signature);
const nMsg = Buffer.from(signed);
const nPk = Buffer.from(keys.signing.publicKey);

const results: [string, number][] = [];
results.push([
  'Ed25519 verify, libsodium-wrappers (WASM)',
  rate(5000, () => s.crypto_sign_verify_detached(signature, signed, keys.signing.publicKey)),
]);
results.push([
  'Ed25519 verify, sodium-native',
  rate(20000, () => native.crypto_sign_verify_detached(nSig, nMsg, nPk)),
]);
results.push([
  'openRecord(version) (verify + canonical decode + hash)',
  rate(5000, () => openRecord(version, 'version')),
]);
results.push([
  'RecordVerifier.verify(version)',
  rate(5000, () => verifier.verify(version, 'ratsfach/v1/version')),
]);

const { world } = await World.scene();
const chain = world.committee;
results.push([
  `CommitteeState fold (${chain.length} records, 2 members)`,
  rate(200, () => world.state()),
]);

const ref = { tenantId: 'city', committeeId: 'finance', epoch: 1 };
const epochKey = new Uint8Array(32).fill(3);
const me = { fingerprint: fingerprint(keys.signing.publicKey), kem: keys.kem };
const wrapped = wrapEpochKey(ref, epochKey, {
  fingerprint: me.fingerprint,
  kemKey: keys.kem.publicKey,
});
results.push([
  'epoch-key wrap (X-Wing encapsulation + AEAD)',
  rate(300, () =>
    wrapEpochKey(ref, epochKey, { fingerprint: me.fingerprint, kemKey: keys.kem.publicKey }),
  ),
]);
results.push([
  'epoch-key unwrap (X-Wing decapsulation + AEAD)',
  rate(300, () => unwrapEpochKey(ref, wrapped, me)),
]);

console.log(
  `records benchmark, best of ${rounds} batches; ${cpus()[0]?.model ?? '?'} x ${cpus().length}; node ${process.version}`,
);
console.log(`version record: ${version.length} bytes`);
for (const [name, perSecond] of results)
  console.log(`${name.padEnd(58)} ${Math.round(perSecond).toLocaleString('en')}/s`);
