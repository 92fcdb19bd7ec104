// `ratsfach sync` end to end: a member device's profile, the real service (records, manifest,
// documents routes), the real crypto; the staff device's document lands in the folder.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { commitVersion, createDocument } from '@ratsfach/api-contract';
import { fingerprint, minimumArgon2id, openAnyRecord } from '@ratsfach/crypto';
import { decodeEvent } from '@ratsfach/domain';
import { documentWorld } from '../../../services/api/test/helpers/documentWorld.js';
import { buildTestApp } from '../../../services/api/test/helpers/buildTestApp.js';
import { SqliteServiceState } from '../../../services/api/src/state/sqliteServiceState.js';
import { createProfile, ProfileKind } from '../src/cli/profile.js';
import { createDocumentCommand } from '../src/records/documentRecords.js';
import { cli, tempDir } from './support/cliHarness.js';

const text = (s: string) => new TextEncoder().encode(s);
const passphrase = 'bob device passphrase';

t.test('ratsfach sync brings a staff document into a member folder, verified', async (t) => {
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
  const v1 = await w.prepareVersion(
    alice,
    'council',
    'doc1',
    1,
    null,
    0,
    epochKey,
    text('Haushalt 2027'),
  );
  await alice.api.call(commitVersion, { params: doc, body: v1.body });
  await w.settled();

  let root: Uint8Array | undefined;
  for await (const recorded of w.eventStore.readStream('tenant-t1')) {
    const data = decodeEvent(recorded).data as { record?: Uint8Array };
    if (root === undefined && data.record instanceof Uint8Array)
      root = openAnyRecord(data.record).signerKey;
  }
  // The same stores behind an app that also serves the identity routes (records).
  const serviceState = SqliteServiceState.open(join(await tempDir(t), 'service-state.sqlite'));
  t.teardown(() => serviceState.close());
  const app = await buildTestApp(t, {
    stores: { eventStore: w.eventStore, blobStore: w.blobStore },
    readModel: w.readModel,
    serviceState,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const serverUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  const profile = join(await tempDir(t), 'bob');
  const base = {
    kind: ProfileKind.member,
    serverUrl,
    tenantId: 't1',
    userId: 'bob',
    deviceId: 'b1',
    createdAt: new Date().toISOString(),
  };
  await createProfile(
    profile,
    { ...base, rootFingerprint: fingerprint(root as Uint8Array) },
    bob.keys,
    passphrase,
    minimumArgon2id,
  );
  const folder = mkdtempSync(join(tmpdir(), 'ratsfach-sync-cmd-'));
  const env = { RATSFACH_PASSPHRASE: passphrase };

  const run = await cli(['--profile', profile, 'sync', folder], { env });
  t.equal(run.exitCode, 0, run.stderr);
  t.match(run.stdout, /1 documents fetched, 1 changes applied here/);
  t.equal(
    readFileSync(join(folder, 'council', 'Protokolle', 'Protokoll 1.txt'), 'utf8'),
    'Haushalt 2027',
  );
  const status = await cli(['--profile', profile, '--json', 'status']);
  t.match(status.json(), { folder, documents: 1 });

  // A reader's stray file stays, reported; the JSON report says the same.
  writeFileSync(join(folder, 'council', 'mine.txt'), 'my own notes');
  const again = await cli(['--profile', profile, '--json', 'sync', folder], { env });
  t.equal(again.exitCode, 0);
  t.match(again.json(), {
    fetched: 0,
    skipped: [{ path: 'council/mine.txt', reason: 'readOnly' }],
  });

  // A profile pinned to another root refuses the server's tenant chain: nothing is written.
  const other = join(await tempDir(t), 'other');
  await createProfile(
    other,
    { ...base, rootFingerprint: 'ab'.repeat(32) },
    bob.keys,
    passphrase,
    minimumArgon2id,
  );
  const otherFolder = mkdtempSync(join(tmpdir(), 'ratsfach-sync-cmd-'));
  const refused = await cli(['--profile', other, 'sync', otherFolder], { env });
  t.equal(refused.exitCode, 1);
  t.match(refused.stderr, /RATSFACH_CRYPTO_UNTRUSTED_ROOT/);
  t.same(
    readdirSync(otherFolder).filter((n) => n !== '.ratsfach'),
    [],
    'nothing was written',
  );
});
