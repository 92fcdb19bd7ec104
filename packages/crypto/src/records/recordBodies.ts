/**
 * The typed body of every record purpose, mirroring `recordSchemas` field for field. Fingerprints
 * are 64 lowercase hex digits; times are Unix seconds; hashes are 64 bytes.
 */

export interface ChainHead {
  /** Number of records in the chain (the next record's sequence). */
  readonly length: number;
  /** Hash of the chain's last record; 64 zero bytes when empty. */
  readonly hash: Uint8Array;
}

export interface WrappedKey {
  /** Fingerprint of the recipient device's signing key. */
  readonly recipient: string;
  readonly kemCiphertext: Uint8Array;
  readonly nonce: Uint8Array;
  readonly sealedKey: Uint8Array;
}

export interface SeenHead extends ChainHead {
  /** The stream name of the chain (`committee-<t>-<id>`, ...). */
  readonly stream: string;
}

interface DocumentRecordBody {
  readonly tenantId: string;
  readonly committeeId: string;
  readonly documentId: string;
  readonly tenantPosition: number;
  /** The committee chain head the record was written against. */
  readonly committeeHead: ChainHead;
}

export type MembershipChange = 'add' | 'remove' | 'changeRole';
export type CommitteeRole = 'staff' | 'reader' | 'deputy';
export type EpochReason = 'initial' | 'removal' | 'revocation' | 'rotation';

export interface RecordBodies {
  'tenant-created': { readonly tenantId: string; readonly createdAt: number };
  'admin-device-certificate': {
    readonly tenantId: string;
    readonly userId: string;
    readonly deviceId: string;
    readonly signingKey: Uint8Array;
    readonly kemKey: Uint8Array;
    readonly notBefore: number;
    readonly notAfter: number;
  };
  'admin-device-revocation': {
    readonly tenantId: string;
    readonly deviceId: string;
    readonly fingerprint: string;
    readonly reason: string;
  };
  heartbeat: {
    readonly tenantId: string;
    readonly signerDeviceId: string;
    readonly time: number;
    /** Every member's user-chain head hash, by user id. */
    readonly userHeads: Readonly<Record<string, Uint8Array>>;
  };
  'checkpoint-countersignature': {
    readonly tenantId: string;
    readonly signerDeviceId: string;
    readonly treeSize: number;
    readonly rootHash: Uint8Array;
    readonly serviceSignature: Uint8Array;
  };
  'user-created': {
    readonly tenantId: string;
    readonly userId: string;
    readonly tenantPosition: number;
  };
  'device-certificate': {
    readonly tenantId: string;
    readonly userId: string;
    readonly deviceId: string;
    readonly signingKey: Uint8Array;
    readonly kemKey: Uint8Array;
    readonly notBefore: number;
    readonly notAfter: number;
    readonly tenantPosition: number;
    readonly enrolmentCodeId: Uint8Array | null;
  };
  'device-revocation': {
    readonly tenantId: string;
    readonly userId: string;
    readonly deviceId: string;
    readonly fingerprint: string;
    readonly tenantPosition: number;
    readonly reason: string;
  };
  'heads-seen': {
    readonly tenantId: string;
    readonly userId: string;
    readonly deviceId: string;
    readonly tenantPosition: number;
    readonly heads: readonly SeenHead[];
  };
  'committee-created': {
    readonly tenantId: string;
    readonly committeeId: string;
    readonly tenantPosition: number;
  };
  membership: {
    readonly tenantId: string;
    readonly committeeId: string;
    readonly userId: string;
    readonly change: MembershipChange;
    readonly role: CommitteeRole;
    readonly tenantPosition: number;
  };
  'membership-cosignature': {
    readonly tenantId: string;
    readonly committeeId: string;
    readonly membershipSequence: number;
    readonly membershipHash: Uint8Array;
    readonly tenantPosition: number;
  };
  'key-epoch': {
    readonly tenantId: string;
    readonly committeeId: string;
    readonly epoch: number;
    readonly reason: EpochReason;
    readonly tenantPosition: number;
    readonly keyCommitment: Uint8Array;
    readonly previousKey: { readonly nonce: Uint8Array; readonly sealedKey: Uint8Array } | null;
    readonly wrappedKeys: readonly WrappedKey[];
  };
  'epoch-keys': {
    readonly tenantId: string;
    readonly committeeId: string;
    readonly epoch: number;
    readonly tenantPosition: number;
    readonly wrappedKeys: readonly WrappedKey[];
  };
  retention: {
    readonly tenantId: string;
    readonly committeeId: string;
    readonly tenantPosition: number;
    /**
     * Days a deleted document must stay deleted before it may be erased; null: no retention rule
     * (erasure is allowed at any time unless a legal hold applies), as the domain decides it.
     */
    readonly retentionDays: number | null;
  };
  'legal-hold': {
    readonly tenantId: string;
    readonly committeeId: string;
    /** The held document, or null for the whole committee. */
    readonly documentId: string | null;
    readonly active: boolean;
    readonly reference: string;
    readonly tenantPosition: number;
  };
  'document-created': DocumentRecordBody & { readonly epoch: number };
  version: DocumentRecordBody & {
    readonly version: number;
    readonly parentVersion: number | null;
    readonly epoch: number;
    /** The part-wise blob hash of the encrypted content. */
    readonly contentHash: Uint8Array;
    /** Size in bytes of the encrypted content. */
    readonly size: number;
    readonly keySlotHash: Uint8Array;
    readonly authorDeviceId: string;
    /**
     * The version's metadata (name, folder, MIME type, times) as `encryptMetadata` made it: under
     * this version's content key, bound to tenant, document, this version and its epoch. Signed
     * here, so neither the server nor a reader holding the content key can change it unnoticed.
     */
    readonly encryptedMetadata: Uint8Array;
  };
  'document-moved': DocumentRecordBody & {
    readonly epoch: number;
    /** The version the new metadata belongs to: the head version when the move was signed. */
    readonly version: number;
    /**
     * The new metadata (name, folder, ...) encrypted on the device under that version's content
     * key and bound to that version and its epoch, exactly as a version record's.
     */
    readonly encryptedMetadata: Uint8Array;
  };
  'document-deleted': DocumentRecordBody;
  'document-restored': DocumentRecordBody;
  'document-erased': DocumentRecordBody;
  'enrolment-request': {
    readonly tenantId: string;
    readonly userId: string;
    readonly deviceId: string;
    readonly codeId: Uint8Array;
    readonly signingKey: Uint8Array;
    readonly kemKey: Uint8Array;
    readonly mac: Uint8Array;
  };
  'login-proof': {
    readonly tenantId: string;
    readonly deviceId: string;
    readonly challenge: Uint8Array;
  };
  checkpoint: {
    readonly tenantId: string;
    readonly treeSize: number;
    readonly rootHash: Uint8Array;
    readonly time: number;
  };
}
