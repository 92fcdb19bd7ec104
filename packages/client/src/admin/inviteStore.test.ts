import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { cryptoReady, generateSigningKeyPair } from '@ratsfach/crypto';
import { CliErrorCode } from '../cli/cliErrorCode.js';
import { forgetInvites, loadInvites, saveInvite, type StoredInvite } from './inviteStore.js';
import { tempDir } from '../../test/support/cliHarness.js';

t.before(async () => {
  await cryptoReady();
});

const invite = (codeId: string, userId: string): StoredInvite => ({
  codeId,
  userId,
  secret: new Uint8Array(20).fill(codeId.length),
  createdAt: '2026-12-03T12:00:00.000Z',
  expiresAt: '2026-12-10T12:00:00.000Z',
});

t.test('open invitations are kept sealed and forgotten once used', async (t) => {
  const dir = await tempDir(t);
  const signing = generateSigningKeyPair();
  t.same(await loadInvites(dir, signing), [], 'none yet');
  await saveInvite(dir, signing, invite('aaa', 'mueller'));
  await saveInvite(dir, signing, invite('bbbb', 'schmidt'));
  await saveInvite(dir, signing, invite('aaa', 'mueller'));
  t.same(await loadInvites(dir, signing), [invite('bbbb', 'schmidt'), invite('aaa', 'mueller')]);
  const text = await readFile(join(dir, 'admin-invites.json'), 'utf8');
  t.notMatch(
    text,
    Buffer.from(invite('bbbb', 'x').secret).toString('base64url'),
    'no secret in the clear',
  );
  await forgetInvites(dir, ['aaa', 'zzz']);
  t.same(await loadInvites(dir, signing), [invite('bbbb', 'schmidt')]);
  await forgetInvites(dir, ['zzz']);
  t.same((await loadInvites(dir, signing)).length, 1);
});

t.test('a store of another device, or changed, is refused', async (t) => {
  const dir = await tempDir(t);
  const signing = generateSigningKeyPair();
  await saveInvite(dir, signing, invite('aaa', 'mueller'));
  await t.rejects(loadInvites(dir, generateSigningKeyPair()), {
    code: CliErrorCode.profileDamaged,
  });
  const file = join(dir, 'admin-invites.json');
  const json = JSON.parse(await readFile(file, 'utf8')) as {
    invites: Array<Record<string, string>>;
  };
  json.invites[0] = { ...json.invites[0], userId: 'schmidt' };
  await writeFile(file, JSON.stringify(json));
  await t.rejects(
    loadInvites(dir, signing),
    { code: CliErrorCode.profileDamaged },
    'moved to another person',
  );
  await writeFile(file, '[');
  await t.rejects(loadInvites(dir, signing), { code: CliErrorCode.profileDamaged });
  await writeFile(file, JSON.stringify({ format: 'x' }));
  await t.rejects(loadInvites(dir, signing), { code: CliErrorCode.profileDamaged });
  await t.rejects(
    loadInvites(join(file, 'x'), signing),
    { code: CliErrorCode.profileDamaged },
    'unreadable',
  );
});
