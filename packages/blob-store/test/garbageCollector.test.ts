import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import {
  BlobErrorCode,
  BlobKind,
  BlobOptionInvalidError,
  BlobSessionNotFoundError,
  GarbageCollector,
  hashBlobHex,
  hashKeySlotHex,
  type BlobRef,
} from '../src/index.js';
import { FsBlobStore } from '../src/fs/index.js';
import { rejectsWith } from './contract.js';

const HOUR = 3600_000;

async function openStore(t: Test): Promise<{ store: FsBlobStore; root: string }> {
  const root = await mkdtemp(join(tmpdir(), 'ratsfach-gc-'));
  const store = await FsBlobStore.open({ root, sessionTtlMs: 1000 * HOUR, sweepIntervalMs: 0 });
  t.teardown(async () => {
    await store.close();
    await rm(root, { recursive: true, force: true });
  });
  return { store, root };
}

async function storeBlob(store: FsBlobStore, tenant: string, ageMs: number): Promise<BlobRef> {
  const bytes = randomBytes(100);
  const ref = { tenant, kind: BlobKind.blob, hash: hashBlobHex(bytes) };
  await store.put({ ...ref, size: 100 }, [bytes]);
  await age(store, ref, ageMs);
  return ref;
}

/** Makes an object look `ageMs` old, as if stored that long ago. */
async function age(store: FsBlobStore, ref: BlobRef, ageMs: number): Promise<void> {
  const when = new Date(Date.now() - ageMs);
  const h = ref.hash;
  await utimes(join(store.root, ref.tenant, ref.kind, h.slice(0, 2), h.slice(2, 4), h), when, when);
}

/** Makes a session look idle for `ageMs`. */
async function ageSession(store: FsBlobStore, tenant: string, id: string, ageMs: number) {
  const when = new Date(Date.now() - ageMs);
  const dir = join(store.root, '.sessions', tenant, id);
  const meta = JSON.parse(await readFile(join(dir, 'session.json'), 'utf8')) as object;
  await writeFile(join(dir, 'session.json'), JSON.stringify({ ...meta, createdAt: when }));
  await utimes(join(dir, 'data'), when, when);
  await utimes(dir, when, when);
}

async function* fromArray(refs: readonly BlobRef[]): AsyncIterable<BlobRef> {
  yield* refs;
}

t.test('deletes old unreferenced objects and abandoned sessions, and nothing else', async (t) => {
  const { store } = await openStore(t);
  const tenant = 'city_a';
  const referenced = await storeBlob(store, tenant, 48 * HOUR);
  const orphan = await storeBlob(store, tenant, 48 * HOUR);
  const young = await storeBlob(store, tenant, HOUR);
  const otherTenantRef = await storeBlob(store, 'city_b', 48 * HOUR);

  // An open session about to complete an object that also exists as an old orphan.
  const pendingBytes = randomBytes(100);
  const pending = { tenant, kind: BlobKind.blob, hash: hashBlobHex(pendingBytes) };
  await store.put({ ...pending, size: 100 }, [pendingBytes]);
  await age(store, pending, 48 * HOUR);
  const open = await store.createSession({ ...pending, size: 100 });

  const abandonedBytes = randomBytes(50);
  const abandoned = await store.createSession({
    tenant,
    kind: BlobKind.blob,
    hash: hashBlobHex(abandonedBytes),
    size: 50,
  });
  await ageSession(store, tenant, abandoned.id, 48 * HOUR);

  const slotBytes = randomBytes(80);
  const slot = { tenant, kind: BlobKind.keyslot, hash: hashKeySlotHex(slotBytes) };
  await store.put({ ...slot, size: 80 }, [slotBytes]);
  await age(store, slot, 48 * HOUR);

  const gc = new GarbageCollector({
    condemnGraceMs: 0,
    store,
    references: () => fromArray([referenced, otherTenantRef]),
    graceMs: 24 * HOUR,
    sessionTtlMs: 24 * HOUR,
  });

  const dry = await gc.collect({ dryRun: true });
  t.equal(dry.dryRun, true);
  t.same(
    dry.deleted.map((o) => o.hash),
    [orphan.hash],
    'the dry run names only the old orphan',
  );
  t.same(
    dry.abortedSessions.map((s) => s.id),
    [abandoned.id],
    'and only the abandoned session',
  );
  t.match(dry, { keptReferenced: 2, keptBySession: 1, keptYoung: 1, scanned: 5 });
  t.equal(dry.deletedBytes, 100);
  t.ok(await store.head(orphan), 'a dry run deletes nothing');
  t.ok(await store.getSession(tenant, abandoned.id), 'a dry run aborts nothing');

  const report = await gc.collect();
  t.same(
    report.deleted.map((o) => o.hash),
    [orphan.hash],
  );
  t.equal(await store.head(orphan), null, 'the old orphan is deleted');
  t.ok(await store.head(referenced), 'a referenced object is kept however old');
  t.ok(await store.head(otherTenantRef), "another tenant's referenced object is kept");
  t.ok(await store.head(young), 'an object inside the grace period is kept');
  t.ok(await store.head(pending), 'the target of an open session is kept');
  t.ok(await store.head(slot), 'key slots are not collected by default');
  await rejectsWith(
    t,
    store.getSession(tenant, abandoned.id),
    BlobSessionNotFoundError,
    BlobErrorCode.sessionNotFound,
    'the abandoned session',
  );
  await store.putPart(tenant, open.id, 0, [pendingBytes]);
  t.match(
    await store.completeSession(tenant, open.id),
    { size: 100 },
    'the open session still completes',
  );
  t.ok(await store.head(pending), 'and its object is there');
});

t.test('an orphan stored again restarts its age and is spared', async (t) => {
  const { store } = await openStore(t);
  const bytes = randomBytes(100);
  const ref = { tenant: 'city_a', kind: BlobKind.blob, hash: hashBlobHex(bytes) };
  await store.put({ ...ref, size: 100 }, [bytes]);
  await age(store, ref, 48 * HOUR);
  await store.put({ ...ref, size: 100 }, [bytes]);
  const gc = new GarbageCollector({
    condemnGraceMs: 0,
    store,
    references: () => fromArray([]),
    graceMs: 24 * HOUR,
  });
  const report = await gc.collect();
  t.same(report.deleted, [], 'nothing deleted');
  t.ok(await store.head(ref), 'the re-uploaded object is kept for its record');
});

t.test('spares an object whose session opens while the collector lists objects', async (t) => {
  const { store } = await openStore(t);
  const orphan = await storeBlob(store, 'city_a', 48 * HOUR);
  let opened = false;
  // The real store, with a session opened by "another request" as the listing starts.
  const racing = new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'list') {
        return async function* (tenant: string, kind: BlobKind) {
          if (!opened) {
            opened = true;
            await target.createSession({ ...orphan, size: 100 });
          }
          yield* target.list(tenant, kind);
        };
      }
      const value: unknown = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  const gc = new GarbageCollector({
    condemnGraceMs: 0,
    store: racing,
    references: () => fromArray([]),
    graceMs: 24 * HOUR,
  });
  const report = await gc.collect();
  t.ok(opened, 'the session was opened during the run');
  t.same(report.deleted, [], 'nothing deleted');
  t.equal(report.keptBySession, 1);
  t.ok(await store.head(orphan), 'the object the new session targets is kept');
});

t.test('refuses a negative grace period or session ttl', async (t) => {
  const { store } = await openStore(t);
  for (const options of [{ graceMs: -1 }, { sessionTtlMs: Number.NaN }]) {
    t.throws(
      () => new GarbageCollector({ store, references: () => fromArray([]), ...options }),
      BlobOptionInvalidError,
      JSON.stringify(options),
    );
  }
});
