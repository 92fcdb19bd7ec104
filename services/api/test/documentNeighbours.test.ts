// The neighbours of the writer rule, as an attacker would try them: a reader and a removed staff
// member sign move, delete and restore records for themselves. Each is refused and leaves the
// document chain as it was.
import t from 'tap';
import { keySlotHash, openRecord } from '@ratsfach/crypto';
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
  completeUpload,
  createUpload,
  deleteDocument,
  fetchKeySlots,
  listUploadParts,
  moveDocument,
  restoreDocument,
} from '@ratsfach/api-contract';
import { base64urlDecode } from '@ratsfach/domain';
import { councilWorld, documentWorld, type WorldDevice } from './helpers/documentWorld.js';

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

t.test('only a current writer moves, deletes and restores a document', async (t) => {
  const { w, alice, bob, epochKey, doc } = await councilWorld(t);
  const carol = await w.person('t1', 'carol', 'c1');
  await w.addMember(carol, 'council', 'staff', alice);
  await w.createDocumentAs(alice, 'council', 'doc1');
  const v1 = await w.commitPlaintext(
    alice,
    'council',
    'doc1',
    1,
    null,
    0,
    epochKey,
    new TextEncoder().encode('Tagesordnung'),
  );
  const stream = 'document-t1-doc1';
  const signedBy = async (device: WorldDevice) => ({
    ...doc,
    committeeId: 'council',
    tenantPosition: w.tenantPosition,
    committeeHead: await w.committeeHead('t1', 'council'),
    signerUserId: device.userId,
    signerDeviceId: device.deviceId,
    signer: device.keys.signing,
    link: nextLink(await w.head(stream)),
  });
  const encryptedMetadata = openRecord(base64urlDecode(v1.body.data.record), 'version').body
    .encryptedMetadata;
  const moveBy = async (device: WorldDevice) =>
    device.api.call(moveDocument, {
      params: doc,
      body: moveDocumentCommand({
        ...(await signedBy(device)),
        epoch: 0,
        version: 1,
        encryptedMetadata,
      }),
    });
  const deleteBy = async (device: WorldDevice) =>
    device.api.call(deleteDocument, {
      params: doc,
      body: deleteDocumentCommand(await signedBy(device)),
    });
  const restoreBy = async (device: WorldDevice) =>
    device.api.call(restoreDocument, {
      params: doc,
      body: restoreDocumentCommand(await signedBy(device)),
    });
  const length = (await w.head(stream)).length;

  // A reader signs the records for itself: its own signature, the right chain position.
  t.equal((await problemOf(moveBy(bob))).status, 403, 'a reader cannot move');
  t.equal((await problemOf(deleteBy(bob))).status, 403, 'a reader cannot delete');
  t.equal((await w.head(stream)).length, length, 'nothing appended');

  // A staff member removed from the committee has lost the right with the membership.
  await w.removeMember(carol, 'council', 'staff');
  t.equal((await problemOf(moveBy(carol))).status, 403, 'a removed writer cannot move');
  t.equal((await problemOf(deleteBy(carol))).status, 403, 'a removed writer cannot delete');
  t.equal((await w.head(stream)).length, length, 'nothing appended');

  // The same records signed by the current writer are accepted: the signer is what is refused.
  t.equal((await deleteBy(alice)).status, 'deleted');
  t.equal((await problemOf(restoreBy(bob))).status, 403, 'a reader cannot restore');
  t.equal((await problemOf(restoreBy(carol))).status, 403, 'a removed writer cannot restore');
  t.equal((await w.head(stream)).length, length + 1, 'only the writer’s deletion appended');
  t.equal((await restoreBy(alice)).status, 'active');
});

t.test('one key-slot batch answers each document by its own committee', async (t) => {
  const { w, alice, bob, epochKey } = await councilWorld(t);
  const text = new TextEncoder().encode('Haushalt');
  await w.createDocumentAs(alice, 'council', 'doc1');
  await w.commitPlaintext(alice, 'council', 'doc1', 1, null, 0, epochKey, text);
  // A second committee bob is no member of.
  await w.createCommittee('t1', 'board');
  await w.addMember(alice, 'board', 'staff');
  const boardKey = await w.startEpoch(alice, 'board', 0, [alice]);
  await w.createDocumentAs(alice, 'board', 'doc2');
  await w.commitPlaintext(alice, 'board', 'doc2', 1, null, 0, boardKey, text);
  await w.settled();
  const slots = [
    { documentId: 'doc2', version: 1 },
    { documentId: 'doc1', version: 1 },
    { documentId: 'doc1', version: 7 },
    { documentId: 'nosuch', version: 1 },
  ];
  const asBob = await bob.api.call(fetchKeySlots, { params: { tenantId: 't1' }, body: { slots } });
  t.same(
    asBob.slots.map((s) => [s.documentId, s.version]),
    [['doc1', 1]],
    "bob gets his committee's slot only",
  );
  t.same(
    asBob.missing,
    [
      { documentId: 'doc2', version: 1, reason: 'notFound' },
      { documentId: 'doc1', version: 7, reason: 'notFound' },
      { documentId: 'nosuch', version: 1, reason: 'notFound' },
    ],
    "another committee's document is answered like one that does not exist",
  );
  const asAlice = await alice.api.call(fetchKeySlots, {
    params: { tenantId: 't1' },
    body: { slots },
  });
  t.same(
    asAlice.slots.map((s) => [s.documentId, s.version]),
    [
      ['doc2', 1],
      ['doc1', 1],
    ],
    'a member of both gets both in one batch',
  );
});

t.test(
  "an upload session and its object are the opening device's: every other device is told " +
    'neither exists, and writes nothing',
  async (t) => {
    const w = await documentWorld(t, ['t1', 't2']);
    const alice = await w.person('t1', 'alice', 'a1');
    const bob = await w.person('t1', 'bob', 'b1');
    await w.createCommittee('t1', 'council');
    await w.addMember(alice, 'council', 'staff');
    await w.addMember(bob, 'council', 'reader', alice);
    const epochKey = await w.startEpoch(alice, 'council', 0, [alice, bob]);
    // Alice's second device: staff too (the role is the user's), but not the session's opener.
    const alice2 = await w.addDevice('t1', 'alice', 'a2');
    // Carol: staff of another committee of the tenant, with a document of her own.
    const carol = await w.person('t1', 'carol', 'c1');
    await w.createCommittee('t1', 'board');
    await w.addMember(carol, 'board', 'staff');
    await w.startEpoch(carol, 'board', 0, [carol]);
    await w.createDocumentAs(carol, 'board', 'bdoc');
    // Mallory: staff in another tenant, with a document of her own.
    const mallory = await w.person('t2', 'mallory', 'm1');
    await w.createCommittee('t2', 'council');
    await w.addMember(mallory, 'council', 'staff');
    await w.startEpoch(mallory, 'council', 0, [mallory]);
    await w.createDocumentAs(mallory, 'council', 'mdoc');
    await w.createDocumentAs(alice, 'council', 'doc1');

    // Alice encrypts version 1 and opens a session for its blob; no part is sent yet.
    const v1 = await w.prepareVersion(
      alice,
      'council',
      'doc1',
      1,
      null,
      0,
      epochKey,
      new TextEncoder().encode('Haushalt 2027, Entwurf'),
      { upload: false },
    );
    const blobHashHex = Buffer.from(v1.digest.hash).toString('hex');
    const session = await alice.api.call(createUpload, {
      params: { tenantId: 't1' },
      body: { committeeId: 'council', kind: 'blob', hash: blobHashHex, size: v1.blob.length },
    });
    t.equal(session.partCount, 1);
    const sessionId = session.sessionId;

    /** What a device is told about a session, as a comparable problem (or the status). */
    const told = async (device: WorldDevice, id: string, action: 'put' | 'list' | 'complete') => {
      const base = `${w.baseUrl}/v1/tenants/${device.tenantId}/uploads/${id}`;
      const headers = { authorization: `Bearer ${device.token}` };
      let response: Response;
      if (action === 'put') {
        const form = new FormData();
        // Bytes of the right length but not Alice's: stored, they would spoil her upload.
        form.append('part', new Blob([Buffer.alloc(v1.blob.length, 0x41)]), 'part');
        response = await fetch(`${base}/parts/0`, { method: 'PUT', headers, body: form });
      } else if (action === 'list') {
        response = await fetch(`${base}/parts`, { headers });
      } else {
        response = await fetch(`${base}/complete`, { method: 'POST', headers });
      }
      const problem = (await response.json()) as Record<string, unknown>;
      return {
        status: response.status,
        code: problem['code'],
        hint: problem['hint'],
        detail: String(problem['detail']).replace(id, '<id>'),
      };
    };
    const unknownId = 'AAAAAAAAAAAAAAAAAAAAAA';
    for (const [attacker, who] of [
      [alice2, 'another device of the same user'],
      [bob, 'a reader of the committee'],
      [carol, 'staff of another committee'],
      [mallory, 'a device of another tenant'],
    ] as const) {
      for (const action of ['put', 'list', 'complete'] as const) {
        const answer = await told(attacker, sessionId, action);
        t.equal(answer.status, 404, `${who}: ${action} is refused`);
        t.equal(answer.code, 'RATSFACH_BLOB_SESSION_NOT_FOUND', `${who}: ${action}`);
        t.same(
          answer,
          await told(attacker, unknownId, action),
          `${who}: ${action} is told what an unknown session tells`,
        );
      }
    }
    t.same(await w.blobStore.listParts('t1', sessionId), [], 'no part was written');
    const blobRef = { tenant: 't1', kind: 'blob', hash: blobHashHex } as const;
    t.equal(await w.blobStore.head(blobRef), null, 'nothing was completed');

    // Alice's session is intact: she sends the part and completes it, then stores the key slot.
    const form = new FormData();
    form.append('part', new Blob([Buffer.from(v1.blob)]), 'part');
    const put = await fetch(`${w.baseUrl}/v1/tenants/t1/uploads/${sessionId}/parts/0`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${alice.token}` },
      body: form,
    });
    t.equal(put.status, 200, 'the owner sends its part');
    t.same(
      (await alice.api.call(listUploadParts, { params: { tenantId: 't1', sessionId } })).parts.map(
        (p) => p.index,
      ),
      [0],
    );
    t.same(
      await alice.api.call(completeUpload, { params: { tenantId: 't1', sessionId } }),
      { kind: 'blob', hash: blobHashHex, size: v1.blob.length },
      'and completes its session',
    );
    const slotHashHex = Buffer.from(keySlotHash(v1.keySlot)).toString('hex');
    await w.upload(alice, 'council', 'keyslot', v1.keySlot, slotHashHex);
    for (const [attacker, who] of [
      [alice2, 'another device of the same user'],
      [bob, 'a reader of the committee'],
    ] as const) {
      for (const action of ['put', 'list', 'complete'] as const) {
        t.same(
          await told(attacker, sessionId, action),
          await told(attacker, unknownId, action),
          `${who}: ${action} on the completed session is told what an unknown one tells`,
        );
      }
    }

    // Each attacker signs a version of a document it may write (or of Alice's) naming Alice's
    // stored blob and key slot, and the same version naming objects nobody stored.
    const encryptedMetadata = openRecord(base64urlDecode(v1.body.data.record), 'version').body
      .encryptedMetadata;
    const versionBy = async (
      device: WorldDevice,
      committeeId: string,
      documentId: string,
      objects: { contentHash: Uint8Array; keySlotHash: Uint8Array },
    ) =>
      commitVersionCommand({
        tenantId: device.tenantId,
        documentId,
        committeeId,
        tenantPosition: w.tenantPosition,
        committeeHead: await w.committeeHead(device.tenantId, committeeId),
        signerUserId: device.userId,
        signerDeviceId: device.deviceId,
        signer: device.keys.signing,
        link: nextLink(await w.head(`document-${device.tenantId}-${documentId}`)),
        version: 1,
        parentVersion: null,
        epoch: 0,
        size: v1.blob.length,
        encryptedMetadata,
        ...objects,
      });
    const alices = { contentHash: v1.digest.hash, keySlotHash: keySlotHash(v1.keySlot) };
    const nobodys = { contentHash: new Uint8Array(64).fill(7), keySlotHash: alices.keySlotHash };
    const refusal = async (
      device: WorldDevice,
      documentId: string,
      body: Awaited<ReturnType<typeof versionBy>>,
    ) => {
      const problem = await problemOf(
        device.api.call(commitVersion, { params: { tenantId: device.tenantId, documentId }, body }),
      );
      return {
        status: problem.status,
        code: problem.code,
        hint: problem.hint,
        // The hash in the text is the one named; the rest of the answer must not differ.
        detail: problem.message.replace(/blob [0-9a-f]{16}…/, 'blob <hash>…'),
      };
    };
    for (const [attacker, committeeId, documentId, who] of [
      [alice2, 'council', 'doc1', 'another device of the same user'],
      [bob, 'council', 'doc1', 'a reader of the committee'],
      [carol, 'board', 'bdoc', 'staff of another committee, in its own document'],
      [mallory, 'council', 'mdoc', 'a device of another tenant, in its own document'],
    ] as const) {
      const stream = `document-${attacker.tenantId}-${documentId}`;
      const before = await w.head(stream);
      const named = await refusal(
        attacker,
        documentId,
        await versionBy(attacker, committeeId, documentId, alices),
      );
      t.equal(named.status, 404, `${who}: naming Alice's objects is refused`);
      t.equal(named.code, 'RATSFACH_BLOB_NOT_FOUND', who);
      t.same(
        named,
        await refusal(
          attacker,
          documentId,
          await versionBy(attacker, committeeId, documentId, nobodys),
        ),
        `${who}: told what objects nobody stored tell`,
      );
      t.same(await w.head(stream), before, `${who}: nothing was appended`);
    }

    // Alice's own device commits the version; the reader then reads her bytes.
    const committed = await alice.api.call(commitVersion, {
      params: { tenantId: 't1', documentId: 'doc1' },
      body: v1.body,
    });
    t.equal(committed.headVersion, 1, 'the owner commits what it uploaded');
    await w.settled();
    const downloaded = await fetch(`${w.baseUrl}/v1/tenants/t1/documents/doc1/versions/1/content`, {
      headers: { authorization: `Bearer ${bob.token}` },
    });
    t.equal(downloaded.status, 200);
    t.ok(Buffer.from(await downloaded.arrayBuffer()).equals(Buffer.from(v1.blob)), 'intact');
  },
);

t.test('a writer removed from the committee can no longer use its own session', async (t) => {
  const { w, alice, epochKey } = await councilWorld(t);
  const carol = await w.person('t1', 'carol', 'c1');
  await w.addMember(carol, 'council', 'staff', alice);
  const v1 = await w.prepareVersion(
    carol,
    'council',
    'doc1',
    1,
    null,
    0,
    epochKey,
    new Uint8Array(9),
    {
      upload: false,
    },
  );
  const hash = Buffer.from(v1.digest.hash).toString('hex');
  const { sessionId } = await carol.api.call(createUpload, {
    params: { tenantId: 't1' },
    body: { committeeId: 'council', kind: 'blob', hash, size: v1.blob.length },
  });
  await w.removeMember(carol, 'council', 'staff');
  const listed = await problemOf(
    carol.api.call(listUploadParts, { params: { tenantId: 't1', sessionId } }),
  );
  t.equal(listed.status, 403);
  t.equal(listed.code, 'RATSFACH_DOCUMENTS_NOT_WRITER');
  const form = new FormData();
  form.append('part', new Blob([Buffer.from(v1.blob)]), 'part');
  const put = await fetch(`${w.baseUrl}/v1/tenants/t1/uploads/${sessionId}/parts/0`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${carol.token}` },
    body: form,
  });
  t.equal(put.status, 403, 'no part is taken');
  t.same(await w.blobStore.listParts('t1', sessionId), []);
  const completed = await problemOf(
    carol.api.call(completeUpload, { params: { tenantId: 't1', sessionId } }),
  );
  t.equal(completed.status, 403);
});
