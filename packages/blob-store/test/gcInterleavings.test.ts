import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeEvent, encodeEvent, type DomainEvent } from '@ratsfach/domain';
import { sampleEventData } from '@ratsfach/domain/testing';
import { NO_STREAM } from '@ratsfach/event-store';
import { openSqliteEventStore } from '@ratsfach/event-store/sqlite';
import t, { type Test } from 'tap';
import {
  BlobCommitGuard,
  BlobCondemnedError,
  BlobKind,
  BlobNotFoundError,
  GarbageCollector,
  hashBlobHex,
  type BlobRef,
  type BlobStore,
  type GcRecordShelf,
} from '../src/index.js';
import { FsBlobStore } from '../src/fs/index.js';
import { MemoryBlobStore } from '../src/memory/index.js';

/**
 * Issue 8 item 12: garbage collection never deletes what a committed record references. Every
 * interleaving of a commit (reserve, append, release; optionally a re-upload first) with the
 * steps of one collection run (read references, condemn, mark deleting, read reservations, read
 * references again, delete) is forced with gates, not sleeps, on the memory and fs stores,
 * against a real SQLite event log.
 */

const HOUR = 3600_000;

/** The collector's steps that a test holds at a gate until it lets them go. */
type GcStep = 'references' | 'condemn' | 'deleting' | 'reservations' | 'delete';

/** Holds each gated step of the collector until `step()`; reports where it waits. */
class Gates {
  #release: (() => void) | undefined;
  #arrived!: Promise<GcStep | null>;
  #arrive!: (step: GcStep | null) => void;

  constructor() {
    this.#reset();
  }

  #reset(): void {
    this.#arrived = new Promise((resolve) => (this.#arrive = resolve));
  }

  /** Called by the gated store: waits until the test lets this step go. */
  async at(step: GcStep): Promise<void> {
    const go = new Promise<void>((resolve) => (this.#release = resolve));
    this.#arrive(step);
    await go;
  }

  #done = false;

  /** Called when the run ends. */
  finished(): void {
    this.#done = true;
    this.#arrive(null);
  }

  /** The step the collector waits at, or null when it finished. */
  waiting(): Promise<GcStep | null> {
    return this.#arrived;
  }

  /** Lets the waiting step go and returns where the collector waits next. */
  async step(): Promise<GcStep | null> {
    if (this.#done) return null;
    const release = this.#release;
    this.#release = undefined;
    this.#reset();
    release?.();
    return this.waiting();
  }
}

/** The store as the collector sees it: the same store, with its gated steps held at `gates`. */
function gated(store: BlobStore, gates: Gates): BlobStore {
  const shelf = store.gcShelf;
  const gcShelf: GcRecordShelf = {
    async put(key, value) {
      const deleting = (value as { deleting?: unknown }).deleting;
      if (key.includes('/condemned/')) await gates.at(deleting === true ? 'deleting' : 'condemn');
      return shelf.put(key, value);
    },
    get: (key) => shelf.get(key),
    delete: (key) => shelf.delete(key),
    async *list(prefix) {
      if (prefix.endsWith('/reservations')) await gates.at('reservations');
      yield* shelf.list(prefix);
    },
  };
  return {
    partSize: store.partSize,
    capabilities: store.capabilities,
    gcShelf,
    createSession: (i) => store.createSession(i),
    getSession: (a, b) => store.getSession(a, b),
    putPart: (a, b, c, d, e) => store.putPart(a, b, c, d, e),
    listParts: (a, b) => store.listParts(a, b),
    completeSession: (a, b) => store.completeSession(a, b),
    abortSession: (a, b) => store.abortSession(a, b),
    listSessions: (a, b) => store.listSessions(a, b),
    put: (a, b) => store.put(a, b),
    get: (a, b) => store.get(a, b),
    head: (r) => store.head(r),
    async delete(ref) {
      await gates.at('delete');
      return store.delete(ref);
    },
    list: (a, b) => store.list(a, b),
    listTenants: () => store.listTenants(),
    presignGet: (a, b) => store.presignGet(a, b),
    close: () => store.close(),
  };
}

/** Every way to merge `a` commit steps and `b` collector steps, as strings of 'c' and 'g'. */
function interleavings(a: number, b: number): string[] {
  if (a === 0) return ['g'.repeat(b)];
  if (b === 0) return ['c'.repeat(a)];
  return [
    ...interleavings(a - 1, b).map((s) => 'c' + s),
    ...interleavings(a, b - 1).map((s) => 'g' + s),
  ];
}

function versionNaming(ref: BlobRef, commandId: string) {
  const event = {
    type: 'VersionCommitted',
    data: {
      ...sampleEventData('VersionCommitted'),
      keySlotHash: new Uint8Array(randomBytes(64)),
      contentHash: Buffer.from(ref.hash, 'hex'),
    },
    metadata: { commandId, occurredAt: '2026-11-28T03:00:00.000Z' },
  } as unknown as DomainEvent;
  return encodeEvent(event);
}

/**
 * The blobs the log's versions name: the reference source's contract (every append finished
 * before the call is in it) by reading the whole log, as a caught-up projection would answer.
 */
async function* namedInLog(
  log: {
    readAll(): AsyncIterable<{
      stream: string;
      type: string;
      data: Uint8Array;
      metadata: Uint8Array;
    }>;
  },
  tenant: string,
): AsyncGenerator<BlobRef> {
  for await (const event of log.readAll()) {
    if (!event.stream.startsWith(`document-${tenant}-`)) continue;
    const decoded = decodeEvent(event);
    if (decoded.type !== 'VersionCommitted') continue;
    const hash = Buffer.from(decoded.data.contentHash).toString('hex');
    yield { tenant, kind: BlobKind.blob, hash };
  }
}

interface Backend {
  readonly name: string;
  open(t: Test): Promise<BlobStore>;
  /** Stores `bytes` so that the object looks two days old. */
  storeOld(store: BlobStore, ref: BlobRef, bytes: Buffer): Promise<void>;
}

let memoryOffset = 0;
const backends: Backend[] = [
  {
    name: 'memory',
    open: async () => new MemoryBlobStore({ now: () => new Date(Date.now() + memoryOffset) }),
    async storeOld(store, ref, bytes) {
      memoryOffset = -48 * HOUR;
      try {
        await store.put({ ...ref, size: bytes.length }, [bytes]);
      } finally {
        memoryOffset = 0;
      }
    },
  },
  {
    name: 'fs',
    async open(t) {
      const root = await mkdtemp(join(tmpdir(), 'ratsfach-gcrace-'));
      const store = await FsBlobStore.open({ root, sweepIntervalMs: 0 });
      t.teardown(async () => {
        await store.close();
        await rm(root, { recursive: true, force: true });
      });
      return store;
    },
    async storeOld(store, ref, bytes) {
      await store.put({ ...ref, size: bytes.length }, [bytes]);
      const when = new Date(Date.now() - 48 * HOUR);
      const h = ref.hash;
      const root = (store as FsBlobStore).root;
      await utimes(join(root, ref.tenant, ref.kind, h.slice(0, 2), h.slice(2, 4), h), when, when);
    },
  },
];

let counter = 0;

for (const backend of backends) {
  t.test(
    `${backend.name}: no interleaving lets a committed record name a deleted blob`,
    async (t) => {
      const store = await backend.open(t);
      const root = await mkdtemp(join(tmpdir(), 'ratsfach-gclog-'));
      const log = await openSqliteEventStore({ path: join(root, 'events.sqlite') });
      t.teardown(async () => {
        await log.close();
        await rm(root, { recursive: true, force: true });
      });
      const guard = new BlobCommitGuard({ store });
      const outcomes = { committed: 0, refused: 0, deleted: 0, kept: 0 };

      for (const reupload of [false, true]) {
        const commitSteps = reupload ? 4 : 3;
        // Collector steps: references, condemn, deleting, reservations, references, delete.
        for (const order of interleavings(commitSteps, 6)) {
          const tenant = `race_${String(counter++)}`;
          const bytes = randomBytes(200);
          const ref = { tenant, kind: BlobKind.blob, hash: hashBlobHex(bytes, store.partSize) };
          await backend.storeOld(store, ref, bytes);
          const gates = new Gates();
          const collector = new GarbageCollector({
            store: gated(store, gates),
            references: () => {
              const all = namedInLog(log, tenant);
              return (async function* () {
                await gates.at('references');
                yield* all;
              })();
            },
            condemnGraceMs: 0,
            tenants: async function* () {
              yield tenant;
            },
          });
          const run = collector.collect().finally(() => gates.finished());
          run.catch(() => undefined);
          await gates.waiting();

          const commandId = `cmd-${tenant}`;
          let refused: unknown = null;
          let appended = false;
          let reservation: { release(): Promise<void> } | null = null;
          const commit = [
            ...(reupload
              ? [async () => void (await store.put({ ...ref, size: 200 }, [bytes]))]
              : []),
            async () => {
              reservation = await guard
                .reserve({ tenant, commandId, refs: [ref] })
                .catch((e: unknown) => {
                  refused = e;
                  return null;
                });
            },
            async () => {
              if (refused !== null) return;
              await log.append(
                `document-${tenant}-d1`,
                [versionNaming(ref, commandId)],
                NO_STREAM,
                {
                  commandId,
                },
              );
              appended = true;
            },
            async () => {
              if (reservation !== null) await reservation.release();
            },
          ];
          let next = 0;
          for (const who of order) {
            if (who === 'c') await (commit[next++] as () => Promise<void>)();
            else await gates.step();
          }
          while ((await gates.waiting()) !== null) await gates.step();
          const report = await run;

          if (refused !== null) {
            t.ok(
              refused instanceof BlobCondemnedError || refused instanceof BlobNotFoundError,
              `${order}: a refused commit is refused for a condemned or missing blob`,
            );
          }
          const present = await store.head(ref);
          if (appended) {
            outcomes.committed++;
            if (present === null)
              t.fail(
                `${order} (re-upload ${String(reupload)}): committed record names a deleted blob`,
              );
          } else {
            outcomes.refused++;
          }
          if (report.deleted.length > 0) outcomes.deleted++;
          else outcomes.kept++;
        }
      }
      t.ok(
        outcomes.committed > 0 && outcomes.refused > 0,
        `both commits and refusals happen: ${JSON.stringify(outcomes)}`,
      );
      t.ok(outcomes.deleted > 0, 'and the collector does delete where no commit needs the blob');
    },
  );
}
