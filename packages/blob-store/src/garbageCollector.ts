import { assertBlobRef, BlobKind } from './blobRef.js';
import type { BlobRef } from './blobRef.js';
import type { BlobInfo, BlobStore, UploadSession } from './blobStore.js';
import { BlobOptionInvalidError, type BlobSessionDamagedError } from './errors.js';

/**
 * Every object a live document references: the read model's `blobReferences` fits
 * (`@ratsfach/read-model`, projected from the event log). Called once per run, after the run's clock was read, so that any
 * record committed before the run started is in it.
 */
export type ReferenceSource = () => AsyncIterable<BlobRef>;

export interface GarbageCollectorOptions {
  readonly store: BlobStore;
  readonly references: ReferenceSource;
  /**
   * An unreferenced object younger than this is kept: it may have been uploaded for a record
   * not yet committed (a blob is stored before its record). Default 24 h.
   */
  readonly graceMs?: number;
  /** A session without a write for this long is abandoned and aborted. Default 24 h. */
  readonly sessionTtlMs?: number;
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
  /** Report what would be deleted and aborted, but change nothing. */
  readonly dryRun?: boolean;
}

/** What one run did (or, in a dry run, would do). */
export interface GarbageCollectionReport {
  readonly dryRun: boolean;
  readonly startedAt: Date;
  readonly finishedAt: Date;
  /** Objects listed in the collected kinds. */
  readonly scanned: number;
  /** Unreferenced objects older than the grace period: deleted (or to delete in a dry run). */
  readonly deleted: readonly BlobInfo[];
  /** Bytes of `deleted`. */
  readonly deletedBytes: number;
  /** Kept because a live document references them. */
  readonly keptReferenced: number;
  /** Kept because an open session is about to complete the same object. */
  readonly keptBySession: number;
  /** Kept because they are younger than the grace period. */
  readonly keptYoung: number;
  /** Abandoned sessions: aborted (or to abort in a dry run). */
  readonly abortedSessions: readonly UploadSession[];
  /**
   * Sessions whose stored state is damaged: skipped (neither aborted nor protecting an object),
   * for an operator to look at; the run goes on.
   */
  readonly damagedSessions: readonly DamagedSession[];
}

/** A session the collector skipped because its stored state is damaged. */
export interface DamagedSession {
  readonly tenant: string;
  readonly sessionId: string;
  readonly error: BlobSessionDamagedError;
}

const refKey = (r: BlobRef): string => `${r.tenant}/${r.kind}/${r.hash}`;

/**
 * Deletes unreferenced objects older than a grace period and aborts abandoned upload sessions.
 *
 * An object survives when a live (not erased) document references it, when it is younger than
 * the grace period, or when an open (not abandoned) session targets it, because completing that
 * session would otherwise succeed against an object about to vanish. Completing a session for
 * an existing object restarts the object's age, so a re-upload of an orphan is safe as well.
 *
 * The clock is read before the references, and references before the listing, so a record
 * committed before the run began is always seen.
 */
export class GarbageCollector {
  readonly #store: BlobStore;
  readonly #references: ReferenceSource;
  readonly #graceMs: number;
  readonly #sessionTtlMs: number;
  readonly #kinds: readonly BlobKind[];
  readonly #tenants: () => AsyncIterable<string>;
  readonly #now: () => Date;

  constructor(options: GarbageCollectorOptions) {
    this.#store = options.store;
    this.#references = options.references;
    this.#graceMs = options.graceMs ?? 24 * 3600_000;
    this.#sessionTtlMs = options.sessionTtlMs ?? 24 * 3600_000;
    this.#kinds = options.kinds ?? [BlobKind.blob];
    this.#tenants = options.tenants ?? (() => options.store.listTenants());
    this.#now = options.now ?? (() => new Date());
    for (const [name, value] of [
      ['graceMs', this.#graceMs],
      ['sessionTtlMs', this.#sessionTtlMs],
    ] as const) {
      if (!Number.isFinite(value) || value < 0) {
        throw new BlobOptionInvalidError(`${name} ${String(value)} is not a duration >= 0`, {
          details: { [name]: value },
        });
      }
    }
  }

  /** One collection run over every tenant. */
  async collect(options: GarbageCollectionOptions = {}): Promise<GarbageCollectionReport> {
    const dryRun = options.dryRun ?? false;
    const startedAt = this.#now();
    const referenced = new Set<string>();
    for await (const ref of this.#references()) {
      assertBlobRef(ref);
      referenced.add(refKey(ref));
    }
    const deleted: BlobInfo[] = [];
    const abortedSessions: UploadSession[] = [];
    const damagedSessions: DamagedSession[] = [];
    let scanned = 0;
    let keptReferenced = 0;
    let keptBySession = 0;
    let keptYoung = 0;
    let deletedBytes = 0;

    for await (const tenant of this.#tenants()) {
      const pending = new Set<string>();
      const onDamaged = (error: BlobSessionDamagedError): void => {
        const sessionId = (error.details as { sessionId?: unknown } | undefined)?.sessionId;
        damagedSessions.push({ tenant, sessionId: String(sessionId), error });
      };
      for await (const session of this.#store.listSessions(tenant, { onDamaged })) {
        const idleMs = startedAt.getTime() - session.updatedAt.getTime();
        if (idleMs > this.#sessionTtlMs) {
          abortedSessions.push(session);
          if (!dryRun) await this.#store.abortSession(tenant, session.id);
        } else {
          pending.add(refKey(session));
        }
      }
      for (const kind of this.#kinds) {
        const doomed: BlobInfo[] = [];
        for await (const info of this.#store.list(tenant, kind)) {
          scanned++;
          const key = refKey(info);
          if (referenced.has(key)) keptReferenced++;
          else if (pending.has(key)) keptBySession++;
          else if (startedAt.getTime() - info.createdAt.getTime() <= this.#graceMs) keptYoung++;
          else doomed.push(info);
        }
        // A session opened while the objects were listed protects its object too.
        if (doomed.length > 0 && !dryRun) {
          for await (const session of this.#store.listSessions(tenant, {
            onDamaged: () => undefined,
          })) {
            pending.add(refKey(session));
          }
        }
        // Deleting after the listing, not during it, keeps backends' list cursors valid.
        for (const info of doomed) {
          if (!dryRun) {
            if (pending.has(refKey(info))) {
              keptBySession++;
              continue;
            }
            const current = await this.#store.head(info);
            // Stored again since it was listed: its age restarted, so it is spared this run.
            if (current === null || current.createdAt.getTime() > info.createdAt.getTime()) {
              continue;
            }
            await this.#store.delete(info);
          }
          deleted.push(info);
          deletedBytes += info.size;
        }
      }
    }
    return {
      dryRun,
      startedAt,
      finishedAt: this.#now(),
      scanned,
      deleted,
      deletedBytes,
      keptReferenced,
      keptBySession,
      keptYoung,
      abortedSessions,
      damagedSessions,
    };
  }
}
