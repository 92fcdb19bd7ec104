// `ratsfach sync` end to end: a member device's profile, the real service (records, manifest,
// documents routes), the real crypto; the staff device's document lands in the folder.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { fingerprint, minimumArgon2id } from '@ratsfach/crypto';
import { councilWorld } from '../../../services/api/test/helpers/documentWorld.js';
import { buildTestApp } from '../../../services/api/test/helpers/buildTestApp.js';
import { SqliteServiceState } from '../../../services/api/src/state/sqliteServiceState.js';
import { createProfile, ProfileKind } from '../src/cli/profile.js';
import { cli, tempDir } from './support/cliHarness.js';

const text = (s: string) => new TextEncoder().encode(s);
const passphrase = 'bob device passphrase';

t.test('ratsfach sync brings a staff document into a member folder, verified', async (t) => {
  const { w, alice, bob, epochKey } = await councilWorld(t);
  await w.createDocumentAs(alice, 'council', 'doc1');
  await w.commitPlaintext(alice, 'council', 'doc1', 1, null, 0, epochKey, text('Haushalt 2027'));
  await w.settled();
  const root = w.rootKey('t1');

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
    { ...base, rootFingerprint: fingerprint(root) },
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
