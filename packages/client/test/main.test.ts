import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import t from 'tap';
import { cryptoReady } from '@ratsfach/crypto';
import { createRootKeyFile } from '../src/admin/rootKeyFile.js';
import { tempDir } from './support/cliHarness.js';

const root = resolve(import.meta.dirname, '../../..');
const runTs = join(root, 'scripts/run-ts.sh');
const main = join(root, 'packages/client/src/cli/main.ts');

const run = (args: string[], env: Record<string, string> = {}) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((done) => {
    const child = spawn('bash', [runTs, main, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => done({ code, stdout, stderr }));
  });

t.test('the ratsfach entry point reads its environment and sets the exit code', async (t) => {
  await cryptoReady();
  const file = join(await tempDir(t), 'root.key');
  const created = await createRootKeyFile(file, {
    tenantId: 'stadt',
    passphrase: 'root passphrase 1',
    now: new Date(),
  });
  const ok = await run(['--json', 'admin', 'root', 'check', '--root', file], {
    RATSFACH_ROOT_PASSPHRASE: 'root passphrase 1',
  });
  t.equal(ok.code, 0, ok.stderr);
  t.equal(JSON.parse(ok.stdout).fingerprint, created.fingerprint);
  const noPassphrase = await run(['admin', 'root', 'check', '--root', file]);
  t.equal(noPassphrase.code, 1, 'stdin is no terminal: no prompt, a clear error');
  t.match(noPassphrase.stderr, /RATSFACH_CLI_PASSPHRASE_MISSING/);
  const usage = await run(['admin', 'bogus']);
  t.equal(usage.code, 2);
});
