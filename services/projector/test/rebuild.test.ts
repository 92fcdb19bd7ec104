/**
 * The design's rule that read models are projections: after a long seeded random history,
 * the read models projected incrementally (live, in small batches, and across SIGKILLs of the
 * projector process) equal, byte for byte, those a rebuild makes from the log.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import t, { type Test } from 'tap';
import { openSqliteEventStore } from '@ratsfach/event-store/sqlite';
import { openSqliteReadModelStore } from '@ratsfach/read-model/sqlite';
import { openPostgresReadModelStore } from '@ratsfach/read-model/postgres';
import type { ReadModelStore } from '@ratsfach/read-model';
import { runProjector } from '../src/runProjector.js';
import { rebuild } from '../src/rebuild.js';
import { appendHistory, randomHistory, seeded } from './randomHistory.js';

const runTs = fileURLToPath(new URL('../../../scripts/run-ts.sh', import.meta.url));
const childScript = fileURLToPath(new URL('./projectorChild.ts', import.meta.url));
const pgUrl = process.env['RATSFACH_TEST_PG_URL'];
if (pgUrl === undefined || pgUrl === '')
  throw new Error('RATSFACH_TEST_PG_URL is not set (scripts/pg.sh)');

const tempDir = (t: Test): string => {
  const dir = mkdtempSync(join(tmpdir(), 'ratsfach-projector-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
};

async function lastPosition(path: string): Promise<bigint> {
  const store = await openSqliteEventStore({ path });
  let last = 0n;
  for await (const event of store.readAll()) last = event.globalPosition;
  await store.close();
  return last;
}

async function rebuiltSnapshot(
  eventsPath: string,
  dir: string,
): Promise<{ snapshot: string; events: number }> {
  const eventStore = await openSqliteEventStore({ path: eventsPath });
  const readModel = await openSqliteReadModelStore({
    path: join(dir, `rebuilt-${randomBytes(4).toString('hex')}.sqlite`),
  });
  const events = await rebuild({ eventStore, readModel, batchSize: 997 });
  const snapshot = await readModel.snapshot();
  await readModel.close();
  await eventStore.close();
  return { snapshot, events };
}

const waitFor = async (store: ReadModelStore, position: bigint): Promise<void> => {
  for (let i = 0; i < 600; i++) {
    if (((await store.checkpoint()) ?? -1n) >= position) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`projector did not reach ${position}`);
};

for (const seed of [11, 29]) {
  t.test(
    `seed ${seed}: live incremental projection (PostgreSQL) equals a rebuild (SQLite)`,
    async (t) => {
      const dir = tempDir(t);
      const eventsPath = join(dir, 'events.sqlite');
      const steps = randomHistory(seed, 1200);
      const eventStore = await openSqliteEventStore({ path: eventsPath });
      const schema = `rm_test_${randomBytes(6).toString('hex')}`;
      const live = await openPostgresReadModelStore({
        connection: { connectionString: pgUrl, max: 4 },
        schema,
      });
      t.teardown(async () => {
        await live.close();
        await eventStore.close();
        const client = new pg.Client({ connectionString: pgUrl });
        await client.connect();
        await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await client.end();
      });
      const controller = new AbortController();
      const random = seeded(seed);
      const running = runProjector({
        eventStore,
        readModel: live,
        batchSize: 1 + Math.floor(random() * 20),
        flushDelayMs: 5,
        signal: controller.signal,
      });
      // Appends arrive in bursts while the projector runs, so it switches between catching up and
      // following live many times.
      for (let i = 0; i < steps.length;) {
        const burst = 1 + Math.floor(random() * 150);
        await appendHistory(eventStore, steps.slice(i, i + burst));
        i += burst;
        if (random() < 0.3) await new Promise((resolve) => setTimeout(resolve, 10));
      }
      const last = await lastPosition(eventsPath);
      await waitFor(live, last);
      controller.abort();
      await running;
      const rebuilt = await rebuiltSnapshot(eventsPath, dir);
      t.ok(rebuilt.events > 1500, `a long history (${rebuilt.events} events)`);
      const types = new Set(steps.flatMap((s) => s.events.map((e) => e.type.split('.')[0])));
      t.ok(types.size >= 18, `many kinds of event (${[...types].sort().join(', ')})`);
      t.equal(await live.snapshot(), rebuilt.snapshot, 'byte-identical read models');
    },
  );
}

t.test(
  'a projector killed with SIGKILL at random points resumes to the same read models',
  async (t) => {
    const dir = tempDir(t);
    const eventsPath = join(dir, 'events.sqlite');
    const readModelPath = join(dir, 'read-model.sqlite');
    const eventStore = await openSqliteEventStore({ path: eventsPath });
    await appendHistory(eventStore, randomHistory(7, 900));
    await eventStore.close();
    const target = await lastPosition(eventsPath);
    const random = seeded(7);
    const run = (killAfterBatches: number | null) =>
      new Promise<{ signal: string | null; batches: number }>((resolve, reject) => {
        const child = spawn(
          'bash',
          [
            runTs,
            childScript,
            JSON.stringify({ eventsPath, readModelPath, batchSize: 3, target: target.toString() }),
          ],
          { stdio: ['ignore', 'pipe', 'pipe'] },
        );
        let batches = 0;
        let stderr = '';
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        child.stdout.on('data', (chunk: Buffer) => {
          batches += (chunk.toString().match(/^batch /gm) ?? []).length;
          if (killAfterBatches !== null && batches >= killAfterBatches && child.exitCode === null) {
            // A few milliseconds later, so some kills land inside a transaction.
            setTimeout(() => child.kill('SIGKILL'), Math.floor(random() * 8));
          }
        });
        child.on('error', reject);
        child.on('exit', (code, signal) => {
          if (signal === null && code !== 0)
            reject(new Error(`projector child failed (${code}): ${stderr}`));
          else resolve({ signal, batches });
        });
      });
    let kills = 0;
    for (let round = 0; round < 5; round++) {
      const result = await run(1 + Math.floor(random() * 40));
      if (result.signal === 'SIGKILL') kills++;
    }
    t.ok(kills >= 3, `killed ${kills} times mid-run`);
    const finished = await run(null);
    t.equal(finished.signal, null, 'the last run finishes by itself');
    const resumed = await openSqliteReadModelStore({ path: readModelPath });
    t.teardown(() => resumed.close());
    t.equal(await resumed.checkpoint(), target);
    const rebuilt = await rebuiltSnapshot(eventsPath, dir);
    t.equal(await resumed.snapshot(), rebuilt.snapshot, 'byte-identical to a rebuild');
  },
);
