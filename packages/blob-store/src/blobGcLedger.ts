import { assertBlobRef, assertTenant, isBlobHash, isBlobKind, type BlobRef } from './blobRef.js';

/**
 * Small JSON records beside the objects, where every API process and the collector see them
 * (a directory under the fs root, keys under `.gc/` in the S3 bucket, a map in memory). Keys
 * are `/`-separated names of `[a-z0-9_.-]` segments. Each adapter implements it; writes are
 * atomic (a reader sees the old record, the new one, or none) and reads see every write that
 * finished before they began.
 */
export interface GcRecordShelf {
  put(key: string, value: unknown): Promise<void>;
  get(key: string): Promise<unknown>;
  delete(key: string): Promise<void>;
  /** Keys (with values) directly or indirectly under `prefix/`. */
  list(prefix: string): AsyncIterable<{ readonly key: string; readonly value: unknown }>;
}

/** A blob the collector found unreferenced and will delete after the second grace period. */
export interface Condemnation extends BlobRef {
  readonly condemnedAt: Date;
  /** True once the collector has begun to delete it: commits naming it are refused. */
  readonly deleting: boolean;
}

/** An API process about to append a record that names `refs` under `commandId`. */
export interface Reservation {
  readonly tenant: string;
  readonly id: string;
  readonly commandId: string;
  readonly refs: readonly BlobRef[];
  readonly createdAt: Date;
}

const refName = (ref: BlobRef) => `${ref.kind}.${ref.hash}`;

/**
 * The garbage collector's marks and the commit path's reservations, on any GcRecordShelf:
 * `<tenant>/condemned/<kind>.<hash>` and `<tenant>/reservations/<id>`.
 * Records that do not parse are ignored (a damaged mark only ever delays a deletion).
 */
export class BlobGcLedger {
  readonly #shelf: GcRecordShelf;

  constructor(shelf: GcRecordShelf) {
    this.#shelf = shelf;
  }

  async condemn(ref: BlobRef, condemnedAt: Date, deleting = false): Promise<void> {
    assertBlobRef(ref);
    await this.#shelf.put(`${ref.tenant}/condemned/${refName(ref)}`, {
      condemnedAt: condemnedAt.toISOString(),
      deleting,
    });
  }

  async condemnation(ref: BlobRef): Promise<Condemnation | null> {
    assertBlobRef(ref);
    return toCondemnation(ref, await this.#shelf.get(`${ref.tenant}/condemned/${refName(ref)}`));
  }

  async clearCondemnation(ref: BlobRef): Promise<void> {
    assertBlobRef(ref);
    await this.#shelf.delete(`${ref.tenant}/condemned/${refName(ref)}`);
  }

  async *condemnations(tenant: string): AsyncIterable<Condemnation> {
    assertTenant(tenant);
    for await (const { key, value } of this.#shelf.list(`${tenant}/condemned`)) {
      const name = key.slice(key.lastIndexOf('/') + 1);
      const [kind, hash] = name.split('.');
      if (!isBlobKind(kind) || !isBlobHash(hash)) continue;
      const c = toCondemnation({ tenant, kind, hash }, value);
      if (c !== null) yield c;
    }
  }

  async reserve(reservation: Reservation): Promise<void> {
    await this.#shelf.put(`${reservation.tenant}/reservations/${reservation.id}`, {
      commandId: reservation.commandId,
      refs: reservation.refs.map((r) => ({ kind: r.kind, hash: r.hash })),
      createdAt: reservation.createdAt.toISOString(),
    });
  }

  async release(tenant: string, id: string): Promise<void> {
    await this.#shelf.delete(`${tenant}/reservations/${id}`);
  }

  async *reservations(tenant: string): AsyncIterable<Reservation> {
    assertTenant(tenant);
    for await (const { key, value } of this.#shelf.list(`${tenant}/reservations`)) {
      const v = value as { commandId?: unknown; refs?: unknown; createdAt?: unknown } | null;
      if (v === null || typeof v !== 'object' || typeof v.commandId !== 'string') continue;
      if (!Array.isArray(v.refs) || typeof v.createdAt !== 'string') continue;
      const refs: BlobRef[] = [];
      for (const r of v.refs as { kind?: unknown; hash?: unknown }[]) {
        if (isBlobKind(r.kind) && isBlobHash(r.hash))
          refs.push({ tenant, kind: r.kind, hash: r.hash });
      }
      yield {
        tenant,
        id: key.slice(key.lastIndexOf('/') + 1),
        commandId: v.commandId,
        refs,
        createdAt: new Date(v.createdAt),
      };
    }
  }
}

function toCondemnation(ref: BlobRef, value: unknown): Condemnation | null {
  const v = value as { condemnedAt?: unknown; deleting?: unknown } | null | undefined;
  if (v === null || v === undefined || typeof v !== 'object') return null;
  if (typeof v.condemnedAt !== 'string' || Number.isNaN(Date.parse(v.condemnedAt))) return null;
  return {
    tenant: ref.tenant,
    kind: ref.kind,
    hash: ref.hash,
    condemnedAt: new Date(v.condemnedAt),
    deleting: v.deleting === true,
  };
}
