/**
 * S3 adapter benchmark (not a test), against the real radosgw of scripts/s3-server.sh. In the
 * same run, the same work goes through the adapter and through the minio client alone with the
 * same hashing (the raw path): a 256 MiB blob PUT and GET, and 1,000 blobs of 4 KiB PUT and GET,
 * one at a time and 16 in flight. Bytes are generated piece by piece (the 256 MiB blob is never
 * held); GETs hash what they read, as a verifying reader must. Peak memory growth over the
 * baseline is sampled during the large runs. Each figure is the best of `--rounds` runs, adapter
 * and raw interleaved, so a busy machine skews both alike.
 *
 *   eval "$(bash scripts/s3-server.sh start --env)"
 *   scripts/run-ts.sh --expose-gc packages/blob-store/bench/s3.bench.ts [--rounds=3] [--large-mib=256] [--small=1000]
 */
import { randomBytes } from 'node:crypto';
import { cpus, totalmem } from 'node:os';
import { Readable, Transform } from 'node:stream';
import { NodeBlobHasher, BlobKind, hashBlobHex, type BlobRef } from '../src/index.js';
import { openS3BlobStore, type S3BlobStore } from '../src/s3/index.js';
import {
  randomBucket,
  rawClient,
  removeBucket,
  s3Options,
  s3TestServer,
} from '../test/s3TestServer.js';

const MiB = 1024 * 1024;
const args = process.argv.slice(2);
const arg = (name: string, fallback: number) =>
  Number(args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback);
const rounds = arg('rounds', 3);
const largeSize = arg('large-mib', 256) * MiB;
const smallCount = arg('small', 1000);
const smallSize = 4096;
const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);

const server = s3TestServer();
const bucket = randomBucket(server);
const store: S3BlobStore = await openS3BlobStore(s3Options(server, bucket));
const raw = rawClient(server);
const P = store.partSize;
const tenant = 'bench';

/** The large blob: 1 MiB pieces of one random buffer, each stamped with its index. */
const piece = randomBytes(MiB);
function* largeBytes(start = 0, end = largeSize): Generator<Buffer> {
  for (let at = start; at < end; at += MiB) {
    const p = Buffer.from(piece.subarray(0, Math.min(MiB, end - at)));
    p.writeUInt32BE(at / MiB, 0);
    yield p;
  }
}
const largeHasher = new NodeBlobHasher(P);
for (const p of largeBytes()) largeHasher.update(p);
const largeRef: BlobRef = { tenant, kind: BlobKind.blob, hash: largeHasher.digestHex() };

const small = Array.from({ length: smallCount }, () => randomBytes(smallSize));
const smallRefs: BlobRef[] = small.map((b) => ({
  tenant,
  kind: BlobKind.blob,
  hash: hashBlobHex(b, P),
}));

/** Samples RSS while `run` works; returns its seconds and the peak growth over the start. */
async function measure(run: () => Promise<void>): Promise<{ seconds: number; peakMiB: number }> {
  gc();
  const base = process.memoryUsage().rss;
  let peak = base;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 10);
  const started = process.hrtime.bigint();
  await run();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  clearInterval(timer);
  peak = Math.max(peak, process.memoryUsage().rss);
  return { seconds, peakMiB: (peak - base) / MiB };
}

async function hashBody(body: AsyncIterable<Uint8Array>): Promise<string> {
  const h = new NodeBlobHasher(P);
  for await (const c of body) h.update(c);
  return h.digestHex();
}

const expectHash = (actual: string, expected: string, what: string) => {
  if (actual !== expected) throw new Error(`${what}: read back another hash`);
};

/** Runs `work` over `count` items with `concurrency` in flight. */
async function pool(count: number, concurrency: number, work: (i: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await work(next++);
    }),
  );
}

const rawKey = (ref: BlobRef) => `raw/${ref.hash}`;

const workloads = {
  'large PUT adapter': async () => {
    await store.put({ ...largeRef, size: largeSize }, largeBytes());
  },
  'large session adapter': async () => {
    // What a device's upload goes through: a session, parts 3 in flight, then complete.
    const session = await store.createSession({ ...largeRef, size: largeSize });
    await pool(session.partCount, 3, async (i) => {
      const end = Math.min(largeSize, (i + 1) * P);
      await store.putPart(tenant, session.id, i, largeBytes(i * P, end));
    });
    await store.completeSession(tenant, session.id);
  },
  'large PUT raw': async () => {
    const h = new NodeBlobHasher(P);
    const hashing = new Transform({
      transform(chunk: Buffer, _enc, done) {
        h.update(chunk);
        done(null, chunk);
      },
    });
    await raw.putObject(
      bucket,
      rawKey(largeRef),
      Readable.from(largeBytes()).pipe(hashing),
      largeSize,
    );
    expectHash(h.digestHex(), largeRef.hash, 'raw put');
  },
  'large GET adapter': async () => {
    expectHash(await hashBody((await store.get(largeRef)).body), largeRef.hash, 'adapter get');
  },
  'large GET raw': async () => {
    expectHash(
      await hashBody(await raw.getObject(bucket, rawKey(largeRef))),
      largeRef.hash,
      'raw get',
    );
  },
};

const smallWork = (concurrency: number) => ({
  [`small PUT x${String(concurrency)} adapter`]: () =>
    pool(smallCount, concurrency, async (i) => {
      await store.put({ ...(smallRefs[i] as BlobRef), size: smallSize }, [small[i] as Buffer]);
    }),
  [`small PUT x${String(concurrency)} raw`]: () =>
    pool(smallCount, concurrency, async (i) => {
      const bytes = small[i] as Buffer;
      expectHash(hashBlobHex(bytes, P), (smallRefs[i] as BlobRef).hash, 'raw small put');
      await raw.putObject(bucket, rawKey(smallRefs[i] as BlobRef), bytes, smallSize);
    }),
  [`small GET x${String(concurrency)} adapter`]: () =>
    pool(smallCount, concurrency, async (i) => {
      const ref = smallRefs[i] as BlobRef;
      expectHash(await hashBody((await store.get(ref)).body), ref.hash, 'adapter small get');
    }),
  [`small GET x${String(concurrency)} raw`]: () =>
    pool(smallCount, concurrency, async (i) => {
      const ref = smallRefs[i] as BlobRef;
      expectHash(
        await hashBody(await raw.getObject(bucket, rawKey(ref))),
        ref.hash,
        'raw small get',
      );
    }),
});

/** Removes what a PUT run stored, so the next PUT writes again instead of finding it. */
async function clearLarge() {
  await store.delete(largeRef);
  await raw.removeObject(bucket, rawKey(largeRef));
}
async function clearSmall() {
  await pool(smallCount, 16, async (i) => {
    const ref = smallRefs[i] as BlobRef;
    await store.delete(ref);
    await raw.removeObject(bucket, rawKey(ref));
  });
}

const best = new Map<string, { seconds: number; peakMiB: number }>();
const record = (name: string, r: { seconds: number; peakMiB: number }) => {
  const prev = best.get(name);
  best.set(name, {
    seconds: Math.min(prev?.seconds ?? Infinity, r.seconds),
    peakMiB: Math.max(prev?.peakMiB ?? 0, r.peakMiB),
  });
};

try {
  for (let round = 0; round < rounds; round++) {
    // Alternate which path goes first, so neither always meets a warmer server.
    const order = round % 2 === 0 ? ['adapter', 'raw'] : ['raw', 'adapter'];
    for (const kind of ['PUT', 'GET']) {
      for (const path of order) {
        const name = `large ${kind} ${path}`;
        record(name, await measure(workloads[name as keyof typeof workloads]));
      }
    }
    await clearLarge();
    record('large session adapter', await measure(workloads['large session adapter']));
    await clearLarge();
    for (const concurrency of [1, 16]) {
      const work = smallWork(concurrency);
      for (const kind of ['PUT', 'GET']) {
        for (const path of order) {
          const name = `small ${kind} x${String(concurrency)} ${path}`;
          record(name, await measure(work[name] as () => Promise<void>));
        }
      }
      await clearSmall();
    }
    process.stderr.write(`round ${String(round + 1)} of ${String(rounds)} done\n`);
  }
} finally {
  await store.close();
  await removeBucket(server, bucket);
}

const lines: string[] = [];
lines.push(
  `machine: ${String(cpus().length)} CPUs (${cpus()[0]?.model ?? '?'}), ${(totalmem() / 1024 ** 3).toFixed(0)} GiB RAM; best of ${String(rounds)} rounds`,
  '',
  '| workload | adapter | raw minio | adapter / raw | adapter peak RSS growth |',
  '|---|---|---|---|---|',
);
const row = (label: string, adapter: string, rawName: string, unit: (s: number) => string) => {
  const a = best.get(adapter);
  const r = best.get(rawName);
  if (!a || !r) return;
  lines.push(
    `| ${label} | ${unit(a.seconds)} | ${unit(r.seconds)} | ${((r.seconds / a.seconds) * 100).toFixed(0)} % | ${a.peakMiB.toFixed(0)} MiB (raw ${r.peakMiB.toFixed(0)} MiB) |`,
  );
};
const mbps = (s: number) => `${(largeSize / 1e6 / s).toFixed(0)} MB/s`;
const ops = (s: number) => `${(smallCount / s).toFixed(0)} /s`;
row(`${String(largeSize / MiB)} MiB PUT`, 'large PUT adapter', 'large PUT raw', mbps);
row(
  `${String(largeSize / MiB)} MiB PUT as a session (parts 3 in flight)`,
  'large session adapter',
  'large PUT raw',
  mbps,
);
row(`${String(largeSize / MiB)} MiB GET`, 'large GET adapter', 'large GET raw', mbps);
for (const c of [1, 16]) {
  for (const kind of ['PUT', 'GET']) {
    const n = `small ${kind} x${String(c)}`;
    row(
      `${String(smallCount)} x 4 KiB ${kind}, ${String(c)} in flight`,
      `${n} adapter`,
      `${n} raw`,
      ops,
    );
  }
}
process.stdout.write(`${lines.join('\n')}\n`);
