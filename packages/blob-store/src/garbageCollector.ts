import { assertBlobRef, BlobKind } from './blobRef.js';
import type { BlobRef } from './blobRef.js';
import type { BlobInfo, BlobStore, UploadSession } from './blobStore.js';
import { BlobGcLedger, type Reservation } from './blobGcLedger.js';
import { BlobOptionInvalidError, type BlobSessionDamagedError } from './errors.js';

/**
 * The port the collector reads to learn which blobs committed records reference: in the
 * service, the read model's `blobReferences` projection (`@ratsfach/read-model`). Contract:
 * every call yields the references of every record whose append finished before the call began
 * (a projection that lags must first catch up with the log head). The collector calls it again
 * right before it deletes.
 */
export type ReferenceSource = () => AsyncIterable<BlobRef>;

/**
 * Makes sure a command id can never be appended from now on: appends a fence event under that
 * command id to a stream of the collector's own, and returns whether the fence landed (true:
 * the command had not been appended and never will be) or the command had been appended
 * already (false: the event store refused the id as used, CommandIdReusedError).
 */
export type CommandFence = (tenant: string, commandId: string) => Promise<boolean>;

export interface GarbageCollectorOptions {
  readonly store: BlobStore;
  readonly references: ReferenceSource;
  /**
   * An unreferenced object younger than this is kept: it may have been uploaded for a record
   * not yet committed (a blob is stored before its record). Default 24 h.
   */
  readonly graceMs?: number;
  /**
   * The second grace period: a condemned object is deleted no sooner than this after it was
   * condemned, so that commits in flight mostly see the mark and their clients upload again
   * before anything goes. Safety does not rest on it (see the README). Default 1 h.
   */
  readonly condemnGraceMs?: number;
  /** A session without a write for this long is abandoned and aborted. Default 24 h. */
  readonly sessionTtlMs?: number;
  /**
   * A reservation older than this is left over from a commit that died or hangs; the collector
   * fences its command id (`fence`) and then drops it. Default 1 h.
   */
  readonly reservationTtlMs?: number;
  /**
   * Fences a left-over reservation's command id. Without it, left-over reservations are kept,
   * and the blobs they name are never deleted (safe, but they leak).
   */
  readonly fence?: CommandFence;
  /**
   * Kinds whose references the source yields completely; only these are collected. Default
   * `['blob']`: key slots are named inside signed records the server does not decode, and are
   * deleted explicitly when a document is erased.
   */
  readonly kinds?: readonly BlobKind[];
  /** Tenants to visit; default every tenant the store lists. */
  readonly tenants?: () => AsyncIterable<string>;
  readonly now?: () => Date;
}

export interface GarbageCollectionOptions {
  /** Report what would be condemned, deleted and aborted, but change nothing. */
  readonly dryRun?: boolean;
}

/** A session the collector skipped because its stored state is damaged. */
export interface DamagedSession {
  readonly tenant: string;
  readonly sessionId: string;
  readonly error: BlobSessionDamagedError;
}

/** What one run did (or, in a dry run, would do). */
export interface GarbageCollectionReport {
  readonly dryRun: boolean;
  readonly startedAt: Date;
  readonly finishedAt: Date;
  /** Objects listed in the collected kinds. */
  readonly scanned: number;
  /** Unreferenced objects older than the grace period, marked condemned by this run. */
  readonly condemned: readonly BlobInfo[];
  /** Condemned objects deleted (or to delete in a dry run). */
  readonly deleted: readonly BlobInfo[];
  /** Bytes of `deleted`. */
  readonly deletedBytes: number;
  /** Kept because a live document references them. */
  readonly keptReferenced: number;
  /** Kept because an open session is about to complete the same object. */
  readonly keptBySession: number;
  /** Kept because they are younger than the grace period. */
  readonly keptYoung: number;
  /** Condemned, but still within the second grace period. */
  readonly keptCondemned: number;
  /** Condemned and due, but a reservation of a commit in flight names them. */
  readonly keptReserved: number;
  /** Condemned, then stored again: the condemnation was lifted. */
  readonly rescued: number;
  /** Left-over reservations whose command ids were fenced and which were dropped. */
  readonly fencedReservations: readonly Reservation[];
  /** Abandoned sessions: aborted (or to abort in a dry run). */
  readonly abortedSessions: readonly UploadSession[];
  /**
   * Sessions whose stored state is damaged: skipped (neither aborted nor protecting an object),
   * for an operator to look at; the run goes on.
   */
  readonly damagedSessions: readonly DamagedSession[];
}

const refKey = (r: BlobRef): string => `${r.tenant}/${r.kind}/${r.hash}`;

/**
 * Deletes unreferenced objects in two phases, and aborts abandoned upload sessions.
 *
 * Phase one condemns: an object no record references (per `references`), not targeted by an
 * open session, and older than `graceMs` gets a condemnation mark. From then on the commit
 * path's `BlobCommitGuard.reserve` refuses records naming it (until it is stored again).
 * Phase two, in a run at least `condemnGraceMs` later: the mark becomes "deleting", the
 * reservations are read (one naming the object keeps it), the references are read again (a
 * record that names it keeps it), and only then is it deleted. Left-over reservations are
 * resolved by fencing their command ids first. The package README argues why no interleaving
 * lets a committed record point at a deleted object.
 */
export class GarbageCollector {
  readonly #store: BlobStore;
  readonly #ledger: BlobGcLedger;
  readonly #references: ReferenceSource;
  readonly #graceMs: number;
  readonly #condemnGraceMs: number;
  readonly #sessionTtlMs: number;
  readonly #reservationTtlMs: number;
  readonly #fence: CommandFence | undefined;
  readonly #kinds: readonly BlobKind[];
  readonly #tenants: () => AsyncIterable<string>;
  readonly #now: () => Date;

  constructor(options: GarbageCollectorOptions) {
    this.#store = options.store;
    this.#ledger = new BlobGcLedger(options.store.gcShelf);
    this.#references = options.references;
    this.#graceMs = options.graceMs ?? 24 * 3600_000;
    this.#condemnGraceMs = options.condemnGraceMs ?? 3600_000;
    this.#sessionTtlMs = options.sessionTtlMs ?? 24 * 3600_000;
    this.#reservationTtlMs = options.reservationTtlMs ?? 3600_000;
    this.#fence = options.fence;
    this.#kinds = options.kinds ?? [BlobKind.blob];
    this.#tenants = options.tenants ?? (() => options.store.listTenants());
    this.#now = options.now ?? (() => new Date());
    for (const [name, value] of [
      ['graceMs', this.#graceMs],
      ['condemnGraceMs', this.#condemnGraceMs],
      ['sessionTtlMs', this.#sessionTtlMs],
      ['reservationTtlMs', this.#reservationTtlMs],
    ] as const) {
      if (!Number.isFinite(value) || value < 0) {
        throw new BlobOptionInvalidError(`${name} ${String(value)} is not a duration >= 0`, {
          details: { [name]: value },
        });
      }
    }
  }

  async #referenced(): Promise<Set<string>> {
    const referenced = new Set<string>();
    for await (const ref of this.#references()) {
      assertBlobRef(ref);
      referenced.add(refKey(ref));
    }
    return referenced;
  }

  /** One collection run over every tenant. */
  async collect(options: GarbageCollectionOptions = {}): Promise<GarbageCollectionReport> {
    const dryRun = options.dryRun ?? false;
    const store = this.#store;
    const ledger = this.#ledger;
    const startedAt = this.#now();
    const now = startedAt.getTime();
    const deleted: BlobInfo[] = [];
    const condemned: BlobInfo[] = [];
    const abortedSessions: UploadSession[] = [];
    const damagedSessions: DamagedSession[] = [];
    const fencedReservations: Reservation[] = [];
    const counts = {
      scanned: 0,
      keptReferenced: 0,
      keptBySession: 0,
      keptYoung: 0,
      keptCondemned: 0,
      keptReserved: 0,
      rescued: 0,
      deletedBytes: 0,
    };

    for await (const tenant of this.#tenants()) {
      // Left-over reservations: fence the command, then drop them.
      if (!dryRun && this.#fence !== undefined) {
        for await (const r of ledger.reservations(tenant)) {
          if (now - r.createdAt.getTime() <= this.#reservationTtlMs) continue;
          await this.#fence(tenant, r.commandId);
          await ledger.release(tenant, r.id);
          fencedReservations.push(r);
        }
      }
      const referenced = await this.#referenced();
      const pending = new Set<string>();
      const onDamaged = (error: BlobSessionDamagedError): void => {
        damagedSessions.push({ tenant, sessionId: String(error.details['sessionId']), error });
      };
      for await (const session of store.listSessions(tenant, { onDamaged })) {
        const idleMs = now - session.updatedAt.getTime();
        if (idleMs > this.#sessionTtlMs) {
          abortedSessions.push(session);
          if (!dryRun) await store.abortSession(tenant, session.id);
        } else {
          pending.add(refKey(session));
        }
      }
      const marks = new Map<string, { condemnedAt: Date; deleting: boolean }>();
      for await (const m of ledger.condemnations(tenant)) marks.set(refKey(m), m);

      for (const kind of this.#kinds) {
        const due: { info: BlobInfo; condemnedAt: Date }[] = [];
        for await (const info of store.list(tenant, kind)) {
          counts.scanned++;
          const key = refKey(info);
          const mark = marks.get(key);
          if (referenced.has(key) || pending.has(key)) {
            if (referenced.has(key)) counts.keptReferenced++;
            else counts.keptBySession++;
            if (mark !== undefined && !dryRun) await ledger.clearCondemnation(info);
          } else if (mark !== undefined && !mark.deleting && info.createdAt > mark.condemnedAt) {
            // Stored again after it was condemned: an upload for a record about to be committed.
            counts.rescued++;
            if (!dryRun) await ledger.clearCondemnation(info);
          } else if (mark !== undefined) {
            if (mark.deleting || now - mark.condemnedAt.getTime() >= this.#condemnGraceMs) {
              due.push({ info, condemnedAt: mark.condemnedAt });
            } else {
              counts.keptCondemned++;
            }
          } else if (now - info.createdAt.getTime() <= this.#graceMs) {
            counts.keptYoung++;
          } else {
            condemned.push(info);
            if (!dryRun) await ledger.condemn(info, startedAt);
            // With no second grace period the object is due in this very run, after the mark.
            if (this.#condemnGraceMs === 0) due.push({ info, condemnedAt: startedAt });
          }
        }
        if (due.length === 0) continue;
        if (dryRun) {
          for (const { info } of due) {
            deleted.push(info);
            counts.deletedBytes += info.size;
          }
          continue;
        }
        await this.#deleteDue(tenant, due, deleted, counts);
      }
    }
    return {
      dryRun,
      startedAt,
      finishedAt: this.#now(),
      scanned: counts.scanned,
      condemned,
      deleted,
      deletedBytes: counts.deletedBytes,
      keptReferenced: counts.keptReferenced,
      keptBySession: counts.keptBySession,
      keptYoung: counts.keptYoung,
      keptCondemned: counts.keptCondemned,
      keptReserved: counts.keptReserved,
      rescued: counts.rescued,
      fencedReservations,
      abortedSessions,
      damagedSessions,
    };
  }

  /**
   * Phase two for the due objects of one tenant and kind. The order is what the safety rests
   * on: mark "deleting" (reservations from now on are refused), then read the reservations and
   * the sessions, then the references, then delete.
   */
  async #deleteDue(
    tenant: string,
    due: readonly { info: BlobInfo; condemnedAt: Date }[],
    deleted: BlobInfo[],
    counts: {
      keptReferenced: number;
      keptBySession: number;
      keptReserved: number;
      rescued: number;
      deletedBytes: number;
    },
  ): Promise<void> {
    const store = this.#store;
    const ledger = this.#ledger;
    for (const { info, condemnedAt } of due) await ledger.condemn(info, condemnedAt, true);
    const reserved = new Set<string>();
    for await (const r of ledger.reservations(tenant)) {
      for (const ref of r.refs) reserved.add(refKey(ref));
    }
    const pending = new Set<string>();
    for await (const s of store.listSessions(tenant, { onDamaged: () => undefined })) {
      pending.add(refKey(s));
    }
    const referenced = await this.#referenced();
    for (const { info, condemnedAt } of due) {
      const key = refKey(info);
      if (reserved.has(key)) {
        // A commit in flight names it: back to condemned; the next run decides again.
        counts.keptReserved++;
        await ledger.condemn(info, condemnedAt, false);
        continue;
      }
      if (referenced.has(key) || pending.has(key)) {
        if (referenced.has(key)) counts.keptReferenced++;
        else counts.keptBySession++;
        await ledger.clearCondemnation(info);
        continue;
      }
      const current = await store.head(info);
      if (current !== null && current.createdAt > condemnedAt) {
        counts.rescued++;
        await ledger.clearCondemnation(info);
        continue;
      }
      if (current !== null) await store.delete(info);
      await ledger.clearCondemnation(info);
      if (current === null) continue;
      deleted.push(info);
      counts.deletedBytes += info.size;
    }
  }
}
