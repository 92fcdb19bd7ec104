// Judging a revocation from the chains alone (real records, real crypto), and the wipe.
import { mkdirSync, readFileSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { fingerprint, generateDeviceKeys } from '@ratsfach/crypto';
import { councilWorld } from '../../../services/api/test/helpers/documentWorld.js';
import { NodeFileSystem, plaintextHash } from '../src/node/nodeFileSystem.js';
import { SqliteLocalState } from '../src/node/sqliteLocalState.js';
import { nextLink, recordOf } from '../src/records/toCommandJson.js';
import { revokeDeviceCommand } from '../src/records/userRecords.js';
import { judgeRevocation, wipeSyncedPlaintext } from '../src/sync/watchRevocation.js';
import { tempDir } from './support/cliHarness.js';

const pinOf = (rootKey: Uint8Array) =>
  new Uint8Array(Buffer.from(fingerprint(rootKey).slice(0, 40), 'hex'));

t.test('only a revocation signed under the pinned root counts', async (t) => {
  const { w, bob, alice } = await councilWorld(t);
  const device = {
    rootPin: pinOf(w.rootKey('t1')),
    userId: 'bob',
    signingKey: bob.keys.signing.publicKey,
  };
  const tenant = await w.chain('tenant-t1');
  const user = await w.chain('user-t1-bob');
  // Alice (staff) confirmed bob's first device: her chain verifies that record.
  const signers = { alice: await w.chain('user-t1-alice') };
  t.match(judgeRevocation({ tenant, user, signers }, device), {
    revoked: false,
    why: /no signed revocation of this device/,
  });

  // A server that makes up a revocation (signed by a key of its own, naming the admin device).
  const head = await w.head('user-t1-bob');
  const forged = recordOf(
    revokeDeviceCommand({
      tenantId: 't1',
      tenantPosition: w.tenantPosition,
      signerDeviceId: 'adm1',
      signer: generateDeviceKeys().signing,
      userId: 'bob',
      deviceId: 'b1',
      fingerprint: fingerprint(bob.keys.signing.publicKey),
      reason: 'lost',
      link: nextLink(head),
    }),
  );
  t.match(judgeRevocation({ tenant, user: [...user, forged], signers }, device), {
    revoked: false,
    why: /do not verify from the pinned root/,
  });
  // Another root: the whole tenant chain is refused.
  t.match(
    judgeRevocation({ tenant, user, signers }, { ...device, rootPin: new Uint8Array(20).fill(7) }),
    {
      revoked: false,
      why: /do not verify/,
    },
  );
  // Another device's key: the chains do not certify it.
  t.match(
    judgeRevocation(
      { tenant, user, signers },
      { ...device, signingKey: alice.keys.signing.publicKey },
    ),
    { revoked: false, why: /do not certify this device/ },
  );

  await w.revokeDevice(bob, 'stolen');
  const revokedChain = await w.chain('user-t1-bob');
  t.match(
    judgeRevocation({ tenant: await w.chain('tenant-t1'), user: revokedChain, signers }, device),
    {
      revoked: true,
      deviceId: 'b1',
    },
  );
  // The revocation withheld (the chain cut before it) proves nothing either way.
  t.match(judgeRevocation({ tenant, user: revokedChain.slice(0, -1), signers }, device), {
    revoked: false,
  });
});

t.test('the wipe deletes what the index names, edited or not, and keeps the rest', async (t) => {
  const dir = await tempDir(t);
  const folder = join(dir, 'folder');
  mkdirSync(join(folder, 'council'), { recursive: true });
  const state = new SqliteLocalState(join(dir, 'state.sqlite'));
  t.teardown(() => state.close());
  const put = (path: string, content: string, documentId: string, indexed = content) => {
    writeFileSync(join(folder, path), content);
    state.putIndexEntry({
      documentId,
      committeeId: 'council',
      path,
      version: 1,
      hash: plaintextHash(new TextEncoder().encode(indexed)),
    });
  };
  put('council/a.txt', 'synced', 'd1');
  put('council/b.txt', 'edited here', 'd2', 'synced');
  put('council/stuck.txt', 'synced', 'd3');
  state.putIndexEntry({
    documentId: 'd4',
    committeeId: 'council',
    path: 'council/gone.txt',
    version: 1,
    hash: 'x',
  });
  writeFileSync(join(folder, 'council', 'mine.txt'), 'mine');
  state.setCursor('c1');
  const fs = new NodeFileSystem(folder);
  const stubborn = Object.assign(Object.create(fs) as NodeFileSystem, {
    remove: async (path: string) => {
      if (path === 'council/stuck.txt') throw new Error('EBUSY');
      return fs.remove(path);
    },
    scan: () => fs.scan(),
  });
  const report = await wipeSyncedPlaintext(stubborn, state);
  t.same(report.deleted, ['council/a.txt', 'council/b.txt']);
  t.same(report.editedHere, ['council/b.txt']);
  t.match(report.failed, [{ path: 'council/stuck.txt', message: /EBUSY/ }]);
  t.notOk(existsSync(join(folder, 'council', 'a.txt')));
  t.equal(readFileSync(join(folder, 'council', 'mine.txt'), 'utf8'), 'mine');
  t.equal(state.cursor(), null, 'the state is cleared');
  t.same(state.index(), []);
});
