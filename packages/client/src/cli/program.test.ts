import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { cryptoReady } from '@ratsfach/crypto';
import { createRootKeyFile } from '../admin/rootKeyFile.js';
import { cli, tempDir } from '../../test/support/cliHarness.js';
import { ExitCode } from './output.js';
import { commandRun } from './commandAction.js';
import { createProgram } from './program.js';

t.before(async () => {
  await cryptoReady();
});

const passphrase = 'root passphrase for tests';

t.test('help ends with 0, a usage error with 2', async (t) => {
  const help = await cli(['--help']);
  t.equal(help.exitCode, ExitCode.ok);
  t.match(help.stdout, /admin/);
  const unknown = await cli(['no-such-command']);
  t.equal(unknown.exitCode, ExitCode.usage);
  t.match(unknown.stderr, /unknown command/);
  const missing = await cli(['admin', 'root', 'fingerprint']);
  t.equal(missing.exitCode, ExitCode.usage);
  t.match(missing.stderr, /--root <file>/);
});

t.test('root fingerprint and check, for people and as JSON', async (t) => {
  const root = join(await tempDir(t), 'root.key');
  const created = await createRootKeyFile(root, { tenantId: 'stadt', passphrase, now: new Date() });
  const shown = await cli(['admin', 'root', 'fingerprint', '--root', root]);
  t.equal(shown.exitCode, ExitCode.ok);
  t.match(shown.stdout, created.fingerprint.slice(0, 4) + ' ' + created.fingerprint.slice(4, 8));
  const json = await cli(['--json', 'admin', 'root', 'fingerprint', '--root', root]);
  t.equal(json.json().fingerprint, created.fingerprint);

  const byEnv = await cli(['admin', 'root', 'check', '--root', root, '--json'], {
    env: { RATSFACH_ROOT_PASSPHRASE: passphrase },
  });
  t.equal(byEnv.exitCode, ExitCode.ok, byEnv.stderr);
  t.same(byEnv.json(), { tenantId: 'stadt', fingerprint: created.fingerprint, opened: true });

  const file = join(await tempDir(t), 'pass');
  await writeFile(file, `${passphrase}\n`);
  const byFile = await cli([
    'admin',
    'root',
    'check',
    '--root',
    root,
    '--root-passphrase-file',
    file,
  ]);
  t.equal(byFile.exitCode, ExitCode.ok);
  t.match(byFile.stdout, /Put it back offline/);

  const byPrompt = await cli(['admin', 'root', 'check', '--root', root], { answers: [passphrase] });
  t.equal(byPrompt.exitCode, ExitCode.ok);
  t.match(byPrompt.stderr, /root passphrase: /);
});

t.test('a wrong or missing root passphrase: exit 1 with code and hint, also as JSON', async (t) => {
  const root = join(await tempDir(t), 'root.key');
  await createRootKeyFile(root, { tenantId: 'stadt', passphrase, now: new Date() });
  const wrong = await cli(['admin', 'root', 'check', '--root', root], { answers: ['nope'] });
  t.equal(wrong.exitCode, ExitCode.error);
  t.match(wrong.stderr, /error: the root passphrase is wrong.*RATSFACH_ADMIN_ROOT_PASSPHRASE/);
  t.match(wrong.stderr, /hint: /);
  const missing = await cli(['--json', 'admin', 'root', 'check', '--root', root]);
  t.equal(missing.exitCode, ExitCode.error);
  t.equal(
    missing.json<{ error: { code: string; hint: string } }>().error.code,
    'RATSFACH_CLI_PASSPHRASE_MISSING',
  );
  t.match(missing.json<{ error: { hint: string } }>().error.hint, /RATSFACH_ROOT_PASSPHRASE/);
  const noFile = await cli(['admin', 'root', 'fingerprint', '--root', join(root, 'none')]);
  t.equal(noFile.exitCode, ExitCode.error);
});

t.test('the profile directory: option, then environment, then the default', async (t) => {
  const context = {
    env: { RATSFACH_PROFILE: '/from/env', XDG_DATA_HOME: '/xdg' },
    stdout: { write: () => true },
    stderr: { write: () => true },
    home: '/home/a',
    platform: 'linux' as const,
    now: () => new Date(),
  };
  const dirs: string[] = [];
  const program = createProgram(context);
  program.command('probe').action((_options, command) => {
    dirs.push(commandRun(context, command).profileDir);
  });
  await program.parseAsync(['--profile', '/from/option', 'probe'], { from: 'user' });
  await createProgram(context)
    .command('probe')
    .action((_o, c) => void dirs.push(commandRun(context, c).profileDir))
    .parent?.parseAsync(['probe'], { from: 'user' });
  const noEnv = { ...context, env: { XDG_DATA_HOME: '/xdg' } };
  await createProgram(noEnv)
    .command('probe')
    .action((_o, c) => void dirs.push(commandRun(noEnv, c).profileDir))
    .parent?.parseAsync(['probe'], { from: 'user' });
  t.same(dirs, ['/from/option', '/from/env', '/xdg/ratsfach/default']);
});
