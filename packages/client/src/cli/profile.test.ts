import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { cryptoReady, generateDeviceKeys, CryptoErrorCode } from '@ratsfach/crypto';
import { CliErrorCode } from './cliErrorCode.js';
import {
  createProfile,
  defaultProfileDir,
  openProfileKeys,
  type Profile,
  ProfileKind,
  readProfile,
  writeFileAtomic,
} from './profile.js';
import { tempDir } from '../../test/support/cliHarness.js';

t.before(async () => {
  await cryptoReady();
});

const profile: Profile = {
  kind: ProfileKind.admin,
  serverUrl: 'http://127.0.0.1:8480',
  tenantId: 'stadt',
  userId: 'amt',
  deviceId: 'amt_laptop',
  rootFingerprint: 'ab'.repeat(32),
  createdAt: '2026-12-03T12:00:00.000Z',
};
const passphrase = 'device passphrase 1';

t.test('a profile keeps its facts and its keys under the passphrase', async (t) => {
  const dir = join(await tempDir(t), 'profile');
  const keys = generateDeviceKeys();
  await createProfile(dir, profile, keys, passphrase);
  t.equal((await stat(dir)).mode & 0o777, 0o700);
  t.equal((await stat(join(dir, 'keys.bin'))).mode & 0o777, 0o600);
  t.same(await readProfile(dir), profile);
  t.same(await readProfile(dir, ProfileKind.admin), profile);
  const opened = await openProfileKeys(dir, passphrase);
  t.same(opened.signing.privateKey, keys.signing.privateKey);
  t.same(opened.kem.publicKey, keys.kem.publicKey);
  await t.rejects(openProfileKeys(dir, 'wrong'), {
    code: CryptoErrorCode.keyStoreTampered,
    message: /passphrase is wrong/,
  });
  await t.rejects(createProfile(dir, profile, generateDeviceKeys(), passphrase), {
    code: CliErrorCode.profileExists,
  });
  t.same(
    (await openProfileKeys(dir, passphrase)).signing.publicKey,
    keys.signing.publicKey,
    'the keys were not overwritten',
  );
});

t.test('a missing, damaged or other-kind profile is a typed error', async (t) => {
  const dir = await tempDir(t);
  await t.rejects(readProfile(dir, ProfileKind.admin), {
    code: CliErrorCode.profileMissing,
    hint: /admin init/,
  });
  await t.rejects(readProfile(dir, ProfileKind.member), {
    code: CliErrorCode.profileMissing,
    hint: /enrol/,
  });
  await t.rejects(openProfileKeys(dir, passphrase), { code: CliErrorCode.profileDamaged });
  const file = join(dir, 'profile.json');
  await writeFile(file, '{');
  await t.rejects(readProfile(dir), { code: CliErrorCode.profileDamaged, message: /not JSON/ });
  await writeFile(file, JSON.stringify({ format: 'ratsfach-profile', version: 9 }));
  await t.rejects(readProfile(dir), { message: /not a profile of this version/ });
  await writeFile(
    file,
    JSON.stringify({ format: 'ratsfach-profile', version: 1, ...profile, tenantId: '' }),
  );
  await t.rejects(readProfile(dir), { message: /tenantId is missing/ });
  await writeFile(
    file,
    JSON.stringify({ format: 'ratsfach-profile', version: 1, ...profile, kind: 'root' }),
  );
  await t.rejects(readProfile(dir), { message: /kind is unknown/ });
  await writeFile(
    file,
    JSON.stringify({ format: 'ratsfach-profile', version: 1, ...profile, kind: 'member' }),
  );
  await t.rejects(readProfile(dir, ProfileKind.admin), {
    code: CliErrorCode.profileKind,
    hint: /admin device profile/,
  });
  await writeFile(file, JSON.stringify({ format: 'ratsfach-profile', version: 1, ...profile }));
  await t.rejects(readProfile(dir, ProfileKind.member), {
    code: CliErrorCode.profileKind,
    hint: /member device/,
  });
  await t.rejects(
    readProfile(join(dir, 'profile.json', 'x')),
    { code: CliErrorCode.profileDamaged },
    'unreadable',
  );
  t.equal(JSON.parse(await readFile(file, 'utf8')).kind, 'admin');
});

t.test('the default profile directory follows the platform', async (t) => {
  t.equal(
    defaultProfileDir({ XDG_DATA_HOME: '/data' }, '/home/a', 'linux'),
    '/data/ratsfach/default',
  );
  t.equal(defaultProfileDir({}, '/home/a', 'linux'), '/home/a/.local/share/ratsfach/default');
  t.equal(
    defaultProfileDir({}, '/Users/a', 'darwin'),
    '/Users/a/Library/Application Support/ratsfach/default',
  );
  t.equal(
    defaultProfileDir({ APPDATA: '/appdata' }, '/home/a', 'win32'),
    join('/appdata', 'ratsfach', 'default'),
  );
  t.equal(
    defaultProfileDir({}, '/home/a', 'win32'),
    join('/home/a', 'AppData', 'Roaming', 'ratsfach', 'default'),
  );
});

t.test(
  'writeFileAtomic replaces a file whole, privately, and leaves no temporary file',
  async (t) => {
    const dir = await tempDir(t);
    const path = join(dir, 'state.json');
    await writeFile(path, 'old');
    // Two writes of one process racing for the same file: each whole, the last one wins.
    await Promise.all([writeFileAtomic(path, 'a'.repeat(100_000)), writeFileAtomic(path, 'b')]);
    t.ok(['a'.repeat(100_000), 'b'].includes(await readFile(path, 'utf8')));
    await writeFileAtomic(path, new Uint8Array([1, 2, 3]));
    t.same([...(await readFile(path))], [1, 2, 3]);
    t.equal((await stat(path)).mode & 0o777, 0o600);
    t.same(await readdir(dir), ['state.json'], 'no temporary file is left');
    // A folder that is gone: the error surfaces, nothing is left behind.
    await t.rejects(writeFileAtomic(join(dir, 'gone', 'state.json'), 'x'), { code: 'ENOENT' });
    t.same(await readdir(dir), ['state.json']);
  },
);
