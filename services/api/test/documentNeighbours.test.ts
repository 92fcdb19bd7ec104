// The neighbours of the writer rule, as an attacker would try them: a reader and a removed staff
// member sign move, delete and restore records for themselves. Each is refused and leaves the
// document chain as it was.
import t from 'tap';
import { openRecord } from '@ratsfach/crypto';
import {
  ApiProblemError,
  deleteDocumentCommand,
  moveDocumentCommand,
  nextLink,
  restoreDocumentCommand,
} from '@ratsfach/client';
import {
  deleteDocument,
  fetchKeySlots,
  moveDocument,
  restoreDocument,
} from '@ratsfach/api-contract';
import { base64urlDecode } from '@ratsfach/domain';
import { councilWorld, type WorldDevice } from './helpers/documentWorld.js';

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
