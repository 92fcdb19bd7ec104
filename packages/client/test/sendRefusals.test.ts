// The sender's failure paths end to end: readers, tampered queue entries, a committee without
// a key for this device, no network, a lost answer (retried with the same command id), a file
// gone before it was sent. Real service, real crypto, real local state.
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import t from 'tap';
import { createDocument, createUpload } from '@ratsfach/api-contract';
import { councilWorld, documentWorld } from '../../../services/api/test/helpers/documentWorld.js';
import { ApiProblemError, type ApiClient } from '../src/http/apiClient.js';
import { createDocumentCommand } from '../src/records/documentRecords.js';
import { sendQueue } from '../src/sync/sendQueue.js';
import { syncOnce } from '../src/sync/syncOnce.js';
import { syncingDevice } from './support/sendWorld.js';

const put = (folder: string, path: string, content: string) => {
  mkdirSync(dirname(join(folder, path)), { recursive: true });
  writeFileSync(join(folder, path), content);
};

t.test(
  'a reader plans nothing outgoing; forced, it is refused here and by the service',
  async (t) => {
    const { w, alice, bob } = await councilWorld(t);
    await w.heartbeat('t1');
    const office = syncingDevice(t, w, alice, 'office');
    const tablet = syncingDevice(t, w, bob, 'tablet');
    await office.sync();
    put(office.folder, 'council/Tagesordnung.txt', 'TOP 1');
    await office.sync();
    await tablet.sync();
    put(tablet.folder, 'council/Notizen.txt', 'meine Notizen');
    const report = await tablet.sync();
    t.match(report, { queued: 0, skipped: [{ path: 'council/Notizen.txt', reason: 'readOnly' }] });
    t.match(report.send, { sent: 0, waiting: 0 });

    // A queue entry the reader's planner would never make: refused before anything goes out.
    tablet.state.enqueue({
      commandId: 'forced',
      kind: 'create',
      payload: { kind: 'create', committeeId: 'council', path: 'council/Notizen.txt', hash: 'x' },
    });
    const forced = await tablet.sync();
    t.match(forced.send, {
      sent: 0,
      waiting: 0,
      refused: [{ code: 'RATSFACH_SYNC_QUEUE_ENTRY_REFUSED', path: 'council/Notizen.txt' }],
    });
    t.ok(existsSync(join(tablet.folder, 'council/Notizen.txt')), 'the file stays');

    // The service refuses a reader too: no upload session, no document.
    const upload = bob.api.call(createUpload, {
      params: { tenantId: 't1' },
      body: { committeeId: 'council', kind: 'blob', hash: 'a'.repeat(128), size: 10 },
    });
    await t.rejects(upload, { status: 403, code: 'RATSFACH_DOCUMENTS_NOT_WRITER' });
    const create = createDocumentCommand({
      tenantId: 't1',
      committeeId: 'council',
      documentId: 'bobs',
      tenantPosition: 3,
      committeeHead: await w.committeeHead('t1', 'council'),
      signerUserId: 'bob',
      signerDeviceId: 'b1',
      signer: bob.keys.signing,
      epoch: 0,
    });
    const refused = await bob.api
      .call(createDocument, { params: { tenantId: 't1', documentId: 'bobs' }, body: create })
      .catch((error: unknown) => error);
    t.ok(refused instanceof ApiProblemError && refused.status === 403, 'a reader cannot create');
    t.equal((await w.head('document-t1-bobs')).length, 0, 'nothing was appended');
  },
);

t.test('tampered queue entries are refused, typed, and nothing is sent', async (t) => {
  const w = await documentWorld(t, ['t1']);
  const alice = await w.person('t1', 'alice', 'a1');
  await w.createCommittee('t1', 'council');
  await w.createCommittee('t1', 'finanz');
  await w.createCommittee('t1', 'geheim');
  await w.addMember(alice, 'council', 'staff');
  await w.addMember(alice, 'finanz', 'staff');
  await w.startEpoch(alice, 'council', 0, [alice]);
  await w.startEpoch(alice, 'finanz', 0, [alice]);
  await w.heartbeat('t1');
  const office = syncingDevice(t, w, alice, 'office');
  put(office.folder, 'council/Antrag.txt', 'v1');
  await office.sync();
  const [doc] = office.state.index();
  t.ok(doc, 'a document to aim at');
  put(office.folder, 'escape.txt', 'outside');
  put(office.folder, 'finanz/x.txt', 'x');
  put(office.folder, 'geheim/y.txt', 'y');
  const entries: [string, Record<string, unknown>][] = [
    ['create', { committeeId: 'council', path: '../escape.txt' }],
    ['create', { committeeId: 'council', path: 'council/../escape.txt' }],
    ['create', { committeeId: 'council', path: 'finanz/x.txt' }],
    ['create', { committeeId: 'geheim', path: 'geheim/y.txt' }],
    ['create', { committeeId: 'Council!', path: 'council/z.txt' }],
    [
      'commit',
      {
        committeeId: 'finanz',
        documentId: doc!.documentId,
        parentVersion: 1,
        path: 'finanz/x.txt',
      },
    ],
    [
      'commit',
      {
        committeeId: 'council',
        documentId: 'NOT AN ID',
        parentVersion: 1,
        path: 'council/Antrag.txt',
      },
    ],
    [
      'commit',
      {
        committeeId: 'council',
        documentId: doc!.documentId,
        parentVersion: 0,
        path: 'council/Antrag.txt',
      },
    ],
    [
      'moveRemote',
      {
        committeeId: 'council',
        documentId: doc!.documentId,
        version: 1,
        from: 'council/Antrag.txt',
        to: 'finanz/Antrag.txt',
      },
    ],
    ['wipeServer', { committeeId: 'council', path: 'council/Antrag.txt' }],
  ];
  entries.forEach(([kind, payload], i) =>
    office.state.enqueue({ commandId: `tampered${i}`, kind, payload: { kind, ...payload } }),
  );
  const report = await office.sync();
  t.equal(report.send.refused.length, entries.length, 'every entry refused');
  t.ok(
    report.send.refused.every((r) => r.code === 'RATSFACH_SYNC_QUEUE_ENTRY_REFUSED' && r.hint),
    'typed, with a hint',
  );
  t.match(
    report.send.refused.map((r) => r.message),
    [
      /leaves the synced folder/,
      /leaves the synced folder/,
      /not in the folder of committee council/,
      /does not write to committee geheim/,
      /no valid committee id/,
      /belongs to committee council/,
      /no valid document id/,
      /no valid version/,
      /not in the folder of committee council/,
      /unknown kind/,
    ],
  );
  t.equal(office.state.queue().filter((q) => q.commandId.startsWith('tampered')).length, 0);
  t.match(office.state.index(), [{ path: 'council/Antrag.txt', version: 1 }], 'unchanged');
  t.equal((await w.head(`document-t1-${doc!.documentId}`)).length, 2, 'nothing appended');
});

t.test('a committee without a key for this device: a typed error, the change waits', async (t) => {
  const w = await documentWorld(t, ['t1']);
  const alice = await w.person('t1', 'alice', 'a1');
  await w.createCommittee('t1', 'council');
  await w.addMember(alice, 'council', 'staff');
  await w.heartbeat('t1');
  const office = syncingDevice(t, w, alice, 'office');
  await office.sync();
  put(office.folder, 'council/Antrag.txt', 'v1');
  const report = await office.sync();
  t.match(report.send, {
    sent: 0,
    waiting: 1,
    failed: [
      { code: 'RATSFACH_SYNC_NO_EPOCH_KEY', path: 'council/Antrag.txt', hint: /ratsfach keys/ },
    ],
  });
  t.match(office.state.queue(), [{ attempts: 1, lastError: /RATSFACH_SYNC_NO_EPOCH_KEY/ }]);

  // Once a staff device starts an epoch, the same queue entry goes out.
  await w.startEpoch(alice, 'council', 0, [alice]);
  await w.heartbeat('t1');
  const later = await office.sync();
  t.match(later.send, { sent: 1, waiting: 0 });
});

t.test('a stale heartbeat stops writing with the crypto error; the change waits', async (t) => {
  const { w, alice } = await councilWorld(t);
  await w.heartbeat('t1', Math.floor(Date.now() / 1000) - 3600);
  const office = syncingDevice(t, w, alice, 'office');
  await office.sync();
  put(office.folder, 'council/Antrag.txt', 'v1');
  const report = await office.sync({ stalenessSeconds: 600 });
  t.match(report.send, {
    sent: 0,
    waiting: 1,
    failed: [{ code: 'RATSFACH_CRYPTO_STALE_COMMITTEE_STATE' }],
  });
});

t.test(
  'no network: the queue stays; a lost answer is retried with the same command id',
  async (t) => {
    const { w, alice, bob } = await councilWorld(t);
    await w.heartbeat('t1');
    const office = syncingDevice(t, w, alice, 'office');
    const tablet = syncingDevice(t, w, bob, 'tablet');
    await office.sync();
    put(office.folder, 'council/C.txt', 'c');
    const base = office.options();
    // A plan that queues C, then a sender whose every request fails to connect.
    const unreachable = {
      call: async () => {
        throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), {
          code: 'ECONNREFUSED',
        });
      },
    } as unknown as ApiClient;
    await syncOnce(base);
    t.equal(office.state.queue().length, 1, 'C is queued');
    const down = await sendQueue({
      target: { ...base.fetch, api: unreachable },
      chains: base.chains,
      device: base.device,
      state: office.state,
      root: office.folder,
      spool: office.spool,
      now: () => new Date(),
    });
    t.match(down, { offline: true, sent: 0, waiting: 1, failed: [] });

    // The commit reaches the service, its answer is lost: the retry is the same command.
    let lost = false;
    const flaky = {
      call: async (route: { operationId: string }, input: unknown) => {
        const result = await base.fetch.api.call(route as never, input as never);
        if (route.operationId === 'commitVersion' && !lost) {
          lost = true;
          throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
        }
        return result;
      },
    } as unknown as ApiClient;
    const dropped = await office.sync({ fetch: { ...base.fetch, api: flaky } });
    t.match(dropped.send, { offline: true, sent: 0, waiting: 1 });
    t.ok(lost, 'the commit was accepted, its answer lost');
    const retried = await office.sync();
    t.match(retried.send, { sent: 1, waiting: 0 });
    const c = office.state.index().find((e) => e.path === 'council/C.txt');
    t.equal(c?.version, 1);
    t.equal(
      (await w.head(`document-t1-${c!.documentId}`)).length,
      2,
      'created and one version, once',
    );
    await tablet.sync();
    t.ok(existsSync(join(tablet.folder, 'council/C.txt')));
  },
);

t.test(
  'a change whose file went before it was sent is dropped; the next plan decides',
  async (t) => {
    const { w, alice } = await councilWorld(t);
    await w.heartbeat('t1');
    const office = syncingDevice(t, w, alice, 'office');
    await office.sync();
    put(office.folder, 'council/Entwurf.txt', 'draft');
    await syncOnce(office.options());
    t.equal(office.state.queue().length, 1);
    rmSync(join(office.folder, 'council/Entwurf.txt'));
    const report = await office.sync();
    t.match(report.send, { sent: 0, superseded: 1, waiting: 0, failed: [] });
    t.same(office.state.index(), []);
  },
);

t.test('heads that moved on before sending: conflicts, replanned, nothing lost', async (t) => {
  const w = await documentWorld(t, ['t1']);
  const alice = await w.person('t1', 'alice', 'a1');
  const carol = await w.person('t1', 'carol', 'c1');
  await w.createCommittee('t1', 'council');
  await w.addMember(alice, 'council', 'staff');
  await w.addMember(carol, 'council', 'staff', alice);
  await w.startEpoch(alice, 'council', 0, [alice, carol]);
  await w.heartbeat('t1');
  const office = syncingDevice(t, w, alice, 'office');
  const laptop = syncingDevice(t, w, carol, 'laptop');
  for (const name of ['A', 'B', 'C', 'D']) put(office.folder, `council/${name}.txt`, name);
  await office.sync();
  await laptop.sync();

  // Alice plans an edit of A, a rename of B, deletions of C and D, and sends nothing yet.
  put(office.folder, 'council/A.txt', 'A by alice');
  renameSync(join(office.folder, 'council/B.txt'), join(office.folder, 'council/B2.txt'));
  rmSync(join(office.folder, 'council/C.txt'));
  rmSync(join(office.folder, 'council/D.txt'));
  await syncOnce(office.options());
  t.equal(office.state.queue().length, 4);
  // Carol edits A, B and C and deletes D first.
  for (const name of ['A', 'B', 'C']) put(laptop.folder, `council/${name}.txt`, `${name} by carol`);
  rmSync(join(laptop.folder, 'council/D.txt'));
  t.match((await laptop.sync()).send, { sent: 4 });

  const base = office.options();
  const sent = await sendQueue({
    target: base.fetch,
    chains: base.chains,
    device: base.device,
    state: office.state,
    root: office.folder,
    spool: office.spool,
    now: () => new Date(),
  });
  t.match(sent, { sent: 1, waiting: 0, failed: [] }, 'D was deleted anyway: done');
  t.equal(sent.conflicts.length, 3, 'A, B and C moved on: nothing signed for them');
  await w.settled();
  const again = await office.sync({ recheck: sent.conflicts });
  t.same(again.failed, []);
  const day = new Date().toISOString().slice(0, 10);
  const names = readdirSync(join(office.folder, 'council')).sort();
  t.same(names, [`A (conflict, office, ${day}).txt`, 'A.txt', 'B.txt', 'B2.txt', 'C.txt'].sort());
  t.equal(readFileSync(join(office.folder, 'council/A.txt'), 'utf8'), 'A by carol');
  t.equal(
    readFileSync(join(office.folder, `council/A (conflict, office, ${day}).txt`), 'utf8'),
    'A by alice',
  );
  t.equal(
    readFileSync(join(office.folder, 'council/C.txt'), 'utf8'),
    'C by carol',
    'an edited file is not deleted',
  );
  t.equal(
    readFileSync(join(office.folder, 'council/B2.txt'), 'utf8'),
    'B',
    'the renamed file survives',
  );
  t.equal(office.state.queue().length, 0);
});

t.test('a blob collected before the commit is uploaded again from the spool', async (t) => {
  const { w, alice, bob } = await councilWorld(t);
  await w.heartbeat('t1');
  const office = syncingDevice(t, w, alice, 'office');
  const tablet = syncingDevice(t, w, bob, 'tablet');
  await office.sync();
  put(office.folder, 'council/Lang offline.txt', 'written long ago');
  const base = office.options();
  let collected = false;
  const collecting = {
    call: async (route: { operationId: string }, input: { body?: unknown }) => {
      if (route.operationId === 'commitVersion' && !collected) {
        collected = true;
        for await (const blob of w.blobStore.list('t1', 'blob')) await w.blobStore.delete(blob);
      }
      return base.fetch.api.call(route as never, input as never);
    },
  } as unknown as ApiClient;
  const report = await office.sync({ fetch: { ...base.fetch, api: collecting } });
  t.ok(collected);
  t.match(report.send, { sent: 1, waiting: 0, failed: [] });
  await tablet.sync();
  t.equal(
    readFileSync(join(tablet.folder, 'council/Lang offline.txt'), 'utf8'),
    'written long ago',
  );
});

t.test('an upload session the service forgot is started again', async (t) => {
  const { w, alice } = await councilWorld(t);
  await w.heartbeat('t1');
  const office = syncingDevice(t, w, alice, 'office');
  await office.sync();
  put(office.folder, 'council/X.txt', 'x');
  await syncOnce(office.options());
  const [entry] = office.state.queue();
  const key = `up:council/X.txt@${entry!.payload.hash as string}`;
  office.state.putTransfer({ key, sessionId: 'forgotten', size: 1, done: 0, updatedAt: 0 });
  const report = await office.sync();
  t.match(report.send, { sent: 1, failed: [] });
  t.equal(office.state.transfer(key), undefined, 'the transfer is done');
});
