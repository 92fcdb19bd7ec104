// The pull of one document through the real service (Fastify app, SQLite event store,
// projector, filesystem blobs) with the real crypto: a staff device commits, a reader device
// folds the chains it trusts from the pinned root and reads the version verified and decrypted.
import t from 'tap';
import {
  CommitteeState,
  fingerprintBytes,
  openAnyRecord,
  openEpochKeys,
  pinnedRootLength,
  TrustView,
  firstSync,
} from '@ratsfach/crypto';
import {
  createDocument,
  commitVersion,
  deleteDocument,
  moveDocument,
} from '@ratsfach/api-contract';
import { openRecord } from '@ratsfach/crypto';
import { base64urlDecode } from '@ratsfach/kernel';
import { decodeEvent } from '@ratsfach/domain';
import {
  documentWorld,
  type WorldDevice,
} from '../../../services/api/test/helpers/documentWorld.js';
import {
  createDocumentCommand,
  deleteDocumentCommand,
  moveDocumentCommand,
} from '../src/records/documentRecords.js';
import { nextLink } from '../src/records/toCommandJson.js';
import { readVerifiedDocument, type DocumentFetch } from '../src/sync/readVerifiedDocument.js';

type World = Awaited<ReturnType<typeof documentWorld>>;

/** The signed records of a stream as the log holds them (until the records route serves them). */
const chainOf = async (w: World, stream: string): Promise<Uint8Array[]> => {
  const records = new Map<number, Uint8Array>();
  for await (const recorded of w.eventStore.readStream(stream)) {
    const data = decodeEvent(recorded).data as { record?: Uint8Array; sequence?: number };
    if (data.record instanceof Uint8Array && typeof data.sequence === 'number') {
      records.set(data.sequence, data.record);
    }
  }
  return [...records.keys()].sort((a, b) => a - b).map((k) => records.get(k) as Uint8Array);
};

const text = (s: string) => new TextEncoder().encode(s);

const setup = async (t: Parameters<typeof documentWorld>[0]) => {
  const w = await documentWorld(t, ['t1']);
  const alice = await w.person('t1', 'alice', 'a1');
  const bob = await w.person('t1', 'bob', 'b1');
  await w.createCommittee('t1', 'council');
  await w.addMember(alice, 'council', 'staff');
  await w.addMember(bob, 'council', 'reader', alice);
  const epochKey = await w.startEpoch(alice, 'council', 0, [alice, bob]);
  const doc = { tenantId: 't1', documentId: 'doc1' };
  await alice.api.call(createDocument, {
    params: doc,
    body: createDocumentCommand({
      ...doc,
      committeeId: 'council',
      tenantPosition: w.tenantPosition,
      committeeHead: await w.committeeHead('t1', 'council'),
      signerUserId: 'alice',
      signerDeviceId: 'a1',
      signer: alice.keys.signing,
      epoch: 0,
    }),
  });
  return { w, alice, bob, epochKey, doc };
};

/** What the reader device folds before it reads a document: trust from the pin, the committee. */
const readerView = async (w: World, reader: WorldDevice) => {
  const tenantChain = await chainOf(w, 'tenant-t1');
  // The pin comes from the enrolment code; here, from the root the world created the tenant with.
  const rootPin = fingerprintBytes(openAnyRecord(tenantChain[0] as Uint8Array).signerKey).slice(
    0,
    pinnedRootLength,
  );
  const trust = TrustView.build({
    rootPin,
    tenantChain,
    userChains: {
      alice: await chainOf(w, 'user-t1-alice'),
      bob: await chainOf(w, 'user-t1-bob'),
    },
  });
  const committee = CommitteeState.fold(trust, await chainOf(w, 'committee-t1-council'));
  const epochKeys = openEpochKeys(committee, reader.keys);
  const fetch: DocumentFetch = {
    api: reader.api,
    baseUrl: w.baseUrl,
    token: reader.token,
    tenantId: 't1',
  };
  return { committee, epochKeys, fetch };
};

t.test('a reader device gets the staff device’s version verified and decrypted', async (t) => {
  const { w, alice, bob, epochKey, doc } = await setup(t);
  const plaintext = text('Tagesordnung: 1. Haushalt 2. Verschiedenes');
  const v1 = await w.prepareVersion(alice, 'council', 'doc1', 1, null, 0, epochKey, plaintext);
  await alice.api.call(commitVersion, { params: doc, body: v1.body });
  await w.settled();

  const view = await readerView(w, bob);
  const read = await readVerifiedDocument(
    view.fetch,
    view.committee,
    view.epochKeys,
    'doc1',
    firstSync,
  );
  t.equal(read.version, 1);
  t.equal(read.deleted, false);
  t.same(read.plaintext, plaintext, 'the plaintext is the one the staff device wrote');
  t.match(read.metadata, {
    name: 'Protokoll 1.txt',
    folderPath: ['Protokolle'],
    mimeType: 'text/plain',
  });
  t.equal(read.head.length, 2);
});

t.test(
  'a document without a version reads as empty; an unknown one is the service’s 404',
  async (t) => {
    const { w, bob } = await setup(t);
    await w.settled();
    const view = await readerView(w, bob);
    const read = await readVerifiedDocument(
      view.fetch,
      view.committee,
      view.epochKeys,
      'doc1',
      firstSync,
    );
    t.same([read.version, read.plaintext, read.metadata], [0, null, null]);
    t.equal(
      (
        (await readVerifiedDocument(
          view.fetch,
          view.committee,
          view.epochKeys,
          'nodoc',
          firstSync,
        ).catch((e: unknown) => e)) as { status?: number }
      ).status,
      404,
    );
  },
);

t.test('content the server swapped is refused and no plaintext is returned', async (t) => {
  const { w, alice, bob, epochKey, doc } = await setup(t);
  const v1 = await w.prepareVersion(
    alice,
    'council',
    'doc1',
    1,
    null,
    0,
    epochKey,
    text('the real one'),
  );
  await alice.api.call(commitVersion, { params: doc, body: v1.body });
  await w.settled();
  const view = await readerView(w, bob);
  // A server that serves another committee's key or tampers is simulated by a reader without
  // the epoch key: nothing decrypts, nothing is returned.
  await t.rejects(readVerifiedDocument(view.fetch, view.committee, new Map(), 'doc1', firstSync));
  // A forged token is refused by the service before anything is read.
  t.equal(
    (
      (await readVerifiedDocument(
        { ...view.fetch, token: 'forged' },
        view.committee,
        view.epochKeys,
        'doc1',
        firstSync,
      ).catch((e: unknown) => e)) as { status?: number }
    ).status,
    401,
  );
});

t.test(
  'a move is read with the head version; a deletion reads as deleted, without plaintext',
  async (t) => {
    const { w, alice, bob, epochKey, doc } = await setup(t);
    const v1 = await w.prepareVersion(alice, 'council', 'doc1', 1, null, 0, epochKey, text('one'));
    await alice.api.call(commitVersion, { params: doc, body: v1.body });
    const signed = async () => ({
      ...doc,
      committeeId: 'council',
      tenantPosition: w.tenantPosition,
      committeeHead: await w.committeeHead('t1', 'council'),
      signerUserId: 'alice',
      signerDeviceId: 'a1',
      signer: alice.keys.signing,
      link: nextLink(await w.head('document-t1-doc1')),
    });
    const v1Record = openRecord(base64urlDecode(v1.body.data.record), 'version');
    await alice.api.call(moveDocument, {
      params: doc,
      body: moveDocumentCommand({
        ...(await signed()),
        epoch: 0,
        version: 1,
        encryptedMetadata: v1Record.body.encryptedMetadata,
      }),
    });
    await w.settled();
    let view = await readerView(w, bob);
    const moved = await readVerifiedDocument(
      view.fetch,
      view.committee,
      view.epochKeys,
      'doc1',
      firstSync,
    );
    t.same([moved.version, moved.head.length], [1, 3]);
    t.equal(moved.metadata?.name, 'Protokoll 1.txt');
    await alice.api.call(deleteDocument, {
      params: doc,
      body: deleteDocumentCommand(await signed()),
    });
    await w.settled();
    view = await readerView(w, bob);
    const deleted = await readVerifiedDocument(
      view.fetch,
      view.committee,
      view.epochKeys,
      'doc1',
      firstSync,
    );
    t.same([deleted.deleted, deleted.plaintext, deleted.version], [true, null, 1]);
  },
);
