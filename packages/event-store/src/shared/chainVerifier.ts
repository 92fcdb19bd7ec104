import { bytesEqual } from '@ratsfach/kernel';
import { eventHash, GENESIS_PREV_HASH } from './eventHash.js';
import type { RecordedEvent, VerifyProblem, VerifyReport } from '../eventStore.js';

/**
 * Checks events one by one, in stream order per stream (the whole log in global order keeps
 * that), and names the first that breaks its stream's chain. Every adapter's `verify` feeds its
 * events through this, so "broken" means the same on every backend.
 */
export class ChainVerifier {
  readonly #heads = new Map<string, { revision: bigint; hash: Uint8Array }>();
  #checked = 0;

  get eventsChecked(): number {
    return this.#checked;
  }

  /** Returns the problem with this event, or null when it extends its chain correctly. */
  check(event: RecordedEvent): VerifyProblem | null {
    this.#checked += 1;
    const problem = (reason: VerifyProblem['reason']): VerifyProblem => ({
      stream: event.stream,
      revision: event.revision,
      globalPosition: event.globalPosition,
      reason,
    });
    // A damaged store can hand back hashes of the wrong length; eventHash would throw on them.
    if (event.hash.length !== 64 || event.prevHash.length !== 64) return problem('undecodable');
    const head = this.#heads.get(event.stream);
    const expectedRevision = head === undefined ? 0n : head.revision + 1n;
    if (event.revision !== expectedRevision) return problem('revision_gap');
    const expectedPrev = head === undefined ? GENESIS_PREV_HASH : head.hash;
    if (!bytesEqual(event.prevHash, expectedPrev)) return problem('prev_hash_mismatch');
    const recomputed = eventHash(event);
    if (!bytesEqual(recomputed, event.hash)) return problem('hash_mismatch');
    this.#heads.set(event.stream, { revision: event.revision, hash: event.hash });
    return null;
  }
}

/**
 * An adapter's `verify` over events it reads in order: checks them through one ChainVerifier and
 * stops reading at the first problem.
 */
export async function verifyChain(events: AsyncIterable<RecordedEvent>): Promise<VerifyReport> {
  const verifier = new ChainVerifier();
  for await (const event of events) {
    const problem = verifier.check(event);
    if (problem !== null) return { eventsChecked: verifier.eventsChecked, firstProblem: problem };
  }
  return { eventsChecked: verifier.eventsChecked, firstProblem: null };
}
