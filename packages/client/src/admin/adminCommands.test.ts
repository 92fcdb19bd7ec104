import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { cryptoReady } from '@ratsfach/crypto';
import { lineLog } from './adminCommands.js';
import { cli, tempDir } from '../../test/support/cliHarness.js';

t.before(async () => {
  await cryptoReady();
});

interface ErrorJson {
  error: { code: string; message: string; hint?: string };
}

const env = {
  RATSFACH_PASSPHRASE: 'a device passphrase',
  RATSFACH_ROOT_PASSPHRASE: 'a root passphrase',
};

/** `ratsfach --json --profile <profile> admin …` with the test's passphrases. */
const admin = (profile: string, args: string[], extra: Record<string, string> = {}) =>
  cli(['--json', '--profile', profile, 'admin', ...args], { env: { ...env, ...extra } });

/** `admin init` against a port nothing listens on, its root key file in `dir`. */
const initArgs = (dir: string, tenant = 'stadt') => [
  'init',
  '--server',
  'http://127.0.0.1:9',
  '--tenant',
  tenant,
  '--root',
  join(dir, 'root.key'),
];

/** `admin devices request` for device `d2` of `admin`, writing the request to `out`. */
const requestArgs = (rootFingerprint: string, out: string) => [
  'devices',
  'request',
  '--server',
  'http://127.0.0.1:9',
  '--tenant',
  'stadt',
  '--root-fingerprint',
  rootFingerprint,
  '--user',
  'admin',
  '--device',
  'd2',
  '--out',
  out,
];

t.test('admin commands refuse bad input before touching a server', async (t) => {
  const dir = await tempDir(t);
  const noProfile = await admin(join(dir, 'none'), ['people', 'list']);
  t.equal(noProfile.json<ErrorJson>().error.code, 'RATSFACH_CLI_PROFILE_MISSING');
  t.match(noProfile.json<ErrorJson>().error.hint, /admin init/);

  const badDays = await admin(dir, ['invite', 'mueller', '--valid-days', 'soon']);
  t.equal(badDays.exitCode, 1);
  t.equal(badDays.json<ErrorJson>().error.code, 'RATSFACH_CLI_USAGE');

  const badRole = await cli(['admin', 'committees', 'add', 'bau', 'mueller', '--role', 'chair'], {
    env,
  });
  t.equal(badRole.exitCode, 2, 'a role outside staff, reader, deputy is a usage error');

  const weakRoot = await admin(join(dir, 'p'), initArgs(dir), {
    RATSFACH_ROOT_PASSPHRASE: 'short',
  });
  t.equal(weakRoot.json<ErrorJson>().error.code, 'RATSFACH_CLI_PASSPHRASE_WEAK');

  const badFingerprint = await admin(join(dir, 'p2'), requestArgs('abc', join(dir, 'req')));
  t.equal(badFingerprint.json<ErrorJson>().error.code, 'RATSFACH_CLI_USAGE');
});

t.test('init with a bad id or an unreachable server leaves a clear error', async (t) => {
  const dir = await tempDir(t);
  const badId = await admin(join(dir, 'p'), initArgs(dir, 'Stadt!'));
  t.match(badId.json<ErrorJson>().error.message, /tenant id/);
  const unreachable = await admin(join(dir, 'p'), initArgs(dir));
  t.equal(unreachable.json<ErrorJson>().error.code, 'RATSFACH_CLI_SERVER_UNREACHABLE');
  // The outcome is unknown: the root and the profile are kept, never thrown away.
  t.ok(await readFile(join(dir, 'root.key'), 'utf8'));
  const existing = await admin(join(dir, 'p3'), initArgs(dir));
  t.equal(existing.json<ErrorJson>().error.code, 'RATSFACH_ADMIN_ROOT_FILE_EXISTS');
});

t.test('certify-admin refuses a file that is not a request', async (t) => {
  const dir = await tempDir(t);
  const request = join(dir, 'req.json');
  await writeFile(
    request,
    JSON.stringify({ format: 'ratsfach-admin-device-request', tenantId: 'stadt' }),
  );
  const profile = join(dir, 'p');
  const made = await admin(profile, requestArgs('ab'.repeat(32), join(dir, 'made.json')));
  t.equal(made.exitCode, 0, made.stdout);
  t.match(JSON.parse(await readFile(join(dir, 'made.json'), 'utf8')), {
    format: 'ratsfach-admin-device-request',
    deviceId: 'd2',
  });
  const refused = await admin(profile, [
    'devices',
    'certify-admin',
    '--request',
    request,
    '--root',
    join(dir, 'root.key'),
  ]);
  t.equal(refused.exitCode, 1);
  t.match(refused.json<ErrorJson>().error.message, /not an admin device request/);
});

t.test('the agent log writes one JSON line per action', async (t) => {
  const lines: string[] = [];
  const log = lineLog(
    (line) => lines.push(line),
    () => new Date('2026-12-03T12:00:00Z'),
  );
  log.info({ action: 'renewed', deviceId: 'd' }, 'renewed d');
  log.warn({ action: 'lapsed' }, 'lapsed');
  t.same(
    lines.map((l) => JSON.parse(l)),
    [
      {
        level: 'info',
        time: '2026-12-03T12:00:00.000Z',
        action: 'renewed',
        deviceId: 'd',
        msg: 'renewed d',
      },
      { level: 'warn', time: '2026-12-03T12:00:00.000Z', action: 'lapsed', msg: 'lapsed' },
    ],
  );
});
