import type { RecordFieldValue } from './records/fieldType.js';

/**
 * The port through which the server checks signed records. `@ratsfach/crypto` implements it
 * (`createRecordVerifier`); the domain calls it from its deciders and judges the result.
 */
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
