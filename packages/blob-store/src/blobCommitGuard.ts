import { randomBytes } from 'node:crypto';
import { assertBlobRef, type BlobRef } from './blobRef.js';
import type { BlobStore } from './blobStore.js';
import { BlobGcLedger } from './blobGcLedger.js';
import { BlobCondemnedError, BlobNotFoundError, BlobOptionInvalidError } from './errors.js';

/** What `reserve` hands back: release it once the append is done, committed or not. */
export interface BlobCommitReservation {
  readonly id: string;
  /** Drops the reservation (best effort: a leftover one is resolved by the collector's fence). */
  release(): Promise<void>;
}

export interface BlobCommitGuardOptions {
  readonly store: BlobStore;
  readonly now?: () => Date;
}

/**
 * The hook the API's commit path calls before it appends a record that names blobs (a
 * version's content blob and key slot):
 *
 * ```ts
 * const reservation = await guard.reserve({ tenant, commandId, refs });
 * try {
 *   await eventStore.append(stream, events, expected, { commandId });
 * } finally {
 *   await reservation.release();
 * }
 * ```
 *
 * `reserve` first records the reservation (naming the command id), and only then checks each
 * blob: it must exist and must not be condemned by the garbage collector (or be stored again
 * after it was condemned), else BlobNotFoundError or BlobCondemnedError, and nothing was
 * appended: the client uploads the blob again and retries. The collector deletes a condemned
 * blob only after it saw no reservation naming it, and resolves a reservation left behind only by
 * fencing its command id in the event log, so that command can never be appended afterwards.
 * The package README gives the whole argument.
 */
export class BlobCommitGuard {
  readonly #store: BlobStore;
  readonly #ledger: BlobGcLedger;
  readonly #now: () => Date;

  constructor(options: BlobCommitGuardOptions) {
    this.#store = options.store;
    this.#ledger = new BlobGcLedger(options.store.gcShelf);
    this.#now = options.now ?? (() => new Date());
  }

  async reserve(input: {
    readonly tenant: string;
    readonly commandId: string;
    readonly refs: readonly BlobRef[];
  }): Promise<BlobCommitReservation> {
    for (const ref of input.refs) {
      assertBlobRef(ref);
      if (ref.tenant !== input.tenant) {
        throw new BlobOptionInvalidError('a commit may only name blobs of its own tenant', {
          details: { tenant: input.tenant, refTenant: ref.tenant },
        });
      }
    }
    if (typeof input.commandId !== 'string' || input.commandId.length === 0) {
      throw new BlobOptionInvalidError('a reservation needs the command id of the append', {
        details: {},
      });
    }
    const id = randomBytes(16).toString('hex');
    const tenant = input.tenant;
    // The reservation is recorded before anything is checked: a collector that condemns after
    // the checks below sees it, one that condemned before is seen by them.
    await this.#ledger.reserve({
      tenant,
      id,
      commandId: input.commandId,
      refs: input.refs,
      createdAt: this.#now(),
    });
    const release = () => this.#ledger.release(tenant, id);
    try {
      for (const ref of input.refs) {
        const [info, mark] = await Promise.all([
          this.#store.head(ref),
          this.#ledger.condemnation(ref),
        ]);
        if (info === null) {
          throw new BlobNotFoundError(
            `the record names ${ref.kind} ${ref.hash.slice(0, 16)}…, which is not stored`,
            {
              details: { tenant, kind: ref.kind, hash: ref.hash },
            },
          );
        }
        if (mark !== null && (mark.deleting || info.createdAt <= mark.condemnedAt)) {
          throw new BlobCondemnedError(
            `${ref.kind} ${ref.hash.slice(0, 16)}… is condemned by the garbage collector`,
            { details: { tenant, kind: ref.kind, hash: ref.hash, deleting: mark.deleting } },
          );
        }
      }
    } catch (error) {
      await release().catch(() => undefined);
      throw error;
    }
    return { id, release };
  }
}
