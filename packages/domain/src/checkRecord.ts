import { ConflictError, IntegrityError } from './errors.js';
import { DomainErrorCode } from './domainErrorCode.js';
import { recordLabel } from './signedRecord.js';
import type {
  RecordFieldValue,
  RecordPurpose,
  RecordVerifier,
  VerifiedRecord,
} from './signedRecord.js';
import type { Chain } from './chain.js';
import { bytesEqual, valueEqual } from './valueEqual.js';

/**
 * Verifies a signed record for a command and checks what the server can check without keys:
 * the purpose label, the chain position (sequence and previous hash equal the stream's chain,
 * else ConflictError CHAIN_STALE) and that every indexed field the command states equals the
 * field the device signed (else IntegrityError RECORD_MISMATCH). Whether the signer may sign is
 * left to the caller, which knows the devices.
 */
export function checkRecord(
  verifier: RecordVerifier,
  bytes: Uint8Array,
  purpose: RecordPurpose,
  chain: Chain,
  expected: Readonly<Record<string, RecordFieldValue>>,
): VerifiedRecord {
  const label = recordLabel(purpose);
  const verified = verifier.verify(bytes, label);
  if (verified.label !== label) {
    throw new IntegrityError(
      DomainErrorCode.recordLabelMismatch,
      `the record is labelled ${JSON.stringify(verified.label)}, expected ${JSON.stringify(label)}`,
      {
        hint: 'sign a record of the purpose this command needs',
        details: { label: verified.label, expected: label },
      },
    );
  }
  if (verified.sequence !== chain.length || !bytesEqual(verified.previousHash, chain.head)) {
    throw new ConflictError(
      DomainErrorCode.chainStale,
      `the record names chain position ${verified.sequence}, the stream's chain is at ${chain.length}`,
      {
        hint: 'the stream changed since the record was signed: sync, re-sign against the current head and retry',
        details: { sequence: verified.sequence, chainLength: chain.length },
      },
    );
  }
  for (const [field, value] of Object.entries(expected)) {
    if (!valueEqual(verified.fields[field], value)) {
      throw new IntegrityError(
        DomainErrorCode.recordMismatch,
        `the signed record's field ${JSON.stringify(field)} does not match the command`,
        {
          hint: 'send the indexed fields exactly as the device signed them',
          details: { field },
        },
      );
    }
  }
  return verified;
}
