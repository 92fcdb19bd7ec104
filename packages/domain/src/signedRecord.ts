/**
 * The domain's view of a signed record. Devices sign records; events carry the exact signed
 * bytes next to a few indexed fields. The codec and the signature check live in
 * `@ratsfach/crypto`, which implements `RecordVerifier`; the domain only states what it needs.
 */

/** Every signed record starts with this label, followed by its purpose (DESIGN.md). */
export const recordLabelPrefix = 'ratsfach/v1/';

/**
 * The purposes of signed records. A signature made for one purpose never verifies as another,
 * because the full label (`ratsfach/v1/<purpose>`) is inside the signed bytes.
 */
export const RecordPurpose = {
  /** The tenant's genesis record, signed by the offline root. */
  tenantCreated: 'tenant-created',
  /** The root certifies an admin device. */
  adminDeviceCertificate: 'admin-device-certificate',
  /** The root revokes an admin device. */
  adminDeviceRevocation: 'admin-device-revocation',
  /** An admin device's heartbeat naming the tenant head and every member's user-chain head. */
  heartbeat: 'heartbeat',
  /** An admin device countersigns a signed tree head of the service's Merkle log. */
  checkpointCountersignature: 'checkpoint-countersignature',
  /** An admin device creates a user account. */
  userCreated: 'user-created',
  /** An admin device certifies a user device. */
  deviceCertificate: 'device-certificate',
  /** An admin device revokes a user device. */
  deviceRevocation: 'device-revocation',
  /** A device's record of the chain heads it has seen (fork detection). */
  headsSeen: 'heads-seen',
  /** An admin device creates a committee. */
  committeeCreated: 'committee-created',
  /** An admin device adds, removes or changes the role of a member. */
  membership: 'membership',
  /** A staff device co-signs a membership record (needed before keys are wrapped for it). */
  membershipCosignature: 'membership-cosignature',
  /** A staff device starts a key epoch. */
  keyEpoch: 'key-epoch',
  /** A staff device publishes wrapped epoch keys for devices. */
  epochKeys: 'epoch-keys',
  /** A staff or admin device sets the committee's retention rule. */
  retention: 'retention',
  /** An admin device places or lifts a legal hold. */
  legalHold: 'legal-hold',
  /** A staff device creates a document. */
  documentCreated: 'document-created',
  /** A staff device commits a document version. */
  version: 'version',
  /** A staff device moves a document (the encrypted folder changes). */
  documentMoved: 'document-moved',
  /** A staff device deletes a document (restorable). */
  documentDeleted: 'document-deleted',
  /** A staff device restores a deleted document. */
  documentRestored: 'document-restored',
  /** A staff device erases a document for good (its key slots are destroyed). */
  documentErased: 'document-erased',
} as const;
export type RecordPurpose = (typeof RecordPurpose)[keyof typeof RecordPurpose];

/** The full label for a purpose: `ratsfach/v1/<purpose>`. */
export const recordLabel = (purpose: RecordPurpose): string => `${recordLabelPrefix}${purpose}`;

/** A value inside a record's own fields, as the codec decodes it. */
export type RecordFieldValue =
  | string
  | number
  | bigint
  | boolean
  | null
  | Uint8Array
  | readonly RecordFieldValue[]
  | { readonly [key: string]: RecordFieldValue };

/** What the server needs from a record whose signature checked out. */
export interface VerifiedRecord {
  /** The full label found in the bytes, equal to the expected one (`ratsfach/v1/<purpose>`). */
  readonly label: string;
  /**
   * Fingerprint of the signer's public signing key, as the crypto package defines it (an opaque,
   * stable string). Certificates name devices by the same fingerprint, so the domain can tell
   * which certified device signed.
   */
  readonly signerFingerprint: string;
  /** Position of the record in its chain, from 0. */
  readonly sequence: number;
  /** Hash of the chain's previous record; 64 zero bytes for sequence 0. */
  readonly previousHash: Uint8Array;
  /** BLAKE2b-512 of the exact signed bytes: what the next record of the chain names. */
  readonly hash: Uint8Array;
  /**
   * The record's own fields, named as the indexed fields of the event that carries it
   * (`committeeId`, `documentId`, `epoch`, `contentHash`, ...), so the domain can check that
   * the indexed fields the server stores agree with what the device signed.
   */
  readonly fields: Readonly<Record<string, RecordFieldValue>>;
}

/**
 * Verifies a signed record. Synchronous and pure, so deciders can call it: an implementation
 * finishes any asynchronous set-up (loading libsodium) before it is handed to the domain.
 */
export interface RecordVerifier {
  /**
   * Decodes `bytes`, checks that its label is exactly `expectedLabel` and that its signature
   * verifies under the signer key the record names, and returns the decoded fields.
   * Throws IntegrityError (code `RATSFACH_CRYPTO_...`) on a wrong label, a bad signature or
   * malformed bytes. It does not judge whether the signer may sign: the domain does that.
   */
  verify(bytes: Uint8Array, expectedLabel: string): VerifiedRecord;
  /**
   * The fingerprint of a public signing key: the name certificates give a device, equal to the
   * `signerFingerprint` of a record verified under that key. The domain computes it from a
   * certificate's `signingKey` to match later signers against certified devices.
   */
  fingerprint(publicKey: Uint8Array): string;
}
