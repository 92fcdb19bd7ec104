import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { ErrorKind, RatsfachError } from '@ratsfach/kernel';
import type { Test } from 'tap';
import {
  BlobErrorCode,
  NodeBlobHasher,
  BlobHashMismatchError,
  BlobKeyInvalidError,
  BlobKind,
  BlobNotFoundError,
  BlobOptionInvalidError,
  BlobPartInvalidError,
  BlobRangeInvalidError,
  BlobSessionIncompleteError,
  BlobSessionNotFoundError,
  BlobSizeMismatchError,
  BlobStoreUnavailableError,
  createPartHash,
  hashBlobHex,
  hashKeySlotHex,
  hashPart,
  partCountFor,
  type BlobRef,
  type BlobStore,
  type PartInfo,
  type UploadSession,
} from '../src/index.js';

/**
 * How an adapter's test file plugs into the shared contract suite.
 *
 * Each adapter's test calls `runBlobStoreContract(t, factory)`; the suite checks everything the
 * BlobStore interface promises, with real bytes and real failure paths, so that the filesystem
 * and S3 adapters are interchangeable.
 */
export interface BlobStoreContractFactory {
  /** A store on an empty namespace (its own directory, bucket or prefix). */
  create(): Promise<BlobStore>;
  /**
   * A second store instance over the same backend and namespace as `store`, as after a process
   * restart. Optional: without it the resume test reuses the same instance.
   */
  reopen?(store: BlobStore): Promise<BlobStore>;
  /**
   * Makes the backend unreachable (stops the server). Optional: adapters that have a server
   * implement it with `restore`; the suite then checks a clear BlobStoreUnavailableError,
   * nothing visible, and that the session resumes once the server is back.
   */
  interrupt?(): Promise<void>;
  /** Brings the backend back after `interrupt` and waits until it answers. */
  restore?(): Promise<void>;
  /**
   * Overwrites a stored object's bytes behind the store's back (a damaged disk or bucket).
   * Optional: backends whose storage a test can reach implement it.
   */
  damageObject?(store: BlobStore, ref: BlobRef, bytes: Uint8Array): Promise<void>;
  /** Overwrites a session's stored state with garbage behind the store's back. */
  damageSession?(store: BlobStore, tenant: string, sessionId: string): Promise<void>;
}

type ErrorClass = abstract new (...args: never[]) => RatsfachError;

/** Awaits a promise that must reject with `cls` and `code`; returns the error. */
export async function rejectsWith(
  t: Test,
  promise: Promise<unknown>,
  cls: ErrorClass,
  code: string,
  what = '',
): Promise<RatsfachError | undefined> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  t.ok(error instanceof cls, `${what} rejects with ${cls.name} (got ${String(error)})`);
  if (error instanceof RatsfachError) {
    t.equal(error.code, code, `${what} error code ${code}`);
    return error;
  }
  return undefined;
}

let tenantCounter = 0;
/** A tenant id unique to this run, so tests never see each other's objects. */
export const freshTenant = (): string =>
  `t${randomBytes(6).toString('hex')}_${String(tenantCounter++)}`;

const MiB = 1024 * 1024;

/**
 * Deterministic bytes of any size, produced chunk by chunk so that a 100 MiB object is never
 * held in memory: chunk i is a fixed random MiB with i written into its first bytes.
 */
export class Pattern {
  readonly size: number;
  readonly #base: Buffer;

  constructor(size: number, chunkSize = MiB) {
    this.size = size;
    this.#base = randomBytes(Math.max(1, Math.min(chunkSize, size)));
  }

  /** The bytes [start, end) as a stream of chunks. */
  async *range(start = 0, end = this.size): AsyncGenerator<Buffer> {
    const chunk = this.#base.length;
    let pos = start;
    while (pos < end) {
      const index = Math.floor(pos / chunk);
      const from = pos - index * chunk;
      const to = Math.min(chunk, end - index * chunk);
      const bytes = Buffer.from(this.#base);
      if (chunk >= 4) bytes.writeUInt32BE(index >>> 0, 0);
      yield bytes.subarray(from, to);
      pos += to - from;
    }
  }

  /** The blob hash of the whole pattern, computed by streaming it. */
  async hash(partSize: number): Promise<string> {
    const h = new NodeBlobHasher(partSize);
    for await (const c of this.range()) h.update(c);
    return h.digestHex();
  }

  /** The bytes of part `index`. */
  part(index: number, partSize: number): AsyncGenerator<Buffer> {
    return this.range(index * partSize, Math.min(this.size, (index + 1) * partSize));
  }
}

/** Reads a whole stream into one buffer (small objects only). */
export async function readAll(body: Readable | AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks);
}

/** Hashes a stream with the blob hash, without holding it. */
export async function hashStream(
  body: Readable | AsyncIterable<Uint8Array>,
  partSize: number,
): Promise<{ hash: string; size: number }> {
  const h = new NodeBlobHasher(partSize);
  for await (const c of body) h.update(c as Uint8Array);
  return { size: h.size, hash: h.digestHex() };
}

export async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  if (bytes.length > 0) yield bytes;
}

/** A body that yields some bytes and then fails, as a dropped connection does. */
async function* failingAfter(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
  throw new Error('connection reset by the test');
}

async function uploadWhole(
  store: BlobStore,
  ref: BlobRef,
  pattern: Pattern,
  concurrency = 2,
): Promise<UploadSession> {
  const session = await store.createSession({ ...ref, size: pattern.size });
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < session.partCount) {
      const index = next++;
      await store.putPart(ref.tenant, session.id, index, pattern.part(index, session.partSize));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return session;
}

export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

const notVisible = async (t: Test, store: BlobStore, ref: BlobRef, what: string) => {
  t.equal(await store.head(ref), null, `${what}: head finds nothing`);
  await rejectsWith(t, store.get(ref), BlobNotFoundError, BlobErrorCode.notFound, `${what}: get`);
  const listed = await collect(store.list(ref.tenant, ref.kind));
  t.notOk(
    listed.some((o) => o.hash === ref.hash),
    `${what}: list does not show it`,
  );
};

/** Runs the whole contract against one adapter. */
export async function runBlobStoreContract(
  t: Test,
  factory: BlobStoreContractFactory,
): Promise<void> {
  const store = await factory.create();
  t.teardown(() => store.close());
  const P = store.partSize;

  t.test(
    'round trips objects of 0 bytes, 1 byte and 64 KiB, through sessions and put',
    async (t) => {
      for (const size of [0, 1, 64 * 1024]) {
        const tenant = freshTenant();
        const bytes = randomBytes(size);
        const hash = hashBlobHex(bytes, P);
        const ref = { tenant, kind: BlobKind.blob, hash };
        const session = await store.createSession({ ...ref, size });
        t.equal(session.partCount, 1, `${size} bytes: one part`);
        t.same(await store.listParts(tenant, session.id), [], `${size} bytes: no parts yet`);
        const part = await store.putPart(tenant, session.id, 0, once(bytes));
        t.same(part, { index: 0, size, hash: hashBlobPartHex(bytes) }, `${size} bytes: part info`);
        t.equal(await store.head(ref), null, `${size} bytes: invisible before complete`);
        const info = await store.completeSession(tenant, session.id);
        t.match(info, { tenant, kind: 'blob', hash, size }, `${size} bytes: completed`);
        t.ok(info.createdAt instanceof Date, 'createdAt is a Date');
        const got = await store.get(ref);
        t.equal(got.size, size);
        t.equal(got.offset, 0);
        t.equal(got.length, size);
        t.same(await readAll(got.body), bytes, `${size} bytes read back through a session`);
        t.match(await store.head(ref), { size, hash }, `${size} bytes: head`);

        const slot = { tenant, kind: BlobKind.keyslot, hash: hashKeySlotHex(bytes) };
        const put = await store.put({ ...slot, size }, once(bytes));
        t.match(put, { kind: 'keyslot', size }, `${size} bytes: put`);
        t.same(
          await readAll((await store.get(slot)).body),
          bytes,
          `${size} bytes read back via put`,
        );
      }
    },
  );

  t.test('round trips 100 MiB streamed in parts, hashed on the way back', async (t) => {
    const tenant = freshTenant();
    const pattern = new Pattern(100 * MiB);
    const hash = await pattern.hash(P);
    const ref = { tenant, kind: BlobKind.blob, hash };
    const session = await uploadWhole(store, ref, pattern);
    t.equal(session.partCount, partCountFor(100 * MiB, P));
    const parts = await store.listParts(tenant, session.id);
    t.same(
      parts.map((p) => p.index),
      Array.from({ length: session.partCount }, (_, i) => i),
      'every part listed, by index',
    );
    const info = await store.completeSession(tenant, session.id);
    t.equal(info.size, 100 * MiB);
    const got = await store.get(ref);
    t.same(await hashStream(got.body, P), { hash, size: 100 * MiB }, 'read back hashes the same');
  });

  t.test('refuses a wrong hash and leaves nothing visible', async (t) => {
    const tenant = freshTenant();
    const bytes = randomBytes(5000);
    const wrong = hashBlobHex(randomBytes(5000), P);
    const ref = { tenant, kind: BlobKind.blob, hash: wrong };
    const session = await store.createSession({ ...ref, size: bytes.length });
    await store.putPart(tenant, session.id, 0, once(bytes));
    await rejectsWith(
      t,
      store.completeSession(tenant, session.id),
      BlobHashMismatchError,
      BlobErrorCode.hashMismatch,
      'complete',
    );
    await notVisible(t, store, ref, 'after a failed complete');
    await rejectsWith(
      t,
      store.put({ ...ref, size: bytes.length }, once(bytes)),
      BlobHashMismatchError,
      BlobErrorCode.hashMismatch,
      'put',
    );
    await notVisible(t, store, ref, 'after a failed put');
    t.ok(await store.getSession(tenant, session.id), 'the failed session can still be fixed');
    await store.abortSession(tenant, session.id);
  });

  t.test('refuses a wrong size and leaves nothing visible', async (t) => {
    const tenant = freshTenant();
    const bytes = randomBytes(3000);
    const hash = hashKeySlotHex(bytes);
    const ref = { tenant, kind: BlobKind.keyslot, hash };
    for (const size of [2999, 3001, 0]) {
      await rejectsWith(
        t,
        store.put({ ...ref, size }, once(bytes)),
        BlobSizeMismatchError,
        BlobErrorCode.sizeMismatch,
        `put announcing ${size} bytes`,
      );
      await notVisible(t, store, ref, `after a put announcing ${size} bytes`);
      const session = await store.createSession({ ...ref, size });
      const error = await rejectsWith(
        t,
        store.putPart(tenant, session.id, 0, once(bytes)),
        BlobPartInvalidError,
        BlobErrorCode.invalidPart,
        `part for a session announcing ${size} bytes`,
      );
      t.equal(error?.details['reason'], size < 3000 ? 'long' : 'short');
      t.same(await store.listParts(tenant, session.id), [], 'the bad part is not kept');
      await rejectsWith(
        t,
        store.completeSession(tenant, session.id),
        BlobSessionIncompleteError,
        BlobErrorCode.sessionIncomplete,
        'complete without the part',
      );
      await notVisible(t, store, ref, `after a session announcing ${size} bytes`);
    }
    for (const size of [-1, 1.5, Number.NaN]) {
      await rejectsWith(
        t,
        store.createSession({ ...ref, size }),
        BlobOptionInvalidError,
        BlobErrorCode.invalidOption,
        `session of size ${size}`,
      );
    }
    for (const partSize of [1023, 2 ** 30 + 1, 1.5]) {
      await rejectsWith(
        t,
        store.createSession({ ...ref, size: 10, partSize }),
        BlobOptionInvalidError,
        BlobErrorCode.invalidOption,
        `session with part size ${partSize}`,
      );
    }
  });

  t.test('hashes with the part size the session names', async (t) => {
    const tenant = freshTenant();
    const bytes = randomBytes(3000);
    const partSize = 2 * P;
    const hash = hashBlobHex(bytes, partSize);
    t.not(hash, hashBlobHex(bytes, P), 'the part size is part of the hash');
    const ref = { tenant, kind: BlobKind.blob, hash };
    const session = await store.createSession({ ...ref, size: 3000, partSize });
    t.equal(session.partSize, partSize, 'the session keeps its part size');
    await store.putPart(tenant, session.id, 0, once(bytes));
    t.match(await store.completeSession(tenant, session.id), { hash, size: 3000 });
    const again = { tenant: freshTenant(), kind: BlobKind.blob, hash };
    t.match(await store.put({ ...again, size: 3000, partSize }, once(bytes)), { size: 3000 });
    const other = { tenant: freshTenant(), kind: BlobKind.blob, hash };
    const wrong = await store.createSession({ ...other, size: 3000 });
    await store.putPart(other.tenant, wrong.id, 0, once(bytes));
    await rejectsWith(
      t,
      store.completeSession(other.tenant, wrong.id),
      BlobHashMismatchError,
      BlobErrorCode.hashMismatch,
      'a session with the default part size for a hash over other parts',
    );
    await notVisible(t, store, other, 'after the part size mismatch');
  });

  t.test('refuses parts out of range, too short, too long or in the wrong place', async (t) => {
    const tenant = freshTenant();
    const size = 2 * P + 1000;
    const pattern = new Pattern(size);
    const hash = await pattern.hash(P);
    const ref = { tenant, kind: BlobKind.blob, hash };
    const session = await store.createSession({ ...ref, size });
    t.equal(session.partCount, 3);
    for (const index of [-1, 3, 1.5]) {
      const error = await rejectsWith(
        t,
        store.putPart(tenant, session.id, index, once(Buffer.alloc(1000))),
        BlobPartInvalidError,
        BlobErrorCode.invalidPart,
        `part index ${index}`,
      );
      t.equal(error?.details['reason'], 'index');
    }
    const short = await rejectsWith(
      t,
      store.putPart(tenant, session.id, 2, once(Buffer.alloc(999))),
      BlobPartInvalidError,
      BlobErrorCode.invalidPart,
      'a last part one byte short',
    );
    t.equal(short?.details['reason'], 'short');
    const long = await rejectsWith(
      t,
      store.putPart(tenant, session.id, 2, once(Buffer.alloc(1001))),
      BlobPartInvalidError,
      BlobErrorCode.invalidPart,
      'a last part one byte long',
    );
    t.equal(long?.details['reason'], 'long');
    t.same(await store.listParts(tenant, session.id), [], 'no refused part is kept');

    // The bytes of part 1 sent as part 0 and the other way round: each part has the right length,
    // so only the hash can tell.
    await store.putPart(tenant, session.id, 0, pattern.part(1, P));
    await store.putPart(tenant, session.id, 1, pattern.part(0, P));
    await store.putPart(tenant, session.id, 2, pattern.part(2, P));
    await rejectsWith(
      t,
      store.completeSession(tenant, session.id),
      BlobHashMismatchError,
      BlobErrorCode.hashMismatch,
      'complete with swapped parts',
    );
    await notVisible(t, store, ref, 'after swapped parts');
    const expectedPart0 = await partHashHex(pattern.part(0, P));
    await rejectsWith(
      t,
      store.putPart(tenant, session.id, 0, pattern.part(1, P), expectedPart0),
      BlobHashMismatchError,
      BlobErrorCode.hashMismatch,
      'a part that does not hash to its expected part hash',
    );
    t.notOk(
      (await store.listParts(tenant, session.id)).some((p) => p.index === 0),
      'the mismatching part is dropped',
    );
    const fixed0 = await store.putPart(tenant, session.id, 0, pattern.part(0, P), expectedPart0);
    t.equal(fixed0.hash, expectedPart0, 'the part hash is the expected one');
    await store.putPart(tenant, session.id, 1, pattern.part(1, P));
    const info = await store.completeSession(tenant, session.id);
    t.equal(info.hash, hash, 'the corrected session completes');
    t.same(await hashStream((await store.get(ref)).body, P), { hash, size });
  });

  t.test('a concurrent upload of the same object never corrupts it', async (t) => {
    const tenant = freshTenant();
    const size = P + 4096;
    const pattern = new Pattern(size);
    const hash = await pattern.hash(P);
    const ref = { tenant, kind: BlobKind.blob, hash };
    const [a, b] = await Promise.all([
      store.createSession({ ...ref, size }),
      store.createSession({ ...ref, size }),
    ]);
    t.not(a.id, b.id, 'two sessions');
    await Promise.all([
      store.putPart(tenant, a.id, 0, pattern.part(0, P)),
      store.putPart(tenant, b.id, 1, pattern.part(1, P)),
      store.putPart(tenant, b.id, 0, pattern.part(0, P)),
      store.putPart(tenant, a.id, 1, pattern.part(1, P)),
    ]);
    const results = await Promise.allSettled([
      store.completeSession(tenant, a.id),
      store.completeSession(tenant, b.id),
    ]);
    const fulfilled = results.filter((r) => r.status === 'fulfilled');
    t.ok(fulfilled.length >= 1, 'at least one completes');
    for (const r of results) {
      if (r.status === 'rejected') {
        t.equal((r.reason as RatsfachError).kind, ErrorKind.conflict, 'the other gets a conflict');
      } else {
        t.match(r.value, { hash, size }, 'a completion reports the object');
      }
    }
    t.same(await hashStream((await store.get(ref)).body, P), { hash, size }, 'object intact');

    const small = randomBytes(2048);
    const smallRef = { tenant, kind: BlobKind.keyslot, hash: hashKeySlotHex(small) };
    const puts = await Promise.all(
      Array.from({ length: 8 }, () => store.put({ ...smallRef, size: 2048 }, once(small))),
    );
    t.ok(
      puts.every((p) => p.size === 2048),
      'eight concurrent puts of one object all succeed',
    );
    t.same(await readAll((await store.get(smallRef)).body), small, 'small object intact');
    const objects = await collect(store.list(tenant, BlobKind.keyslot));
    t.equal(objects.length, 1, 'stored once');
  });

  t.test('completing an object that already exists succeeds and restarts its age', async (t) => {
    const tenant = freshTenant();
    const bytes = randomBytes(100);
    const ref = { tenant, kind: BlobKind.blob, hash: hashBlobHex(bytes, P) };
    const first = await store.put({ ...ref, size: 100 }, once(bytes));
    const session = await store.createSession({ ...ref, size: 100 });
    await store.putPart(tenant, session.id, 0, once(bytes));
    // Ages may have a resolution of one second (S3's Last-Modified).
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const second = await store.completeSession(tenant, session.id);
    t.equal(second.size, 100);
    t.ok(
      second.createdAt.getTime() > first.createdAt.getTime(),
      'its age restarts, so the collector spares it until the new record is committed',
    );
    const head = await store.head(ref);
    t.ok(head !== null && head.createdAt.getTime() > first.createdAt.getTime(), 'head agrees');
    const again = await store.completeSession(tenant, session.id);
    t.same(
      { hash: again.hash, size: again.size },
      { hash: ref.hash, size: 100 },
      'completing the completed session again returns the object',
    );
    await rejectsWith(
      t,
      store.putPart(tenant, session.id, 0, once(bytes)),
      BlobSessionNotFoundError,
      BlobErrorCode.sessionNotFound,
      'a completed session takes no more parts',
    );
    t.notOk(
      (await collect(store.listSessions(tenant))).some((s) => s.id === session.id),
      'and is no longer listed',
    );
    t.same(await readAll((await store.get(ref)).body), bytes);
    await store.delete(ref);
    await rejectsWith(
      t,
      store.completeSession(tenant, session.id),
      BlobSessionNotFoundError,
      BlobErrorCode.sessionNotFound,
      'once the object is gone, completing again is not found',
    );
  });

  t.test(
    'an interrupted session is resumed: parts listed, missing ones put, complete',
    async (t) => {
      const tenant = freshTenant();
      const size = 2 * P + 12345;
      const pattern = new Pattern(size);
      const hash = await pattern.hash(P);
      const ref = { tenant, kind: BlobKind.blob, hash };
      const session = await store.createSession({ ...ref, size });
      await store.putPart(tenant, session.id, 2, pattern.part(2, P));
      await store.putPart(tenant, session.id, 0, pattern.part(0, P));
      const firstBytes = await readAll(pattern.range(P, P + 1000));
      await t.rejects(
        store.putPart(tenant, session.id, 1, failingAfter(firstBytes)),
        'a part whose connection drops fails',
      );
      const resumed = factory.reopen ? await factory.reopen(store) : store;
      if (resumed !== store) t.teardown(() => resumed.close());
      const again = await resumed.getSession(tenant, session.id);
      t.match(again, { id: session.id, hash, size, partCount: 3 }, 'the session survives');
      const listed: PartInfo[] = await resumed.listParts(tenant, session.id);
      t.same(
        listed.map((p) => [p.index, p.size]),
        [
          [0, P],
          [2, 12345],
        ],
        'parts 0 and 2 are there, the dropped part 1 is not',
      );
      t.ok(
        (await collect(resumed.listSessions(tenant))).some((s) => s.id === session.id),
        'listSessions shows the open session',
      );
      const incomplete = await rejectsWith(
        t,
        resumed.completeSession(tenant, session.id),
        BlobSessionIncompleteError,
        BlobErrorCode.sessionIncomplete,
        'complete with part 1 missing',
      );
      t.same(incomplete?.details['missing'], [1]);
      await notVisible(t, resumed, ref, 'before the missing part');
      await resumed.putPart(tenant, session.id, 1, pattern.part(1, P));
      await resumed.completeSession(tenant, session.id);
      t.same(await hashStream((await resumed.get(ref)).body, P), { hash, size });
      t.notOk(
        (await collect(resumed.listSessions(tenant))).some((s) => s.id === session.id),
        'a completed session is no longer listed',
      );
    },
  );

  t.test('a part whose body fails midway is absent, then can be sent again', async (t) => {
    const tenant = freshTenant();
    const bytes = randomBytes(P + 10);
    const ref = { tenant, kind: BlobKind.blob, hash: hashBlobHex(bytes, P) };
    const session = await store.createSession({ ...ref, size: bytes.length });
    const first = bytes.subarray(0, P);
    await store.putPart(tenant, session.id, 0, once(first));
    await store.putPart(tenant, session.id, 1, once(bytes.subarray(P)));
    const failure = new Error('client went away');
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield first.subarray(0, 5);
      throw failure;
    }
    const error = await store.putPart(tenant, session.id, 0, failing()).catch((e: unknown) => e);
    t.equal(error, failure, "the body's own error passes through");
    t.same(
      (await store.listParts(tenant, session.id)).map((p) => p.index),
      [1],
      'the failed rewrite leaves part 0 absent, not the older bytes',
    );
    const incomplete = await rejectsWith(
      t,
      store.completeSession(tenant, session.id),
      BlobSessionIncompleteError,
      BlobErrorCode.sessionIncomplete,
      'complete without part 0',
    );
    t.same(incomplete?.details['missing'], [0], 'part 0 is named missing');
    await notVisible(t, store, ref, 'after the failed part');
    await store.putPart(tenant, session.id, 0, once(first));
    const info = await store.completeSession(tenant, session.id);
    t.equal(info.size, bytes.length, 'completes once part 0 is sent again');
    t.same(await hashStream((await store.get(ref)).body, P), {
      hash: ref.hash,
      size: bytes.length,
    });
  });

  t.test('aborting a session drops it and leaves nothing visible', async (t) => {
    const tenant = freshTenant();
    const bytes = randomBytes(777);
    const ref = { tenant, kind: BlobKind.blob, hash: hashBlobHex(bytes, P) };
    const session = await store.createSession({ ...ref, size: 777 });
    await store.putPart(tenant, session.id, 0, once(bytes));
    await store.abortSession(tenant, session.id);
    await store.abortSession(tenant, session.id);
    t.pass('aborting twice is harmless');
    await rejectsWith(
      t,
      store.putPart(tenant, session.id, 0, once(bytes)),
      BlobSessionNotFoundError,
      BlobErrorCode.sessionNotFound,
      'put after abort',
    );
    await rejectsWith(
      t,
      store.completeSession(tenant, session.id),
      BlobSessionNotFoundError,
      BlobErrorCode.sessionNotFound,
      'complete after abort',
    );
    await notVisible(t, store, ref, 'after abort');
  });

  t.test('abort racing complete: either the whole object or nothing, and no session', async (t) => {
    const tenant = freshTenant();
    const bytes = randomBytes(P + 10);
    const ref = { tenant, kind: BlobKind.blob, hash: hashBlobHex(bytes, P) };
    const session = await store.createSession({ ...ref, size: bytes.length });
    await store.putPart(tenant, session.id, 0, once(bytes.subarray(0, P)));
    await store.putPart(tenant, session.id, 1, once(bytes.subarray(P)));
    const completing = store.completeSession(tenant, session.id).then(
      () => undefined,
      (e: unknown) => e,
    );
    await store.abortSession(tenant, session.id);
    const error = await completing;
    if (error === undefined) {
      t.same(
        await hashStream((await store.get(ref)).body, P),
        { hash: ref.hash, size: bytes.length },
        'complete won: the object is whole',
      );
    } else {
      t.ok(
        error instanceof BlobSessionNotFoundError && error.code === BlobErrorCode.sessionNotFound,
        `abort won: complete is told the session is gone (got ${String(error)})`,
      );
      await notVisible(t, store, ref, 'abort won');
    }
    await rejectsWith(
      t,
      store.getSession(tenant, session.id),
      BlobSessionNotFoundError,
      BlobErrorCode.sessionNotFound,
      'the session after the race',
    );
  });

  t.test('reads byte ranges', async (t) => {
    const tenant = freshTenant();
    const bytes = randomBytes(64 * 1024);
    const ref = { tenant, kind: BlobKind.blob, hash: hashBlobHex(bytes, P) };
    await store.put({ ...ref, size: bytes.length }, once(bytes));
    const cases: [number, number | undefined][] = [
      [0, 1],
      [100, 1000],
      [65535, 1],
      [60000, undefined],
      [65536, 0],
      [0, undefined],
      [5, 0],
    ];
    for (const [offset, length] of cases) {
      const range = length === undefined ? { offset } : { offset, length };
      const got = await store.get(ref, range);
      const end = length === undefined ? bytes.length : offset + length;
      t.equal(got.offset, offset);
      t.equal(got.length, end - offset);
      t.equal(got.size, bytes.length);
      t.same(await readAll(got.body), bytes.subarray(offset, end), `range ${offset}+${length}`);
    }
    for (const range of [
      { offset: -1, length: 1 },
      { offset: 65536, length: 1 },
      { offset: 65537 },
      { offset: 0, length: 65537 },
      { offset: 1.5, length: 1 },
    ]) {
      await rejectsWith(
        t,
        store.get(ref, range),
        BlobRangeInvalidError,
        BlobErrorCode.invalidRange,
        `range ${JSON.stringify(range)}`,
      );
    }
  });

  t.test('a missing object is not found', async (t) => {
    const tenant = freshTenant();
    const ref = { tenant, kind: BlobKind.blob, hash: hashBlobHex(randomBytes(10), P) };
    await notVisible(t, store, ref, 'never stored');
    await rejectsWith(
      t,
      store.get(ref, { offset: 0, length: 1 }),
      BlobNotFoundError,
      BlobErrorCode.notFound,
      'a range of a missing object',
    );
    t.equal(await store.delete(ref), false, 'deleting it reports it was absent');
    if (store.capabilities.presignGet) {
      await rejectsWith(
        t,
        store.presignGet(ref, 30),
        BlobNotFoundError,
        BlobErrorCode.notFound,
        'presign',
      );
    }
    await rejectsWith(
      t,
      store.getSession(tenant, '0'.repeat(32)),
      BlobSessionNotFoundError,
      BlobErrorCode.sessionNotFound,
      'an unknown session',
    );
    await rejectsWith(
      t,
      store.listParts(tenant, '../../etc'),
      BlobSessionNotFoundError,
      BlobErrorCode.sessionNotFound,
      'a malformed session id',
    );
  });

  t.test('key slots can be deleted; a blob of the same bytes is another object', async (t) => {
    const tenant = freshTenant();
    const bytes = randomBytes(200);
    const slot = { tenant, kind: BlobKind.keyslot, hash: hashKeySlotHex(bytes) };
    const blob = { tenant, kind: BlobKind.blob, hash: hashBlobHex(bytes, P) };
    await store.put({ ...slot, size: 200 }, once(bytes));
    await store.put({ ...blob, size: 200 }, once(bytes));
    t.equal(await store.delete(slot), true, 'delete reports the slot existed');
    await notVisible(t, store, slot, 'deleted key slot');
    t.equal(await store.delete(slot), false, 'deleting again reports it absent');
    t.match(await store.head(blob), { size: 200 }, 'the blob of the same bytes stays');
    await store.put({ ...slot, size: 200 }, once(bytes));
    t.match(await store.head(slot), { size: 200 }, 'a deleted slot can be stored again');
  });

  t.test('a key slot is keyed by the plain hash of its bytes and stays small', async (t) => {
    const tenant = freshTenant();
    const bytes = randomBytes(100);
    const asBlob = { tenant, kind: BlobKind.keyslot, hash: hashBlobHex(bytes, P) };
    await rejectsWith(
      t,
      store.put({ ...asBlob, size: 100 }, once(bytes)),
      BlobHashMismatchError,
      BlobErrorCode.hashMismatch,
      'a key slot named by the part-wise blob hash',
    );
    await notVisible(t, store, asBlob, 'the misnamed key slot');
    const session = await store.createSession({ ...asBlob, size: 100 });
    await store.putPart(tenant, session.id, 0, once(bytes));
    await rejectsWith(
      t,
      store.completeSession(tenant, session.id),
      BlobHashMismatchError,
      BlobErrorCode.hashMismatch,
      'a key slot session named by the part-wise blob hash',
    );
    const slot = { tenant, kind: BlobKind.keyslot, hash: hashKeySlotHex(bytes) };
    const fixed = await store.createSession({ ...slot, size: 100 });
    await store.putPart(tenant, fixed.id, 0, once(bytes));
    t.match(await store.completeSession(tenant, fixed.id), { size: 100 }, 'through a session');
    await rejectsWith(
      t,
      store.createSession({ ...slot, size: 64 * 1024 + 1 }),
      BlobOptionInvalidError,
      BlobErrorCode.invalidOption,
      'a key slot above 64 KiB',
    );
  });

  t.test('lists objects, tenants and sessions', async (t) => {
    const tenant = freshTenant();
    const hashes: string[] = [];
    for (let i = 0; i < 5; i++) {
      const bytes = randomBytes(10 + i);
      const hash = hashBlobHex(bytes, P);
      hashes.push(hash);
      await store.put({ tenant, kind: BlobKind.blob, hash, size: bytes.length }, once(bytes));
    }
    const listed = await collect(store.list(tenant, BlobKind.blob));
    t.same(listed.map((o) => o.hash).sort(), [...hashes].sort(), 'every blob listed once');
    t.ok(
      listed.every((o) => o.tenant === tenant && o.kind === 'blob' && o.createdAt instanceof Date),
      'with tenant, kind and age',
    );
    t.same(await collect(store.list(tenant, BlobKind.keyslot)), [], 'no key slots');
    t.same(await collect(store.list(freshTenant(), BlobKind.blob)), [], 'an empty tenant');
    t.ok((await collect(store.listTenants())).includes(tenant), 'the tenant is listed');
  });

  t.test('refuses malformed keys and keeps tenants apart', async (t) => {
    const tenant = freshTenant();
    const other = freshTenant();
    const bytes = randomBytes(64);
    const hash = hashBlobHex(bytes, P);
    const ref = { tenant, kind: BlobKind.blob, hash };
    await store.put({ ...ref, size: 64 }, once(bytes));
    t.equal(await store.head({ ...ref, tenant: other }), null, 'another tenant does not see it');
    await rejectsWith(
      t,
      store.get({ ...ref, tenant: other }),
      BlobNotFoundError,
      BlobErrorCode.notFound,
      'another tenant cannot read it',
    );
    const session = await store.createSession({ ...ref, size: 64 });
    await rejectsWith(
      t,
      store.putPart(other, session.id, 0, once(bytes)),
      BlobSessionNotFoundError,
      BlobErrorCode.sessionNotFound,
      "another tenant cannot write into the tenant's session",
    );
    await store.abortSession(other, session.id);
    t.ok(
      await store.getSession(tenant, session.id),
      "another tenant cannot abort the tenant's session",
    );
    const bad: [string, BlobRef][] = [
      ['a tenant with a path', { ...ref, tenant: '../' + tenant }],
      ['an upper-case tenant', { ...ref, tenant: 'ABC' }],
      ['an empty tenant', { ...ref, tenant: '' }],
      ['an unknown kind', { ...ref, kind: 'other' as BlobKind }],
      ['a hash of 127 characters', { ...ref, hash: hash.slice(1) }],
      ['a hash of 129 characters', { ...ref, hash: hash + 'a' }],
      ['an upper-case hash', { ...ref, hash: hash.toUpperCase() }],
      ['a hash outside hex', { ...ref, hash: 'g' + hash.slice(1) }],
      ['a hash with a path', { ...ref, hash: '../' + hash.slice(3) }],
    ];
    for (const [what, r] of bad) {
      const code = BlobErrorCode.invalidKey;
      await rejectsWith(t, store.get(r), BlobKeyInvalidError, code, `get: ${what}`);
      await rejectsWith(t, store.head(r), BlobKeyInvalidError, code, `head: ${what}`);
      await rejectsWith(t, store.delete(r), BlobKeyInvalidError, code, `delete: ${what}`);
      await rejectsWith(
        t,
        store.put({ ...r, size: 64 }, once(bytes)),
        BlobKeyInvalidError,
        code,
        `put: ${what}`,
      );
      await rejectsWith(
        t,
        store.createSession({ ...r, size: 64 }),
        BlobKeyInvalidError,
        code,
        `createSession: ${what}`,
      );
      await rejectsWith(t, store.presignGet(r, 10), BlobKeyInvalidError, code, `presign: ${what}`);
    }
    await rejectsWith(
      t,
      collect(store.list('../x', BlobKind.blob)),
      BlobKeyInvalidError,
      BlobErrorCode.invalidKey,
      'list of a bad tenant',
    );
  });

  t.test('presigned GET URLs', async (t) => {
    const tenant = freshTenant();
    const bytes = randomBytes(4096);
    const ref = { tenant, kind: BlobKind.blob, hash: hashBlobHex(bytes, P) };
    await store.put({ ...ref, size: bytes.length }, once(bytes));
    for (const ttl of [0, 61, 1.5]) {
      await rejectsWith(
        t,
        store.presignGet(ref, ttl),
        BlobOptionInvalidError,
        BlobErrorCode.invalidOption,
        `ttl ${ttl}`,
      );
    }
    const presigned = await store.presignGet(ref, 60);
    if (!store.capabilities.presignGet) {
      t.equal(presigned, null, 'an adapter without presigning returns null');
      return;
    }
    if (presigned === null) {
      t.fail('an adapter with presigning returned null');
      return;
    }
    t.ok(presigned.expiresAt.getTime() <= Date.now() + 60_000, 'expires within 60 s');
    const ok = await fetch(presigned.url);
    t.equal(ok.status, 200, 'the URL fetches the object');
    t.same(Buffer.from(await ok.arrayBuffer()), bytes, 'with its bytes');

    const url = new URL(presigned.url);
    for (const [name, value] of url.searchParams) {
      if (/signature/i.test(name)) {
        const flipped = (value[0] === 'a' ? 'b' : 'a') + value.slice(1);
        url.searchParams.set(name, flipped);
      }
    }
    t.not(url.toString(), presigned.url, 'the URL was tampered with');
    const tampered = await fetch(url);
    t.ok(
      tampered.status >= 400 && tampered.status < 500,
      `a tampered URL is refused (${tampered.status})`,
    );

    const other = new URL(presigned.url);
    other.pathname = other.pathname.replace(ref.hash, hashBlobHex(randomBytes(9), P));
    const swapped = await fetch(other);
    t.ok(swapped.status >= 400 && swapped.status < 500, 'a URL moved to another key is refused');

    const short = await store.presignGet(ref, 1);
    if (short === null) return;
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const expired = await fetch(short.url);
    t.ok(
      expired.status >= 400 && expired.status < 500,
      `an expired URL is refused (${expired.status})`,
    );
  });

  if (factory.interrupt && factory.restore) {
    const { interrupt, restore } = factory;
    t.test('a server stopped mid-upload: clear error, nothing visible, resumable', async (t) => {
      const tenant = freshTenant();
      const size = P + 1000;
      const pattern = new Pattern(size);
      const hash = await pattern.hash(P);
      const ref = { tenant, kind: BlobKind.blob, hash };
      const session = await store.createSession({ ...ref, size });
      await store.putPart(tenant, session.id, 0, pattern.part(0, P));
      await interrupt.call(factory);
      try {
        await rejectsWith(
          t,
          store.putPart(tenant, session.id, 1, pattern.part(1, P)),
          BlobStoreUnavailableError,
          BlobErrorCode.unavailable,
          'a part while the server is down',
        );
        await rejectsWith(
          t,
          store.completeSession(tenant, session.id),
          BlobStoreUnavailableError,
          BlobErrorCode.unavailable,
          'complete while the server is down',
        );
        await rejectsWith(
          t,
          store.head(ref),
          BlobStoreUnavailableError,
          BlobErrorCode.unavailable,
          'head while the server is down',
        );
      } finally {
        await restore.call(factory);
      }
      await notVisible(t, store, ref, 'after the outage');
      t.same(
        (await store.listParts(tenant, session.id)).map((p) => p.index),
        [0],
        'the part stored before the outage is still there',
      );
      await store.putPart(tenant, session.id, 1, pattern.part(1, P));
      await store.completeSession(tenant, session.id);
      t.same(await hashStream((await store.get(ref)).body, P), { hash, size }, 'resumed intact');
    });
  }
}

/** BLAKE2b-512 of one part's bytes as hex (what PartInfo.hash holds). */
const hashBlobPartHex = (bytes: Uint8Array): string => hashPart(bytes).toString('hex');

/** BLAKE2b-512 of a streamed part as hex. */
async function partHashHex(body: AsyncIterable<Uint8Array>): Promise<string> {
  const h = createPartHash();
  for await (const c of body) h.update(c);
  return h.digest('hex');
}
