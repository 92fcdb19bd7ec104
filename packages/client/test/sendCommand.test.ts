// `ratsfach sync` on a staff device sends: through the command, against the real service
// (records, manifest, uploads and documents routes), real crypto and stores. A member's sync
// gets the same bytes; `ratsfach status` shows what waits; an unreachable service loses nothing.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { fingerprint, minimumArgon2id, type DeviceKeys } from '@ratsfach/crypto';
import { documentWorld } from '../../../services/api/test/helpers/documentWorld.js';
import { buildTestApp } from '../../../services/api/test/helpers/buildTestApp.js';
import { SqliteServiceState } from '../../../services/api/src/state/sqliteServiceState.js';
import { createProfile, ProfileKind } from '../src/cli/profile.js';
import { plaintextHash } from '../src/node/nodeFileSystem.js';
import { openSyncState } from '../src/sync/syncStateFile.js';
import { cli, tempDir } from './support/cliHarness.js';

const passphrase = 'a device passphrase';
const env = { RATSFACH_PASSPHRASE: passphrase };

t.test(
  'ratsfach sync sends a staff file; the member gets it; status shows the queue',
  async (t) => {
    const w = await documentWorld(t, ['t1']);
    const anna = await w.person('t1', 'anna', 'a1');
    const bert = await w.person('t1', 'bert', 'b1');
    await w.createCommittee('t1', 'finanz');
    await w.createCommittee('t1', 'bau');
    await w.addMember(anna, 'finanz', 'staff');
    await w.addMember(bert, 'finanz', 'reader', anna);
    await w.addMember(anna, 'bau', 'staff');
    await w.startEpoch(anna, 'finanz', 0, [anna, bert]);
    await w.heartbeat('t1');

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
    const profileOf = async (userId: string, deviceId: string, keys: DeviceKeys) => {
      const dir = join(await tempDir(t), userId);
      await createProfile(
        dir,
        {
          kind: ProfileKind.member,
          serverUrl,
          tenantId: 't1',
          userId,
          deviceId,
          createdAt: new Date().toISOString(),
          rootFingerprint: fingerprint(w.rootKey('t1')),
        },
        keys,
        passphrase,
        minimumArgon2id,
      );
      return dir;
    };
    const annaProfile = await profileOf('anna', 'a1', anna.keys);
    const bertProfile = await profileOf('bert', 'b1', bert.keys);
    const annaFolder = mkdtempSync(join(tmpdir(), 'ratsfach-anna-'));
    const bertFolder = mkdtempSync(join(tmpdir(), 'ratsfach-bert-'));

    // The first sync makes a folder for each committee the device reads, and says so.
    const first = await cli(['--profile', annaProfile, 'sync', annaFolder], { env });
    t.equal(first.exitCode, 0, first.stderr);
    t.match(first.stdout, `new folder for committee bau: ${join(annaFolder, 'bau')}`);
    t.match(first.stdout, `new folder for committee finanz: ${join(annaFolder, 'finanz')}`);
    t.same(
      readdirSync(annaFolder)
        .filter((name) => name !== '.ratsfach')
        .sort(),
      ['bau', 'finanz'],
    );
    const again = await cli(['--profile', annaProfile, 'sync', annaFolder], { env });
    t.notMatch(again.stdout, /new folder/, 'made once');
    mkdirSync(join(annaFolder, 'finanz', 'Haushalt'));
    writeFileSync(
      join(annaFolder, 'finanz', 'Haushalt', 'Entwurf 2027.txt'),
      'Haushalt 2027: Entwurf',
    );
    const sent = await cli(['--profile', annaProfile, 'sync', annaFolder], { env });
    t.equal(sent.exitCode, 0, sent.stderr);
    t.match(sent.stdout, /1 sent, 0 waiting to be sent/);
    await w.settled();

    const got = await cli(['--profile', bertProfile, 'sync', bertFolder], { env });
    t.equal(got.exitCode, 0, got.stderr);
    // Bert's folder came with the committee's first document; none for a committee not his.
    t.notMatch(got.stdout, /new folder/);
    t.same(
      readdirSync(bertFolder).filter((name) => name !== '.ratsfach'),
      ['finanz'],
    );
    t.equal(
      readFileSync(join(bertFolder, 'finanz', 'Haushalt', 'Entwurf 2027.txt'), 'utf8'),
      'Haushalt 2027: Entwurf',
      'the member has the same bytes',
    );

    // A staff committee without an epoch yet: the key work of `ratsfach sync` starts it, then
    // the file goes out in the same run.
    writeFileSync(join(annaFolder, 'bau', 'Plan.txt'), 'Bauplan');
    const json = await cli(['--profile', annaProfile, '--json', 'sync', annaFolder], { env });
    t.equal(json.exitCode, 0, json.stdout);
    t.match(json.json(), { send: { sent: 1, waiting: 0, failed: [], offline: false } });

    // A change an earlier run left in the queue (the edit it planned, not yet sent).
    writeFileSync(join(annaFolder, 'finanz', 'Haushalt', 'Entwurf 2027.txt'), 'zweite Fassung');
    const state = openSyncState(annaProfile);
    const entry = state.index().find((e) => e.path === 'finanz/Haushalt/Entwurf 2027.txt');
    state.enqueue({
      commandId: 'left-by-an-earlier-run',
      kind: 'commit',
      payload: {
        kind: 'commit',
        documentId: entry?.documentId,
        committeeId: 'finanz',
        parentVersion: 1,
        path: 'finanz/Haushalt/Entwurf 2027.txt',
        hash: plaintextHash(new TextEncoder().encode('zweite Fassung')),
      },
    });
    state.markAttempt(state.queue()[0]!.seq, 'the service could not be reached');
    state.close();
    const status = await cli(['--profile', annaProfile, 'status']);
    t.equal(status.exitCode, 0);
    t.match(status.stdout, /waiting +1 changes to send, 1 failing/);
    t.match(
      status.stdout,
      /commit finanz\/Haushalt\/Entwurf 2027\.txt \(1 tries: the service could not be reached\)/,
    );
    const statusJson = await cli(['--profile', annaProfile, '--json', 'status']);
    t.match(statusJson.json(), {
      queued: 1,
      documents: 2,
      queue: [{ kind: 'commit', path: 'finanz/Haushalt/Entwurf 2027.txt', attempts: 1 }],
    });

    // The service goes away: nothing is lost, and the command says how many changes wait.
    await app.close();
    writeFileSync(join(annaFolder, 'finanz', 'Haushalt', 'Entwurf 2027.txt'), 'zweite Fassung');
    const offline = await cli(['--profile', annaProfile, 'sync', annaFolder], { env });
    t.equal(offline.exitCode, 1);
    t.match(
      offline.stderr,
      /cannot be reached; 1 changes wait to be sent \(RATSFACH_SYNC_OFFLINE\)/,
    );
    t.match(offline.stderr, /hint: nothing was lost/);
    t.equal(
      readFileSync(join(annaFolder, 'finanz', 'Haushalt', 'Entwurf 2027.txt'), 'utf8'),
      'zweite Fassung',
    );
  },
);
