// A sync pass end to end through the real service: a staff device's document reaches a member
// device's folder, verified and decrypted; a concurrent edit there becomes a conflict copy.
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { fingerprintBytes, pinnedRootLength, SeenHeads } from '@ratsfach/crypto';
import {
  councilWorld,
  documentWorld,
  type WorldDevice,
} from '../../../services/api/test/helpers/documentWorld.js';
import { NodeFileSystem, plaintextHash } from '../src/node/nodeFileSystem.js';
import { SqliteLocalState } from '../src/node/sqliteLocalState.js';
import { defaultDeletionGuard } from '../src/sync/plan.js';
import { syncOnce, type ChainSource } from '../src/sync/syncOnce.js';

type World = Awaited<ReturnType<typeof documentWorld>>;

/** The chains as the log holds them (the records route will serve the same bytes). */
const logChains = (w: World): ChainSource => ({ chain: w.chain });

const text = (s: string) => new TextEncoder().encode(s);

/** What waits in the tree's engine folder (staged plaintext): nothing once a pass ended. */
const staged = (folder: string): string[] => {
  const tmp = join(folder, '.ratsfach', 'tmp');
  return existsSync(tmp) ? readdirSync(tmp) : [];
};

t.test(
  'a staff document reaches a member folder; a concurrent edit becomes a conflict copy',
  async (t) => {
    const { w, alice, bob, epochKey } = await councilWorld(t);
    await w.createDocumentAs(alice, 'council', 'doc1');
    await w.commitPlaintext(
      alice,
      'council',
      'doc1',
      1,
      null,
      0,
      epochKey,
      text('Tagesordnung v1'),
    );
    await w.settled();

    const chains = logChains(w);
    const rootPin = fingerprintBytes(w.rootKey('t1')).slice(0, pinnedRootLength);
    const folder = mkdtempSync(join(tmpdir(), 'ratsfach-member-'));
    const state = new SqliteLocalState(
      join(mkdtempSync(join(tmpdir(), 'ratsfach-member-state-')), 's.sqlite'),
    );
    t.teardown(() => state.close());
    const fs = new NodeFileSystem(folder);
    const pass = (device: WorldDevice) =>
      syncOnce({
        fetch: { api: device.api, baseUrl: w.baseUrl, token: device.token, tenantId: 't1' },
        chains,
        device: {
          tenantId: 't1',
          userId: device.userId,
          deviceId: device.deviceId,
          keys: device.keys,
          rootPin,
          name: 'bobs-tablet',
        },
        state,
        fs,
        hash: plaintextHash,
        now: new Date('2026-12-03T12:00:00Z'),
        deletionGuard: defaultDeletionGuard,
        confirmDeletions: false,
      });

    const first = await pass(bob);
    t.match(first, { fetched: 1, applied: 1, failed: [], unreadable: [] });
    t.same(staged(folder), [], 'the verified plaintext was placed, nothing left staged');
    const path = join(folder, 'council', 'Protokolle', 'Protokoll 1.txt');
    t.equal(
      readFileSync(path, 'utf8'),
      'Tagesordnung v1',
      'the member has the plaintext in the folder',
    );
    t.ok(state.cursor(), 'the cursor moved after the pass');

    const quiet = await pass(bob);
    t.match(quiet, { fetched: 0, applied: 0, queued: 0 }, 'nothing changed, nothing done');

    // Bob edits while Alice commits version 2: Bob keeps his edit as a conflict copy.
    writeFileSync(path, 'Bob’s notes');
    await w.commitPlaintext(alice, 'council', 'doc1', 2, 1, 0, epochKey, text('Tagesordnung v2'));
    await w.settled();
    const second = await pass(bob);
    t.same(second.failed, []);
    t.equal(
      readFileSync(join(folder, 'council', 'Protokolle', 'Protokoll 2.txt'), 'utf8'),
      'Tagesordnung v2',
    );
    const copy = join(
      folder,
      'council',
      'Protokolle',
      'Protokoll 1 (conflict, bobs-tablet, 2026-12-03).txt',
    );
    t.equal(readFileSync(copy, 'utf8'), 'Bob’s notes', 'the local edit is kept as a conflict copy');
    t.notOk(existsSync(path), 'the old name went with the new version');
    t.match(second.skipped, [{ reason: 'readOnly' }], 'a reader keeps the copy here, unsent');
    t.same(staged(folder), []);

    // A second device of Bob's whose folder already holds version 2's bytes: the pass adopts
    // the file and the content it fetched and staged is removed, not left beside the tree.
    const other = mkdtempSync(join(tmpdir(), 'ratsfach-member-2-'));
    const otherState = new SqliteLocalState(
      join(mkdtempSync(join(tmpdir(), 'ratsfach-member-2-state-')), 's.sqlite'),
    );
    t.teardown(() => otherState.close());
    const adoptedPath = join(other, 'council', 'Protokolle', 'Protokoll 2.txt');
    await new NodeFileSystem(other).writeAtomic(
      'council/Protokolle/Protokoll 2.txt',
      text('Tagesordnung v2'),
    );
    const adopted = await syncOnce({
      fetch: { api: bob.api, baseUrl: w.baseUrl, token: bob.token, tenantId: 't1' },
      chains,
      device: {
        tenantId: 't1',
        userId: bob.userId,
        deviceId: bob.deviceId,
        keys: bob.keys,
        rootPin,
        name: 'bobs-phone',
      },
      state: otherState,
      fs: new NodeFileSystem(other),
      hash: plaintextHash,
      now: new Date('2026-12-03T12:00:00Z'),
      deletionGuard: defaultDeletionGuard,
      confirmDeletions: false,
    });
    t.match(adopted, { fetched: 1, failed: [], unreadable: [] });
    t.equal(otherState.indexEntry('doc1')?.version, 2, 'the file there is taken as version 2');
    t.equal(readFileSync(adoptedPath, 'utf8'), 'Tagesordnung v2');
    t.same(staged(other), [], 'the staged copy it did not need is gone');
  },
);

t.test('a staff device that syncs gets its own local edits queued to send', async (t) => {
  const w = await documentWorld(t, ['t1']);
  const alice = await w.person('t1', 'alice', 'a1');
  await w.createCommittee('t1', 'council');
  await w.addMember(alice, 'council', 'staff');
  const epochKey = await w.startEpoch(alice, 'council', 0, [alice]);
  await w.createDocumentAs(alice, 'council', 'doc1');
  await w.commitPlaintext(alice, 'council', 'doc1', 1, null, 0, epochKey, text('v1'));
  await w.settled();
  const chains = logChains(w);
  const rootPin = fingerprintBytes(w.rootKey('t1')).slice(0, pinnedRootLength);
  const folder = mkdtempSync(join(tmpdir(), 'ratsfach-staff-'));
  const state = new SqliteLocalState(
    join(mkdtempSync(join(tmpdir(), 'ratsfach-staff-state-')), 's.sqlite'),
  );
  t.teardown(() => state.close());
  const options = {
    fetch: { api: alice.api, baseUrl: w.baseUrl, token: alice.token, tenantId: 't1' },
    chains,
    device: {
      tenantId: 't1',
      userId: 'alice',
      deviceId: 'a1',
      keys: alice.keys,
      rootPin,
      name: 'office',
    },
    state,
    fs: new NodeFileSystem(folder),
    hash: plaintextHash,
    now: new Date(),
    deletionGuard: defaultDeletionGuard,
    confirmDeletions: false,
  };
  await syncOnce(options);
  writeFileSync(join(folder, 'council', 'Protokolle', 'Protokoll 1.txt'), 'edited by staff');
  writeFileSync(join(folder, 'council', 'new.txt'), 'a new document');
  writeFileSync(join(folder, 'stray.txt'), 'outside every committee');
  const report = await syncOnce(options);
  t.equal(report.queued, 2);
  t.same(
    state
      .queue()
      .map((q) => q.kind)
      .sort(),
    ['commit', 'create'],
  );
  t.match(report.skipped, [{ path: 'stray.txt', reason: 'outsideCommittee' }]);
});

/** Bob's device synced once to a council with doc1 at version 1; then alice commits version 2. */
const seenScene = async (t: Parameters<typeof councilWorld>[0]) => {
  const { w, alice, bob, epochKey } = await councilWorld(t);
  await w.createDocumentAs(alice, 'council', 'doc1');
  await w.commitPlaintext(alice, 'council', 'doc1', 1, null, 0, epochKey, text('v1'));
  await w.settled();
  const rootPin = fingerprintBytes(w.rootKey('t1')).slice(0, pinnedRootLength);
  const folder = mkdtempSync(join(tmpdir(), 'ratsfach-seen-'));
  const state = new SqliteLocalState(
    join(mkdtempSync(join(tmpdir(), 'ratsfach-seen-state-')), 's.sqlite'),
  );
  t.teardown(() => state.close());
  const pass = (chains: ChainSource) =>
    syncOnce({
      fetch: { api: bob.api, baseUrl: w.baseUrl, token: bob.token, tenantId: 't1' },
      chains,
      device: {
        tenantId: 't1',
        userId: 'bob',
        deviceId: 'b1',
        keys: bob.keys,
        rootPin,
        name: 'tab',
      },
      state,
      fs: new NodeFileSystem(folder),
      hash: plaintextHash,
      now: new Date('2026-12-03T12:00:00Z'),
      deletionGuard: defaultDeletionGuard,
      confirmDeletions: false,
    });
  /** The synced file of version `n` (its name follows the version). */
  const path = (n: number) => join(folder, 'council', 'Protokolle', `Protokoll ${n}.txt`);
  /** Everything local a refused pass must leave as it was. */
  const snapshot = () => ({
    files: readdirSync(join(folder, 'council', 'Protokolle')).map((name) => [
      name,
      readFileSync(join(folder, 'council', 'Protokolle', name), 'utf8'),
    ]),
    cursor: state.cursor(),
    remote: state.remote(),
    heads: state.seenHeads().toStored(),
    floors: state.setting('judgingFloors'),
  });
  return { w, alice, epochKey, state, pass, path, snapshot };
};

/** The log's chains, with `stream` served through `change`. */
const serving = (
  w: World,
  stream: string,
  change: (chain: Uint8Array[]) => Uint8Array[],
): ChainSource => ({
  chain: async (s) => (s === stream ? change(await w.chain(s)) : w.chain(s)),
});

t.test(
  'a tenant, user or committee chain rolled back or forked is refused and nothing local changes',
  async (t) => {
    const { w, alice, epochKey, state, pass, path, snapshot } = await seenScene(t);
    t.match(await pass(logChains(w)), { fetched: 1, unreadable: [] });
    const floors = JSON.parse(state.setting('judgingFloors') ?? '{}') as Record<string, unknown>;
    t.ok(floors.council, 'a complete sync keeps the committee’s judging floor for the next');
    const heads = state.seenHeads();
    for (const stream of ['tenant-t1', 'user-t1-bob', 'user-t1-alice', 'committee-t1-council']) {
      t.ok(heads.head(stream), `${stream} is kept as seen`);
    }
    t.equal(heads.head('document-t1-doc1')?.length, 2, 'the document head is kept as seen');

    await w.commitPlaintext(alice, 'council', 'doc1', 2, 1, 0, epochKey, text('v2'));
    await w.settled();
    const before = snapshot();
    for (const stream of ['tenant-t1', 'user-t1-bob', 'user-t1-alice', 'committee-t1-council']) {
      await t.rejects(
        pass(serving(w, stream, (chain) => chain.slice(0, -1))),
        { code: 'RATSFACH_CRYPTO_ROLLBACK' },
        `${stream} one record short of the head seen is a rollback`,
      );
      t.same(snapshot(), before, `nothing local changed after the ${stream} rollback`);

      // The device saw another record at the head's position: the served chain is a fork.
      const stored = state.seenHeads().toStored();
      const hashes = stored[stream] ?? [];
      const last = Uint8Array.from(hashes[hashes.length - 1] ?? []);
      last[0] = (last[0] ?? 0) ^ 1;
      state.saveSeenHeads(
        SeenHeads.restore({ ...stored, [stream]: [...hashes.slice(0, -1), last] }),
      );
      await t.rejects(
        pass(logChains(w)),
        { code: 'RATSFACH_CRYPTO_FORK' },
        `${stream} not extending the head seen is a fork`,
      );
      t.equal(readFileSync(path(1), 'utf8'), 'v1', `the file stays after the ${stream} fork`);
      t.same(state.cursor(), before.cursor, `the cursor stays after the ${stream} fork`);
      state.saveSeenHeads(SeenHeads.restore(stored));
    }
    t.match(await pass(logChains(w)), { fetched: 1, unreadable: [] }, 'the true chains sync');
    t.equal(readFileSync(path(2), 'utf8'), 'v2');
  },
);

t.test('a document chain rolled back or forked stays unread and the cursor stays', async (t) => {
  const { w, alice, epochKey, state, pass, path, snapshot } = await seenScene(t);
  await pass(logChains(w));
  await w.commitPlaintext(alice, 'council', 'doc1', 2, 1, 0, epochKey, text('v2'));
  await w.settled();
  await pass(logChains(w));
  t.equal(readFileSync(path(2), 'utf8'), 'v2');
  await w.commitPlaintext(alice, 'council', 'doc1', 3, 2, 0, epochKey, text('v3'));
  await w.settled();
  const before = snapshot();

  // The stored head of doc1 is version 2's record; the device is shown another one there.
  const stored = state.seenHeads().toStored();
  const hashes = stored['document-t1-doc1'] ?? [];
  const last = Uint8Array.from(hashes[hashes.length - 1] ?? []);
  last[0] = (last[0] ?? 0) ^ 1;
  const forked = { ...stored, 'document-t1-doc1': [...hashes.slice(0, -1), last] };
  state.saveSeenHeads(SeenHeads.restore(forked));
  const fork = await pass(logChains(w));
  t.match(fork, { fetched: 0, unreadable: [{ documentId: 'doc1', code: 'RATSFACH_CRYPTO_FORK' }] });
  t.same(snapshot().files, before.files, 'the file stays after a fork');
  t.same(state.cursor(), before.cursor, 'the cursor stays: the next pass reads doc1 again');
  t.same(state.remote(), before.remote);
  t.same(state.seenHeads().toStored(), forked, 'the head seen stays');
  state.saveSeenHeads(SeenHeads.restore(stored));
  t.notSame(
    JSON.parse(state.setting('judgingFloors') ?? '{}'),
    {},
    'the floor of an earlier complete sync is kept',
  );
});

t.test('a chain short of a record the manifest announced is refused on a first sync', async (t) => {
  const { w, pass, state } = await seenScene(t);
  await t.rejects(
    pass(serving(w, 'committee-t1-council', (chain) => chain.slice(0, -1))),
    { code: 'RATSFACH_SYNC_SERVER_WITHHELD' },
    'the committee record the manifest named was withheld',
  );
  t.same(state.seenHeads().heads(), [], 'nothing was accepted as seen');
  t.equal(state.cursor(), null);
  t.same(state.remote(), []);

  // A record changed instead of withheld does not verify at all.
  await t.rejects(
    pass(
      serving(w, 'committee-t1-council', (chain) =>
        chain.map((bytes, i) => {
          if (i !== chain.length - 1) return bytes;
          const changed = Uint8Array.from(bytes);
          changed[changed.length - 1] = (changed[changed.length - 1] ?? 0) ^ 1;
          return changed;
        }),
      ),
    ),
    { code: /^RATSFACH_CRYPTO_/ },
    'a changed committee record is refused',
  );
  t.same(state.seenHeads().heads(), [], 'still nothing accepted as seen');
  t.equal(state.cursor(), null);
});
