import { join } from 'node:path';
import t from 'tap';
import { cryptoReady } from '@ratsfach/crypto';
import { runCli } from '../src/cli/program.js';
import { startApi } from './support/apiProcess.js';
import { cli, tempDir } from './support/cliHarness.js';

t.before(async () => {
  await cryptoReady();
});

interface ErrorJson {
  error: { code: string; message: string; hint?: string };
}

t.test('ratsfach admin agent: bad input, the loop stopped by a signal, --once', async (t) => {
  const api = await startApi(t);
  const dir = await tempDir(t);
  const adminDir = join(dir, 'admin');
  const env = {
    RATSFACH_ROOT_PASSPHRASE: 'root passphrase of the town hall',
    RATSFACH_PASSPHRASE: 'admin laptop passphrase',
  };
  const admin = (args: string[], extra: Record<string, string> = {}) =>
    cli(['--json', '--profile', adminDir, 'admin', ...args], { env: { ...env, ...extra } });
  const init = await admin([
    'init',
    '--server',
    api.url,
    '--tenant',
    'stadt',
    '--root',
    join(dir, 'root.key'),
  ]);
  t.equal(init.exitCode, 0, init.stdout + init.stderr);
  t.equal((await admin(['people', 'add', 'schmidt', '--name', 'Herr Schmidt'])).exitCode, 0);

  // --every that is no number (or zero) would make a busy loop: refused before anything runs.
  for (const every of ['soon', '0', '-5']) {
    const bad = await admin(['agent', '--every', every]);
    t.equal(bad.exitCode, 1, `--every ${every}`);
    t.equal(bad.json<ErrorJson>().error.code, 'RATSFACH_CLI_USAGE');
  }
  // A wrong passphrase would fail every round for ever: the loop refuses to start.
  const wrong = await admin(['agent'], { RATSFACH_PASSPHRASE: 'not the passphrase' });
  t.equal(wrong.exitCode, 1);
  t.equal(wrong.json<ErrorJson>().error.code, 'RATSFACH_CRYPTO_KEY_STORE_TAMPERED');

  // The loop: its first round signs the tenant's first heartbeat; the stop request arrives then
  // and ends the hour-long sleep at once. The stop handler is unregistered afterwards.
  let stdout = '';
  let stderr = '';
  let stop: (() => void) | undefined;
  let unregistered = false;
  const exitCode = await runCli(['--json', '--profile', adminDir, 'admin', 'agent'], {
    env,
    stdout: { write: (text: string) => (stdout += text) },
    stderr: {
      write: (text: string) => {
        stderr += text;
        if (text.includes('"action":"heartbeat"')) stop?.();
      },
    },
    home: dir,
    platform: 'linux',
    now: () => new Date(),
    onStop: (handler) => {
      stop = handler;
      return () => {
        unregistered = true;
      };
    },
  });
  t.equal(exitCode, 0, stdout + stderr);
  t.same(JSON.parse(stdout), { rounds: 1 }, 'stopped during its sleep, after one round');
  t.ok(unregistered, 'the stop handler is removed when the agent ends');
  const lines = stderr
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { level: string; action: string; msg: string });
  t.match(lines, [{ level: 'info', action: 'heartbeat', msg: /heartbeat over 1 users/ }]);

  // --once, run again and again as cron would: each ends 0 with its actions as JSON.
  for (let run = 0; run < 3; run += 1) {
    const once = await admin(['agent', '--once']);
    t.equal(once.exitCode, 0, `--once run ${run}: ${once.stdout}${once.stderr}`);
    t.same(once.json<{ actions: unknown[] }>().actions, [], 'nothing due right after a heartbeat');
  }
});
