/**
 * Where should group commit run? The same 64-writer load against the SQLite store writing on the
 * caller's thread (`openSqliteEventStore`) and on a writer thread (`openSqliteEventStoreInWorker`),
 * with the caller's event-loop delay measured during each run: what an API server on that loop
 * would feel.
 *   scripts/run-ts.sh packages/event-store/bench/groupCommitThread.bench.ts [--rounds=4] [--appends=6400]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { EventStore } from '../src/index.js';
import { openSqliteEventStore, openSqliteEventStoreInWorker } from '../src/sqlite/index.js';

const arg = (name: string): string | undefined =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const rounds = Number(arg('rounds') ?? '4');
const appends = Number(arg('appends') ?? '6400');
const writers = 64;
const encoder = new TextEncoder();
const metadata = encoder.encode('{"commandId":"bench","occurredAt":"2026-01-01T00:00:00.000Z"}');
const data = encoder.encode(`{"documentId":"d1","version":1,"recordHash":"${'A'.repeat(86)}"}`);

async function load(
  store: EventStore,
  round: number,
): Promise<{ perSecond: number; p99Ms: number; maxMs: number }> {
  const each = Math.ceil(appends / writers);
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  const start = performance.now();
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      for (let i = 0; i < each; i += 1) {
        const expected = i === 0 ? 'no_stream' : BigInt(i - 1);
        await store.append(
          `document-bench-r${round}w${w}`,
          [{ type: 'A.v1', data, metadata }],
          expected,
          { commandId: `r${round}w${w}-${i}` },
        );
      }
    }),
  );
  const ms = performance.now() - start;
  histogram.disable();
  return {
    perSecond: (each * writers * 1000) / ms,
    p99Ms: histogram.percentile(99) / 1e6,
    maxMs: histogram.max / 1e6,
  };
}

const dir = mkdtempSync(join(tmpdir(), 'ratsfach-bench-thread-'));
const stores: [string, EventStore][] = [
  ['caller thread', await openSqliteEventStore({ path: join(dir, 'caller.sqlite') })],
  ['writer thread', await openSqliteEventStoreInWorker({ path: join(dir, 'worker.sqlite') })],
];
console.log(
  `${writers} writers, ${appends} single-event appends per run, load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
for (let round = 0; round < rounds; round += 1) {
  for (const [name, store] of round % 2 === 0 ? stores : [...stores].reverse()) {
    const r = await load(store, round);
    console.log(
      `round ${round} ${name}: ${Math.round(r.perSecond).toLocaleString('en-US')} appends/s, caller event-loop delay p99 ${r.p99Ms.toFixed(1)} ms, max ${r.maxMs.toFixed(1)} ms`,
    );
  }
}
for (const [, store] of stores) await store.close();
rmSync(dir, { recursive: true, force: true });
