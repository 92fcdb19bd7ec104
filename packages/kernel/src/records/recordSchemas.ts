import { t, type Schema } from './fieldType.js';
import type { Purpose } from './recordPurpose.js';
import { committeeRoles, epochReasons, membershipChanges } from './recordChoices.js';

/** Lengths of the keys and ciphertexts records carry (suite 1). */
export const keyLength = {
  signingPublicKey: 32,
  kemPublicKey: 1216,
  kemCiphertext: 1120,
  aeadNonce: 24,
  /** A 32-byte key sealed with XChaCha20-Poly1305: key plus 16-byte tag. */
  sealedKey: 48,
  enrolmentCodeId: 10,
  enrolmentMac: 32,
  signature: 64,
} as const;

/** A chain head as records name it (the kernel's `ChainHead`). */
export const chainHeadType = t.struct([
  ['length', t.u64],
  ['hash', t.hash],
]);

/** One epoch key wrapped for one device (X-Wing + AEAD, see `epochKeyWrap.ts`). */
export const wrappedKeySchema = [
  ['recipient', t.fingerprint],
  ['kemCiphertext', t.bytes(keyLength.kemCiphertext)],
  ['nonce', t.bytes(keyLength.aeadNonce)],
  ['sealedKey', t.bytes(keyLength.sealedKey)],
] as const satisfies Schema;

/**
 * Largest encrypted metadata object a version or move record carries. The largest metadata
 * encryptMetadata accepts (1024-byte name, 32 folders of 255 bytes, 255-byte MIME type) encrypts
 * to 9,578 bytes, so the object always fits and sits inside the signed record itself.
 */
export const maxEncryptedMetadata = 16384;

/** At most this many wrapped keys in one record (every device of every member). */
export const maxWrappedKeys = 4096;

const wrappedKeys = t.set(t.struct(wrappedKeySchema), maxWrappedKeys);

/** A chain head a device reports having seen, with the stream it belongs to. */
export const seenHeadType = t.struct([
  ['stream', t.text(200)],
  ['length', t.u64],
  ['hash', t.hash],
]);

const documentRecord = [
  ['tenantId', t.id],
  ['committeeId', t.id],
  ['documentId', t.id],
  ['tenantPosition', t.u64],
  ['committeeHead', chainHeadType],
] as const satisfies Schema;

/**
 * The body fields of every record, in encoding order (FORMAT.md lists them with their bytes).
 * Records outside the tenant chain name `tenantPosition`: the length of the tenant chain they
 * were written against, the position at which their signer's certificate is judged.
 */
export const recordSchemas = {
  'tenant-created': [
    ['tenantId', t.id],
    ['createdAt', t.u64],
  ],
  'admin-device-certificate': [
    ['tenantId', t.id],
    ['userId', t.id],
    ['deviceId', t.id],
    ['signingKey', t.bytes(keyLength.signingPublicKey)],
    ['kemKey', t.bytes(keyLength.kemPublicKey)],
    ['notBefore', t.u64],
    ['notAfter', t.u64],
  ],
  'admin-device-revocation': [
    ['tenantId', t.id],
    ['deviceId', t.id],
    ['fingerprint', t.fingerprint],
    ['reason', t.text(200)],
  ],
  heartbeat: [
    ['tenantId', t.id],
    ['signerDeviceId', t.id],
    ['time', t.u64],
    ['userHeads', t.map(t.hash, 100000)],
    ['committeeHeads', t.map(chainHeadType, 100000)],
  ],
  'checkpoint-countersignature': [
    ['tenantId', t.id],
    ['signerDeviceId', t.id],
    ['treeSize', t.u64],
    ['rootHash', t.hash],
    ['serviceSignature', t.bytes(keyLength.signature)],
  ],
  'user-created': [
    ['tenantId', t.id],
    ['userId', t.id],
    ['tenantPosition', t.u64],
  ],
  'device-certificate': [
    ['tenantId', t.id],
    ['userId', t.id],
    ['deviceId', t.id],
    ['signingKey', t.bytes(keyLength.signingPublicKey)],
    ['kemKey', t.bytes(keyLength.kemPublicKey)],
    ['notBefore', t.u64],
    ['notAfter', t.u64],
    ['tenantPosition', t.u64],
    ['enrolmentCodeId', t.optional(t.bytes(keyLength.enrolmentCodeId))],
  ],
  'device-revocation': [
    ['tenantId', t.id],
    ['userId', t.id],
    ['deviceId', t.id],
    ['fingerprint', t.fingerprint],
    ['tenantPosition', t.u64],
    ['reason', t.text(200)],
  ],
  'heads-seen': [
    ['tenantId', t.id],
    ['userId', t.id],
    ['deviceId', t.id],
    ['tenantPosition', t.u64],
    ['heads', t.set(seenHeadType, 100000)],
  ],
  /**
   * Signed by a confirmed device of `userId` (no `committeeId`), or for the user's first device
   * by a staff device of committee `committeeId` (FORMAT.md "Device confirmation").
   */
  'device-confirmation': [
    ['tenantId', t.id],
    ['userId', t.id],
    ['deviceId', t.id],
    ['fingerprint', t.fingerprint],
    ['tenantPosition', t.u64],
    ['committeeId', t.optional(t.id)],
  ],
  'committee-created': [
    ['tenantId', t.id],
    ['committeeId', t.id],
    ['tenantPosition', t.u64],
  ],
  membership: [
    ['tenantId', t.id],
    ['committeeId', t.id],
    ['userId', t.id],
    ['change', t.choice(membershipChanges)],
    ['role', t.choice(committeeRoles)],
    ['tenantPosition', t.u64],
  ],
  'membership-cosignature': [
    ['tenantId', t.id],
    ['committeeId', t.id],
    ['membershipSequence', t.u64],
    ['membershipHash', t.hash],
    ['tenantPosition', t.u64],
  ],
  'key-epoch': [
    ['tenantId', t.id],
    ['committeeId', t.id],
    ['epoch', t.u32],
    ['reason', t.choice(epochReasons)],
    ['tenantPosition', t.u64],
    ['keyCommitment', t.hash],
    [
      'previousKey',
      t.optional(
        t.struct([
          ['nonce', t.bytes(keyLength.aeadNonce)],
          ['sealedKey', t.bytes(keyLength.sealedKey)],
        ]),
      ),
    ],
    ['wrappedKeys', wrappedKeys],
  ],
  'epoch-keys': [
    ['tenantId', t.id],
    ['committeeId', t.id],
    ['epoch', t.u32],
    ['tenantPosition', t.u64],
    ['wrappedKeys', wrappedKeys],
  ],
  retention: [
    ['tenantId', t.id],
    ['committeeId', t.id],
    ['tenantPosition', t.u64],
    ['retentionDays', t.optional(t.u32)],
  ],
  'legal-hold': [
    ['tenantId', t.id],
    ['committeeId', t.id],
    ['documentId', t.optional(t.id)],
    ['active', t.bool],
    ['reference', t.text(200)],
    ['tenantPosition', t.u64],
  ],
  'document-created': [...documentRecord, ['epoch', t.u32]],
  version: [
    ...documentRecord,
    ['version', t.u32],
    ['parentVersion', t.optional(t.u32)],
    ['epoch', t.u32],
    ['contentHash', t.hash],
    ['size', t.u64],
    ['keySlotHash', t.hash],
    ['authorDeviceId', t.id],
    ['encryptedMetadata', t.varbytes(maxEncryptedMetadata)],
  ],
  'document-moved': [
    ...documentRecord,
    ['epoch', t.u32],
    ['version', t.u32],
    ['encryptedMetadata', t.varbytes(maxEncryptedMetadata)],
  ],
  'document-deleted': documentRecord,
  'document-restored': documentRecord,
  'document-erased': documentRecord,
  'enrolment-request': [
    ['tenantId', t.id],
    ['userId', t.id],
    ['deviceId', t.id],
    ['codeId', t.bytes(keyLength.enrolmentCodeId)],
    ['signingKey', t.bytes(keyLength.signingPublicKey)],
    ['kemKey', t.bytes(keyLength.kemPublicKey)],
    ['mac', t.bytes(keyLength.enrolmentMac)],
  ],
  'login-proof': [
    ['tenantId', t.id],
    ['deviceId', t.id],
    ['challenge', t.bytes(32)],
  ],
  checkpoint: [
    ['tenantId', t.id],
    ['treeSize', t.u64],
    ['rootHash', t.hash],
    ['time', t.u64],
  ],
} as const satisfies { readonly [P in Purpose]: Schema };
