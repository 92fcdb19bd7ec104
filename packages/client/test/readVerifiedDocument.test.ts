// The pull of one document through the real service (Fastify app, SQLite event store,
// projector, filesystem blobs) with the real crypto: a staff device commits, a reader device
// folds the chains it trusts from the pinned root and reads the version verified and decrypted.
import t from 'tap';
import {
  CommitteeState,
  fingerprintBytes,
  openEpochKeys,
  pinnedRootLength,
  SeenHeads,
  TrustView,
} from '@ratsfach/crypto';
import { deleteDocument, documentRecords, moveDocument } from '@ratsfach/api-contract';
import type { ApiClient } from '../src/http/apiClient.js';
import { openRecord } from '@ratsfach/crypto';
import { base64urlDecode } from '@ratsfach/kernel';
import {
  councilWorld,
  type WorldDevice,
} from '../../../services/api/test/helpers/documentWorld.js';
import { deleteDocumentCommand, moveDocumentCommand } from '../src/records/documentRecords.js';
import { nextLink } from '../src/records/toCommandJson.js';
import { readVerifiedDocument, type DocumentFetch } from '../src/sync/readVerifiedDocument.js';

type World = Awaited<ReturnType<typeof councilWorld>>['w'];

const text = (s: string) => new TextEncoder().encode(s);

/** A device that has seen nothing of the document yet. */
const firstSync = () => ({ seen: new SeenHeads(), floor: null, atLeast: 0 });

/** The council scene with alice's document doc1 created (no version yet). */
const setup = async (t: Parameters<typeof councilWorld>[0]) => {
  const scene = await councilWorld(t);
  await scene.w.createDocumentAs(scene.alice, 'council', 'doc1');
  return scene;
};

/** What the reader device folds before it reads a document: trust from the pin, the committee. */
const readerView = async (w: World, reader: WorldDevice) => {
  const tenantChain = await w.chain('tenant-t1');
  // The pin comes from the enrolment code; here, from the root the world created the tenant with.
  const rootPin = fingerprintBytes(w.rootKey('t1')).slice(0, pinnedRootLength);
  const trust = TrustView.build({
    rootPin,
    tenantChain,
    userChains: {
      alice: await w.chain('user-t1-alice'),
      bob: await w.chain('user-t1-bob'),
    },
  });
  const committee = CommitteeState.fold(trust, await w.chain('committee-t1-council'));
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
  const { w, alice, bob, epochKey } = await setup(t);
  const plaintext = text('Tagesordnung: 1. Haushalt 2. Verschiedenes');
  await w.commitPlaintext(alice, 'council', 'doc1', 1, null, 0, epochKey, plaintext);
  await w.settled();

  const view = await readerView(w, bob);
  const read = await readVerifiedDocument(
    view.fetch,
    view.committee,
    view.epochKeys,
    'doc1',
    firstSync(),
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
      firstSync(),
    );
    t.same([read.version, read.plaintext, read.metadata], [0, null, null]);
    t.equal(
      (
        (await readVerifiedDocument(
          view.fetch,
          view.committee,
          view.epochKeys,
          'nodoc',
          firstSync(),
        ).catch((e: unknown) => e)) as { status?: number }
      ).status,
      404,
    );
  },
);

t.test('content the server swapped is refused and no plaintext is returned', async (t) => {
  const { w, alice, bob, epochKey } = await setup(t);
  await w.commitPlaintext(alice, 'council', 'doc1', 1, null, 0, epochKey, text('the real one'));
  await w.settled();
  const view = await readerView(w, bob);
  // A server that serves another committee's key or tampers is simulated by a reader without
  // the epoch key: nothing decrypts, nothing is returned.
  await t.rejects(readVerifiedDocument(view.fetch, view.committee, new Map(), 'doc1', firstSync()));
  // A forged token is refused by the service before anything is read.
  t.equal(
    (
      (await readVerifiedDocument(
        { ...view.fetch, token: 'forged' },
        view.committee,
        view.epochKeys,
        'doc1',
        firstSync(),
      ).catch((e: unknown) => e)) as { status?: number }
    ).status,
    401,
  );
});

t.test(
  'a move is read with the head version; a deletion reads as deleted, without plaintext',
  async (t) => {
    const { w, alice, bob, epochKey, doc } = await setup(t);
    const v1 = await w.commitPlaintext(alice, 'council', 'doc1', 1, null, 0, epochKey, text('one'));
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
      firstSync(),
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
      firstSync(),
    );
    t.same([deleted.deleted, deleted.plaintext, deleted.version], [true, null, 1]);
  },
);

t.test(
  'a document chain rolled back, or short of what the manifest announced, is refused',
  async (t) => {
    const { w, alice, bob, epochKey } = await setup(t);
    await w.commitPlaintext(alice, 'council', 'doc1', 1, null, 0, epochKey, text('one'));
    await w.commitPlaintext(alice, 'council', 'doc1', 2, 1, 0, epochKey, text('two'));
    await w.settled();
    const view = await readerView(w, bob);
    const seen = new SeenHeads();
    const read = await readVerifiedDocument(view.fetch, view.committee, view.epochKeys, 'doc1', {
      seen,
      floor: null,
      atLeast: 3,
    });
    t.equal(read.version, 2);
    t.equal(seen.head('document-t1-doc1')?.length, 3, 'the head read is kept as seen');

    // A service that serves the chain without its last record, and counts what it is asked.
    const asked: string[] = [];
    const withholding = {
      ...view.fetch,
      api: {
        call: async (route: { operationId: string }, input: unknown) => {
          asked.push(route.operationId);
          const reply = await (view.fetch.api.call as (r: unknown, i: unknown) => Promise<unknown>)(
            route,
            input,
          );
          if (route !== documentRecords) return reply;
          const page = reply as { records: unknown[] };
          return { ...page, records: page.records.slice(0, 2), next: null };
        },
      } as unknown as ApiClient,
    };
    await t.rejects(
      readVerifiedDocument(withholding, view.committee, view.epochKeys, 'doc1', {
        seen,
        floor: null,
        atLeast: 0,
      }),
      { code: 'RATSFACH_CRYPTO_ROLLBACK' },
      'an older head than the one seen is a rollback',
    );
    t.equal(seen.head('document-t1-doc1')?.length, 3, 'the seen head stays');
    t.same(asked, ['documentRecords'], 'no key slot or content was asked for');
    // On a chain this device never saw, the manifest's announcement is what it must reach.
    await t.rejects(
      readVerifiedDocument(withholding, view.committee, view.epochKeys, 'doc1', {
        ...firstSync(),
        atLeast: 3,
      }),
      { code: 'RATSFACH_SYNC_SERVER_WITHHELD' },
      'a record the manifest announced and the service withheld is refused',
    );
  },
);
