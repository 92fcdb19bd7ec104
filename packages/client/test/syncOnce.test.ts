// A sync pass end to end through the real service: a staff device's document reaches a member
// device's folder, verified and decrypted; a concurrent edit there becomes a conflict copy.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { fingerprintBytes, pinnedRootLength } from '@ratsfach/crypto';
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
