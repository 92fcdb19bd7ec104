/**
 * The event-store benchmark harness: the same scenarios against each backend's adapter and
 * against its raw driver doing the same inserts with the same durability (the limit).
 *
 * A backend plugs in with a file `bench/<name>BenchBackend.ts` that exports
 * `benchBackend: BenchBackend`; `eventStore.bench.ts --backend=<name>[,<name>...]` loads it.
 */
import { eventIdFor, type EventStore } from '../src/index.js';

/** One event as the raw driver inserts it: the same bytes the adapter stores. */
export interface RawEvent {
  readonly eventId: string;
  readonly type: string;
  readonly data: Uint8Array;
  readonly metadata: Uint8Array;
}

/** The raw driver: plain inserts into the same table shape, each call one durable transaction. */
export interface RawDriver {
  /** Inserts events at revisions `fromRevision`.. of `stream` in one transaction. */
  append(stream: string, fromRevision: number, events: readonly RawEvent[]): Promise<void>;
  /** Reads the whole log in global order; returns how many rows it read. */
  readAll(): Promise<number>;
  close(): Promise<void>;
}

export interface BenchBackend {
  /** Shown in the output, e.g. `SQLite (better-sqlite3, WAL, synchronous=FULL)`. */
  readonly label: string;
  /** A store on fresh, empty storage. */
  openAdapter(): Promise<EventStore>;
  /** The raw driver on fresh, empty storage of its own. */
  openRaw(): Promise<RawDriver>;
  /** Removes what openAdapter/openRaw created (after they were closed). */
  cleanup(): Promise<void>;
}

export interface BenchSizes {
  /** Appends by the single writer. */
  readonly singleAppends: number;
  /** Appends in all by the 64 concurrent writers. */
  readonly concurrentAppends: number;
  readonly writers: number;
  /** Batches of 100 events of one stream. */
  readonly batches: number;
  readonly batchSize: number;
}

export const defaultSizes: BenchSizes = {
  singleAppends: 2_000,
  concurrentAppends: 32_000,
  writers: 64,
  batches: 1_000,
  batchSize: 100,
};

export interface ScenarioResult {
  readonly scenario: string;
  readonly events: number;
  readonly adapterPerSecond: number;
  readonly rawPerSecond: number;
}

const encoder = new TextEncoder();
const metadata = encoder.encode('{"commandId":"bench","occurredAt":"2026-01-01T00:00:00.000Z"}');
const payload = (n: number): Uint8Array =>
  encoder.encode(
    `{"documentId":"d${n}","version":${n},"size":123456,"recordHash":"${'A'.repeat(86)}"}`,
  );

const perSecond = (events: number, ms: number): number => (events * 1000) / ms;

async function time(run: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await run();
  return performance.now() - start;
}

const rawEvents = (prefix: string, from: number, count: number): RawEvent[] =>
  Array.from({ length: count }, (_, i) => ({
    // Real UUIDv5 ids, as the adapter derives them: their index is part of the cost.
    eventId: eventIdFor('bench', prefix, from + i),
    type: 'VersionCommitted.v1',
    data: payload(from + i),
    metadata,
  }));

/** Runs every scenario against the adapter and the raw driver of one backend. */
export async function benchBackend(
  backend: BenchBackend,
  sizes: BenchSizes = defaultSizes,
): Promise<ScenarioResult[]> {
  const store = await backend.openAdapter();
  const raw = await backend.openRaw();
  const results: ScenarioResult[] = [];
  try {
    {
      const n = sizes.singleAppends;
      const adapterMs = await time(async () => {
        for (let i = 0; i < n; i += 1) {
          await store.append(
            `document-bench-single${i}`,
            [{ type: 'VersionCommitted.v1', data: payload(i), metadata }],
            'no_stream',
            { commandId: `single-${i}` },
          );
        }
      });
      const rawMs = await time(async () => {
        for (let i = 0; i < n; i += 1)
          await raw.append(`document-bench-single${i}`, 0, rawEvents('single', i, 1));
      });
      results.push({
        scenario: 'single-event appends, 1 writer',
        events: n,
        adapterPerSecond: perSecond(n, adapterMs),
        rawPerSecond: perSecond(n, rawMs),
      });
    }
    {
      const { writers } = sizes;
      const each = Math.ceil(sizes.concurrentAppends / writers);
      const n = each * writers;
      const adapterMs = await time(() =>
        Promise.all(
          Array.from({ length: writers }, async (_, w) => {
            const stream = `document-bench-w${w}`;
            for (let i = 0; i < each; i += 1) {
              await store.append(
                stream,
                [{ type: 'VersionCommitted.v1', data: payload(i), metadata }],
                i === 0 ? 'no_stream' : BigInt(i - 1),
                { commandId: `w${w}-${i}` },
              );
            }
          }),
        ),
      );
      const rawMs = await time(() =>
        Promise.all(
          Array.from({ length: writers }, async (_, w) => {
            for (let i = 0; i < each; i += 1)
              await raw.append(`document-bench-w${w}`, i, rawEvents(`w${w}`, i, 1));
          }),
        ),
      );
      results.push({
        scenario: `single-event appends, ${writers} concurrent writers`,
        events: n,
        adapterPerSecond: perSecond(n, adapterMs),
        rawPerSecond: perSecond(n, rawMs),
      });
    }
    {
      const { batches, batchSize } = sizes;
      const n = batches * batchSize;
      const adapterMs = await time(async () => {
        for (let b = 0; b < batches; b += 1) {
          const events = Array.from({ length: batchSize }, (_, i) => ({
            type: 'VersionCommitted.v1',
            data: payload(b * batchSize + i),
            metadata,
          }));
          await store.append(
            'document-bench-batched',
            events,
            b === 0 ? 'no_stream' : BigInt(b * batchSize - 1),
            { commandId: `batch-${b}` },
          );
        }
      });
      const rawMs = await time(async () => {
        for (let b = 0; b < batches; b += 1) {
          await raw.append(
            'document-bench-batched',
            b * batchSize,
            rawEvents('batch', b * batchSize, batchSize),
          );
        }
      });
      results.push({
        scenario: `${batchSize}-event batches of one stream`,
        events: n,
        adapterPerSecond: perSecond(n, adapterMs),
        rawPerSecond: perSecond(n, rawMs),
      });
    }
    {
      let adapterCount = 0;
      const adapterMs = await time(async () => {
        for await (const _event of store.readAll()) adapterCount += 1;
      });
      let rawCount = 0;
      const rawMs = await time(async () => {
        rawCount = await raw.readAll();
      });
      if (adapterCount !== rawCount)
        throw new Error(`replay read ${adapterCount} events from the adapter, ${rawCount} raw`);
      results.push({
        scenario: 'replay of the whole log (readAll)',
        events: adapterCount,
        adapterPerSecond: perSecond(adapterCount, adapterMs),
        rawPerSecond: perSecond(rawCount, rawMs),
      });
    }
  } finally {
    await store.close();
    await raw.close();
    await backend.cleanup();
  }
  return results;
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

/** A Markdown table of one backend's results. */
export function formatResults(label: string, results: readonly ScenarioResult[]): string {
  const lines = [
    `### ${label}`,
    '',
    '| scenario | events | adapter events/s | raw driver events/s | adapter / raw |',
    '|---|---:|---:|---:|---:|',
    ...results.map(
      (r) =>
        `| ${r.scenario} | ${fmt(r.events)} | ${fmt(r.adapterPerSecond)} | ${fmt(r.rawPerSecond)} | ${(r.adapterPerSecond / r.rawPerSecond).toFixed(2)} |`,
    ),
  ];
  return lines.join('\n');
}
