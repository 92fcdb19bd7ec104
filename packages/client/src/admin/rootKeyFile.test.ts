import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { cryptoReady, fingerprint, signRecord, openRecord, unchained } from '@ratsfach/crypto';
import { AdminErrorCode } from './adminErrorCode.js';
import {
  createRootKeyFile,
  formatFingerprint,
  openRootKeyFile,
  readRootKeyInfo,
} from './rootKeyFile.js';
import { tempDir } from '../../test/support/cliHarness.js';

t.before(async () => {
  await cryptoReady();
});

const passphrase = 'correct horse battery staple';
const now = new Date('2026-12-03T12:00:00Z');

t.test('a root key file opens with its passphrase and signs as the root it names', async (t) => {
  const path = join(await tempDir(t), 'root.key');
  const created = await createRootKeyFile(path, { tenantId: 'stadt', passphrase, now });
  t.equal((await stat(path)).mode & 0o777, 0o600, 'only the owner may read it');
  const info = await readRootKeyInfo(path);
  t.equal(info.fingerprint, created.fingerprint);
  t.equal(info.fingerprint, fingerprint(created.publicKey));
  t.equal(info.tenantId, 'stadt');
  t.equal(info.createdAt, now.toISOString());
  const opened = await openRootKeyFile(path, passphrase);
  t.same(opened.signing.publicKey, created.publicKey);
  const record = signRecord(
    'tenant-created',
    unchained,
    { tenantId: 'stadt', createdAt: 1 },
    opened.signing,
  );
  t.equal(openRecord(record, 'tenant-created').signerFingerprint, created.fingerprint);
  t.notMatch(
    await readFile(path, 'utf8'),
    Buffer.from(opened.signing.privateKey).toString('base64url').slice(0, 20),
    'the private key is not stored in the clear',
  );
});

t.test('a root key file in a folder that does not exist yet gets the folder', async (t) => {
  const folder = join(await tempDir(t), 'offline', 'stick');
  const path = join(folder, 'root.key');
  const created = await createRootKeyFile(path, { tenantId: 'stadt', passphrase, now });
  t.equal((await stat(folder)).mode & 0o777, 0o700, 'only the owner may enter the new folder');
  t.equal((await readRootKeyInfo(path)).fingerprint, created.fingerprint, 'the file is there');
});

t.test('a wrong or empty passphrase is a clear error, never a key', async (t) => {
  const path = join(await tempDir(t), 'root.key');
  await createRootKeyFile(path, { tenantId: 'stadt', passphrase, now });
  for (const wrong of ['correct horse battery stapler', '']) {
    await t.rejects(openRootKeyFile(path, wrong), {
      code: AdminErrorCode.rootPassphrase,
      hint: /root passphrase/,
    });
  }
});

t.test('a root key file is never overwritten', async (t) => {
  const path = join(await tempDir(t), 'root.key');
  await createRootKeyFile(path, { tenantId: 'stadt', passphrase, now });
  const before = await readFile(path, 'utf8');
  await t.rejects(createRootKeyFile(path, { tenantId: 'stadt', passphrase, now }), {
    code: AdminErrorCode.rootFileExists,
  });
  t.equal(await readFile(path, 'utf8'), before);
});

t.test('a missing, foreign or changed file is refused with a hint', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'root.key');
  await t.rejects(readRootKeyInfo(path), {
    code: AdminErrorCode.rootFileUnreadable,
    hint: /--root/,
  });
  await t.rejects(readRootKeyInfo(dir), { code: AdminErrorCode.rootFileUnreadable }, 'a directory');
  await writeFile(path, 'not json');
  await t.rejects(readRootKeyInfo(path), {
    code: AdminErrorCode.rootFileUnreadable,
    message: /not JSON/,
  });
  await writeFile(path, JSON.stringify({ format: 'something-else' }));
  await t.rejects(readRootKeyInfo(path), { message: /format marker/ });
  await writeFile(path, JSON.stringify({ format: 'ratsfach-root-key', version: 2 }));
  await t.rejects(readRootKeyInfo(path), { message: /format version 2/ });
  await writeFile(path, JSON.stringify({ format: 'ratsfach-root-key', version: 1 }));
  await t.rejects(readRootKeyInfo(path), { message: /field is missing/ });

  const good = join(dir, 'good.key');
  await createRootKeyFile(good, { tenantId: 'stadt', passphrase, now });
  const json = JSON.parse(await readFile(good, 'utf8')) as Record<string, string>;
  const variants: Array<[string, Record<string, string>, RegExp]> = [
    ['bad base64url', { publicKey: '!!!' }, /base64url/],
    ['short key', { publicKey: 'AAAA' }, /32 bytes/],
    ['another fingerprint', { fingerprint: 'ab'.repeat(32) }, /fingerprint written/],
  ];
  for (const [name, change, message] of variants) {
    await writeFile(path, JSON.stringify({ ...json, ...change }));
    await t.rejects(
      readRootKeyInfo(path),
      { code: AdminErrorCode.rootFileUnreadable, message },
      name,
    );
  }

  // Another root's public key and fingerprint around this sealed key: the sealed key decides.
  const other = join(dir, 'other.key');
  await createRootKeyFile(other, { tenantId: 'stadt', passphrase, now });
  const otherJson = JSON.parse(await readFile(other, 'utf8')) as Record<string, string>;
  await writeFile(
    path,
    JSON.stringify({ ...json, publicKey: otherJson.publicKey, fingerprint: otherJson.fingerprint }),
  );
  await t.rejects(openRootKeyFile(path, passphrase), {
    code: AdminErrorCode.rootFileUnreadable,
    message: /not the root/,
  });

  // A changed sealed blob fails like a wrong passphrase, never opens.
  const sealed = Buffer.from(json.sealed as string, 'base64url');
  sealed.writeUInt8(sealed.readUInt8(sealed.length - 1) ^ 1, sealed.length - 1);
  await writeFile(path, JSON.stringify({ ...json, sealed: sealed.toString('base64url') }));
  await t.rejects(openRootKeyFile(path, passphrase), { code: AdminErrorCode.rootPassphrase });

  // Weakened Argon2id parameters in the header are refused before anything is derived.
  const weak = Buffer.from(json.sealed as string, 'base64url');
  weak.writeUInt32BE(1, 2);
  await writeFile(path, JSON.stringify({ ...json, sealed: weak.toString('base64url') }));
  await t.rejects(openRootKeyFile(path, passphrase), {
    code: 'RATSFACH_CRYPTO_WEAK_KDF_PARAMETERS',
  });
});

t.test('fingerprints are shown in groups of four', async (t) => {
  t.equal(formatFingerprint('0123456789abcdef'), '0123 4567 89ab cdef');
});
