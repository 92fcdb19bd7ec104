// The documents side end to end over HTTP with the real crypto, stores and projector: a staff
// device uploads and commits; a reader fetches the delta, the record, the key slot and the blob,
// verifies and decrypts; conflicts, retries, readers, removed members and other tenants.
import t from 'tap';
import {
  MemorySink,
  fingerprint,
  openRecord,
  openVersionContent,
  unwrapEpochKey,
  type DeviceKeys,
} from '@ratsfach/crypto';
import {
  ApiProblemError,
  commitVersionCommand,
  deleteDocumentCommand,
  moveDocumentCommand,
  nextLink,
  restoreDocumentCommand,
} from '@ratsfach/client';
import {
  commitVersion,
  contentUrl,
  deleteDocument,
  documentHistory,
  documentRecords,
  fetchKeySlots,
  manifestDelta,
  moveDocument,
  restoreDocument,
} from '@ratsfach/api-contract';
import { base64urlDecode, decodeEvent } from '@ratsfach/domain';
import { documentWorld, type WorldDevice } from './helpers/documentWorld.js';

const problemOf = async (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected an error answer');
    },
    (error: unknown) => {
      if (!(error instanceof ApiProblemError)) throw error;
      return error;
    },
  );

const text = (s: string) => new TextEncoder().encode(s);

/** What a reader device does: unwrap its epoch key from the epoch record, then open content. */
const epochKeyFor = (device: WorldDevice, epochRecord: Uint8Array, committeeId: string) => {
  const opened = openRecord(epochRecord, 'key-epoch');
  const me = fingerprint(device.keys.signing.publicKey);
  const wrapped = opened.body.wrappedKeys.find((w) => w.recipient === me);
  if (wrapped === undefined) throw new Error('no key for this device');
  return unwrapEpochKey(
    { tenantId: device.tenantId, committeeId, epoch: opened.body.epoch },
    wrapped,
    { fingerprint: me, kem: (device.keys as DeviceKeys).kem },
  );
};

t.test('a staff device commits; a reader syncs, verifies and decrypts', async (t) => {
  const w = await documentWorld(t, ['t1', 't2']);
  const alice = await w.person('t1', 'alice', 'a1');
  const bob = await w.person('t1', 'bob', 'b1');
  const carol = await w.person('t1', 'carol', 'c1');
  const mallory = await w.person('t2', 'mallory', 'm1');
  await w.createCommittee('t1', 'council');
  await w.addMember(alice, 'council', 'staff');
  await w.addMember(bob, 'council', 'reader', alice);
  await w.addMember(carol, 'council', 'reader', alice);
  const epochKey = await w.startEpoch(alice, 'council', 0, [alice, bob, carol]);
  const tenant = { tenantId: 't1' };
  const doc = { tenantId: 't1', documentId: 'doc1' };

  // Create and commit version 1.
  const created = await w.createDocumentAs(alice, 'council', 'doc1');
  t.same([created.status, created.headVersion, created.head.length], ['active', 0, 1]);

  const plaintext = text('Tagesordnung: 1. Haushalt 2. Verschiedenes');
  const v1 = await w.prepareVersion(alice, 'council', 'doc1', 1, null, 0, epochKey, plaintext, {
    commandId: 'commit-v1',
  });
  const committed = await alice.api.call(commitVersion, { params: doc, body: v1.body });
  t.same([committed.headVersion, committed.replayed, committed.head.length], [1, false, 2]);
  const retried = await alice.api.call(commitVersion, { params: doc, body: v1.body });
  t.same(retried, { ...committed, replayed: true }, 'a retried commit returns the first result');

  // A concurrent edit: two versions on parent 1; the second gets 409 with the head.
  const v2 = await w.prepareVersion(alice, 'council', 'doc1', 2, 1, 0, epochKey, text('v2'));
  const v2b = await w.prepareVersion(alice, 'council', 'doc1', 2, 1, 0, epochKey, text('v2b'));
  await alice.api.call(commitVersion, { params: doc, body: v2.body });
  const conflict = await problemOf(alice.api.call(commitVersion, { params: doc, body: v2b.body }));
  t.equal(conflict.status, 409, 'a concurrent edit is a conflict');
  t.match(conflict.problem.current, { headVersion: 2, length: 3, status: 'active' });
  t.match(conflict.problem.current?.hash, /^[0-9a-f]{128}$/, 'the current head comes with it');

  // A commit naming a blob that was never uploaded is refused, and nothing is appended.
  const v3missing = await w.prepareVersion(alice, 'council', 'doc1', 3, 2, 0, epochKey, text('x'), {
    upload: false,
  });
  const missing = await problemOf(
    alice.api.call(commitVersion, { params: doc, body: v3missing.body }),
  );
  t.equal(missing.code, 'RATSFACH_BLOB_NOT_FOUND', 'a commit naming a missing blob is refused');
  t.equal((await w.head('document-t1-doc1')).length, 3, 'and nothing was appended');

  // A record changed after signing, or of another purpose, is refused before any blob check.
  const tampered = base64urlDecode(v3missing.body.data.record);
  tampered[tampered.length - 1] = (tampered[tampered.length - 1] as number) ^ 1;
  const forged = await problemOf(
    alice.api.call(commitVersion, {
      params: doc,
      body: {
        ...v3missing.body,
        data: { ...v3missing.body.data, record: Buffer.from(tampered).toString('base64url') },
      },
    }),
  );
  t.equal(forged.status, 422, 'a tampered version record is refused');
  const truncated = await problemOf(
    alice.api.call(commitVersion, {
      params: doc,
      body: {
        ...v3missing.body,
        data: { ...v3missing.body.data, record: v2.body.data.record.slice(0, 200) },
      },
    }),
  );
  const deletion = deleteDocumentCommand({
    ...doc,
    committeeId: 'council',
    tenantPosition: w.tenantPosition,
    committeeHead: await w.committeeHead('t1', 'council'),
    signerUserId: 'alice',
    signerDeviceId: 'a1',
    signer: alice.keys.signing,
    link: nextLink(await w.head('document-t1-doc1')),
  });
  const otherPurpose = await problemOf(
    alice.api.call(commitVersion, {
      params: doc,
      body: { ...v3missing.body, data: { ...v3missing.body.data, record: deletion.data.record } },
    }),
  );
  t.ok(truncated.status >= 400 && truncated.status < 500, 'a truncated record is refused');
  t.ok(
    otherPurpose.status >= 400 && otherPurpose.status < 500,
    'a record of another purpose is refused',
  );
  t.equal((await w.head('document-t1-doc1')).length, 3, 'neither appended anything');

  // A reader cannot upload, nor commit (even a record it signed itself).
  const readerUpload = await problemOf(
    w.upload(bob, 'council', 'blob', v2.blob, Buffer.from(v2.digest.hash).toString('hex')),
  );
  t.equal(readerUpload.code, 'RATSFACH_DOCUMENTS_NOT_WRITER');
  const bobVersion = commitVersionCommand({
    ...doc,
    committeeId: 'council',
    tenantPosition: w.tenantPosition,
    committeeHead: await w.committeeHead('t1', 'council'),
    signerUserId: 'bob',
    signerDeviceId: 'b1',
    signer: bob.keys.signing,
    link: nextLink(await w.head('document-t1-doc1')),
    version: 3,
    parentVersion: 2,
    epoch: 0,
    contentHash: v2.digest.hash,
    size: v2.blob.length,
    keySlotHash: openRecord(base64urlDecode(v2.body.data.record), 'version').body.keySlotHash,
    encryptedMetadata: openRecord(base64urlDecode(v2.body.data.record), 'version').body
      .encryptedMetadata,
  });
  const readerCommit = await problemOf(
    bob.api.call(commitVersion, { params: doc, body: bobVersion }),
  );
  // It names the staff's objects, which it did not store: the answer of an object not stored.
  t.equal(readerCommit.status, 404, 'a reader cannot commit');
  t.equal(readerCommit.code, 'RATSFACH_BLOB_NOT_FOUND');
  const relayed = await problemOf(bob.api.call(commitVersion, { params: doc, body: v2b.body }));
  t.equal(relayed.code, 'RATSFACH_DOCUMENTS_SIGNER_MISMATCH', "nor submit a staff's record");
  const wrongPath = await problemOf(
    alice.api.call(commitVersion, { params: { ...doc, documentId: 'doc2' }, body: v2b.body }),
  );
  t.equal(wrongPath.code, 'RATSFACH_DOCUMENTS_PATH_MISMATCH');

  await w.settled();

  // The reader: delta, records, key slot, blob; verify and decrypt.
  const delta = await bob.api.call(manifestDelta, { params: tenant });
  const versions = delta.entries.filter((e) => e.type === 'VersionCommitted');
  t.same(
    versions.map((e) => [e.documentId, e.version]),
    [
      ['doc1', 1],
      ['doc1', 2],
    ],
    'the delta names both versions',
  );
  t.match(
    delta.entries.find((e) => e.feed === 'user' && e.type === 'Joined'),
    { committeeId: 'council', userId: 'bob', role: 'reader', documentId: null },
    "the user's own feed shows the join",
  );
  const again = await bob.api.call(manifestDelta, {
    params: tenant,
    query: { since: delta.cursor },
  });
  t.same(again.entries, [], 'nothing new since the cursor');
  const paged = await bob.api.call(manifestDelta, { params: tenant, query: { limit: '1' } });
  t.same([paged.entries.length, paged.hasMore], [1, true], 'the delta is paged');

  const records = await bob.api.call(documentRecords, { params: doc });
  t.same(
    records.records.map((r) => r.type),
    ['DocumentCreated', 'VersionCommitted', 'VersionCommitted'],
  );
  const versionRecord = openRecord(base64urlDecode(records.records[1]!.record), 'version');
  t.equal(versionRecord.signerFingerprint, fingerprint(alice.keys.signing.publicKey));
  const page = await bob.api.call(documentRecords, {
    params: doc,
    query: { from: '1', limit: '1' },
  });
  t.same([page.records.length, page.next, page.length], [1, 2, 3], 'records are paged');

  const slots = await bob.api.call(fetchKeySlots, {
    params: tenant,
    body: {
      slots: [
        { documentId: 'doc1', version: 1 },
        { documentId: 'doc1', version: 9 },
        { documentId: 'nosuch', version: 1 },
      ],
    },
  });
  t.same(
    slots.missing,
    [
      { documentId: 'doc1', version: 9, reason: 'notFound' },
      { documentId: 'nosuch', version: 1, reason: 'notFound' },
    ],
    'absent slots are listed, not fatal',
  );
  const keySlot = base64urlDecode(slots.slots[0]!.keySlot);

  const download = await fetch(`${w.baseUrl}/v1/tenants/t1/documents/doc1/versions/1/content`, {
    headers: { authorization: `Bearer ${bob.token}` },
  });
  t.equal(download.status, 200);
  t.equal(download.headers.get('accept-ranges'), 'bytes');
  const blob = new Uint8Array(await download.arrayBuffer());
  t.same(Buffer.from(blob), v1.blob, 'the blob as uploaded');

  const epochRecords = await w.eventStore.readStream('committee-t1-council');
  let epochRecord: Uint8Array | undefined;
  for await (const recorded of epochRecords) {
    const event = decodeEvent(recorded);
    if (event.type === 'KeyEpochStarted') epochRecord = event.data.record;
  }
  const bobEpochKey = epochKeyFor(bob, epochRecord!, 'council');
  const sink = new MemorySink();
  await openVersionContent(
    [blob],
    {
      record: {
        contentHash: versionRecord.body.contentHash,
        size: Number(versionRecord.body.size),
        keySlotHash: versionRecord.body.keySlotHash,
      },
      binding: { tenantId: 't1', committeeId: 'council', documentId: 'doc1', version: 1, epoch: 0 },
      epochKey: bobEpochKey,
      keySlot,
    },
    sink,
  );
  t.same(sink.bytes(), plaintext, 'the reader decrypts what the staff device wrote');

  // Ranges.
  const ranged = await fetch(`${w.baseUrl}/v1/tenants/t1/documents/doc1/versions/1/content`, {
    headers: { authorization: `Bearer ${bob.token}`, range: 'bytes=10-19' },
  });
  t.equal(ranged.status, 206);
  t.equal(ranged.headers.get('content-range'), `bytes 10-19/${v1.blob.length}`);
  t.same(Buffer.from(await ranged.arrayBuffer()), v1.blob.subarray(10, 20));
  const suffix = await fetch(`${w.baseUrl}/v1/tenants/t1/documents/doc1/versions/1/content`, {
    headers: { authorization: `Bearer ${bob.token}`, range: 'bytes=-5' },
  });
  t.same(Buffer.from(await suffix.arrayBuffer()), v1.blob.subarray(v1.blob.length - 5));
  const beyond = await fetch(`${w.baseUrl}/v1/tenants/t1/documents/doc1/versions/1/content`, {
    headers: { authorization: `Bearer ${bob.token}`, range: `bytes=${v1.blob.length}-` },
  });
  t.equal(beyond.status, 416);
  t.equal(((await beyond.json()) as { code: string }).code, 'RATSFACH_DOCUMENTS_RANGE_INVALID');

  const url = await bob.api.call(contentUrl, { params: { ...doc, version: '1' } });
  t.same(
    [url.url, url.expiresAt, url.size],
    [null, null, v1.blob.length],
    'the filesystem store cannot presign: the client downloads through the API',
  );

  // Deliveries are recorded once per device, version and day, however many ranges.
  await w.settled();
  const audit = await w.readModel.auditTrail({ tenantId: 't1', subjectKind: 'document' });
  const deliveries = audit.entries.filter((e) => e.type === 'DocumentDelivered');
  t.same(
    deliveries.map((e) => e.targetUserId ?? e.actorUserId),
    ['bob'],
    'one server-attested delivery for bob',
  );

  const history = await bob.api.call(documentHistory, { params: doc });
  t.same(
    history.versions.map((v) => [v.version, v.parentVersion, v.signerDeviceId]),
    [
      [1, null, 'a1'],
      [2, 1, 'a1'],
    ],
  );

  // Move, delete, restore.
  const opened2 = openRecord(base64urlDecode(v2.body.data.record), 'version');
  const docSigned = async () => ({
    ...doc,
    committeeId: 'council',
    tenantPosition: w.tenantPosition,
    committeeHead: await w.committeeHead('t1', 'council'),
    signerUserId: 'alice',
    signerDeviceId: 'a1',
    signer: alice.keys.signing,
    link: nextLink(await w.head('document-t1-doc1')),
  });
  const moved = await alice.api.call(moveDocument, {
    params: doc,
    body: moveDocumentCommand({
      ...(await docSigned()),
      epoch: 0,
      version: 2,
      encryptedMetadata: opened2.body.encryptedMetadata,
    }),
  });
  t.equal(moved.head.length, 4);
  const deleted = await alice.api.call(deleteDocument, {
    params: doc,
    body: deleteDocumentCommand(await docSigned()),
  });
  t.equal(deleted.status, 'deleted');
  const restored = await alice.api.call(restoreDocument, {
    params: doc,
    body: restoreDocumentCommand(await docSigned()),
  });
  t.equal(restored.status, 'active');
  const wrongRoute = await problemOf(
    alice.api.call(restoreDocument, {
      params: doc,
      body: deleteDocumentCommand(await docSigned()) as never,
    }),
  );
  t.equal(wrongRoute.code, 'RATSFACH_API_REQUEST_INVALID', 'each route takes its command');

  // A removed member can no longer download, fetch key slots or read the history.
  await w.removeMember(carol, 'council', 'reader');
  const removed = await fetch(`${w.baseUrl}/v1/tenants/t1/documents/doc1/versions/1/content`, {
    headers: { authorization: `Bearer ${carol.token}` },
  });
  t.equal(removed.status, 404, 'a removed member cannot download');
  const removedSlots = await carol.api.call(fetchKeySlots, {
    params: tenant,
    body: { slots: [{ documentId: 'doc1', version: 1 }] },
  });
  t.same(removedSlots.slots, [], 'nor fetch key slots');
  const removedHistory = await problemOf(carol.api.call(documentHistory, { params: doc }));
  t.equal(removedHistory.code, 'RATSFACH_DOCUMENTS_NOT_FOUND');

  // Another tenant's token learns nothing: its own tenant has no such document, and t1's paths
  // refuse it before anything is looked up.
  const foreignHistory = await problemOf(
    mallory.api.call(documentHistory, { params: { tenantId: 't2', documentId: 'doc1' } }),
  );
  const unknownHistory = await problemOf(
    bob.api.call(documentHistory, { params: { tenantId: 't1', documentId: 'nosuch' } }),
  );
  t.same(
    [foreignHistory.status, foreignHistory.code],
    [unknownHistory.status, unknownHistory.code],
    'a document of another tenant is like one that does not exist',
  );
  for (const [name, call] of [
    ['history', mallory.api.call(documentHistory, { params: doc })],
    ['records', mallory.api.call(documentRecords, { params: doc })],
    ['delta', mallory.api.call(manifestDelta, { params: tenant })],
    [
      'key slots',
      mallory.api.call(fetchKeySlots, {
        params: tenant,
        body: { slots: [{ documentId: 'doc1', version: 1 }] },
      }),
    ],
    ['commit', mallory.api.call(commitVersion, { params: doc, body: v2b.body })],
  ] as const) {
    t.equal((await problemOf(call)).status, 401, `t2's token at t1's ${name} route: 401`);
  }
  const foreignCursor = await problemOf(
    mallory.api.call(manifestDelta, { params: { tenantId: 't2' }, query: { since: delta.cursor } }),
  );
  t.equal(foreignCursor.status, 403, "another tenant's cursor is refused");
  const bogus = await problemOf(
    bob.api.call(manifestDelta, { params: tenant, query: { since: 'm1.garbage' } }),
  );
  t.equal(bogus.status, 400, 'a malformed cursor is refused');
});
