import { purposeOfLabel, type RecordVerifier, type VerifiedRecord } from '@ratsfach/kernel';
import { CryptoErrorCode, SignatureError } from '../errors.js';
import { fingerprint } from '../keys/fingerprint.js';
import { sodium } from '../sodium.js';
import { openRecord } from './signedRecord.js';

/**
 * The server's record check (the domain's `RecordVerifier`): signature over the exact bytes,
 * label, canonical encoding. What needs keys or the trust chain is left to devices and the
 * domain. Call after `await cryptoReady()`.
 */
export function createRecordVerifier(): RecordVerifier {
  sodium();
  return {
    verify(bytes: Uint8Array, expectedLabel: string): VerifiedRecord {
      const purpose = purposeOfLabel(expectedLabel);
      if (purpose === undefined) {
        throw new SignatureError(
          CryptoErrorCode.wrongPurpose,
          `no record purpose has the label ${JSON.stringify(expectedLabel)}`,
          { hint: 'Ask for a label ratsfach/v1/<purpose> of a known purpose.' },
        );
      }
      const opened = openRecord(bytes, purpose);
      return {
        label: opened.label,
        signerFingerprint: opened.signerFingerprint,
        sequence: opened.sequence,
        previousHash: opened.previousHash,
        hash: opened.hash,
        fields: opened.body as unknown as VerifiedRecord['fields'],
      };
    },
    fingerprint(publicKey: Uint8Array): string {
      return fingerprint(publicKey);
    },
  };
}
