import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import {
  BlobErrorCode,
  BlobKind,
  BlobRangeInvalidError,
  BlobSessionBusyError,
  BlobSessionNotFoundError,
  BlobStoreUnavailableError,
  blobObjectKey,
  hashBlobHex,
} from '../src/index.js';
import { FsBlobStore } from '../src/fs/index.js';
import { rejectsWith, runBlobStoreContract, type BlobStoreContractFactory } from './contract.js';
import { runIntegrityContract } from './integrityContract.js';

const roots: string[] = [];
t.teardown(async () => {
  for (const root of roots) await rm(root, { recursive: true, force: true });
});

const rootOf = new WeakMap<object, string>();

const fsFactory: BlobStoreContractFactory = {
  async create() {
    const root = await mkdtemp(join(tmpdir(), 'ratsfach-blob-'));
    roots.push(root);
    const store = await FsBlobStore.open({ root });
    rootOf.set(store, root);
    return store;
  },
  async reopen(store) {
    const root = rootOf.get(store) as string;
    const again = await FsBlobStore.open({ root });
    rootOf.set(again, root);
    return again;
  },
  async damageObject(store, ref, bytes) {
    const root = rootOf.get(store) as string;
    await writeFile(join(root, ...blobObjectKey(ref).split('/')), bytes);
  },
  async damageSession(store, tenant, sessionId) {
    const root = rootOf.get(store) as string;
    await writeFile(join(root, '.sessions', tenant, sessionId, 'session.json'), '{"id": tru');
  },
};

t.test('the filesystem adapter passes the blob store contract', async (t) => {
  await runBlobStoreContract(t, fsFactory);
});

t.test('the filesystem adapter keeps the integrity contract', async (t) => {
  await runIntegrityContract(t, fsFactory, { trials: 40 });
});

const freshRoot = async (): Promise<string> => {
  const root = await mkdtemp(join(tmpdir(), 'ratsfach-blob-'));
  roots.push(root);
  return root;
};

const ref = (bytes: Uint8Array, tenant = 'tenant_a') => ({
  tenant,
  kind: BlobKind.blob,
  hash: hashBlobHex(bytes),
});

t.test('stores objects in the sharded layout <tenant>/<kind>/<aa>/<bb>/<hash>', async (t) => {
  const root = await freshRoot();
  const store = await FsBlobStore.open({ root });
  t.teardown(() => store.close());
  const bytes = randomBytes(100);
  const r = ref(bytes);
  await store.put({ ...r, size: 100 }, [bytes]);
  const path = join(root, 'tenant_a', 'blob', r.hash.slice(0, 2), r.hash.slice(2, 4), r.hash);
  t.same(await readFile(path), bytes, 'the file holds the bytes');
  t.same(await readdir(join(root, '.tmp')), [], 'no temporary file remains');
});

t.test(
  'a tampered object on disk is served as it is stored, so the reader sees it fail its hash',
  async (t) => {
    const root = await freshRoot();
    const store = await FsBlobStore.open({ root });
    t.teardown(() => store.close());
    const bytes = randomBytes(100);
    const r = ref(bytes);
    await store.put({ ...r, size: 100 }, [bytes]);
    const path = join(root, 'tenant_a', 'blob', r.hash.slice(0, 2), r.hash.slice(2, 4), r.hash);
    const tampered = Buffer.from(bytes.subarray(0, 60));
    tampered[0] = (tampered[0] ?? 0) ^ 0xff;
    await writeFile(path, tampered);
    t.equal((await store.head(r))?.size, 60, 'head reports the size on disk, not the old one');
    const content = await store.get(r);
    t.equal(content.size, 60, 'get reports the size on disk');
    const chunks: Buffer[] = [];
    for await (const chunk of content.body as AsyncIterable<Buffer>) chunks.push(chunk);
    const served = Buffer.concat(chunks);
    t.same(served, tampered, 'get serves the stored bytes unaltered');
    t.not(hashBlobHex(served), r.hash, 'which no longer hash to the key');
    await rejectsWith(
      t,
      store.get(r, { offset: 50, length: 20 }),
      BlobRangeInvalidError,
      BlobErrorCode.invalidRange,
      'a range past the shortened end',
    );
  },
);

t.test('sweeps sessions idle longer than the ttl and keeps recent ones', async (t) => {
  const root = await freshRoot();
  const store = await FsBlobStore.open({ root, sessionTtlMs: 60_000 });
  t.teardown(() => store.close());
  const bytes = randomBytes(10);
  const session = await store.createSession({ ...ref(bytes), size: 10 });
  t.equal(await store.sweepSessions(), 0, 'a fresh session is kept');
  t.ok(await store.getSession('tenant_a', session.id));
  t.equal(await store.sweepSessions(new Date(Date.now() + 61_000)), 1, 'an idle one is removed');
  await rejectsWith(
    t,
    store.getSession('tenant_a', session.id),
    BlobSessionNotFoundError,
    BlobErrorCode.sessionNotFound,
    'the swept session',
  );
});

t.test('recover, not open, removes abandoned sessions and temporary files', async (t) => {
  const root = await freshRoot();
  const first = await FsBlobStore.open({ root, sessionTtlMs: 60_000 });
  const bytes = randomBytes(10);
  const session = await first.createSession({ ...ref(bytes), size: 10 });
  const kept = await first.createSession({ ...ref(bytes, 'tenant_b'), size: 10 });
  await first.close();
  const old = new Date(Date.now() - 120_000);
  const dir = join(root, '.sessions', 'tenant_a', session.id);
  await writeFile(
    join(dir, 'session.json'),
    JSON.stringify({
      ...JSON.parse(await readFile(join(dir, 'session.json'), 'utf8')),
      createdAt: old,
    }),
  );
  await utimes(join(dir, 'data'), old, old);
  await utimes(dir, old, old);
  await writeFile(join(root, '.tmp', 'put-leftover'), 'partial');
  const second = await FsBlobStore.open({ root, sessionTtlMs: 60_000 });
  t.teardown(() => second.close());
  t.same(
    await readdir(join(root, '.tmp')),
    ['put-leftover'],
    'opening alone touches nothing a live process may be using',
  );
  t.ok(await second.getSession('tenant_a', session.id), 'nor its sessions');
  t.same(await second.recover(), { temporaryFiles: 1, sessions: 1 }, 'recover cleans up');
  await rejectsWith(
    t,
    second.getSession('tenant_a', session.id),
    BlobSessionNotFoundError,
    BlobErrorCode.sessionNotFound,
    'the abandoned session',
  );
  t.ok(await second.getSession('tenant_b', kept.id), 'a recent session survives the restart');
  t.same(await readdir(join(root, '.tmp')), [], 'temporary files are removed');
});

t.test(
  'a disk error surfaces as BlobStoreUnavailableError and leaves nothing visible',
  async (t) => {
    const root = await freshRoot();
    const store = await FsBlobStore.open({ root });
    t.teardown(() => store.close());
    await rm(join(root, '.tmp'), { recursive: true });
    await writeFile(join(root, '.tmp'), 'not a directory');
    const bytes = randomBytes(10);
    await rejectsWith(
      t,
      store.put({ ...ref(bytes), size: 10 }, [bytes]),
      BlobStoreUnavailableError,
      BlobErrorCode.unavailable,
      'put with its temporary directory broken',
    );
    t.equal(await store.head(ref(bytes)), null, 'nothing visible');
  },
);

t.test('a caller stream that fails is reported as itself, not as a disk error', async (t) => {
  const root = await freshRoot();
  const store = await FsBlobStore.open({ root });
  t.teardown(() => store.close());
  const bytes = randomBytes(10);
  const failure = new Error('client went away');
  async function* body() {
    yield bytes.subarray(0, 5);
    throw failure;
  }
  const error = await store.put({ ...ref(bytes), size: 10 }, body()).catch((e: unknown) => e);
  t.equal(error, failure, 'the body error passes through');
  t.equal(await store.head(ref(bytes)), null, 'nothing visible');
});

t.test('two writes of the same part at once: the second is told the part is busy', async (t) => {
  const root = await freshRoot();
  const store = await FsBlobStore.open({ root });
  t.teardown(() => store.close());
  const bytes = randomBytes(1000);
  const session = await store.createSession({ ...ref(bytes), size: 1000 });
  let release: () => void = () => undefined;
  let started: () => void = () => undefined;
  const gate = new Promise<void>((r) => (release = r));
  const inFlight = new Promise<void>((r) => (started = r));
  async function* slow() {
    yield bytes.subarray(0, 500);
    started();
    await gate;
    yield bytes.subarray(500);
  }
  const first = store.putPart('tenant_a', session.id, 0, slow());
  await inFlight;
  await rejectsWith(
    t,
    store.putPart('tenant_a', session.id, 0, [bytes]),
    BlobSessionBusyError,
    BlobErrorCode.sessionBusy,
    'the second write',
  );
  await rejectsWith(
    t,
    store.completeSession('tenant_a', session.id),
    BlobSessionBusyError,
    BlobErrorCode.sessionBusy,
    'complete during a write',
  );
  release();
  await first;
  const info = await store.completeSession('tenant_a', session.id);
  t.equal(info.size, 1000, 'completes once the write is done');
});
