/**
 * Builds the known-answer vectors of packages/crypto/vectors/records.json: one record of every
 * purpose, an epoch-key wrap, the sealed previous epoch key, an enrolment code and request, a
 * device-secret key store, fingerprints and a heads code. Keys come from fixed seeds; every
 * random input comes from the test-only seam and is listed in the vector, so another
 * implementation (Swift, Kotlin) can check every byte without a seam.
 * recordVectors.test.ts regenerates and compares; support/writeRecordVectors.ts rewrites.
 */
import type { Purpose, RecordBodies } from '@ratsfach/kernel';
import {
  cryptoReady,
  epochKeyCommitment,
  fingerprint,
  hash512,
  headsCode,
  openAnyRecord,
  randomBytes,
  sealKeysWithDeviceSecret,
  sealPreviousEpochKey,
  signRecord,
  wrapEpochKey,
  type DeviceKeys,
  type SigningKeyPair,
} from '../src/index.js';
import { createEnrolmentCode } from '../src/identity/enrolmentCode.js';
import { createEnrolmentRequest } from '../src/identity/enrolment.js';
import { useDeterministicRandomnessForTests } from '../src/testing.js';

const filled = (byte: number, length: number): Uint8Array => new Uint8Array(length).fill(byte);

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** Bytes become lowercase hex strings; everything else stays as it is. */
const toJson = (value: unknown, hex: (b: Uint8Array) => string): Json => {
  if (value instanceof Uint8Array) return hex(value);
  if (Array.isArray(value)) return value.map((v) => toJson(v, hex));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toJson(v, hex)]));
  }
  return value as Json;
};

/** Runs `f` under the seam seeded with `seed` and returns what it returned plus the random bytes it drew (by replaying the seam). */
const withSeam = <T>(
  seed: Uint8Array,
  draws: readonly number[],
  f: () => T,
): { value: T; random: Uint8Array[] } => {
  let restore = useDeterministicRandomnessForTests(seed);
  let value: T;
  try {
    value = f();
  } finally {
    restore();
  }
  restore = useDeterministicRandomnessForTests(seed);
  try {
    return { value, random: draws.map((n) => randomBytes(n)) };
  } finally {
    restore();
  }
};

/** The vectors, as the JSON text committed under vectors/records.json. */
export async function buildRecordVectors(): Promise<string> {
  const s = await cryptoReady();
  const hex = (b: Uint8Array): string => s.to_hex(b);
  const signing = (seed: number): SigningKeyPair => s.crypto_sign_seed_keypair(filled(seed, 32));
  const device = (seed: number): DeviceKeys => ({
    signing: signing(seed),
    kem: s.crypto_kem_xwing_seed_keypair(filled(seed + 100, 32)),
  });
  const root = signing(1);
  const admin = device(2);
  const alice = device(3);
  const h = (b: number) => filled(b, 64);
  const head = { length: 4, hash: h(0x44) };
  const doc = {
    tenantId: 'city',
    committeeId: 'finance',
    documentId: 'doc_1',
    tenantPosition: 9,
    committeeHead: head,
  };
  const ref = { tenantId: 'city', committeeId: 'finance', epoch: 1 };
  const epochKey = filled(0xe1, 32);
  const wrapped = withSeam(filled(0xa0, 32), [64, 24], () =>
    wrapEpochKey(ref, epochKey, {
      fingerprint: fingerprint(alice.signing.publicKey),
      kemKey: alice.kem.publicKey,
    }),
  );
  const previous = withSeam(filled(0xa1, 32), [24], () =>
    sealPreviousEpochKey(ref, epochKey, filled(0xe0, 32)),
  );
  const enrolment = withSeam(filled(0xa2, 32), [10, 20], () => {
    const code = createEnrolmentCode(root.publicKey);
    return {
      code,
      request: createEnrolmentRequest(
        code,
        { tenantId: 'city', userId: 'alice', deviceId: 'a1' },
        alice,
      ),
    };
  });
  const keyStore = withSeam(filled(0xa3, 32), [24], () =>
    sealKeysWithDeviceSecret(alice, filled(0x5e, 32)),
  );

  const bodies: { [P in Purpose]: { signer: SigningKeyPair; body: RecordBodies[P] } } = {
    'tenant-created': { signer: root, body: { tenantId: 'city', createdAt: 1_800_000_000 } },
    'admin-device-certificate': {
      signer: root,
      body: {
        tenantId: 'city',
        userId: 'admin',
        deviceId: 'admin1',
        signingKey: admin.signing.publicKey,
        kemKey: admin.kem.publicKey,
        notBefore: 1_800_000_000,
        notAfter: 1_831_536_000,
      },
    },
    'admin-device-revocation': {
      signer: root,
      body: {
        tenantId: 'city',
        deviceId: 'admin1',
        fingerprint: fingerprint(admin.signing.publicKey),
        reason: 'lost',
      },
    },
    heartbeat: {
      signer: admin.signing,
      body: {
        tenantId: 'city',
        signerDeviceId: 'admin1',
        time: 1_800_086_400,
        userHeads: { bob: h(0xb0), alice: h(0xa0) },
        committeeHeads: { finance: { length: 7, hash: h(0xf0) } },
      },
    },
    'checkpoint-countersignature': {
      signer: admin.signing,
      body: {
        tenantId: 'city',
        signerDeviceId: 'admin1',
        treeSize: 1000,
        rootHash: h(0x77),
        serviceSignature: h(0x55),
      },
    },
    'user-created': {
      signer: admin.signing,
      body: { tenantId: 'city', userId: 'alice', tenantPosition: 2 },
    },
    'device-certificate': {
      signer: admin.signing,
      body: {
        tenantId: 'city',
        userId: 'alice',
        deviceId: 'a1',
        signingKey: alice.signing.publicKey,
        kemKey: alice.kem.publicKey,
        notBefore: 1_800_000_000,
        notAfter: 1_802_592_000,
        tenantPosition: 2,
        enrolmentCodeId: filled(0xc0, 10),
      },
    },
    'device-revocation': {
      signer: admin.signing,
      body: {
        tenantId: 'city',
        userId: 'alice',
        deviceId: 'a1',
        fingerprint: fingerprint(alice.signing.publicKey),
        tenantPosition: 5,
        reason: 'stolen',
      },
    },
    'heads-seen': {
      signer: alice.signing,
      body: {
        tenantId: 'city',
        userId: 'alice',
        deviceId: 'a1',
        tenantPosition: 5,
        heads: [
          { stream: 'tenant-city', length: 7, hash: h(0x11) },
          { stream: 'committee-city-finance', length: 4, hash: h(0x44) },
        ],
      },
    },
    'device-confirmation': {
      signer: alice.signing,
      body: {
        tenantId: 'city',
        userId: 'bob',
        deviceId: 'b1',
        fingerprint: fingerprint(admin.signing.publicKey),
        tenantPosition: 6,
        committeeId: 'finance',
      },
    },
    'committee-created': {
      signer: admin.signing,
      body: { tenantId: 'city', committeeId: 'finance', tenantPosition: 3 },
    },
    membership: {
      signer: admin.signing,
      body: {
        tenantId: 'city',
        committeeId: 'finance',
        userId: 'alice',
        change: 'add',
        role: 'staff',
        tenantPosition: 3,
      },
    },
    'membership-cosignature': {
      signer: alice.signing,
      body: {
        tenantId: 'city',
        committeeId: 'finance',
        membershipSequence: 1,
        membershipHash: h(0x12),
        tenantPosition: 3,
      },
    },
    'key-epoch': {
      signer: alice.signing,
      body: {
        tenantId: 'city',
        committeeId: 'finance',
        epoch: 1,
        reason: 'removal',
        tenantPosition: 4,
        keyCommitment: epochKeyCommitment(ref, epochKey),
        previousKey: previous.value,
        wrappedKeys: [wrapped.value],
      },
    },
    'epoch-keys': {
      signer: alice.signing,
      body: {
        tenantId: 'city',
        committeeId: 'finance',
        epoch: 1,
        tenantPosition: 4,
        wrappedKeys: [wrapped.value],
      },
    },
    retention: {
      signer: alice.signing,
      body: { tenantId: 'city', committeeId: 'finance', tenantPosition: 4, retentionDays: 3650 },
    },
    'legal-hold': {
      signer: admin.signing,
      body: {
        tenantId: 'city',
        committeeId: 'finance',
        documentId: 'doc_1',
        active: true,
        reference: 'Az. 12/2026',
        tenantPosition: 4,
      },
    },
    'document-created': { signer: alice.signing, body: { ...doc, epoch: 1 } },
    version: {
      signer: alice.signing,
      body: {
        ...doc,
        version: 2,
        parentVersion: 1,
        epoch: 1,
        contentHash: h(0xc1),
        size: 123_456_789,
        keySlotHash: h(0xc2),
        authorDeviceId: 'a1',
        encryptedMetadata: filled(0x3c, 106),
      },
    },
    'document-moved': {
      signer: alice.signing,
      body: { ...doc, epoch: 1, version: 2, encryptedMetadata: filled(0x3d, 106) },
    },
    'document-deleted': { signer: alice.signing, body: doc },
    'document-restored': { signer: alice.signing, body: doc },
    'document-erased': { signer: alice.signing, body: doc },
    'enrolment-request': {
      signer: alice.signing,
      body: openAnyRecord(enrolment.value.request).body as RecordBodies['enrolment-request'],
    },
    'login-proof': {
      signer: alice.signing,
      body: { tenantId: 'city', deviceId: 'a1', challenge: filled(0x0c, 32) },
    },
    checkpoint: {
      signer: signing(9),
      body: { tenantId: 'city', treeSize: 1000, rootHash: h(0x77), time: 1_800_086_400 },
    },
  };

  const records: Record<string, Json> = {};
  for (const purpose of Object.keys(bodies).sort() as Purpose[]) {
    const { signer, body } = bodies[purpose] as {
      signer: SigningKeyPair;
      body: RecordBodies[Purpose];
    };
    const link = { sequence: 3, previousHash: h(0x33) };
    const bytes = signRecord(purpose, link, body as never, signer);
    records[purpose] = {
      signerSeed: hex(signer.privateKey.subarray(0, 32)),
      sequence: link.sequence,
      previousHash: hex(link.previousHash),
      body: toJson(body, hex),
      bytes: hex(bytes),
      hash: hex(hash512(bytes)),
      signerFingerprint: fingerprint(signer.publicKey),
    };
  }

  const vectors = {
    description:
      'ratsfach suite 1 known-answer vectors (packages/crypto/FORMAT.md). Bytes are lowercase hex. Seeds: Ed25519 crypto_sign_seed_keypair, X-Wing crypto_kem_xwing_seed_keypair.',
    keys: {
      root: {
        signingSeed: hex(filled(1, 32)),
        publicKey: hex(root.publicKey),
        fingerprint: fingerprint(root.publicKey),
      },
      admin: {
        signingSeed: hex(filled(2, 32)),
        kemSeed: hex(filled(102, 32)),
        publicKey: hex(admin.signing.publicKey),
        kemPublicKey: hex(admin.kem.publicKey),
        fingerprint: fingerprint(admin.signing.publicKey),
      },
      alice: {
        signingSeed: hex(filled(3, 32)),
        kemSeed: hex(filled(103, 32)),
        publicKey: hex(alice.signing.publicKey),
        kemPublicKey: hex(alice.kem.publicKey),
        fingerprint: fingerprint(alice.signing.publicKey),
      },
    },
    records,
    epochKeyWrap: {
      ref,
      epochKey: hex(epochKey),
      recipient: 'alice',
      kemEncapsulationSeed: hex(wrapped.random[0] as Uint8Array),
      nonce: hex(wrapped.random[1] as Uint8Array),
      keyCommitment: hex(epochKeyCommitment(ref, epochKey)),
      wrapped: toJson(wrapped.value, hex),
    },
    previousEpochKey: {
      ref,
      epochKey: hex(epochKey),
      previousKey: hex(filled(0xe0, 32)),
      nonce: hex(previous.random[0] as Uint8Array),
      sealed: toJson(previous.value, hex),
    },
    enrolment: {
      codeId: hex(enrolment.random[0] as Uint8Array),
      secret: hex(enrolment.random[1] as Uint8Array),
      text: enrolment.value.code.text,
      rootPin: hex(enrolment.value.code.rootPin),
      request: hex(enrolment.value.request),
    },
    keyStoreDeviceSecret: {
      deviceSecret: hex(filled(0x5e, 32)),
      nonce: hex(keyStore.random[0] as Uint8Array),
      sealed: hex(keyStore.value),
    },
    headsCode: {
      heads: toJson(bodies['heads-seen'].body.heads, hex),
      code: headsCode(bodies['heads-seen'].body.heads),
    },
  };
  return `${JSON.stringify(vectors, null, 2)}\n`;
}
