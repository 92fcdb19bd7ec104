import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../../../..');

/** The real service, started as a process on embedded defaults in a fresh data directory. */
export interface ApiProcess {
  readonly url: string;
  readonly child: ChildProcess;
  output(): string;
}

/** Starts `services/api/src/main.ts` on a free port; killed when the test ends. */
export async function startApi(
  t: { teardown(fn: () => unknown): void },
  env: Record<string, string> = {},
): Promise<ApiProcess> {
  const dataDir = await mkdtemp(join(tmpdir(), 'ratsfach-admin-api-'));
  const child = spawn(
    'bash',
    [join(root, 'scripts/run-ts.sh'), join(root, 'services/api/src/main.ts')],
    {
      env: {
        ...process.env,
        RATSFACH_DATA_DIR: dataDir,
        RATSFACH_PORT: '0',
        RATSFACH_HOST: '127.0.0.1',
        RATSFACH_LOG_LEVEL: 'warn',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = once(child, 'exit');
  t.teardown(async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
    await rm(dataDir, { recursive: true, force: true });
  });
  const url = await new Promise<string>((done, fail) => {
    const poll = setInterval(() => {
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match?.[1]) {
        clearInterval(poll);
        done(match[1]);
      }
    }, 50);
    void exited.then(() => {
      clearInterval(poll);
      fail(new Error(`the service exited: ${output}`));
    });
  });
  return { url, child, output: () => output };
}
