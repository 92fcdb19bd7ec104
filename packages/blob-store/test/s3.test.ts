import { randomBytes } from 'node:crypto';
import t from 'tap';
import {
  BlobErrorCode,
  BlobHashMismatchError,
  BlobKind,
  BlobOptionInvalidError,
  BlobSessionNotFoundError,
  BlobSizeMismatchError,
  BlobStoreUnavailableError,
  BlobVersionedBucketError,
  GarbageCollector,
  blobObjectKey,
  hashBlobHex,
  hashKeySlotHex,
  type BlobStore,
} from '../src/index.js';
import { openS3BlobStore, S3BlobErrorCode, S3CredentialsRefusedError } from '../src/s3/index.js';
import {
  freshTenant,
  hashStream,
  Pattern,
  readAll,
  rejectsWith,
  runBlobStoreContract,
} from './contract.js';
import { runIntegrityContract } from './integrityContract.js';
import {
  randomBucket,
  rawClient,
  removeBucket,
  s3Options,
  s3ServerCommand,
  s3TestServer,
} from './s3TestServer.js';

const server = s3TestServer();
const bucket = randomBucket(server);
const options = s3Options(server, bucket);
const extraBuckets: string[] = [];
t.teardown(async () => {
  for (const b of [bucket, ...extraBuckets]) await removeBucket(server, b);
});

const MiB = 1024 * 1024;

t.test('the S3 adapter on radosgw passes the blob store contract', async (t) => {
  // The contract runs on the spare gateway, which it crashes and restarts mid-upload; other
  // test files keep using the main gateway meanwhile. The cluster behind both keeps the parts.
  await s3ServerCommand(server, 'start-rgw', 'spare');
  t.teardown(() => s3ServerCommand(server, 'kill-rgw', 'spare'));
  const spare = { ...options, port: server.sparePort };
  await runBlobStoreContract(t, {
    create: () => openS3BlobStore(spare),
    // Another instance is what another API process would be: no cached session state.
    reopen: () => openS3BlobStore(spare),
    interrupt: () => s3ServerCommand(server, 'kill-rgw', 'spare'),
    restore: () => s3ServerCommand(server, 'start-rgw', 'spare'),
  });
});

t.test('the S3 adapter on radosgw keeps the integrity contract', async (t) => {
  const raw = rawClient(server);
  await runIntegrityContract(
    t,
    {
      create: () => openS3BlobStore(options),
      reopen: () => openS3BlobStore(options),
      async damageObject(_store, ref, bytes) {
        await raw.putObject(bucket, blobObjectKey(ref), Buffer.from(bytes));
      },
      async damageSession(_store, tenant, sessionId) {
        await raw.putObject(
          bucket,
          `.sessions/${tenant}/${sessionId}/session.json`,
          '{"v": 1, "ten',
        );
      },
    },
    { trials: 30 },
  );
});

t.test('creates its bucket at start and opens an existing one', async (t) => {
  const own = randomBucket(server);
  extraBuckets.push(own);
  const raw = rawClient(server);
  t.equal(await raw.bucketExists(own), false, 'no bucket before');
  const first = await openS3BlobStore(s3Options(server, own));
  await first.close();
  t.equal(await raw.bucketExists(own), true, 'the bucket exists after open');
  const second = await openS3BlobStore(s3Options(server, own));
  t.equal(second.bucket, own, 'opening again uses the existing bucket');
  await second.close();
});

t.test('refuses a bucket with versioning, enabled or suspended', async (t) => {
  const raw = rawClient(server);
  for (const status of ['Enabled', 'Suspended'] as const) {
    const versioned = randomBucket(server);
    extraBuckets.push(versioned);
    await raw.makeBucket(versioned);
    await raw.setBucketVersioning(versioned, { Status: 'Enabled' });
    if (status === 'Suspended') await raw.setBucketVersioning(versioned, { Status: 'Suspended' });
    const error = await rejectsWith(
      t,
      openS3BlobStore(s3Options(server, versioned)),
      BlobVersionedBucketError,
      BlobErrorCode.versionedBucketRefused,
      `a bucket with versioning ${status}`,
    );
    t.match(error?.hint, /new bucket/, 'the hint says to use a bucket without versioning');
    t.equal(error?.details['versioning'], status);
  }
});

t.test('wrong credentials are a typed error with a hint about the keys', async (t) => {
  const wrongSecret = { ...options, secretKey: 'not-the-secret' };
  const e1 = await rejectsWith(
    t,
    openS3BlobStore(wrongSecret),
    S3CredentialsRefusedError,
    S3BlobErrorCode.credentialsRefused,
    'a wrong secret key',
  );
  t.match(e1?.hint, /access key and secret key/);
  t.equal(e1?.kind, 'unavailable', 'an outage for the callers, not their fault');
  await rejectsWith(
    t,
    openS3BlobStore({ ...options, accessKey: 'NOSUCHACCESSKEY' }),
    S3CredentialsRefusedError,
    S3BlobErrorCode.credentialsRefused,
    'an unknown access key',
  );
});

t.test('an unreachable server is BlobStoreUnavailableError naming the endpoint', async (t) => {
  const error = await rejectsWith(
    t,
    openS3BlobStore({ ...options, port: 1, retry: { attempts: 2, baseDelayMs: 10 } }),
    BlobStoreUnavailableError,
    BlobErrorCode.unavailable,
    'a closed port',
  );
  t.match(error?.hint, /http:\/\/127\.0\.0\.1:1\b/, 'the hint names the endpoint');
  t.equal(error?.details['s3Code'], 'ECONNREFUSED');
});

t.test('refuses a part size below S3 multipart minimum and a malformed bucket name', async (t) => {
  await rejectsWith(
    t,
    openS3BlobStore({ ...options, partSize: 4 * MiB }),
    BlobOptionInvalidError,
    BlobErrorCode.invalidOption,
    'a 4 MiB part size',
  );
  await rejectsWith(
    t,
    openS3BlobStore({ ...options, bucket: 'Not_A_Bucket' }),
    BlobOptionInvalidError,
    BlobErrorCode.invalidOption,
    'an upper-case bucket name',
  );
});

t.test(
  'a large put goes up in parts and reports the stored size, not the empty ETag',
  async (t) => {
    const store: BlobStore = await openS3BlobStore(options);
    t.teardown(() => store.close());
    const tenant = freshTenant();
    const pattern = new Pattern(3 * store.partSize + 123);
    const hash = await pattern.hash(store.partSize);
    const ref = { tenant, kind: BlobKind.blob, hash };
    const info = await store.put({ ...ref, size: pattern.size }, pattern.range());
    t.match(info, { hash, size: pattern.size }, 'put reports the object');
    t.same(await store.head(ref), info, 'head agrees with put');
    t.same(await hashStream((await store.get(ref)).body, store.partSize), {
      hash,
      size: pattern.size,
    });
    const again = await store.put({ ...ref, size: pattern.size }, pattern.range());
    t.ok(again.createdAt >= info.createdAt, 'a second put restarts the age');
    const head = await store.head(ref);
    t.match(head, { hash, size: pattern.size }, 'head finds the object');
    // HEAD's Last-Modified has whole seconds; the copy that restarted the age reports ms.
    t.equal(
      head?.createdAt.getTime(),
      Math.floor(again.createdAt.getTime() / 1000) * 1000,
      'head reports the restarted age',
    );
    t.same(await hashStream((await store.get(ref)).body, store.partSize), {
      hash,
      size: pattern.size,
    });
  },
);

t.test('a failed large put leaves no object and no unfinished upload behind', async (t) => {
  const store = await openS3BlobStore(options);
  t.teardown(() => store.close());
  const tenant = freshTenant();
  const pattern = new Pattern(2 * store.partSize + 10);
  const wrongHash = hashBlobHex(randomBytes(16), store.partSize);
  const ref = { tenant, kind: BlobKind.blob, hash: wrongHash };
  await rejectsWith(
    t,
    store.put({ ...ref, size: pattern.size }, pattern.range()),
    BlobHashMismatchError,
    BlobErrorCode.hashMismatch,
    'a large put with a wrong hash',
  );
  await rejectsWith(
    t,
    store.put({ ...ref, size: pattern.size - 1 }, pattern.range()),
    BlobSizeMismatchError,
    BlobErrorCode.sizeMismatch,
    'a large put running past its size',
  );
  await rejectsWith(
    t,
    store.put({ ...ref, size: pattern.size + 1 }, pattern.range()),
    BlobSizeMismatchError,
    BlobErrorCode.sizeMismatch,
    'a large put ending early',
  );
  t.equal(await store.head(ref), null, 'nothing visible');
  const uploads: unknown[] = [];
  for await (const u of rawClient(server).listIncompleteUploads(bucket, `${tenant}/`, true)) {
    uploads.push(u);
  }
  t.same(uploads, [], 'every multipart upload was aborted');
});

t.test('a deleted key slot leaves no version behind on S3', async (t) => {
  const store = await openS3BlobStore(options);
  t.teardown(() => store.close());
  const tenant = freshTenant();
  const bytes = randomBytes(300);
  const slot = { tenant, kind: BlobKind.keyslot, hash: hashKeySlotHex(bytes) };
  await store.put({ ...slot, size: 300 }, [bytes]);
  t.same(await readAll((await store.get(slot)).body), bytes);
  t.equal(await store.delete(slot), true);
  const versions: unknown[] = [];
  const stream = rawClient(server).listObjects(bucket, `${tenant}/`, true, {
    IncludeVersion: true,
  });
  for await (const v of stream) versions.push(v);
  t.same(versions, [], 'no object and no older version under the tenant');
});

t.test('session state lives on S3: another instance lists and completes the session', async (t) => {
  const a = await openS3BlobStore(options);
  const b = await openS3BlobStore(options);
  t.teardown(async () => {
    await a.close();
    await b.close();
  });
  const tenant = freshTenant();
  const pattern = new Pattern(a.partSize + 5);
  const hash = await pattern.hash(a.partSize);
  const session = await a.createSession({ tenant, kind: BlobKind.blob, hash, size: pattern.size });
  await a.putPart(tenant, session.id, 0, pattern.part(0, a.partSize));
  const seen = [];
  for await (const s of b.listSessions(tenant)) seen.push(s.id);
  t.same(seen, [session.id], 'the other instance lists the session');
  await b.putPart(tenant, session.id, 1, pattern.part(1, a.partSize));
  t.same(
    (await a.listParts(tenant, session.id)).map((p) => p.index),
    [0, 1],
    'each instance sees the parts of the other',
  );
  const info = await b.completeSession(tenant, session.id);
  t.equal(info.size, pattern.size);
  t.match(await a.head({ tenant, kind: BlobKind.blob, hash }), { size: pattern.size });
});

t.test('sweeps multipart uploads no session names, and spares open sessions', async (t) => {
  const own = randomBucket(server);
  extraBuckets.push(own);
  const store = await openS3BlobStore(s3Options(server, own));
  t.teardown(() => store.close());
  const tenant = freshTenant();
  const bytes = randomBytes(1000);
  const ref = { tenant, kind: BlobKind.blob, hash: hashBlobHex(bytes, store.partSize) };
  const session = await store.createSession({ ...ref, size: 1000 });
  await store.putPart(tenant, session.id, 0, [bytes]);
  const raw = rawClient(server);
  // What a crash right after starting an upload leaves: an upload without a session.
  await raw.initiateNewMultipartUpload(own, `${tenant}/blob/00/00/${'0'.repeat(128)}`, {});
  t.equal(
    await store.sweepOrphanUploads(new Date(Date.now() - 3_600_000)),
    0,
    'nothing younger than the cut-off is touched',
  );
  t.equal(await store.sweepOrphanUploads(new Date(Date.now() + 60_000)), 1, 'the orphan goes');
  const left: { key: string }[] = [];
  for await (const u of raw.listIncompleteUploads(own, '', true)) left.push(u as { key: string });
  t.same(
    left.map((u) => u.key),
    [blobObjectKey(ref)],
    "only the open session's upload is left",
  );
  t.match(await store.completeSession(tenant, session.id), { size: 1000 }, 'it still completes');
});

t.test(
  'the garbage collector on S3 deletes only unreferenced objects no session is about to commit',
  async (t) => {
    const own = randomBucket(server);
    extraBuckets.push(own);
    const store = await openS3BlobStore(s3Options(server, own));
    t.teardown(() => store.close());
    const tenant = freshTenant();
    const put = async () => {
      const bytes = randomBytes(500);
      const ref = { tenant, kind: BlobKind.blob, hash: hashBlobHex(bytes, store.partSize) };
      await store.put({ ...ref, size: 500 }, [bytes]);
      return { ref, bytes };
    };
    const live = await put();
    const orphan = await put();
    const pending = await put();
    const session = await store.createSession({ ...pending.ref, size: 500 });
    await store.putPart(tenant, session.id, 0, [pending.bytes]);

    const listed = new Map<string, Date>();
    for await (const o of store.list(tenant, BlobKind.blob)) listed.set(o.hash, o.createdAt);
    for (const { ref } of [live, orphan, pending]) {
      const head = await store.head(ref);
      t.equal(
        head?.createdAt.getTime(),
        Math.floor((listed.get(ref.hash)?.getTime() ?? 0) / 1000) * 1000,
        'head and list report the same server age (head in whole seconds)',
      );
    }

    const collector = new GarbageCollector({
      condemnGraceMs: 0,
      store,
      references: async function* () {
        yield live.ref;
      },
      tenants: async function* () {
        yield tenant;
      },
      graceMs: 3_600_000,
      now: () => new Date(Date.now() + 2 * 3_600_000),
    });
    const report = await collector.collect();
    t.same(
      report.deleted.map((o) => o.hash),
      [orphan.ref.hash],
      'only the unreferenced object without a session goes',
    );
    t.equal(await store.head(orphan.ref), null, 'it is gone from S3');
    t.ok(await store.head(live.ref), 'the referenced object stays');
    t.ok(await store.head(pending.ref), 'the object an open session is about to commit stays');
    t.match(await store.completeSession(tenant, session.id), { size: 500 });
  },
);

t.test('a session aborted by another instance is gone for the first one too', async (t) => {
  const a = await openS3BlobStore(options);
  const b = await openS3BlobStore(options);
  t.teardown(async () => {
    await a.close();
    await b.close();
  });
  const tenant = freshTenant();
  const bytes = randomBytes(700);
  const ref = { tenant, kind: BlobKind.blob, hash: hashBlobHex(bytes, a.partSize) };
  const session = await a.createSession({ ...ref, size: 700 });
  await a.putPart(tenant, session.id, 0, [bytes]);
  await b.abortSession(tenant, session.id);
  for (const [what, call] of [
    ['complete', () => a.completeSession(tenant, session.id)],
    ['put a part', () => a.putPart(tenant, session.id, 0, [bytes])],
    ['list parts', () => a.listParts(tenant, session.id)],
  ] as const) {
    await rejectsWith(
      t,
      call(),
      BlobSessionNotFoundError,
      BlobErrorCode.sessionNotFound,
      `${what} after the abort`,
    );
  }
  t.equal(await a.head(ref), null, 'nothing visible');
});

t.test('presigned GET URLs from radosgw: fetched, 403 when tampered or expired', async (t) => {
  const store = await openS3BlobStore(options);
  t.teardown(() => store.close());
  const tenant = freshTenant();
  const bytes = randomBytes(2000);
  const ref = { tenant, kind: BlobKind.blob, hash: hashBlobHex(bytes, store.partSize) };
  await store.put({ ...ref, size: 2000 }, [bytes]);
  const signed = await store.presignGet(ref, 60);
  if (signed === null) throw new Error('the S3 adapter presigns');
  const url = new URL(signed.url);
  t.equal(url.host, `${server.endPoint}:${String(server.port)}`, 'the URL points at the S3 server');
  const ok = await fetch(url);
  t.equal(ok.status, 200);
  t.same(Buffer.from(await ok.arrayBuffer()), bytes, 'the device gets the bytes without the API');
  const signature = url.searchParams.get('X-Amz-Signature') ?? '';
  url.searchParams.set(
    'X-Amz-Signature',
    signature.replace(/^./, (c) => (c === '0' ? '1' : '0')),
  );
  const tampered = await fetch(url);
  t.equal(tampered.status, 403, 'a tampered signature is refused');
  await tampered.arrayBuffer();
  const short = await store.presignGet(ref, 1);
  await new Promise((resolve) => setTimeout(resolve, 2100));
  const expired = await fetch(short?.url ?? '');
  t.equal(expired.status, 403, 'an expired URL is refused');
  await expired.arrayBuffer();
  await rejectsWith(
    t,
    store.presignGet(ref, 61),
    BlobOptionInvalidError,
    BlobErrorCode.invalidOption,
    'a lifetime above 60 s',
  );
});
