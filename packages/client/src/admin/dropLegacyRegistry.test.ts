import { access, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { dropLegacyRegistry, legacyRegistryFile } from './dropLegacyRegistry.js';
import { tempDir } from '../../test/support/cliHarness.js';

t.test("an old profile's registry is removed once, damaged or not", async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, legacyRegistryFile);
  t.equal(await dropLegacyRegistry(dir), false, 'a profile without one is left alone');
  await writeFile(file, '{"users": 3}');
  t.equal(await dropLegacyRegistry(dir), true);
  await t.rejects(access(file), { code: 'ENOENT' }, 'gone');
  t.equal(await dropLegacyRegistry(dir), false, 'a second open finds nothing to do');
});

t.test('a registry that cannot be removed is an error, not ignored', async (t) => {
  const dir = await tempDir(t);
  // A directory in its place: unlink refuses it (EISDIR or EPERM by platform).
  await mkdir(join(dir, legacyRegistryFile));
  await t.rejects(dropLegacyRegistry(dir), { code: /^(EISDIR|EPERM)$/ });
});
