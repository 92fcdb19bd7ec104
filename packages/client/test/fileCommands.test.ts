// `ratsfach history`, `restore`, `delete`, `undelete` and `devices` through the real command,
// against the real service (records, manifest, documents and upload routes), real crypto and
// stores. A proxy between a device and the service plays the attacker: it changes or withholds
// a record of the document chain, and the command must refuse what it serves.
import { createServer, request as httpRequest, type Server } from 'node:http';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { fingerprint, minimumArgon2id, type DeviceKeys } from '@ratsfach/crypto';
import { base64urlDecode, base64urlEncode } from '@ratsfach/kernel';
import { documentWorld } from '../../../services/api/test/helpers/documentWorld.js';
import { buildTestApp } from '../../../services/api/test/helpers/buildTestApp.js';
import { SqliteServiceState } from '../../../services/api/src/state/sqliteServiceState.js';
import { createProfile, ProfileKind } from '../src/cli/profile.js';
import { openSyncState } from '../src/sync/syncStateFile.js';
import { cli, tempDir } from './support/cliHarness.js';

const passphrase = 'a device passphrase';
const env = { RATSFACH_PASSPHRASE: passphrase };

type ProxyMode = 'pass' | 'tamper' | 'withhold' | 'tamperSlot' | 'noSlots' | 'noWrites';

/**
 * An HTTP proxy to the service that plays the attacker or the outage: `tamper` changes one byte
 * of the newest record of every document chain it serves, `withhold` leaves that record out,
 * `tamperSlot` changes a byte of every key slot, `noSlots` serves none, `noWrites` answers 503 to
 * uploads and document commands (the service is down for writing).
 */
const attackerProxy = async (
  t: { teardown(fn: () => unknown): void },
  target: string,
): Promise<{ url: string; mode: (m: ProxyMode) => void }> => {
  let mode: ProxyMode = 'pass';
  const upstream = new URL(target);
  const rewrite = (url: string, body: Buffer): Buffer => {
    if (/\/documents\/[^/]+\/records/.test(url) && (mode === 'tamper' || mode === 'withhold')) {
      const page = JSON.parse(body.toString()) as {
        records: { sequence: number; record: string }[];
        length: number;
      };
      const last = page.records[page.records.length - 1];
      if (last !== undefined && mode === 'tamper') {
        const bytes = base64urlDecode(last.record);
        bytes[bytes.length - 5] = (bytes[bytes.length - 5] as number) ^ 0x01;
        last.record = base64urlEncode(bytes);
      }
      if (last !== undefined && mode === 'withhold') {
        page.records.pop();
        page.length -= 1;
      }
      return Buffer.from(JSON.stringify(page));
    }
    if (/\/keyslots$/.test(url) && (mode === 'tamperSlot' || mode === 'noSlots')) {
      const reply = JSON.parse(body.toString()) as { slots: { keySlot: string }[] };
      if (mode === 'noSlots') reply.slots = [];
      for (const slot of reply.slots) {
        const bytes = base64urlDecode(slot.keySlot);
        bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 0x01;
        slot.keySlot = base64urlEncode(bytes);
      }
      return Buffer.from(JSON.stringify(reply));
    }
    return body;
  };
  const server: Server = createServer((req, res) => {
    if (
      mode === 'noWrites' &&
      req.method === 'POST' &&
      /\/uploads|\/documents\//.test(req.url ?? '')
    ) {
      req.resume();
      res.writeHead(503, { 'content-type': 'text/plain' }).end('down');
      return;
    }
    const headers = { ...req.headers, host: upstream.host };
    delete headers['accept-encoding'];
    const forward = httpRequest(
      { host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers },
      (reply) => {
        const chunks: Buffer[] = [];
        reply.on('data', (c: Buffer) => chunks.push(c));
        reply.on('end', () => {
          let body: Buffer = Buffer.concat(chunks);
          if (reply.statusCode === 200) body = rewrite(req.url ?? '', body);
          const out = { ...reply.headers, 'content-length': String(body.length) };
          delete out['transfer-encoding'];
          res.writeHead(reply.statusCode ?? 502, out);
          res.end(body);
        });
      },
    );
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  t.teardown(() => new Promise<void>((done) => server.close(() => done())));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { url: `http://127.0.0.1:${port}`, mode: (m) => (mode = m) };
};

const setup = async (
  t: Parameters<typeof buildTestApp>[0] & Parameters<typeof documentWorld>[0],
) => {
  const w = await documentWorld(t, ['t1']);
  const anna = await w.person('t1', 'anna', 'a1');
  const bert = await w.person('t1', 'bert', 'b1');
  await w.createCommittee('t1', 'finanz');
  await w.addMember(anna, 'finanz', 'staff');
  await w.addMember(bert, 'finanz', 'reader', anna);
  await w.startEpoch(anna, 'finanz', 0, [anna, bert]);
  await w.heartbeat('t1');
  const serviceState = SqliteServiceState.open(join(await tempDir(t), 'service-state.sqlite'));
  t.teardown(() => serviceState.close());
  // Every command logs in once; this test runs more than a person does in a minute.
  const app = await buildTestApp(
    t,
    {
      stores: { eventStore: w.eventStore, blobStore: w.blobStore },
      readModel: w.readModel,
      serviceState,
    },
    { loginsPerMinute: 200 },
  );
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const serverUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  const profileOf = async (userId: string, deviceId: string, keys: DeviceKeys, url = serverUrl) => {
    const dir = join(await tempDir(t), `${userId}-${deviceId}`);
    await createProfile(
      dir,
      {
        kind: ProfileKind.member,
        serverUrl: url,
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
  return { w, anna, bert, serverUrl, profileOf };
};

t.test('history, restore, delete and undelete of a synced file', async (t) => {
  const { w, anna, bert, serverUrl, profileOf } = await setup(t);
  const proxy = await attackerProxy(t, serverUrl);
  const annaProxy = await attackerProxy(t, serverUrl);
  const annaProfile = await profileOf('anna', 'a1', anna.keys, annaProxy.url);
  const bertProfile = await profileOf('bert', 'b1', bert.keys, proxy.url);
  const annaFolder = mkdtempSync(join(tmpdir(), 'ratsfach-anna-'));
  const bertFolder = mkdtempSync(join(tmpdir(), 'ratsfach-bert-'));
  const annaFile = join(annaFolder, 'finanz', 'Haushalt.txt');
  const bertFile = join(bertFolder, 'finanz', 'Haushalt.txt');
  const as = (profile: string, ...args: string[]) => cli(['--profile', profile, ...args], { env });

  // Before any sync: no folder, a typed error that says what to do.
  const early = await as(annaProfile, '--json', 'history', annaFile);
  t.equal(early.exitCode, 1);
  t.match(early.json(), { error: { code: 'RATSFACH_FILES_UNKNOWN_FILE', hint: /ratsfach sync/ } });

  t.equal((await as(annaProfile, 'sync', annaFolder)).exitCode, 0);
  mkdirSync(join(annaFolder, 'finanz'), { recursive: true });
  for (const text of ['Entwurf eins', 'Entwurf zwei, laenger', 'Fassung drei']) {
    writeFileSync(annaFile, text);
    const sent = await as(annaProfile, 'sync', annaFolder);
    t.equal(sent.exitCode, 0, sent.stderr);
    await w.settled();
  }
  t.equal((await as(bertProfile, 'sync', bertFolder)).exitCode, 0);
  t.equal(readFileSync(bertFile, 'utf8'), 'Fassung drei');

  // History on the reader's device: three verified versions, newest first, authors from the chain.
  const history = await as(bertProfile, 'history', bertFile);
  t.equal(history.exitCode, 0, history.stderr);
  t.match(history.stdout, /finanz\/Haushalt\.txt \(active, 3 versions, verified\)/);
  t.match(history.stdout, /v3 \(newest\) +\S+ +12 B +by anna on a1/);
  t.match(history.stdout, /v1 +\S+ +12 B +by anna on a1/);
  const json = (await as(bertProfile, '--json', 'history', bertFile)).json<{
    versions: { version: number; authorUserId: string; size: number; path: string }[];
    headVersion: number;
  }>();
  t.equal(json.headVersion, 3);
  t.same(
    json.versions.map((v) => [v.version, v.authorUserId, v.size, v.path]),
    [
      [1, 'anna', 12, 'finanz/Haushalt.txt'],
      [2, 'anna', 21, 'finanz/Haushalt.txt'],
      [3, 'anna', 12, 'finanz/Haushalt.txt'],
    ],
  );

  // The server changes a byte of a record, or withholds the newest one the device saw: refused.
  proxy.mode('tamper');
  const tampered = await as(bertProfile, '--json', 'history', bertFile);
  t.equal(tampered.exitCode, 1);
  t.match(tampered.json(), { error: { code: /^RATSFACH_CRYPTO_/ } });
  t.notMatch(tampered.stdout, /versions/);
  proxy.mode('withhold');
  const withheld = await as(bertProfile, '--json', 'history', bertFile);
  t.equal(withheld.exitCode, 1);
  t.match(withheld.json(), { error: { code: 'RATSFACH_CRYPTO_ROLLBACK' } });
  proxy.mode('pass');

  // A reader may not restore: a clear refusal with a hint; the file stays as it was.
  const byReader = await as(bertProfile, '--json', 'restore', bertFile, '1');
  t.equal(byReader.exitCode, 1);
  t.match(byReader.json(), {
    error: { code: 'RATSFACH_FILES_NOT_STAFF', hint: /Ask a staff member of finanz/ },
  });
  t.equal(readFileSync(bertFile, 'utf8'), 'Fassung drei');

  // A version that does not exist, the newest one, and no number at all.
  const missing = await as(annaProfile, 'restore', annaFile, '9');
  t.equal(missing.exitCode, 1);
  t.match(missing.stderr, /no version 9 \(it has 1 to 3\) \(RATSFACH_FILES_UNKNOWN_VERSION\)/);
  t.match(missing.stderr, /hint: List the versions with `ratsfach history <file>`/);
  const newest = await as(annaProfile, 'restore', annaFile, '3');
  t.equal(newest.exitCode, 1);
  t.match(newest.stderr, /RATSFACH_FILES_WRONG_STATE/);
  const notANumber = await as(annaProfile, 'restore', annaFile, 'v1');
  t.equal(notANumber.exitCode, 2);
  t.match(notANumber.stderr, /RATSFACH_CLI_USAGE/);

  // An edit not sent yet would be lost: refused, the edit stays.
  writeFileSync(annaFile, 'noch nicht gesendet');
  const unsent = await as(annaProfile, 'restore', annaFile, '1');
  t.equal(unsent.exitCode, 1);
  t.match(unsent.stderr, /has changes here that were not sent \(RATSFACH_FILES_LOCAL_CHANGES\)/);
  t.equal(readFileSync(annaFile, 'utf8'), 'noch nicht gesendet');
  writeFileSync(annaFile, 'Fassung drei');

  // The staff device restores version 1: a new version 4 with version 1's bytes, for everyone.
  const restored = await as(annaProfile, '--json', 'restore', annaFile, '1');
  t.equal(restored.exitCode, 0, restored.stdout);
  t.match(restored.json(), { restoredVersion: 1, previousHead: 3, newVersion: 4 });
  t.equal(readFileSync(annaFile, 'utf8'), 'Entwurf eins');
  await w.settled();
  t.equal((await as(bertProfile, 'sync', bertFolder)).exitCode, 0);
  t.equal(readFileSync(bertFile, 'utf8'), 'Entwurf eins');
  const after = (await as(bertProfile, '--json', 'history', bertFile)).json<{
    headVersion: number;
    versions: { version: number; parentVersion: number | null }[];
  }>();
  t.equal(after.headVersion, 4);
  t.same(
    after.versions.map((v) => v.parentVersion),
    [null, 1, 2, 3],
    'the restore is a new version on top of the head; nothing was rewritten',
  );

  // Restoring a version whose bytes are the newest's changes nothing.
  const identical = await as(annaProfile, 'restore', annaFile, '1');
  t.equal(identical.exitCode, 0, identical.stderr);
  t.match(identical.stdout, /same content as the newest \(4\); nothing to restore/);

  // Key slots withheld: the history still lists the signed versions, without name or date;
  // a changed key slot is refused outright; a restore without the slot writes nothing.
  proxy.mode('noSlots');
  const noSlots = await as(bertProfile, 'history', bertFile);
  t.equal(noSlots.exitCode, 0, noSlots.stderr);
  t.match(noSlots.stdout, /v1 +date unknown +12 B +by anna on a1/);
  proxy.mode('tamperSlot');
  const badSlot = await as(bertProfile, '--json', 'history', bertFile);
  t.equal(badSlot.exitCode, 1);
  t.match(badSlot.json(), { error: { code: /^RATSFACH_CRYPTO_/ } });
  proxy.mode('pass');
  annaProxy.mode('noSlots');
  const slotWithheld = await as(annaProfile, 'restore', annaFile, '2');
  t.equal(slotWithheld.exitCode, 1);
  t.match(slotWithheld.stderr, /RATSFACH_SYNC_SERVER_WITHHELD/);
  t.equal(readFileSync(annaFile, 'utf8'), 'Entwurf eins', 'nothing written');

  // The service is down for writing: the restored bytes are in the file and wait in the queue;
  // the next sync sends them as version 5.
  annaProxy.mode('noWrites');
  const down = await as(annaProfile, '--json', 'restore', annaFile, '2');
  t.equal(down.exitCode, 1);
  t.match(down.json(), { error: { code: 'RATSFACH_FILES_NOT_SENT', hint: /waits in the queue/ } });
  t.equal(readFileSync(annaFile, 'utf8'), 'Entwurf zwei, laenger');
  annaProxy.mode('pass');
  const resent = await as(annaProfile, 'sync', annaFolder);
  t.equal(resent.exitCode, 0, resent.stderr);
  t.match(resent.stdout, /1 sent/);
  await w.settled();

  // Delete and undelete: a reader may do neither; the staff device deletes for everyone.
  const readerDelete = await as(bertProfile, 'delete', bertFile);
  t.equal(readerDelete.exitCode, 1);
  t.match(readerDelete.stderr, /RATSFACH_FILES_NOT_STAFF/);
  t.ok(existsSync(bertFile), "the reader's refused delete removed nothing");
  const deleted = await as(annaProfile, 'delete', annaFile);
  t.equal(deleted.exitCode, 0, deleted.stderr);
  t.match(deleted.stdout, /deleted finanz\/Haushalt\.txt for everyone in finanz/);
  t.notOk(existsSync(annaFile));
  await w.settled();
  t.equal((await as(bertProfile, 'sync', bertFolder)).exitCode, 0);
  t.notOk(existsSync(bertFile), 'the verified deletion reached the reader');
  const deletedHistory = await as(bertProfile, 'history', bertFile);
  t.equal(deletedHistory.exitCode, 0, deletedHistory.stderr);
  t.match(deletedHistory.stdout, /\(deleted, 5 versions, verified\)/);
  const restoreDeleted = await as(annaProfile, 'restore', annaFile, '1');
  t.equal(restoreDeleted.exitCode, 1);
  t.match(restoreDeleted.stderr, /is deleted \(RATSFACH_FILES_WRONG_STATE\)/);
  t.match(restoreDeleted.stderr, /hint: Bring it back first with ratsfach undelete <file>/);
  const twice = await as(annaProfile, 'delete', annaFile);
  t.equal(twice.exitCode, 1);
  t.match(twice.stderr, /deleted already \(RATSFACH_FILES_WRONG_STATE\)/);
  const readerUndelete = await as(bertProfile, 'undelete', bertFile);
  t.equal(readerUndelete.exitCode, 1);
  t.match(readerUndelete.stderr, /RATSFACH_FILES_NOT_STAFF/);

  const undeleted = await as(annaProfile, 'undelete', annaFile);
  t.equal(undeleted.exitCode, 0, undeleted.stderr);
  t.match(undeleted.stdout, /undeleted finanz\/Haushalt\.txt for everyone in finanz; it is back/);
  t.equal(readFileSync(annaFile, 'utf8'), 'Entwurf zwei, laenger');
  await w.settled();
  t.equal((await as(bertProfile, 'sync', bertFolder)).exitCode, 0);
  t.equal(readFileSync(bertFile, 'utf8'), 'Entwurf zwei, laenger', 'back on the reader too');
  const again = await as(annaProfile, 'undelete', annaFile);
  t.equal(again.exitCode, 1);
  t.match(again.stderr, /is not deleted \(RATSFACH_FILES_WRONG_STATE\)/);

  // A deletion while the service is down: removed here, waiting; the next sync sends it.
  annaProxy.mode('noWrites');
  const deleteDown = await as(annaProfile, 'delete', annaFile);
  t.equal(deleteDown.exitCode, 1);
  t.match(deleteDown.stderr, /the deletion was not sent.*\(RATSFACH_FILES_NOT_SENT\)/);
  t.notOk(existsSync(annaFile));
  annaProxy.mode('pass');
  t.match((await as(annaProfile, 'sync', annaFolder)).stdout, /1 sent/);

  // One deletion on top of many made by hand: held by the mass-deletion guard, exit 3.
  mkdirSync(join(annaFolder, 'finanz', 'Stapel'), { recursive: true });
  for (const name of ['a', 'b', 'c', 'd', 'e', 'f']) {
    writeFileSync(join(annaFolder, 'finanz', 'Stapel', `${name}.txt`), `Blatt ${name}`);
  }
  t.match((await as(annaProfile, 'sync', annaFolder)).stdout, /6 sent/);
  for (const name of ['a', 'b', 'c', 'd'])
    rmSync(join(annaFolder, 'finanz', 'Stapel', `${name}.txt`));
  const held = await as(annaProfile, 'delete', join(annaFolder, 'finanz', 'Stapel', 'e.txt'));
  t.equal(held.exitCode, 3, held.stderr);
  t.match(
    held.stdout,
    /the deletion is held with others: run ratsfach sync <dir> --confirm-deletions/,
  );

  // A path outside the synced folder.
  const outside = await as(annaProfile, 'history', join(tmpdir(), 'elsewhere.txt'));
  t.equal(outside.exitCode, 1);
  t.match(outside.stderr, /is not inside the synced folder .*RATSFACH_FILES_UNKNOWN_FILE/);
});

t.test('devices lists the verified devices of the person; confirm signs a record', async (t) => {
  const { w, bert, profileOf } = await setup(t);
  const bertProfile = await profileOf('bert', 'b1', bert.keys);
  const as = (...args: string[]) => cli(['--profile', bertProfile, ...args], { env });

  const alone = await as('devices');
  t.equal(alone.exitCode, 0, alone.stderr);
  t.match(alone.stdout, /b1 +\S+ \S+ \S+ \S+ +this device/);

  // The administration certifies a second device for bert: it shows, waiting for him.
  const b2 = await w.addDevice('t1', 'bert', 'b2');
  const b2Print = fingerprint(b2.keys.signing.publicKey);
  const listed = await as('--json', 'devices');
  t.equal(listed.exitCode, 3, 'a new device waits for the person');
  t.match(listed.json(), {
    userId: 'bert',
    devices: [
      { deviceId: 'b1', thisDevice: true, waiting: false },
      { deviceId: 'b2', fingerprint: b2Print, waiting: true, confirmedBy: [] },
    ],
  });
  t.match((await as('devices')).stdout, /b2 .*NEW: not confirmed by you yet/);

  // Without a fingerprint and no terminal: nothing signed, exit 3 with what to do.
  const noPrint = await as('devices', 'confirm', 'b2');
  t.equal(noPrint.exitCode, 3);
  t.match(noPrint.stdout, /compare the fingerprint/);
  // A wrong fingerprint, an unknown device, this device itself, a malformed fingerprint.
  const wrong = await as('devices', 'confirm', 'b2', '--fingerprint', 'ab'.repeat(8));
  t.equal(wrong.exitCode, 1);
  t.match(wrong.stderr, /NOT confirmed \(RATSFACH_KEYS_FINGERPRINT_MISMATCH\)/);
  // At a terminal it asks: a wrong answer is refused, no answer stops.
  const ask = (answer: string) =>
    cli(['--profile', bertProfile, 'devices', 'confirm', 'b2'], { env, answers: [answer] });
  const typedWrong = await ask('0000 1111 2222 3333');
  t.equal(typedWrong.exitCode, 1);
  t.match(
    typedWrong.stderr,
    /type the fingerprint it shows[\s\S]*RATSFACH_KEYS_FINGERPRINT_MISMATCH/,
  );
  t.equal((await ask('')).exitCode, 3);
  const unknown = await as('--json', 'devices', 'confirm', 'b9', '--yes');
  t.equal(unknown.exitCode, 1);
  t.match(unknown.json(), { error: { code: 'RATSFACH_DEVICES_UNKNOWN_DEVICE' } });
  const itself = await as('devices', 'confirm', 'b1', '--yes');
  t.equal(itself.exitCode, 1);
  t.match(itself.stderr, /never confirms itself \(RATSFACH_DEVICES_CANNOT_CONFIRM\)/);
  const malformed = await as('devices', 'confirm', 'b2', '--fingerprint', 'xyz');
  t.equal(malformed.exitCode, 2);
  t.match((await as('--json', 'devices')).json(), { devices: [{}, { waiting: true }] });

  // The right fingerprint (as `ratsfach status` groups it): a signed confirmation in the chain.
  const grouped = b2Print
    .slice(0, 16)
    .replace(/(.{4})/g, '$1 ')
    .trim();
  const confirmed = await as('--json', 'devices', 'confirm', 'b2', '--fingerprint', grouped);
  t.equal(confirmed.exitCode, 0, confirmed.stdout);
  t.match(confirmed.json(), {
    deviceId: 'b2',
    confirmed: true,
    device: { confirmedBy: [{ userId: 'bert', deviceId: 'b1', committeeId: null }] },
  });
  const now = await as('devices');
  t.equal(now.exitCode, 0);
  t.match(now.stdout, /b2 .*confirmed by bert\/b1/);
  const repeat = await as('devices', 'confirm', 'b2', '--yes');
  t.equal(repeat.exitCode, 0);
  t.match(repeat.stdout, /confirmed already/);
});

t.test('committees lists what the device reads; select limits the sync', async (t) => {
  const { w, anna, bert, profileOf } = await setup(t);
  await w.createCommittee('t1', 'bau');
  await w.addMember(anna, 'bau', 'staff');
  await w.addMember(bert, 'bau', 'reader', anna);
  await w.startEpoch(anna, 'bau', 0, [anna, bert]);
  await w.heartbeat('t1');
  const annaProfile = await profileOf('anna', 'a1', anna.keys);
  const bertProfile = await profileOf('bert', 'b1', bert.keys);
  const annaFolder = mkdtempSync(join(tmpdir(), 'ratsfach-anna-'));
  const bertFolder = mkdtempSync(join(tmpdir(), 'ratsfach-bert-'));
  const as = (profile: string, ...args: string[]) => cli(['--profile', profile, ...args], { env });
  t.equal((await as(annaProfile, 'sync', annaFolder)).exitCode, 0);
  for (const [committee, name] of [
    ['finanz', 'Haushalt.txt'],
    ['bau', 'Plan.txt'],
    ['bau', 'Gutachten.txt'],
  ] as const) {
    mkdirSync(join(annaFolder, committee), { recursive: true });
    writeFileSync(join(annaFolder, committee, name), `${committee} ${name}`);
  }
  const sent = await as(annaProfile, 'sync', annaFolder);
  t.equal(sent.exitCode, 0, sent.stderr);
  await w.settled();
  t.equal((await as(bertProfile, 'sync', bertFolder)).exitCode, 0);

  const listed = await as(bertProfile, '--json', 'committees');
  t.equal(listed.exitCode, 0, listed.stdout);
  t.match(listed.json(), {
    committees: [
      { committeeId: 'bau', role: 'reader', documents: 2, selected: true },
      { committeeId: 'finanz', role: 'reader', documents: 1, selected: true },
    ],
    removed: [],
  });
  t.match((await as(bertProfile, 'committees')).stdout, /\[x\] bau +reader +2 documents/);

  // Bad selections: nothing changes.
  const unknown = await as(bertProfile, 'committees', '--select', 'finanz,geheim');
  t.equal(unknown.exitCode, 1);
  t.match(unknown.stderr, /cannot read geheim \(RATSFACH_CLI_USAGE\)/);
  t.match(unknown.stderr, /hint: Choose among the committees .*: bau, finanz/);
  const both = await as(bertProfile, 'committees', '--select', 'finanz', '--all');
  t.equal(both.exitCode, 2);
  const empty = await as(bertProfile, 'committees', '--select', ' , ');
  t.equal(empty.exitCode, 2);
  t.ok(existsSync(join(bertFolder, 'bau', 'Plan.txt')));

  // Deselecting bau removes its synced files, keeps one edited here, and says so.
  writeFileSync(join(bertFolder, 'bau', 'Gutachten.txt'), 'meine Notizen');
  const selected = await as(bertProfile, 'committees', '--select', 'finanz');
  t.equal(selected.exitCode, 0, selected.stderr);
  t.match(selected.stdout, /\[ \] bau/);
  t.match(selected.stdout, /removed 1 synced files of deselected committees .*bau\/Plan\.txt/);
  t.match(selected.stdout, /kept bau\/Gutachten\.txt: it has changes made here/);
  t.notOk(existsSync(join(bertFolder, 'bau', 'Plan.txt')));
  t.equal(readFileSync(join(bertFolder, 'bau', 'Gutachten.txt'), 'utf8'), 'meine Notizen');

  // The sync keeps finanz only: a new bau document does not come.
  writeFileSync(join(annaFolder, 'bau', 'Neu.txt'), 'bau neu');
  writeFileSync(join(annaFolder, 'finanz', 'Neu.txt'), 'finanz neu');
  t.equal((await as(annaProfile, 'sync', annaFolder)).exitCode, 0);
  await w.settled();
  const partial = await as(bertProfile, 'sync', bertFolder);
  t.equal(partial.exitCode, 0, partial.stderr);
  t.equal(readFileSync(join(bertFolder, 'finanz', 'Neu.txt'), 'utf8'), 'finanz neu');
  t.notOk(existsSync(join(bertFolder, 'bau', 'Neu.txt')), 'a deselected committee is not fetched');
  t.notOk(existsSync(join(bertFolder, 'bau', 'Plan.txt')));

  // Selecting everything again: the next sync brings bau back; the edited file is not lost.
  const all = await as(bertProfile, 'committees', '--all');
  t.equal(all.exitCode, 0);
  t.match(all.stdout, /\[x\] bau/);
  t.equal((await as(bertProfile, 'sync', bertFolder)).exitCode, 0);
  t.equal(readFileSync(join(bertFolder, 'bau', 'Neu.txt'), 'utf8'), 'bau neu');
  t.equal(readFileSync(join(bertFolder, 'bau', 'Plan.txt'), 'utf8'), 'bau Plan.txt');
  const notes = readdirSync(join(bertFolder, 'bau')).filter((n) => n.startsWith('Gutachten'));
  t.ok(
    notes.some((n) => readFileSync(join(bertFolder, 'bau', n), 'utf8') === 'meine Notizen'),
    'the edit made here survives the round trip',
  );

  // A staff device with a change of bau waiting to be sent cannot deselect bau.
  const state = openSyncState(annaProfile);
  state.enqueue({
    commandId: 'waiting-change',
    kind: 'create',
    payload: { kind: 'create', committeeId: 'bau', path: 'bau/Entwurf.txt' },
  });
  state.close();
  const busy = await as(annaProfile, 'committees', '--select', 'finanz');
  t.equal(busy.exitCode, 1);
  t.match(busy.stderr, /1 changes of bau wait to be sent; nothing was deselected/);
  t.ok(existsSync(join(annaFolder, 'bau', 'Plan.txt')));
});
