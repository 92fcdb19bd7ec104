import { randomBytes } from 'node:crypto';
import type { Test } from 'tap';
import {
  BlobErrorCode,
  BlobHashMismatchError,
  BlobKind,
  BlobSessionBusyError,
  BlobSessionDamagedError,
  BlobSessionIncompleteError,
  GarbageCollector,
  hashBlobHex,
  type BlobRef,
  type BlobStore,
} from '../src/index.js';
import {
  collect,
  freshTenant,
  once,
  readAll,
  rejectsWith,
  type BlobStoreContractFactory,
} from './contract.js';

/** mulberry32: a small seeded generator, so a failing trial can be replayed from its seed. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

async function* fromArray<T>(items: readonly T[]): AsyncGenerator<T> {
  yield* items;
}

/** Lets the event loop (and the backend's I/O) run `n` turns. */
const turns = async (n: number): Promise<void> => {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
};

/** A body that yields `bytes` in a few chunks, pausing a seeded number of turns between them. */
async function* jittery(
  bytes: Uint8Array,
  random: () => number,
  failAt: number | null,
): AsyncGenerator<Uint8Array> {
  const cuts = [0, Math.floor(bytes.length / 3), Math.floor((2 * bytes.length) / 3), bytes.length];
  for (let i = 0; i < 3; i++) {
    await turns(Math.floor(random() * 6));
    if (failAt === i) throw new Error('connection reset by the test');
    yield bytes.subarray(cuts[i], cuts[i + 1]);
  }
}

/** What the store serves for `ref`, or null: the caller checks it against the key. */
async function served(store: BlobStore, ref: BlobRef): Promise<Buffer | null> {
  if ((await store.head(ref)) === null) return null;
  return readAll((await store.get(ref)).body);
}

/**
 * The integrity rules every adapter keeps under races and damage (issue 8 items 11, 13, 14):
 * a stored object always matches its key, whatever two writers of one part do; an existing
 * object that fails its hash is replaced by an honest upload; damaged session state gives a
 * typed error and never stops the collector.
 */
export async function runIntegrityContract(
  t: Test,
  factory: BlobStoreContractFactory,
  options: { readonly trials?: number; readonly seed?: number } = {},
): Promise<void> {
  const store = await factory.create();
  t.teardown(() => store.close());
  const other = factory.reopen ? await factory.reopen(store) : store;
  if (other !== store) t.teardown(() => other.close());
  const trials = options.trials ?? 30;
  const baseSeed = options.seed ?? 0x5eed;

  t.test(
    `two writers of one part racing a completion never make a wrong object (${String(trials)} seeded trials)`,
    async (t) => {
      let wrong = 0;
      for (let trial = 0; trial < trials; trial++) {
        const seed = baseSeed + trial;
        const random = seeded(seed);
        const tenant = freshTenant();
        const honest = randomBytes(3000 + Math.floor(random() * 3000));
        const ref = { tenant, kind: BlobKind.blob, hash: hashBlobHex(honest, store.partSize) };
        const session = await store.createSession({ ...ref, size: honest.length });
        // The retried request: other bytes (a confused or hostile client), or the same bytes
        // over a connection that drops, sent through the same or another store instance.
        const forged = Buffer.from(honest);
        const flip = Math.floor(random() * forged.length);
        forged[flip] = (forged[flip] ?? 0) ^ 0xff;
        const retryBytes = random() < 0.6 ? forged : honest;
        const retryFails = random() < 0.3 ? Math.floor(random() * 3) : null;
        const via = (): BlobStore => (random() < 0.5 ? store : other);
        const [a, b, c] = [via(), via(), via()];
        const original = a.putPart(tenant, session.id, 0, jittery(honest, random, null));
        const retry = (async () => {
          await turns(Math.floor(random() * 8));
          return b.putPart(tenant, session.id, 0, jittery(retryBytes, random, retryFails));
        })();
        const complete = (async () => {
          await turns(Math.floor(random() * 12));
          return c.completeSession(tenant, session.id);
        })();
        await Promise.allSettled([original, retry, complete]);
        const early = await served(store, ref);
        if (early !== null && hashBlobHex(early, store.partSize) !== ref.hash) wrong++;

        // The honest client goes on: completes, re-sending its part when told it is missing.
        let done = false;
        for (let attempt = 0; attempt < 6 && !done; attempt++) {
          try {
            await store.completeSession(tenant, session.id);
            done = true;
          } catch (error) {
            // A forged part that won the race fails the whole hash: the client sends its own.
            if (
              !(error instanceof BlobSessionIncompleteError) &&
              !(error instanceof BlobSessionBusyError) &&
              !(error instanceof BlobHashMismatchError)
            ) {
              throw error;
            }
            await store.putPart(tenant, session.id, 0, once(honest)).catch((e: unknown) => {
              if (!(e instanceof BlobSessionBusyError)) throw e;
            });
          }
        }
        t.ok(done, `seed ${String(seed)}: the honest upload completes`);
        const bytes = await served(store, ref);
        if (bytes === null || !bytes.equals(honest)) {
          wrong++;
          t.fail(`seed ${String(seed)}: the object holds other bytes than its key names`);
        }
      }
      t.equal(wrong, 0, 'no trial ever served an object that fails its hash');
    },
  );

  t.test('the same race on two parts of a larger object', async (t) => {
    const P = store.partSize;
    for (let trial = 0; trial < Math.max(3, Math.floor(trials / 5)); trial++) {
      const seed = baseSeed + 1000 + trial;
      const random = seeded(seed);
      const tenant = freshTenant();
      const honest = randomBytes(P + 1 + Math.floor(random() * 1000));
      const ref = { tenant, kind: BlobKind.blob, hash: hashBlobHex(honest, P) };
      const session = await store.createSession({ ...ref, size: honest.length });
      const part = (i: number) => honest.subarray(i * P, Math.min(honest.length, (i + 1) * P));
      await store.putPart(tenant, session.id, 1, once(part(1)));
      const forged = Buffer.from(part(0));
      forged[0] = (forged[0] ?? 0) ^ 1;
      await Promise.allSettled([
        store.putPart(tenant, session.id, 0, jittery(part(0), random, null)),
        other.putPart(tenant, session.id, 0, jittery(forged, random, null)),
        (async () => {
          await turns(Math.floor(random() * 10));
          return other.completeSession(tenant, session.id);
        })(),
      ]);
      for (let attempt = 0; attempt < 6; attempt++) {
        const ok = await store.completeSession(tenant, session.id).then(
          () => true,
          async (error: unknown) => {
            if (error instanceof BlobSessionIncompleteError) {
              for (const i of (error.details as { missing: number[] }).missing) {
                await store.putPart(tenant, session.id, i, once(part(i)));
              }
              return false;
            }
            if (error instanceof BlobHashMismatchError) {
              await store.putPart(tenant, session.id, 0, once(part(0)));
              return false;
            }
            if (error instanceof BlobSessionBusyError) return false;
            throw error;
          },
        );
        if (ok) break;
      }
      const bytes = await served(store, ref);
      t.ok(bytes?.equals(honest), `seed ${String(seed)}: the object is the honest bytes`);
    }
  });

  if (factory.damageObject) {
    const damageObject = factory.damageObject.bind(factory);
    t.test('an existing object that fails its hash is replaced by an honest upload', async (t) => {
      for (const how of ['session', 'put'] as const) {
        const tenant = freshTenant();
        const honest = randomBytes(2000);
        const ref = { tenant, kind: BlobKind.blob, hash: hashBlobHex(honest, store.partSize) };
        await store.put({ ...ref, size: honest.length }, once(honest));
        const damaged = Buffer.from(honest);
        damaged[7] = (damaged[7] ?? 0) ^ 0x55;
        await damageObject(store, ref, damaged);
        t.same(await served(store, ref), damaged, `${how}: the damage is visible before`);
        if (how === 'session') {
          const session = await store.createSession({ ...ref, size: honest.length });
          await store.putPart(tenant, session.id, 0, once(honest));
          await store.completeSession(tenant, session.id);
        } else {
          await store.put({ ...ref, size: honest.length }, once(honest));
        }
        t.same(await served(store, ref), honest, `${how}: the honest bytes replaced it`);
      }
    });
  }

  if (factory.damageSession) {
    const damageSession = factory.damageSession.bind(factory);
    t.test(
      'a damaged session state gives a typed error and never stops the collector',
      async (t) => {
        const tenant = freshTenant();
        const bytes = randomBytes(500);
        const ref = { tenant, kind: BlobKind.blob, hash: hashBlobHex(bytes, store.partSize) };
        const healthy = await store.createSession({ ...ref, size: 500 });
        const session = await store.createSession({ ...ref, size: 500 });
        await damageSession(store, tenant, session.id);
        // A fresh instance: nothing cached from before the damage.
        const fresh = factory.reopen ? await factory.reopen(store) : store;
        if (fresh !== store) t.teardown(() => fresh.close());
        const code = BlobErrorCode.sessionDamaged;
        await rejectsWith(
          t,
          fresh.putPart(tenant, session.id, 0, once(bytes)),
          BlobSessionDamagedError,
          code,
          'putPart',
        );
        await rejectsWith(
          t,
          fresh.getSession(tenant, session.id),
          BlobSessionDamagedError,
          code,
          'getSession',
        );
        await rejectsWith(
          t,
          collect(fresh.listSessions(tenant)),
          BlobSessionDamagedError,
          code,
          'listSessions',
        );
        const reported: string[] = [];
        const listed = await collect(
          fresh.listSessions(tenant, {
            onDamaged: (e) => reported.push(String(e.details['sessionId'])),
          }),
        );
        t.same(
          listed.map((s) => s.id),
          [healthy.id],
          'with onDamaged the healthy session is listed',
        );
        t.same(reported, [session.id], 'and the damaged one reported');
        const gc = new GarbageCollector({
          store: fresh,
          references: () => fromArray<BlobRef>([]),
          tenants: async function* () {
            yield tenant;
          },
        });
        for (const dryRun of [true, false]) {
          const report = await gc.collect({ dryRun });
          t.same(
            report.damagedSessions.map((d) => [d.tenant, d.sessionId, d.error.code]),
            [[tenant, session.id, code]],
            `the collector (dry run ${String(dryRun)}) skips and reports the damaged session`,
          );
        }
        await fresh.abortSession(tenant, session.id);
        t.same(
          (await collect(fresh.listSessions(tenant))).map((s) => s.id),
          [healthy.id],
          'aborting the damaged session removes it',
        );
      },
    );
  }
}
