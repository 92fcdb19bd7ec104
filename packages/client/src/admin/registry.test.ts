import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { CliErrorCode } from '../cli/cliErrorCode.js';
import { loadRegistry, remember } from './registry.js';
import { tempDir } from '../../test/support/cliHarness.js';

t.test('the registry remembers users and committees once, sorted', async (t) => {
  const dir = await tempDir(t);
  t.same(await loadRegistry(dir), { users: [], committees: [] });
  await remember(dir, { users: ['weber', 'mueller'] });
  await remember(dir, { users: ['mueller'], committees: ['bau'] });
  t.same(await loadRegistry(dir), { users: ['mueller', 'weber'], committees: ['bau'] });
});

t.test('a damaged or unreadable registry is refused', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'admin-registry.json'), '{"users": 3}');
  await t.rejects(loadRegistry(dir), { code: CliErrorCode.profileDamaged });
  await t.rejects(loadRegistry(join(dir, 'admin-registry.json')), { code: 'ENOTDIR' });
});
