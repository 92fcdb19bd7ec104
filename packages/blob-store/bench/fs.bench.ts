/**
 * Filesystem adapter against the raw path doing the same work, in one run:
 *   scripts/run-ts.sh packages/blob-store/bench/fs.bench.ts [--dir /path/on/the/disk/to/test]
 *
 * - 256 MiB blob: raw = stream copy into a file with the same part-wise BLAKE2b-512 hashing and
 *   fsync; adapter = `put` (one stream) and an upload session (8 MiB parts, two in flight).
 *   Also reads back (adapter `get` vs a raw read stream), both hashing.
 * - 1,000 blobs of 4 KiB, 16 in flight: raw = write + hash + fsync of a new file; raw durable =
 *   the same plus rename into place and a directory fsync; adapter = `put`, once into new shard
 *   directories and once into existing ones. Also the adapter one at a time, for reference.
 * - Peak RSS growth while the 256 MiB blob goes through the adapter.
 *
 * Each case runs `--rounds` times (default 5), raw and adapter in alternating order; the
 * medians are reported, and each ratio is the median of the per-round ratios.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, open, rename, rm } from 'node:fs/promises';
import { constants as fsConstants } from 'node:fs';
import { createReadStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BLOB_PART_SIZE,
  NodeBlobHasher,
  BlobKind,
  hashBlobHex,
  type BlobStore,
} from '../src/index.js';
import { FsBlobStore } from '../src/fs/index.js';

const MiB = 1024 * 1024;
const BIG = 256 * MiB;
const SMALL = 4096;
const SMALL_COUNT = 1000;
const CONCURRENCY = 16;
const roundsArg = process.argv.indexOf('--rounds');
const ROUNDS = roundsArg > 0 ? Number(process.argv[roundsArg + 1] ?? 5) : 5;

const dirArg = process.argv.indexOf('--dir');
const base = dirArg > 0 ? (process.argv[dirArg + 1] ?? tmpdir()) : tmpdir();
await mkdir(base, { recursive: true });
const root = await mkdtemp(join(base, 'ratsfach-bench-'));

/** 1 MiB chunks of a fixed random buffer, each marked with its index, generated on the fly. */
const chunkBase = randomBytes(MiB);
function* bigSource(size = BIG): Generator<Buffer> {
  for (let i = 0; i * MiB < size; i++) {
    // One buffer reused: every consumer here finishes a chunk before it asks for the next.
    chunkBase.writeUInt32BE(i, 0);
    yield chunkBase.subarray(0, Math.min(MiB, size - i * MiB));
  }
}

const bigHash = (() => {
  const h = new NodeBlobHasher(BLOB_PART_SIZE);
  for (const c of bigSource()) h.update(c);
  return h.digestHex();
})();

const median = (xs: number[]): number =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const mbps = (bytes: number, ms: number): number => bytes / 1e6 / (ms / 1000);
const time = async (fn: () => Promise<void>): Promise<number> => {
  const start = performance.now();
  await fn();
  return performance.now() - start;
};

async function rawWrite(path: string, chunks: Iterable<Uint8Array>): Promise<string> {
  const fh = await open(path, 'wx');
  try {
    const h = new NodeBlobHasher(BLOB_PART_SIZE);
    for (const c of chunks) {
      h.update(c);
      await fh.write(c);
    }
    await fh.datasync();
    return h.digestHex();
  } finally {
    await fh.close();
  }
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, fsConstants.O_RDONLY | fsConstants.O_DIRECTORY);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function hashFile(body: AsyncIterable<Uint8Array>): Promise<number> {
  const h = new NodeBlobHasher(BLOB_PART_SIZE);
  for await (const c of body) h.update(c);
  h.digestHex();
  return h.size;
}

async function uploadSession(store: BlobStore, tenant: string): Promise<void> {
  const ref = { tenant, kind: BlobKind.blob, hash: bigHash };
  const session = await store.createSession({ ...ref, size: BIG });
  const perPart = BLOB_PART_SIZE / MiB;
  let next = 0;
  const worker = async (): Promise<void> => {
    // Each worker has its own buffer: two parts stream at once.
    const own = randomBytes(MiB);
    chunkBase.copy(own);
    while (next < session.partCount) {
      const index = next++;
      async function* part(): AsyncGenerator<Buffer> {
        for (let i = index * perPart; i < (index + 1) * perPart && i * MiB < BIG; i++) {
          own.writeUInt32BE(i, 0);
          yield own;
        }
      }
      await store.putPart(tenant, session.id, index, part());
    }
  };
  await Promise.all([worker(), worker()]);
  await store.completeSession(tenant, session.id);
}

async function pool(count: number, concurrency: number, fn: (i: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await fn(next++);
    }),
  );
}

/** Peak RSS growth over a baseline while `fn` runs, sampled every 5 ms. */
async function peakRssGrowth(fn: () => Promise<void>): Promise<number> {
  globalThis.gc?.();
  const baseline = process.memoryUsage.rss();
  let peak = baseline;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 5);
  try {
    await fn();
  } finally {
    clearInterval(timer);
  }
  peak = Math.max(peak, process.memoryUsage.rss());
  return peak - baseline;
}

const store = await FsBlobStore.open({ root: join(root, 'store'), sweepIntervalMs: 0 });
await mkdir(join(root, 'raw'), { recursive: true });
const results: Record<string, number[]> = {};
const ratios: Record<string, number[]> = {};
const record = (name: string, value: number): void => {
  (results[name] ??= []).push(value);
};

const smalls = Array.from({ length: SMALL_COUNT }, () => randomBytes(SMALL));
const smallHashes = smalls.map((b) => hashBlobHex(b));
let rssGrowth = 0;

/** Runs two cases in an order that alternates by round, so neither always goes first. */
async function pair(
  round: number,
  a: [string, () => Promise<void>],
  b: [string, () => Promise<void>],
): Promise<void> {
  const order = round % 2 === 0 ? [a, b] : [b, a];
  const ms: Record<string, number> = {};
  for (const [name, fn] of order) {
    ms[name] = await time(fn);
    record(name, ms[name]);
  }
  (ratios[`${b[0]} / ${a[0]}`] ??= []).push((ms[a[0]] ?? 0) / (ms[b[0]] ?? 1));
}

/**
 * Stores the 1,000 small blobs with each case, in batches of 100 whose order rotates, so that
 * a neighbour's load on this shared machine falls on every case alike. Records each case's
 * total time and the per-round ratio of the last case (the adapter) to each other case.
 */
async function interleaved(cases: [string, (i: number) => Promise<void>][]): Promise<void> {
  const totals = new Map<string, number>(cases.map(([name]) => [name, 0]));
  const batch = 100;
  for (let b = 0; b * batch < SMALL_COUNT; b++) {
    for (let k = 0; k < cases.length; k++) {
      const [name, fn] = cases[(b + k) % cases.length] as [string, (i: number) => Promise<void>];
      const ms = await time(() => pool(batch, CONCURRENCY, (i) => fn(b * batch + i)));
      totals.set(name, (totals.get(name) ?? 0) + ms);
    }
  }
  for (const [name, total] of totals) record(name, total);
  const [adapterName] = cases[cases.length - 1] as [string, unknown];
  for (const [name] of cases.slice(0, -1)) {
    (ratios[`${adapterName} / ${name}`] ??= []).push(
      (totals.get(name) ?? 0) / (totals.get(adapterName) ?? 1),
    );
  }
}

for (let round = 0; round < ROUNDS; round++) {
  const tenant = `bench_${String(round)}`;
  const rawBig = join(root, 'raw', `big-${String(round)}`);
  await pair(
    round,
    [
      'big raw write',
      async () => {
        if ((await rawWrite(rawBig, bigSource())) !== bigHash) throw new Error('raw hash differs');
      },
    ],
    [
      'big adapter put',
      async () => {
        rssGrowth = Math.max(
          rssGrowth,
          await peakRssGrowth(async () => {
            await store.put({ tenant, kind: BlobKind.blob, hash: bigHash, size: BIG }, bigSource());
          }),
        );
      },
    ],
  );
  record('big adapter session', await time(() => uploadSession(store, `${tenant}_s`)));
  await pair(
    round,
    ['big raw read', async () => void (await hashFile(createReadStream(rawBig)))],
    [
      'big adapter get',
      async () => {
        const got = await store.get({ tenant, kind: BlobKind.blob, hash: bigHash });
        await hashFile(got.body);
      },
    ],
  );
  await rm(rawBig);

  const rawDir = join(root, 'raw', `small-${String(round)}`);
  await mkdir(rawDir);
  await mkdir(`${rawDir}-tmp`);
  const raw = (prefix: string) => async (i: number) => {
    await rawWrite(join(rawDir, `${prefix}${String(i)}`), [smalls[i] as Buffer]);
  };
  // The same work plus what makes a new file durable: rename into place, sync the directory.
  const rawDurable = (prefix: string) => async (i: number) => {
    const tmp = join(`${rawDir}-tmp`, `${prefix}${String(i)}`);
    await rawWrite(tmp, [smalls[i] as Buffer]);
    await rename(tmp, join(rawDir, `d${prefix}${String(i)}`));
    await syncDir(rawDir);
  };
  const adapter = async (i: number) => {
    await store.put({ tenant, kind: BlobKind.blob, hash: smallHashes[i] as string, size: SMALL }, [
      smalls[i] as Buffer,
    ]);
  };
  await interleaved([
    ['small raw', raw('a')],
    ['small adapter', adapter],
  ]);
  // The same objects again, after deleting them: their shard directories exist now, as in a
  // store that already holds many objects.
  for (const hash of smallHashes) await store.delete({ tenant, kind: BlobKind.blob, hash });
  await interleaved([
    ['small raw 2', raw('b')],
    ['small raw durable', rawDurable('c')],
    ['small adapter warm', adapter],
  ]);
  record(
    'small adapter serial',
    await time(() =>
      pool(SMALL_COUNT, 1, async (i) => {
        await store.put(
          {
            tenant: `${tenant}_c`,
            kind: BlobKind.blob,
            hash: smallHashes[i] as string,
            size: SMALL,
          },
          [smalls[i] as Buffer],
        );
      }),
    ),
  );
}

const ms = (name: string): number => median(results[name] ?? []);
const big = (name: string): string => `${mbps(BIG, ms(name)).toFixed(0)} MB/s`;
const perSec = (name: string): string => `${(SMALL_COUNT / (ms(name) / 1000)).toFixed(0)}/s`;
const ratio = (adapter: string, raw: string): string =>
  `${(median(ratios[`${adapter} / ${raw}`] ?? []) * 100).toFixed(0)}% of raw (median of per-round ratios: ${(ratios[`${adapter} / ${raw}`] ?? []).map((r) => (r * 100).toFixed(0)).join(', ')})`;

const lines = [
  `256 MiB write, raw (copy + BLAKE2b parts + fsync): ${big('big raw write')}`,
  `256 MiB write, adapter put: ${big('big adapter put')}, ${ratio('big adapter put', 'big raw write')}`,
  `256 MiB write, adapter session (8 MiB parts, 2 in flight): ${big('big adapter session')}`,
  `256 MiB read + hash, raw: ${big('big raw read')}`,
  `256 MiB read + hash, adapter get: ${big('big adapter get')}, ${ratio('big adapter get', 'big raw read')}`,
  `4 KiB x ${String(SMALL_COUNT)}, ${String(CONCURRENCY)} in flight, raw (write + hash + fsync): ${perSec('small raw')}`,
  `4 KiB x ${String(SMALL_COUNT)}, ${String(CONCURRENCY)} in flight, adapter put, new shard directories: ${perSec('small adapter')}, ${ratio('small adapter', 'small raw')}`,
  `4 KiB x ${String(SMALL_COUNT)}, ${String(CONCURRENCY)} in flight, raw durable (+ rename + directory fsync): ${perSec('small raw durable')}`,
  `4 KiB x ${String(SMALL_COUNT)}, ${String(CONCURRENCY)} in flight, raw, interleaved with the next: ${perSec('small raw 2')}`,
  `4 KiB x ${String(SMALL_COUNT)}, ${String(CONCURRENCY)} in flight, adapter put, shard directories present: ${perSec('small adapter warm')}, ${ratio('small adapter warm', 'small raw 2')}; against raw durable: ${ratio('small adapter warm', 'small raw durable')}`,
  `4 KiB x ${String(SMALL_COUNT)}, one at a time, adapter put: ${perSec('small adapter serial')}`,
  `peak RSS growth during a 256 MiB adapter put: ${(rssGrowth / MiB).toFixed(1)} MiB`,
  `rounds: ${String(ROUNDS)}, medians; directory: ${base}`,
];
for (const line of lines) console.log(line);
await store.close();
await rm(root, { recursive: true, force: true });
