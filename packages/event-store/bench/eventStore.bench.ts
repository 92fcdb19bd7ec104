/**
 * Event-store benchmark: each backend's adapter against its raw driver, side by side in one run.
 *   scripts/run-ts.sh packages/event-store/bench/eventStore.bench.ts [--backend=sqlite,postgres] [--scale=1] [--rounds=3]
 * A backend is the file bench/<name>BenchBackend.ts exporting `benchBackend` (see benchHarness.ts).
 */
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import {
  benchBackend,
  defaultSizes,
  formatResults,
  type BenchBackend,
  type BenchSizes,
} from './benchHarness.js';

const arg = (name: string): string | undefined =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);

const backends = (arg('backend') ?? 'sqlite')
  .split(',')
  .filter((b) => /^[a-z][a-zA-Z0-9]*$/.test(b));
const scale = Number(arg('scale') ?? '1');
const rounds = Math.max(1, Number(arg('rounds') ?? '3'));
const sizes: BenchSizes = {
  ...defaultSizes,
  singleAppends: Math.max(1, Math.round(defaultSizes.singleAppends * scale)),
  concurrentAppends: Math.max(
    defaultSizes.writers,
    Math.round(defaultSizes.concurrentAppends * scale),
  ),
  batches: Math.max(1, Math.round(defaultSizes.batches * scale)),
};

console.log(
  `machine: ${availableParallelism()} CPUs, ${cpus()[0]?.model ?? 'unknown'}, ${Math.round(totalmem() / 2 ** 30)} GiB RAM, Node ${process.version}`,
);
console.log(
  `sizes: ${JSON.stringify(sizes)}, rounds: ${rounds}, load average: ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}\n`,
);
for (const name of backends) {
  const module = (await import(new URL(`./${name}BenchBackend.ts`, import.meta.url).href)) as {
    benchBackend: BenchBackend;
  };
  const run = await benchBackend(module.benchBackend, sizes, rounds);
  console.log(formatResults(module.benchBackend.label, run));
  console.log('');
}
