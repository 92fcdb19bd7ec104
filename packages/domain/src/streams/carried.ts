import type { RecordCarrier, VerifiedRecord } from '@ratsfach/kernel';
import { domainErrors } from '../domainErrors.js';

/**
 * The tail of every event that carries a signed record: who signed it (as the command named
 * them), the exact bytes, their hash (the chain's new head) and their position in the chain.
 */
export function recordTail<Signer extends object>(
  signer: Signer,
  record: Uint8Array,
  verified: VerifiedRecord,
): Signer & RecordCarrier {
  return { ...signer, record, recordHash: verified.hash, sequence: verified.sequence };
}

/**
 * Refuses a command that names another stream than the one it is decided on (the ids it names
 * differ from the ids the stream was created with): ValidationError COMMAND_MALFORMED naming
 * `field`. Without it a record signed for one stream could be appended to another.
 */
export function requireOwnStream(
  field: string,
  named: readonly string[],
  owner: readonly string[],
): void {
  if (named.length !== owner.length || named.some((id, i) => id !== owner[i])) {
    throw domainErrors.commandMalformed(
      field,
      `names ${named.join('/')}, the stream belongs to ${owner.join('/')}`,
    );
  }
}
