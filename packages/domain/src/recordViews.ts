import type { RecordPurpose } from '@ratsfach/kernel';
import type { ObjectShape, ShapeOf } from './shape.js';

/** A chain head as records name it: the chain's length and its last record's hash. */
export interface ChainHeadView {
  readonly length: number;
  readonly hash: Uint8Array;
}

/** One wrapped epoch key in a key record (the domain reads only the recipient). */
export interface WrappedKeyView {
  /** Fingerprint of the recipient device's signing key. */
  readonly recipient: string;
  readonly kemCiphertext: Uint8Array;
  readonly nonce: Uint8Array;
  readonly sealedKey: Uint8Array;
}

/** A chain head a device reports having seen. */
export interface SeenHeadView {
  readonly stream: string;
  readonly length: number;
  readonly hash: Uint8Array;
}

interface DocumentRecordView {
  readonly tenantId: string;
  readonly tenantPosition: number;
  readonly committeeId: string;
  readonly documentId: string;
  readonly committeeHead: ChainHeadView;
}

/**
 * The fields the domain reads from each record's body, named and typed as `@ratsfach/crypto`
 * decodes them (see its FORMAT.md; times are Unix seconds, counts are numbers, fingerprints 64
 * lowercase hex digits, hashes 64 bytes). Records hold more fields; the domain ignores those.
 */
export interface RecordViews {
  'tenant-created': { readonly tenantId: string; readonly createdAt: number };
  'admin-device-certificate': {
    readonly tenantId: string;
    readonly userId: string;
    readonly deviceId: string;
    readonly signingKey: Uint8Array;
    readonly notBefore: number;
    readonly notAfter: number;
  };
  'admin-device-revocation': {
    readonly tenantId: string;
    readonly deviceId: string;
    readonly fingerprint: string;
  };
  heartbeat: {
    readonly tenantId: string;
    readonly signerDeviceId: string;
    readonly time: number;
    readonly userHeads: Readonly<Record<string, Uint8Array>>;
    /** Every committee chain's head as the admin agent saw it (issue 8 item 1). */
    readonly committeeHeads: Readonly<Record<string, ChainHeadView>>;
  };
  'checkpoint-countersignature': {
    readonly tenantId: string;
    readonly signerDeviceId: string;
    readonly treeSize: number;
    readonly rootHash: Uint8Array;
    readonly serviceSignature: Uint8Array;
  };
  'user-created': {
    readonly tenantPosition: number;
    readonly tenantId: string;
    readonly userId: string;
  };
  'device-certificate': {
    readonly tenantPosition: number;
    readonly tenantId: string;
    readonly userId: string;
    readonly deviceId: string;
    readonly signingKey: Uint8Array;
    readonly notBefore: number;
    readonly notAfter: number;
  };
  'device-revocation': {
    readonly tenantPosition: number;
    readonly tenantId: string;
    readonly userId: string;
    readonly deviceId: string;
    readonly fingerprint: string;
  };
  'heads-seen': {
    readonly tenantPosition: number;
    readonly tenantId: string;
    readonly userId: string;
    readonly deviceId: string;
    readonly heads: readonly SeenHeadView[];
  };
  'device-confirmation': {
    readonly tenantPosition: number;
    readonly tenantId: string;
    readonly userId: string;
    readonly deviceId: string;
    readonly fingerprint: string;
    readonly committeeId: string | null;
  };
  'committee-created': {
    readonly tenantPosition: number;
    readonly tenantId: string;
    readonly committeeId: string;
  };
  membership: {
    readonly tenantPosition: number;
    readonly tenantId: string;
    readonly committeeId: string;
    readonly userId: string;
    readonly change: string;
    readonly role: string;
  };
  'membership-cosignature': {
    readonly tenantPosition: number;
    readonly tenantId: string;
    readonly committeeId: string;
    readonly membershipSequence: number;
    readonly membershipHash: Uint8Array;
  };
  'key-epoch': {
    readonly tenantPosition: number;
    readonly tenantId: string;
    readonly committeeId: string;
    readonly epoch: number;
    readonly wrappedKeys: readonly WrappedKeyView[];
  };
  'epoch-keys': {
    readonly tenantPosition: number;
    readonly tenantId: string;
    readonly committeeId: string;
    readonly epoch: number;
    readonly wrappedKeys: readonly WrappedKeyView[];
  };
  retention: {
    readonly tenantPosition: number;
    readonly tenantId: string;
    readonly committeeId: string;
    readonly retentionDays: number | null;
  };
  'legal-hold': {
    readonly tenantPosition: number;
    readonly tenantId: string;
    readonly committeeId: string;
    readonly documentId: string | null;
    readonly active: boolean;
  };
  'document-created': DocumentRecordView & { readonly epoch: number };
  version: DocumentRecordView & {
    readonly version: number;
    readonly parentVersion: number | null;
    readonly epoch: number;
    readonly contentHash: Uint8Array;
    readonly size: number;
    readonly keySlotHash: Uint8Array;
    readonly authorDeviceId: string;
  };
  'document-moved': DocumentRecordView & {
    readonly epoch: number;
    /** The version whose content key encrypts the new metadata: the head version. */
    readonly version: number;
  };
  'document-deleted': DocumentRecordView;
  'document-restored': DocumentRecordView;
  'document-erased': DocumentRecordView;
}

const chainHead = { object: { length: 'int', hash: 'hash' } } as const;
const wrappedKeys = {
  arrayOf: { recipient: 'fingerprint', kemCiphertext: 'bytes', nonce: 'bytes', sealedKey: 'bytes' },
} as const;
const documentRecord = {
  tenantId: 'id',
  tenantPosition: 'int',
  committeeId: 'id',
  documentId: 'id',
  committeeHead: chainHead,
} as const;

/** The shape of each record view, checked before the domain reads a verified record. */
export const recordViewShapes = {
  'tenant-created': { tenantId: 'id', createdAt: 'int' },
  'admin-device-certificate': {
    tenantId: 'id',
    userId: 'id',
    deviceId: 'id',
    signingKey: 'bytes',
    notBefore: 'int',
    notAfter: 'int',
  },
  'admin-device-revocation': { tenantId: 'id', deviceId: 'id', fingerprint: 'fingerprint' },
  heartbeat: {
    tenantId: 'id',
    signerDeviceId: 'id',
    time: 'int',
    userHeads: { recordOf: 'hash' },
    committeeHeads: { recordOf: chainHead },
  },
  'checkpoint-countersignature': {
    tenantId: 'id',
    signerDeviceId: 'id',
    treeSize: 'int',
    rootHash: 'hash',
    serviceSignature: 'bytes',
  },
  'user-created': { tenantPosition: 'int', tenantId: 'id', userId: 'id' },
  'device-certificate': {
    tenantPosition: 'int',
    tenantId: 'id',
    userId: 'id',
    deviceId: 'id',
    signingKey: 'bytes',
    notBefore: 'int',
    notAfter: 'int',
  },
  'device-revocation': {
    tenantPosition: 'int',
    tenantId: 'id',
    userId: 'id',
    deviceId: 'id',
    fingerprint: 'fingerprint',
  },
  'heads-seen': {
    tenantPosition: 'int',
    tenantId: 'id',
    userId: 'id',
    deviceId: 'id',
    heads: { arrayOf: { stream: 'string', length: 'int', hash: 'hash' } },
  },
  'device-confirmation': {
    tenantPosition: 'int',
    tenantId: 'id',
    userId: 'id',
    deviceId: 'id',
    fingerprint: 'fingerprint',
    committeeId: { nullable: 'id' },
  },
  'committee-created': { tenantPosition: 'int', tenantId: 'id', committeeId: 'id' },
  membership: {
    tenantPosition: 'int',
    tenantId: 'id',
    committeeId: 'id',
    userId: 'id',
    change: 'string',
    role: 'string',
  },
  'membership-cosignature': {
    tenantPosition: 'int',
    tenantId: 'id',
    committeeId: 'id',
    membershipSequence: 'int',
    membershipHash: 'hash',
  },
  'key-epoch': {
    tenantPosition: 'int',
    tenantId: 'id',
    committeeId: 'id',
    epoch: 'int',
    wrappedKeys,
  },
  'epoch-keys': {
    tenantPosition: 'int',
    tenantId: 'id',
    committeeId: 'id',
    epoch: 'int',
    wrappedKeys,
  },
  retention: {
    tenantPosition: 'int',
    tenantId: 'id',
    committeeId: 'id',
    retentionDays: { nullable: 'int' },
  },
  'legal-hold': {
    tenantPosition: 'int',
    tenantId: 'id',
    committeeId: 'id',
    documentId: { nullable: 'id' },
    active: 'boolean',
  },
  'document-created': { ...documentRecord, epoch: 'int' },
  version: {
    ...documentRecord,
    version: 'int',
    parentVersion: { nullable: 'int' },
    epoch: 'int',
    contentHash: 'hash',
    size: 'int',
    keySlotHash: 'hash',
    authorDeviceId: 'id',
  },
  'document-moved': { ...documentRecord, epoch: 'int', version: 'int' },
  'document-deleted': documentRecord,
  'document-restored': documentRecord,
  'document-erased': documentRecord,
} as const satisfies { readonly [P in RecordPurpose]: ShapeOf<RecordViews[P]> };

/** The record view shape of a purpose. */
export const recordViewShape = (purpose: RecordPurpose): ObjectShape => recordViewShapes[purpose];
