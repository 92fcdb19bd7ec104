import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { openSqliteEventStore } from '@ratsfach/event-store/sqlite';
import { openSqliteReadModelStore } from '@ratsfach/read-model/sqlite';
import { appendHistory, randomHistory } from './randomHistory.js';

const runTs = fileURLToPath(new URL('../../../scripts/run-ts.sh', import.meta.url));
const mainScript = fileURLToPath(new URL('../src/main.ts', import.meta.url));

const start = (command: string, env: Record<string, string>) => {
  const child = spawn('bash', [runTs, mainScript, command], {
    env: { ...process.env, RATSFACH_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = once(child, 'exit').then(([code]) => ({
    code: code as number | null,
    stdout,
    stderr,
  }));
  return { child, exited };
};

t.test('main: rebuild, lag and run on the embedded files; a bad variable is named', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'ratsfach-projector-main-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const eventStore = await openSqliteEventStore({ path: join(dataDir, 'events.sqlite') });
  await appendHistory(eventStore, randomHistory(5, 80));
  let last = 0n;
  for await (const event of eventStore.readAll()) last = event.globalPosition;
  await eventStore.close();
  const env = { RATSFACH_DATA_DIR: dataDir };

  const rebuilt = await start('rebuild', env).exited;
  t.equal(rebuilt.code, 0, rebuilt.stderr);
  const lag = await start('lag', env).exited;
  t.same(JSON.parse(lag.stdout), { checkpoint: last.toString(), pending: 0, atLeast: false });

  // `run` follows the log and stops cleanly on SIGTERM.
  const readModel = await openSqliteReadModelStore({ path: join(dataDir, 'read-model.sqlite') });
  t.teardown(() => readModel.close());
  await readModel.reset();
  const running = start('run', env);
  for (let i = 0; i < 1200 && (await readModel.checkpoint()) !== last; i++) {
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  t.equal(await readModel.checkpoint(), last, 'run caught up with the log');
  running.child.kill('SIGTERM');
  t.equal((await running.exited).code, 0, 'and stopped on SIGTERM');

  const bad = await start('lag', { ...env, RATSFACH_PROJECTOR_BATCH_SIZE: 'many' }).exited;
  t.equal(bad.code, 1);
  t.match(bad.stderr, /RATSFACH_CONFIG_INVALID: RATSFACH_PROJECTOR_BATCH_SIZE/);
});
