// Upload sessions on disk changed behind the store's back (by an operator, a restore from backup
// or an older version of the store): each change is refused as a missing session or missing
// parts, never turned into an object that does not hold the bytes it was announced with.
import { randomBytes } from 'node:crypto';
import { copyFile, link, mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import {
  BlobErrorCode,
  BlobKind,
  BlobSessionIncompleteError,
  BlobSessionNotFoundError,
  hashBlobHex,
} from '../src/index.js';
import { FsBlobStore } from '../src/fs/index.js';
import { rejectsWith } from './contract.js';

const tenant = 'tenant_a';
const roots: string[] = [];
t.teardown(async () => {
  for (const root of roots) await rm(root, { recursive: true, force: true });
});

/** A store with one session of `bytes` whose parts are all written (not completed). */
async function uploaded(bytes: Uint8Array) {
  const root = await mkdtemp(join(tmpdir(), 'ratsfach-blob-tamper-'));
  roots.push(root);
  const store = await FsBlobStore.open({ root, sessionTtlMs: 60_000 });
  const session = await store.createSession({
    tenant,
    kind: BlobKind.blob,
    hash: hashBlobHex(bytes),
    size: bytes.length,
  });
  await store.putPart(tenant, session.id, 0, [bytes]);
  const dir = join(root, '.sessions', tenant, session.id);
  return { root, store, session, dir };
}

t.test('a data file shortened behind the store: every part counts as missing', async (t) => {
  const bytes = randomBytes(100);
  const { store, session, dir } = await uploaded(bytes);
  t.teardown(() => store.close());
  await truncate(join(dir, 'data'), 60);
  const error = await rejectsWith(
    t,
    store.completeSession(tenant, session.id),
    BlobSessionIncompleteError,
    BlobErrorCode.sessionIncomplete,
    'complete on a shortened data file',
  );
  t.same((error?.details as { missing: number[] }).missing, [0], 'the part must be sent again');
  t.same(await store.listParts(tenant, session.id), [], 'its marker is gone');
  t.equal(
    await store.head({ tenant, kind: BlobKind.blob, hash: session.hash }),
    null,
    'no object was made',
  );
});

t.test('a data file with a second link is not written to and the session ends', async (t) => {
  const bytes = randomBytes(100);
  const { root, store, session, dir } = await uploaded(bytes);
  t.teardown(() => store.close());
  // What an older version left when it linked the data into place before a crash.
  await link(join(dir, 'data'), join(root, 'elsewhere'));
  await rejectsWith(
    t,
    store.putPart(tenant, session.id, 0, [bytes]),
    BlobSessionNotFoundError,
    BlobErrorCode.sessionNotFound,
    'a part written through the second link',
  );
  await rejectsWith(
    t,
    store.getSession(tenant, session.id),
    BlobSessionNotFoundError,
    BlobErrorCode.sessionNotFound,
    'the session removed',
  );
});

t.test('the sweep treats a data file with a second link as stale at once', async (t) => {
  const bytes = randomBytes(100);
  const { root, store, session, dir } = await uploaded(bytes);
  t.teardown(() => store.close());
  await link(join(dir, 'data'), join(root, 'elsewhere'));
  t.equal(await store.sweepSessions(), 1, 'swept although it is fresh');
  await rejectsWith(
    t,
    store.getSession(tenant, session.id),
    BlobSessionNotFoundError,
    BlobErrorCode.sessionNotFound,
    'the swept session',
  );
});

t.test("another session's description copied into a session is refused", async (t) => {
  const { root, store, session } = await uploaded(randomBytes(100));
  t.teardown(() => store.close());
  const other = await store.createSession({
    tenant,
    kind: BlobKind.blob,
    hash: hashBlobHex(randomBytes(5)),
    size: 5,
  });
  await copyFile(
    join(root, '.sessions', tenant, session.id, 'session.json'),
    join(root, '.sessions', tenant, other.id, 'session.json'),
  );
  for (const [name, attempt] of [
    ['getSession', () => store.getSession(tenant, other.id)],
    ['listParts', () => store.listParts(tenant, other.id)],
    ['completeSession', () => store.completeSession(tenant, other.id)],
  ] as const) {
    await rejectsWith(
      t,
      attempt(),
      BlobSessionNotFoundError,
      BlobErrorCode.sessionNotFound,
      `${name} on a session whose description names another`,
    );
  }
});

t.test('a marker for a part beyond the last is ignored', async (t) => {
  const { store, session, dir } = await uploaded(randomBytes(100));
  t.teardown(() => store.close());
  await writeFile(join(dir, `p7.${'a'.repeat(128)}`), '');
  const parts = await store.listParts(tenant, session.id);
  t.same(
    parts.map((p) => p.index),
    [0],
    'only the real part is listed',
  );
  t.equal((await store.completeSession(tenant, session.id)).size, 100, 'and it completes');
});

t.test('a completed session: parts are no longer listed, and a lost object ends it', async (t) => {
  const bytes = randomBytes(100);
  const { store, session } = await uploaded(bytes);
  t.teardown(() => store.close());
  await store.completeSession(tenant, session.id);
  await rejectsWith(
    t,
    store.listParts(tenant, session.id),
    BlobSessionNotFoundError,
    BlobErrorCode.sessionNotFound,
    'listParts after completion',
  );
  t.equal(
    (await store.completeSession(tenant, session.id)).size,
    100,
    'completing again returns it',
  );
  const ref = { tenant, kind: BlobKind.blob, hash: session.hash };
  t.ok(await store.delete(ref), 'an operator deletes the object');
  await rejectsWith(
    t,
    store.completeSession(tenant, session.id),
    BlobSessionNotFoundError,
    BlobErrorCode.sessionNotFound,
    'completing again once the object is gone',
  );
  t.equal(await store.head(ref), null, 'nothing was brought back');
});

t.test('aborting a session id that cannot exist is a quiet no-op', async (t) => {
  const { store, session } = await uploaded(randomBytes(10));
  t.teardown(() => store.close());
  await store.abortSession(tenant, '../../etc');
  t.ok(await store.getSession(tenant, session.id), 'the real session is untouched');
});
