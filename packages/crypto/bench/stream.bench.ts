/**
 * Content stream benchmark (not a test). Encrypts and decrypts 64 MiB and 512 MiB through the
 * streaming API and, in the same run, through the raw libsodium-wrappers secretstream primitive
 * over the same 64 KiB chunks (this library's limit) and through sodium-native (the native
 * limit). Input is generated piece by piece; the 512 MiB runs never hold the file, and peak
 * memory growth above the baseline is sampled while it passes through. Each figure is the best
 * of `--rounds` runs, API and raw interleaved, so a busy machine skews both alike.
 *
 *   scripts/run-ts.sh --expose-gc packages/crypto/bench/stream.bench.ts [--rounds=3] [MiB ...]
 */
import { createRequire } from 'node:module';
import { cpus, totalmem } from 'node:os';
import { cryptoReady } from '../src/index.js';
import {
  BlobHasher,
  MemorySink,
  chunkSize,
  decryptContent,
  encryptContent,
  generateContentKey,
  keySlotHash,
  openVersionContent,
  sealKeySlot,
  type KeySlotBinding,
} from '../src/content/index.js';
import { useDeterministicRandomnessForTests } from '../src/testing.js';

interface SodiumNative {
  crypto_secretstream_xchacha20poly1305_STATEBYTES: number;
  crypto_secretstream_xchacha20poly1305_TAG_MESSAGE: number;
  crypto_secretstream_xchacha20poly1305_TAG_FINAL: number;
  crypto_secretstream_xchacha20poly1305_init_push(state: Buffer, header: Buffer, key: Buffer): void;
  crypto_secretstream_xchacha20poly1305_init_pull(state: Buffer, header: Buffer, key: Buffer): void;
  crypto_secretstream_xchacha20poly1305_push(
    state: Buffer,
    c: Buffer,
    m: Buffer,
    ad: Buffer | null,
    tag: number,
  ): number;
  crypto_secretstream_xchacha20poly1305_pull(
    state: Buffer,
    m: Buffer,
    tag: Buffer,
    c: Buffer,
    ad: Buffer | null,
  ): number;
}
const native = createRequire(import.meta.url)('sodium-native') as SodiumNative;
const s = await cryptoReady();
const MiB = 1024 * 1024;
const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
const args = process.argv.slice(2);
const rounds = Number(args.find((a) => a.startsWith('--rounds='))?.slice(9) ?? 3);
const sizes = args.filter((a) => /^\d+$/.test(a)).map(Number);

const binding: KeySlotBinding = {
  tenantId: 'bench',
  committeeId: 'bench',
  documentId: 'doc',
  version: 1,
  epoch: 1,
};
const TAG_MESSAGE = s.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE;
const TAG_FINAL = s.crypto_secretstream_xchacha20poly1305_TAG_FINAL;

/** The plaintext: `size` bytes in 1 MiB pieces of one random buffer (never the whole file). */
const piece = s.randombytes_buf(MiB);
async function* plaintext(size: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < size; at += MiB) yield piece.subarray(0, Math.min(MiB, size - at));
}

/** Cuts the plaintext pieces into 64 KiB chunks, as a raw caller of the primitive must. */
async function* rawChunks(size: number): AsyncGenerator<{ chunk: Uint8Array; last: boolean }> {
  const chunk = new Uint8Array(chunkSize);
  let filled = 0;
  let remaining = size;
  for await (const p of plaintext(size)) {
    for (let at = 0; at < p.length;) {
      const take = Math.min(chunkSize - filled, p.length - at);
      chunk.set(p.subarray(at, at + take), filled);
      filled += take;
      at += take;
      remaining -= take;
      if (filled === chunkSize || remaining === 0) {
        yield { chunk: chunk.subarray(0, filled), last: remaining === 0 };
        filled = 0;
      }
    }
  }
}

/** Peak growth above the baseline taken at construction, sampled by the loops moving bytes. */
class MemoryPeak {
  private readonly base = process.memoryUsage();
  private readonly peak = { rss: 0, heapUsed: 0, external: 0, arrayBuffers: 0 };
  private calls = 0;
  sample(): void {
    if (++this.calls % 16 !== 0) return;
    const m = process.memoryUsage();
    for (const k of ['rss', 'heapUsed', 'external', 'arrayBuffers'] as const) {
      this.peak[k] = Math.max(this.peak[k], m[k] - this.base[k]);
    }
  }
  toString(): string {
    const f = (n: number) => `${(n / MiB).toFixed(1)}`;
    const p = this.peak;
    return `peak MiB: rss +${f(p.rss)}, heapUsed +${f(p.heapUsed)}, external +${f(p.external)}, arrayBuffers +${f(p.arrayBuffers)}`;
  }
}

const lines: string[] = [];
const say = (line: string): void => {
  console.log(line);
  lines.push(line);
};

/** The highest RSS seen after any job; RSS rarely shrinks, so it bounds every job's peak. */
let maxRss = 0;

/**
 * Runs every named job `rounds` times, interleaved; returns the best MB/s of each by process
 * CPU time (user + system), which a machine shared with other work skews far less than the
 * wall clock; the best wall-clock figure is printed beside it.
 */
const race = async (
  bytes: number,
  jobs: Record<string, () => Promise<string | void>>,
): Promise<Record<string, number>> => {
  const best: Record<string, number> = {};
  const bestWall: Record<string, number> = {};
  const notes: Record<string, string> = {};
  for (let r = 0; r < rounds; r++) {
    for (const [name, job] of Object.entries(jobs)) {
      gc();
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const note = await job();
      const wall = performance.now() - t0;
      const c = process.cpuUsage(c0);
      const cpu = (c.user + c.system) / 1000;
      best[name] = Math.max(best[name] ?? 0, bytes / 1e6 / (cpu / 1000));
      bestWall[name] = Math.max(bestWall[name] ?? 0, bytes / 1e6 / (wall / 1000));
      if (note) notes[name] = note;
      maxRss = Math.max(maxRss, process.memoryUsage().rss);
    }
  }
  for (const [name, mbs] of Object.entries(best)) {
    const wall = (bestWall[name] ?? 0).toFixed(0);
    say(
      `  ${name.padEnd(56)} ${mbs.toFixed(0).padStart(6)} MB/s cpu  (${wall.padStart(5)} wall) ${notes[name] ?? ''}`,
    );
  }
  return best;
};

const ratio = (what: string, a: number | undefined, b: number | undefined): void =>
  say(`  ${`ratio ${what}`.padEnd(56)} ${(((a ?? 0) / (b ?? 1)) * 100).toFixed(1).padStart(6)} %`);

const nativeEncrypt = async (size: number, keep?: Buffer[]): Promise<void> => {
  const state = Buffer.alloc(native.crypto_secretstream_xchacha20poly1305_STATEBYTES);
  native.crypto_secretstream_xchacha20poly1305_init_push(state, nativeHeader, nativeKey);
  for await (const { chunk, last } of rawChunks(size)) {
    const c = Buffer.allocUnsafe(chunk.length + 17);
    native.crypto_secretstream_xchacha20poly1305_push(
      state,
      c,
      chunk as Buffer,
      null,
      last ? native.crypto_secretstream_xchacha20poly1305_TAG_FINAL : 0,
    );
    keep?.push(c);
  }
};
const nativeKey = Buffer.alloc(32, 7);
const nativeHeader = Buffer.alloc(24);

const small = async (size: number): Promise<void> => {
  say(`\n${size / MiB} MiB, held in memory for the decrypt runs:`);
  const contentKey = generateContentKey();
  const rawKey = s.randombytes_buf(32);
  const ad = new Uint8Array(80);
  const adView = new DataView(ad.buffer);
  let rawHeader: Uint8Array = new Uint8Array(0);
  let rawUnits: Uint8Array[] = [];
  let apiBlob: Uint8Array[] = [];
  let nativeUnits: Buffer[] = [];
  const enc = await race(size, {
    'encrypt  raw libsodium-wrappers secretstream': async () => {
      const { state, header } = s.crypto_secretstream_xchacha20poly1305_init_push(rawKey);
      rawHeader = header;
      rawUnits = [];
      let i = 0;
      for await (const { chunk, last } of rawChunks(size)) {
        adView.setUint32(76, i++);
        rawUnits.push(
          s.crypto_secretstream_xchacha20poly1305_push(
            state,
            chunk,
            ad,
            last ? TAG_FINAL : TAG_MESSAGE,
          ),
        );
      }
    },
    'encrypt  streaming API (encryptContent)': async () => {
      apiBlob = [];
      for await (const c of encryptContent(plaintext(size), { contentKey, binding }))
        apiBlob.push(c);
    },
    'encrypt  sodium-native secretstream': async () => {
      nativeUnits = [];
      await nativeEncrypt(size, nativeUnits);
    },
  });
  ratio(
    'encrypt API / raw wrappers',
    enc['encrypt  streaming API (encryptContent)'],
    enc['encrypt  raw libsodium-wrappers secretstream'],
  );

  const whole = new Uint8Array(apiBlob.reduce((a, c) => a + c.length, 0));
  let at = 0;
  for (const c of apiBlob) {
    whole.set(c, at);
    at += c.length;
  }
  const netPieces: Uint8Array[] = [];
  for (let p = 0; p < whole.length; p += MiB) netPieces.push(whole.subarray(p, p + MiB));
  const hasher = new BlobHasher();
  hasher.update(whole);
  const digest = hasher.digest();
  const epochKey = s.randombytes_buf(32);
  const keySlot = sealKeySlot({ epochKey, contentKey, binding });
  const record = { contentHash: digest.hash, size: digest.size, keySlotHash: keySlotHash(keySlot) };
  const tag = Buffer.alloc(1);

  const dec = await race(size, {
    'decrypt  raw libsodium-wrappers secretstream': async () => {
      const state = s.crypto_secretstream_xchacha20poly1305_init_pull(rawHeader, rawKey);
      for (const [i, u] of rawUnits.entries()) {
        adView.setUint32(76, i);
        if (s.crypto_secretstream_xchacha20poly1305_pull(state, u, ad) === false)
          throw new Error('raw pull failed');
      }
    },
    'decrypt  streaming API (decryptContent)': async () => {
      for await (const m of decryptContent(apiBlob, { contentKey, binding })) void m;
    },
    'decrypt  streaming API, 1 MiB network pieces': async () => {
      for await (const m of decryptContent(netPieces, { contentKey, binding })) void m;
    },
    'decrypt  openVersionContent (key slot, hash, size, stream)': async () => {
      await openVersionContent(
        netPieces,
        { record, keySlot, binding, epochKey },
        new DiscardSink(),
      );
    },
    'decrypt  sodium-native secretstream': async () => {
      const state = Buffer.alloc(native.crypto_secretstream_xchacha20poly1305_STATEBYTES);
      native.crypto_secretstream_xchacha20poly1305_init_pull(state, nativeHeader, nativeKey);
      for (const u of nativeUnits) {
        native.crypto_secretstream_xchacha20poly1305_pull(
          state,
          Buffer.allocUnsafe(u.length - 17),
          tag,
          u,
          null,
        );
      }
    },
    'hash     BlobHasher alone (BLAKE2b-512, 8 MiB parts)': async () => {
      const h = new BlobHasher();
      for (const p of netPieces) h.update(p);
      h.digest();
    },
  });
  ratio(
    'decrypt API / raw wrappers',
    dec['decrypt  streaming API (decryptContent)'],
    dec['decrypt  raw libsodium-wrappers secretstream'],
  );
  ratio(
    'decrypt API (1 MiB pieces) / raw wrappers',
    dec['decrypt  streaming API, 1 MiB network pieces'],
    dec['decrypt  raw libsodium-wrappers secretstream'],
  );
  ratio(
    'verified read / raw wrappers decrypt',
    dec['decrypt  openVersionContent (key slot, hash, size, stream)'],
    dec['decrypt  raw libsodium-wrappers secretstream'],
  );
};

class DiscardSink extends MemorySink {
  override write(): void {}
}

const large = async (size: number): Promise<void> => {
  say(`\n${size / MiB} MiB, streamed (never held), memory sampled while it passes:`);
  gc();
  const startRss = process.memoryUsage().rss;
  maxRss = startRss;
  const contentKey = generateContentKey();
  const rawKey = s.randombytes_buf(32);
  const ad = new Uint8Array(80);
  const adView = new DataView(ad.buffer);
  const enc = await race(size, {
    'encrypt  streaming API (encryptContent)': async () => {
      const peak = new MemoryPeak();
      for await (const c of encryptContent(plaintext(size), { contentKey, binding })) {
        void c;
        peak.sample();
      }
      return String(peak);
    },
    'encrypt  raw libsodium-wrappers secretstream': async () => {
      const { state } = s.crypto_secretstream_xchacha20poly1305_init_push(rawKey);
      let i = 0;
      for await (const { chunk, last } of rawChunks(size)) {
        adView.setUint32(76, i++);
        s.crypto_secretstream_xchacha20poly1305_push(
          state,
          chunk,
          ad,
          last ? TAG_FINAL : TAG_MESSAGE,
        );
      }
    },
    'encrypt  sodium-native secretstream': () => nativeEncrypt(size),
  });
  ratio(
    'encrypt API / raw wrappers',
    enc['encrypt  streaming API (encryptContent)'],
    enc['encrypt  raw libsodium-wrappers secretstream'],
  );

  // A verified read needs the blob's hash first: the seam makes encryption repeatable, so one
  // pass computes the hash and later passes stream the identical bytes without storing them.
  const seed = s.randombytes_buf(32);
  async function* deterministicBlob(): AsyncGenerator<Uint8Array> {
    // encryptContent draws its header on the first pull: keep the seam on until then.
    const restoreSeam = useDeterministicRandomnessForTests(seed);
    let first: IteratorResult<Uint8Array, void>;
    let rest: AsyncGenerator<Uint8Array, void, undefined>;
    try {
      rest = encryptContent(plaintext(size), { contentKey: generateContentKey(), binding });
      first = await rest.next();
    } finally {
      restoreSeam();
    }
    if (first.done !== true) yield first.value;
    yield* rest;
  }
  const restore = useDeterministicRandomnessForTests(seed);
  const fixedKey = generateContentKey();
  restore();
  const hasher = new BlobHasher();
  for await (const c of deterministicBlob()) hasher.update(c);
  const digest = hasher.digest();
  const epochKey = s.randombytes_buf(32);
  const keySlot = sealKeySlot({ epochKey, contentKey: fixedKey, binding });
  const record = { contentHash: digest.hash, size: digest.size, keySlotHash: keySlotHash(keySlot) };

  const pipe = await race(size, {
    'pipeline raw wrappers push -> pull': async () => {
      const pushed = s.crypto_secretstream_xchacha20poly1305_init_push(rawKey);
      const pull = s.crypto_secretstream_xchacha20poly1305_init_pull(pushed.header, rawKey);
      const peak = new MemoryPeak();
      let i = 0;
      for await (const { chunk, last } of rawChunks(size)) {
        adView.setUint32(76, i++);
        const c = s.crypto_secretstream_xchacha20poly1305_push(
          pushed.state,
          chunk,
          ad,
          last ? TAG_FINAL : TAG_MESSAGE,
        );
        if (s.crypto_secretstream_xchacha20poly1305_pull(pull, c, ad) === false)
          throw new Error('raw pull failed');
        peak.sample();
      }
      return String(peak);
    },
    'pipeline API encryptContent -> decryptContent': async () => {
      const peak = new MemoryPeak();
      const ciphertext = encryptContent(plaintext(size), { contentKey, binding });
      for await (const m of decryptContent(ciphertext, { contentKey, binding })) {
        void m;
        peak.sample();
      }
      return String(peak);
    },
    'pipeline API encryptContent -> openVersionContent': async () => {
      const peak = new MemoryPeak();
      const sink = new DiscardSink();
      sink.write = () => peak.sample();
      await openVersionContent(deterministicBlob(), { record, keySlot, binding, epochKey }, sink);
      return String(peak);
    },
    'pipeline sodium-native push -> pull': async () => {
      const push = Buffer.alloc(native.crypto_secretstream_xchacha20poly1305_STATEBYTES);
      const pull = Buffer.alloc(native.crypto_secretstream_xchacha20poly1305_STATEBYTES);
      native.crypto_secretstream_xchacha20poly1305_init_push(push, nativeHeader, nativeKey);
      native.crypto_secretstream_xchacha20poly1305_init_pull(pull, nativeHeader, nativeKey);
      const tag = Buffer.alloc(1);
      const c = Buffer.allocUnsafe(chunkSize + 17);
      const m = Buffer.allocUnsafe(chunkSize);
      for await (const { chunk, last } of rawChunks(size)) {
        const n = native.crypto_secretstream_xchacha20poly1305_push(
          push,
          c,
          chunk as Buffer,
          null,
          last ? 3 : 0,
        );
        native.crypto_secretstream_xchacha20poly1305_pull(
          pull,
          m.subarray(0, n - 17),
          tag,
          c.subarray(0, n),
          null,
        );
      }
    },
  });
  const api = pipe['pipeline API encryptContent -> decryptContent'] ?? 0;
  const apiEnc = enc['encrypt  streaming API (encryptContent)'] ?? 0;
  say(
    `  ${'decrypt alone, API (derived: pipeline minus encrypt)'.padEnd(56)} ${(1 / (1 / api - 1 / apiEnc)).toFixed(0).padStart(6)} MB/s`,
  );
  ratio('pipeline API / raw wrappers', api, pipe['pipeline raw wrappers push -> pull']);
  say(
    `  RSS at the start of this section ${(startRss / MiB).toFixed(0)} MiB, highest after any run ${(maxRss / MiB).toFixed(0)} MiB: growth +${((maxRss - startRss) / MiB).toFixed(1)} MiB`,
  );
  ratio(
    'pipeline verified read / raw wrappers',
    pipe['pipeline API encryptContent -> openVersionContent'],
    pipe['pipeline raw wrappers push -> pull'],
  );
};

const cpu = cpus();
say(
  `node ${process.version}, libsodium-wrappers ${s.sodium_version_string()}, ${cpu.length} x ${cpu[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, rounds ${rounds}, gc ${typeof (globalThis as { gc?: unknown }).gc === 'function' ? 'exposed' : 'not exposed'}`,
);
for (const mib of sizes.length > 0 ? sizes : [64, 512]) {
  if (mib <= 64) await small(mib * MiB);
  else await large(mib * MiB);
}
