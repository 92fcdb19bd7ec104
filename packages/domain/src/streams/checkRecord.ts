import {
  bytesEqual,
  type RecordFieldValue,
  recordLabel,
  type RecordPurpose,
  type RecordVerifier,
  type VerifiedRecord,
} from '@ratsfach/kernel';
import { domainErrors } from '../domainErrors.js';
import type { Chain } from '../chain.js';
import { valueEqual } from '../valueEqual.js';
import { objectShapeProblem } from '../shape.js';
import { recordViewShapes } from '../recordViews.js';
import type { RecordViews } from '../recordViews.js';

/** A verified record and the fields the domain reads from it. */
export interface CheckedRecord<P extends RecordPurpose> {
  readonly verified: VerifiedRecord;
  readonly fields: RecordViews[P];
}

/**
 * Verifies a signed record for a command and checks what the server can check without keys:
 * the purpose label (IntegrityError RECORD_LABEL_MISMATCH), that the body holds the fields the
 * domain reads with their types (IntegrityError RECORD_FIELDS_INVALID), the chain position
 * (sequence and previous hash equal the stream's chain, else ConflictError CHAIN_STALE), and
 * that every field the command states equals the signed one (IntegrityError RECORD_MISMATCH).
 * Whether the signer may sign is left to the caller, which knows the devices.
 */
export function checkRecord<P extends RecordPurpose>(
  verifier: RecordVerifier,
  bytes: Uint8Array,
  purpose: P,
  chain: Chain,
  expected: Readonly<Record<string, RecordFieldValue>>,
): CheckedRecord<P> {
  const label = recordLabel(purpose);
  const verified = verifier.verify(bytes, label);
  if (verified.label !== label) throw domainErrors.recordLabelMismatch(verified.label, label);
  const problem = objectShapeProblem(recordViewShapes[purpose], verified.fields, 'record', true);
  if (problem !== null) throw domainErrors.recordFieldsInvalid(purpose, problem);
  if (verified.sequence !== chain.length || !bytesEqual(verified.previousHash, chain.head)) {
    throw domainErrors.chainStale(verified.sequence, chain.length);
  }
  for (const [field, value] of Object.entries(expected)) {
    if (!valueEqual(verified.fields[field], value)) throw domainErrors.recordMismatch(field);
  }
  return { verified, fields: verified.fields as unknown as RecordViews[P] };
}
