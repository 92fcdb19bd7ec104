import { type ChainHead, hashLength } from '@ratsfach/kernel';
import { ChainError, CryptoErrorCode } from '../errors.js';
import { constantTimeEqual } from '../hash.js';
import type { OpenedRecord } from '../records/signedRecord.js';

/** The head of a chain without records. */
export const emptyHead = (): ChainHead => ({ length: 0, hash: new Uint8Array(hashLength) });

/**
 * Checks that `records` (opened, from sequence 0) form one chain: each names its position and
 * the hash of the record before it. Returns the hashes by position. Throws ChainError
 * `chainBroken` on a dropped, reordered, inserted or replaced record.
 */
export function linkChain(records: readonly OpenedRecord[], stream: string): Uint8Array[] {
  const hashes: Uint8Array[] = [];
  let head = emptyHead();
  for (const record of records) {
    if (record.sequence !== head.length || !constantTimeEqual(record.previousHash, head.hash)) {
      throw new ChainError(
        CryptoErrorCode.chainBroken,
        `${stream}: record ${record.sequence} does not follow position ${head.length}`,
        {
          hint: 'A record was dropped, reordered or replaced; the chain is refused.',
          details: { stream, sequence: record.sequence, expected: head.length },
        },
      );
    }
    hashes.push(record.hash);
    head = { length: head.length + 1, hash: record.hash };
  }
  return hashes;
}
