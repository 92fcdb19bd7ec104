import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { once } from 'node:events';

const root = resolve(import.meta.dirname, '../../..');

const startServer = async (dataDir: string, env: Record<string, string> = {}) => {
  const child = spawn(
    'bash',
    [join(root, 'scripts/run-ts.sh'), join(root, 'services/api/src/main.ts')],
    {
      env: {
        ...process.env,
        RATSFACH_DATA_DIR: dataDir,
        RATSFACH_PORT: '0',
        RATSFACH_LOG_LEVEL: 'warn',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  const address = await new Promise<string | null>((done) => {
    const poll = setInterval(() => {
      const match = /listening on (http:\/\/\S+)/.exec(stdout);
      if (match) {
        clearInterval(poll);
        done(match[1] ?? null);
      }
    }, 50);
    void exited.then(() => {
      clearInterval(poll);
      done(null);
    });
  });
  return { child, address, exited, output: () => ({ stdout, stderr }) };
};

t.test('starts on embedded defaults, answers health, and stops cleanly on SIGTERM', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'ratsfach-api-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const server = await startServer(dataDir);
  t.teardown(() => {
    server.child.kill('SIGKILL');
  });
  t.ok(server.address, `prints where it listens (stderr: ${server.output().stderr})`);
  const res = await fetch(`${server.address}/healthz`);
  t.equal(res.status, 200);
  t.same(await res.json(), {
    status: 'ok',
    version: '0.1.0',
    components: {
      eventStore: { status: 'ok' },
      readModel: { status: 'ok' },
      blobStore: { status: 'ok' },
    },
  });
  const ready = await fetch(`${server.address}/readyz`);
  t.equal(ready.status, 200, 'the projector runs: nothing waits to be projected');
  t.match(await ready.json(), {
    status: 'ready',
    projection: { checkpoint: null, pending: 0, atLeast: false, restarts: 0 },
  });
  t.ok(
    (await stat(join(dataDir, 'events.sqlite'))).isFile(),
    'the event log lives in the data directory',
  );
  t.ok((await stat(join(dataDir, 'blobs'))).isDirectory(), 'so do the blobs');
  server.child.kill('SIGTERM');
  const [code] = await server.exited;
  t.equal(code, 0);
});

t.test('refuses a bad configuration with the variable named and a hint', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'ratsfach-api-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const server = await startServer(dataDir, { RATSFACH_PORT: 'eighty' });
  const [code] = await server.exited;
  t.equal(code, 1);
  t.equal(server.address, null);
  t.match(server.output().stderr, /RATSFACH_PORT/);
  t.match(server.output().stderr, /hint: fix or unset the environment variable RATSFACH_PORT/);
});

t.test('exits with a clear message when the data directory cannot be used', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'ratsfach-api-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const notADirectory = join(dir, 'file');
  await writeFile(notADirectory, 'not a directory');
  const server = await startServer(notADirectory);
  const [code] = await server.exited;
  t.equal(code, 1);
  t.equal(server.address, null, 'never listens');
  t.match(
    server.output().stderr,
    /^ratsfach failed to start: cannot use .*file as the data directory: EEXIST/m,
  );
  t.match(server.output().stderr, /hint: set RATSFACH_DATA_DIR to a directory/);
});

t.test(
  'a second start on the same data directory fails naming the first, touching nothing',
  async (t) => {
    const dataDir = await mkdtemp(join(tmpdir(), 'ratsfach-api-'));
    t.teardown(() => rm(dataDir, { recursive: true, force: true }));
    const first = await startServer(dataDir);
    t.teardown(() => {
      first.child.kill('SIGKILL');
    });
    t.ok(first.address, `the first one listens (stderr: ${first.output().stderr})`);
    // An upload of the first process in flight: the second start must not clean it away.
    const inFlight = join(dataDir, 'blobs', '.tmp', 'put-in-flight');
    await mkdir(join(dataDir, 'blobs', '.tmp'), { recursive: true });
    await writeFile(inFlight, 'half an upload');

    const second = await startServer(dataDir);
    const [code] = await second.exited;
    t.equal(code, 1);
    t.equal(second.address, null, 'never listens');
    t.match(
      second.output().stderr,
      new RegExp(`ratsfach failed to start: ${dataDir} is in use by process ${first.child.pid} `),
    );
    t.match(second.output().stderr, /hint: stop the other ratsfach process/);
    t.equal(
      await readFile(inFlight, 'utf8'),
      'half an upload',
      "the first one's .tmp is untouched",
    );
    const res = await fetch(`${first.address}/healthz`);
    t.equal(res.status, 200, 'the first one still works');
  },
);

t.test('logs the open-file budget at start', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'ratsfach-api-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const server = await startServer(dataDir, {
    RATSFACH_LOG_LEVEL: 'info',
    RATSFACH_LOG_FORMAT: 'json',
  });
  t.teardown(() => {
    server.child.kill('SIGKILL');
  });
  t.ok(server.address);
  const budget = server
    .output()
    .stdout.split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { msg: string; openFiles?: { soft: number; hard: number } })
    .find((line) => line.msg === 'open-file budget');
  t.ok(budget, 'a budget line');
  t.ok((budget?.openFiles?.soft ?? 0) > 0, 'with the soft limit');
  t.ok((budget?.openFiles?.hard ?? 0) >= (budget?.openFiles?.soft ?? 0), 'and the hard one');
});
